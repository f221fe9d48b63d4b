-- The demo: two schools, what each context sees, and a cross-school attempt.
-- Run by scripts/demo.sh: setup as the superuser, the rest as the app login.
\set ON_ERROR_STOP 1
\pset footer off
\echo '== Two schools are created through the application login (tenancy_app) =='
\c - demo_app
SELECT tenancy.create_organization('maple-high', 'Maple High School',
                                   'a0000000-0000-4000-8000-000000000001') AS maple \gset
SELECT tenancy.create_organization('cedar-academy', 'Cedar Academy',
                                   'b0000000-0000-4000-8000-000000000001') AS cedar \gset

-- Each owner adds an admin, a teacher and students, inside its own context.
BEGIN;
SELECT tenancy.set_context(:'maple', 'a0000000-0000-4000-8000-000000000001') AS role;
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES
    (:'maple', 'a0000000-0000-4000-8000-000000000002', 'admin'),
    (:'maple', 'a0000000-0000-4000-8000-000000000003', 'teacher'),
    (:'maple', 'a0000000-0000-4000-8000-000000000004', 'student'),
    (:'maple', 'a0000000-0000-4000-8000-000000000005', 'student');
INSERT INTO tenancy.files (path, name, size_bytes, visibility) VALUES
    ('maple/syllabus.pdf', 'Syllabus', 120000, 'org'),
    ('maple/grades.xlsx', 'Grades', 40000, 'staff');
COMMIT;
BEGIN;
SELECT tenancy.set_context(:'cedar', 'b0000000-0000-4000-8000-000000000001') AS role;
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES
    (:'cedar', 'b0000000-0000-4000-8000-000000000002', 'admin'),
    (:'cedar', 'b0000000-0000-4000-8000-000000000003', 'teacher'),
    (:'cedar', 'b0000000-0000-4000-8000-000000000004', 'student');
INSERT INTO tenancy.files (path, name, size_bytes, visibility) VALUES
    ('cedar/timetable.pdf', 'Timetable', 80000, 'org');
COMMIT;
BEGIN;
SELECT tenancy.set_context(:'maple', 'a0000000-0000-4000-8000-000000000004') AS role;
INSERT INTO tenancy.files (path, name, size_bytes) VALUES ('maple/essay.docx', 'My essay', 9000);
COMMIT;

\echo
\echo '== The same SELECT, run in four contexts =='
\echo '-- no context: nothing'
SELECT count(*) AS members_visible FROM tenancy.members;
\echo '-- Maple owner'
BEGIN;
SELECT tenancy.set_context(:'maple', 'a0000000-0000-4000-8000-000000000001') AS role;
SELECT o.slug, m.role, count(*) AS members FROM tenancy.members m
JOIN tenancy.organizations o ON o.id = m.organization_id GROUP BY 1, 2 ORDER BY 2;
SELECT name, visibility FROM tenancy.files ORDER BY name;
COMMIT;
\echo '-- Maple student: sees staff and itself, org files and its own'
BEGIN;
SELECT tenancy.set_context(:'maple', 'a0000000-0000-4000-8000-000000000004') AS role;
SELECT o.slug, m.role, count(*) AS members FROM tenancy.members m
JOIN tenancy.organizations o ON o.id = m.organization_id GROUP BY 1, 2 ORDER BY 2;
SELECT name, visibility FROM tenancy.files ORDER BY name;
COMMIT;
\echo '-- Cedar teacher'
BEGIN;
SELECT tenancy.set_context(:'cedar', 'b0000000-0000-4000-8000-000000000003') AS role;
SELECT o.slug, m.role, count(*) AS members FROM tenancy.members m
JOIN tenancy.organizations o ON o.id = m.organization_id GROUP BY 1, 2 ORDER BY 2;
SELECT name, visibility FROM tenancy.files ORDER BY name;
COMMIT;

\echo
\echo '== Cross-school attempts fail =='
\set ON_ERROR_STOP 0
\echo '-- a Maple teacher claims a Cedar context:'
SELECT tenancy.set_context(:'cedar', 'a0000000-0000-4000-8000-000000000003');
\echo '-- a Cedar admin tries to write a file into Maple:'
BEGIN;
SELECT tenancy.set_context(:'cedar', 'b0000000-0000-4000-8000-000000000002') AS role;
INSERT INTO tenancy.files (organization_id, path, name, size_bytes)
VALUES (:'maple', 'maple/planted.pdf', 'Planted', 1);
ROLLBACK;
\echo '-- the app tries to forge the context setting:'
SET tenancy.context = 'anything';
\set ON_ERROR_STOP 1

\echo
\echo '== The audit log, as Maple''s owner sees it =='
BEGIN;
SELECT tenancy.set_context(:'maple', 'a0000000-0000-4000-8000-000000000001') AS role;
SELECT tenancy.record_file_access(id) FROM tenancy.files WHERE name = 'Syllabus';
SELECT l.action, f.name, l.bytes, m.role AS by_role
FROM tenancy.file_access_log l
JOIN tenancy.files f ON f.organization_id = l.organization_id AND f.id = l.file_id
JOIN tenancy.members m ON m.organization_id = l.organization_id AND m.user_id = l.user_id
ORDER BY l.id;
COMMIT;

\echo
\echo '== Analytics: events tracked in context, rolled up in the database =='
BEGIN;
SELECT tenancy.set_context(:'maple', 'a0000000-0000-4000-8000-000000000004') AS role;
-- Twenty lessons of 7 to 45 minutes, and ten quizzes scored 50 to 95.
SELECT count(tenancy.track('lesson_viewed', 5 + 2 * n)) AS lessons FROM generate_series(1, 20) n;
SELECT count(tenancy.track('quiz_submitted', 45 + 5 * n)) AS quizzes FROM generate_series(1, 10) n;
COMMIT;
BEGIN;
SELECT tenancy.set_context(:'maple', 'a0000000-0000-4000-8000-000000000005') AS role;
SELECT tenancy.track('quiz_submitted', 95);
COMMIT;
BEGIN;
SELECT tenancy.set_context(:'cedar', 'b0000000-0000-4000-8000-000000000004') AS role;
SELECT tenancy.track('quiz_submitted', 61);
COMMIT;
\echo '-- the DBA (or pg_cron, every minute) runs the rollups:'
\c - postgres
SELECT source, rows_read, buckets_written FROM tenancy.run_rollups();
\c - demo_app
\echo '-- what a Maple teacher''s dashboard reads (p50/p95: within 1% of the value of rank floor(q*(n-1)); users distinct):'
BEGIN;
SELECT tenancy.set_context(:'maple', 'a0000000-0000-4000-8000-000000000003') AS role;
SELECT kind, events, value_min, value_max, round(value_p50::numeric, 1) AS p50,
       round(value_p95::numeric, 1) AS p95, users
FROM tenancy.event_stats_daily ORDER BY kind;
SELECT uploads, downloads, bytes_uploaded, users FROM tenancy.file_stats_daily;
COMMIT;
\echo '-- a Maple student sees no rollups:'
BEGIN;
SELECT tenancy.set_context(:'maple', 'a0000000-0000-4000-8000-000000000004') AS role;
SELECT count(*) AS rollup_rows FROM tenancy.event_stats_daily;
COMMIT;

\echo
\echo '== Signed contexts (1.15): the user proven by a token, not taken on the app''s word =='
\c - postgres
-- The identity provider's HS256 secret, known to the database and the
-- provider, not to the application's SQL. pgcrypto mints a token here as the
-- provider would.
CREATE EXTENSION IF NOT EXISTS pgcrypto;
INSERT INTO tenancy.context_signing_keys (key_id, secret)
VALUES ('demo-idp', convert_to('the demo identity provider''s secret', 'UTF8'));
SELECT signing_input || '.' ||
       translate(replace(encode(hmac(convert_to(signing_input, 'UTF8'),
                                     convert_to('the demo identity provider''s secret', 'UTF8'),
                                     'sha256'), 'base64'), E'\n', ''), '+/=', '-_') AS student_token
FROM (SELECT translate(replace(encode(convert_to(header, 'UTF8'), 'base64'), E'\n', ''), '+/=', '-_') || '.' ||
             translate(replace(encode(convert_to(claims, 'UTF8'), 'base64'), E'\n', ''), '+/=', '-_')
             AS signing_input
      FROM (VALUES ('{"alg":"HS256","typ":"JWT"}',
                    format('{"sub":"a0000000-0000-4000-8000-000000000004","exp":%s}',
                           extract(epoch FROM now() + interval '1 hour')::bigint))) AS t(header, claims)) AS s
\gset
ALTER ROLE demo_app SET tenancy.require_signed_context = on;
\c - demo_app
\echo '-- the app, with require_signed_context on, can no longer name a user itself:'
\set ON_ERROR_STOP 0
BEGIN;
SELECT tenancy.set_context(:'maple', 'a0000000-0000-4000-8000-000000000001');
ROLLBACK;
\set ON_ERROR_STOP 1
\echo '-- with the student''s token, it gets the student''s context (and role):'
BEGIN;
SELECT tenancy.set_context_signed(:'maple', :'student_token') AS role;
SELECT name, visibility FROM tenancy.files ORDER BY name;
COMMIT;
\c - postgres
ALTER ROLE demo_app RESET tenancy.require_signed_context;
