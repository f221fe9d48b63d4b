-- What a plan shows must not depend on another organization's rows because
-- of pg_tenancy's own policies. EXPLAIN ANALYZE reports which parts of a plan
-- ran. A policy's sub-select
-- (an InitPlan, run at its first use) that PostgreSQL evaluates before the
-- organization equality runs as soon as any row, of any organization, passes
-- the caller's own leakproof condition: "never executed" or "rows=1" then
-- told the caller whether another organization has an event of some kind,
-- and by bisection its ids (1.4 fixes the analytics policies).
-- (A caller's own sub-select in its condition opens the same channel; no
-- policy can close it. README, "Security notes".)
-- For every tenant table and hourly view, from a student's and a teacher's context
-- in organization B, with index scans off (a sequential scan meets every
-- organization's rows): the plan for a value that only organization A has
-- must read exactly as the plan for a value nobody has.
--
-- Runs as the superuser postgres (fixtures, committed so that a rollup run
-- counts them, and deleted again at the end), then as the application login
-- tenancy_test_app (SET ROLE).
SET client_min_messages = error;
SELECT plan(20);

SELECT gen_random_uuid() AS org_a, gen_random_uuid() AS org_b,
       gen_random_uuid() AS owner_a, gen_random_uuid() AS owner_b,
       gen_random_uuid() AS teacher_b, gen_random_uuid() AS student_b,
       gen_random_uuid() AS file_a,
       'oracle-' || substr(md5(random()::text), 1, 8) AS tag \gset
INSERT INTO tenancy.organizations (id, slug, name) VALUES
    (:'org_a', :'tag' || '-a', 'Oracle A'), (:'org_b', :'tag' || '-b', 'Oracle B');
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES
    (:'org_a', :'owner_a', 'owner'),
    (:'org_b', :'owner_b', 'owner'), (:'org_b', :'teacher_b', 'teacher'),
    (:'org_b', :'student_b', 'student');
INSERT INTO tenancy.files (organization_id, id, owner_id, path, name, size_bytes, visibility)
VALUES (:'org_a', :'file_a', :'owner_a', :'tag' || '/a.pdf', 'a.pdf', 10, 'org');
UPDATE tenancy.files SET size_bytes = 11 WHERE id = :'file_a';  -- a version
INSERT INTO tenancy.events (organization_id, user_id, kind, value)
VALUES (:'org_a', :'owner_a', :'tag' || '-kind', 42);
SELECT count(*) AS ignored FROM tenancy.run_rollups(wait => true) \gset
SELECT hour AS hour_a FROM tenancy.file_rollups WHERE organization_id = :'org_a' \gset

-- The plan of a query as EXPLAIN ANALYZE prints it, without timings, and
-- with every quoted constant masked (the values compared differ, of course).
CREATE FUNCTION pg_temp.plan_of(query text) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    line text;
    plan text := '';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || query LOOP
        plan := plan || line || E'\n';
    END LOOP;
    RETURN regexp_replace(plan, '''[^'']*''', '''...''', 'g');
END
$$;
-- Whether a plan tells organization A's value from an absent one.
CREATE FUNCTION pg_temp.same_plan(relation text, condition text, a_value text, absent text)
    RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN pg_temp.plan_of(format('SELECT 1 FROM %s WHERE %s', relation, format(condition, a_value)))
                   = pg_temp.plan_of(format('SELECT 1 FROM %s WHERE %s', relation, format(condition, absent)))
                THEN 'same plan'
                ELSE 'plans differ: ' || pg_temp.plan_of(format('SELECT 1 FROM %s WHERE %s', relation,
                                                                 format(condition, a_value))) END
$$;
CREATE TEMP TABLE probes (relation text, condition text, a_value text, absent text);
INSERT INTO probes VALUES
    ('tenancy.organizations',       'slug = %L',    :'tag' || '-a',      'no-such-slug'),
    ('tenancy.members',             'user_id = %L', :'owner_a',          gen_random_uuid()::text),
    ('tenancy.files',               'path = %L',    :'tag' || '/a.pdf',  'no/such.pdf'),
    ('tenancy.file_versions',       'path = %L',    :'tag' || '/a.pdf',  'no/such.pdf'),
    ('tenancy.file_access_log',     'file_id = %L', :'file_a',           gen_random_uuid()::text),
    ('tenancy.events',              'kind = %L',    :'tag' || '-kind',   'no-such-kind'),
    ('tenancy.event_rollups',       'kind = %L',    :'tag' || '-kind',   'no-such-kind'),
    ('tenancy.file_rollups',        'hour = %L',    :'hour_a',           '1999-01-01 00:00+00'),
    ('tenancy.event_stats_hourly',  'kind = %L',    :'tag' || '-kind',   'no-such-kind'),
    ('tenancy.file_stats_hourly',   'hour = %L',    :'hour_a',           '1999-01-01 00:00+00');
GRANT SELECT ON probes TO tenancy_app;

SET enable_indexscan = off;
SET enable_bitmapscan = off;
SET enable_indexonlyscan = off;
SET ROLE tenancy_test_app;

SELECT tenancy.set_context(:'org_b', :'student_b') AS ignored \gset
SELECT is(pg_temp.same_plan(relation, condition, a_value, absent), 'same plan',
          'student of B: ' || relation || ' shows nothing of A''s ' || split_part(condition, ' ', 1))
FROM probes ORDER BY relation;

SELECT tenancy.set_context(:'org_b', :'teacher_b') AS ignored \gset
SELECT is(pg_temp.same_plan(relation, condition, a_value, absent), 'same plan',
          'teacher of B: ' || relation || ' shows nothing of A''s ' || split_part(condition, ' ', 1))
FROM probes ORDER BY relation;

RESET ROLE;
RESET enable_indexscan;
RESET enable_bitmapscan;
RESET enable_indexonlyscan;
DELETE FROM tenancy.organizations WHERE id IN (:'org_a', :'org_b');
SELECT * FROM finish();
