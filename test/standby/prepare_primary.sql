-- Fixtures for test/standby/reads_on_standby.sql, written on the primary by
-- the superuser before the hot standby is created from it (scripts/run-tests.sh:
-- psql -d tenancy_test -f test/standby/prepare_primary.sql). Fixed uuids, so
-- the standby test can name them; idempotent: rerunning it restores exactly
-- this state. The superuser bypasses row level security, so plain INSERTs do.
--
--   Standby School A (a0a0a0a0-…-00000000000a): owner …0001, teacher …0002,
--       student …0003, student …0004, former student …0005 (deactivated)
--   Standby School B (b0b0b0b0-…-00000000000b): owner …0001, student …0002

-- pg_prove runs every test/standby/*.sql on the standby, this file included:
-- there it has nothing to do and reports itself skipped (valid TAP).
SELECT pg_is_in_recovery() AS tenancy_on_standby \gset
\if :tenancy_on_standby
\echo 1..0 # SKIP prepare_primary.sql prepares the primary; the standby tests are in reads_on_standby.sql
\quit
\endif

BEGIN;

INSERT INTO tenancy.organizations AS o (id, slug, name) VALUES
    ('a0a0a0a0-0000-4000-8000-00000000000a', 'standby-school-a', 'Standby School A'),
    ('b0b0b0b0-0000-4000-8000-00000000000b', 'standby-school-b', 'Standby School B')
ON CONFLICT (id) DO UPDATE SET slug = EXCLUDED.slug, name = EXCLUDED.name;

INSERT INTO tenancy.members AS m (organization_id, user_id, role, deactivated_at) VALUES
    ('a0a0a0a0-0000-4000-8000-00000000000a', 'a0a0a0a0-0000-4000-8000-000000000001', 'owner', NULL),
    ('a0a0a0a0-0000-4000-8000-00000000000a', 'a0a0a0a0-0000-4000-8000-000000000002', 'teacher', NULL),
    ('a0a0a0a0-0000-4000-8000-00000000000a', 'a0a0a0a0-0000-4000-8000-000000000003', 'student', NULL),
    ('a0a0a0a0-0000-4000-8000-00000000000a', 'a0a0a0a0-0000-4000-8000-000000000004', 'student', NULL),
    ('a0a0a0a0-0000-4000-8000-00000000000a', 'a0a0a0a0-0000-4000-8000-000000000005', 'student',
     '2024-01-01 00:00:00+00'),
    ('b0b0b0b0-0000-4000-8000-00000000000b', 'b0b0b0b0-0000-4000-8000-000000000001', 'owner', NULL),
    ('b0b0b0b0-0000-4000-8000-00000000000b', 'b0b0b0b0-0000-4000-8000-000000000002', 'student', NULL)
ON CONFLICT (organization_id, user_id)
    DO UPDATE SET role = EXCLUDED.role, deactivated_at = EXCLUDED.deactivated_at;

-- Nothing else belongs to the two fixture schools.
DELETE FROM tenancy.members
 WHERE organization_id IN ('a0a0a0a0-0000-4000-8000-00000000000a', 'b0b0b0b0-0000-4000-8000-00000000000b')
   AND user_id NOT IN ('a0a0a0a0-0000-4000-8000-000000000001', 'a0a0a0a0-0000-4000-8000-000000000002',
                       'a0a0a0a0-0000-4000-8000-000000000003', 'a0a0a0a0-0000-4000-8000-000000000004',
                       'a0a0a0a0-0000-4000-8000-000000000005', 'b0b0b0b0-0000-4000-8000-000000000001',
                       'b0b0b0b0-0000-4000-8000-000000000002');

COMMIT;
