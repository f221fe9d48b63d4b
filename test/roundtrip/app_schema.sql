-- An application table protected with tenancy.protect() (version 1.1 on).
\set ON_ERROR_STOP 1
CREATE SCHEMA app;
CREATE TABLE app.lessons (
    organization_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    title text NOT NULL,
    PRIMARY KEY (organization_id, id));
SELECT tenancy.protect('app.lessons');
SET ROLE tenancy_test_app;
BEGIN;
SELECT tenancy.set_context('d0000000-0000-4000-8000-00000000000a',
                           'd1000000-0000-4000-8000-000000000002');
INSERT INTO app.lessons (title) SELECT 'Lesson ' || g FROM generate_series(1, 25) g;
COMMIT;
RESET ROLE;
