-- What a caller can learn or reach around the policies, rather than through
-- them (1.7):
--   * EXPLAIN ANALYZE of a write shows nothing that depends on other
--     organizations' rows: the same plan, row counts and "never executed"
--     whether or not a row of another organization matches the caller's own
--     condition (the policies read the context by plain calls, not by
--     sub-selects that a row of any organization could set off);
--   * the context cannot change while a query that reads rows under row
--     level security is open (55000): a cursor opened as one member, read on
--     as another member of the same session, would otherwise combine one
--     context's organization with the other's role.
-- Runs as the application login (tenancy_test_app) inside one transaction
-- that is rolled back: nothing is left behind, reruns never collide.
BEGIN;
SELECT plan(56);

-------------------------------------------------------------------------------
-- Fixtures: schools A and B, and C, whose owner is A's student (anyone may
-- create an organization).
-------------------------------------------------------------------------------
\ir lib/labelled_fixtures.sql
CREATE TEMP TABLE fx (
    label      text PRIMARY KEY,
    org        text NOT NULL,
    owner      text NOT NULL,
    visibility tenancy.file_visibility NOT NULL,
    id         uuid NOT NULL DEFAULT gen_random_uuid());
INSERT INTO who (label, org, role) VALUES
    ('a_owner', 'a', 'owner'), ('a_teacher', 'a', 'teacher'), ('a_student', 'a', 'student'),
    ('b_owner', 'b', 'owner');
INSERT INTO who (label, org, role, user_id) VALUES ('c_owner', 'c', 'owner', pg_temp.uid('a_student'));
SELECT 'sidech-' || left(md5(random()::text || clock_timestamp()::text), 12) AS run \gset
INSERT INTO orgs VALUES
    ('a', tenancy.create_organization(:'run' || '-a', 'Side School A', pg_temp.uid('a_owner'))),
    ('b', tenancy.create_organization(:'run' || '-b', 'Side School B', pg_temp.uid('b_owner'))),
    ('c', tenancy.create_organization(:'run' || '-c', 'Side School C', pg_temp.uid('c_owner')));
SELECT pg_temp.act_as('a_owner') AS fixture_role \gset
INSERT INTO tenancy.members (organization_id, user_id, role)
SELECT pg_temp.org('a'), user_id, role FROM who WHERE org = 'a' AND role <> 'owner';
INSERT INTO fx (label, org, owner, visibility) VALUES
    ('a_student_org', 'a', 'a_student', 'org'),
    ('a_teacher_priv', 'a', 'a_teacher', 'private'),
    ('b_owner_priv', 'b', 'b_owner', 'private'),
    ('c_owner_org', 'c', 'c_owner', 'org');
DO $$
DECLARE
    uploader text;
BEGIN
    FOR uploader IN SELECT DISTINCT owner FROM fx ORDER BY 1 LOOP
        PERFORM pg_temp.act_as(uploader);
        INSERT INTO tenancy.files (id, path, name, size_bytes, visibility)
        SELECT id, 'sidech/' || label, label, 100, visibility FROM fx WHERE owner = uploader;
    END LOOP;
END
$$;
SELECT pg_temp.act_as('a_owner') AS fixture_role \gset
SELECT tenancy.record_file_access(pg_temp.fid('a_student_org'), 'view') IS NULL AS logged \gset
SELECT pg_temp.act_as('b_owner') AS fixture_role \gset
SELECT tenancy.record_file_access(pg_temp.fid('b_owner_priv'), 'view') IS NULL AS logged \gset

-------------------------------------------------------------------------------
-- EXPLAIN ANALYZE of writes and reads: a condition that matches a row of
-- another organization shows the same as one that matches nothing.
-------------------------------------------------------------------------------
-- The plan of a command as it ran (rolled back), without costs or timings.
-- `command` is a format() template; its values are written in the plan as
-- '…', so that the plans of two values compare.
CREATE FUNCTION pg_temp.explained(command text, VARIADIC plan_values text[]) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    line text;
    plan text := '';
    plan_value text;
BEGIN
    BEGIN
        FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) '
                            || format(command, VARIADIC plan_values) LOOP
            plan := plan || line || E'\n';
        END LOOP;
        RAISE SQLSTATE 'TUNDO';
    EXCEPTION WHEN SQLSTATE 'TUNDO' THEN NULL;
    END;
    FOREACH plan_value IN ARRAY plan_values LOOP
        plan := replace(plan, plan_value, '…');
    END LOOP;
    RETURN plan;
END
$$;
-- Sequential scans: the caller's condition on a column with no index of its
-- own is then checked beside the policy's, on every row of every
-- organization.
SET LOCAL enable_indexscan = off;
SET LOCAL enable_bitmapscan = off;
SET LOCAL enable_indexonlyscan = off;

SELECT pg_temp.act_as('a_student') AS ctx \gset
SELECT is(pg_temp.explained('DELETE FROM tenancy.files WHERE path = %L', 'sidech/b_owner_priv'),
          pg_temp.explained('DELETE FROM tenancy.files WHERE path = %L', 'sidech/no_such_file'),
          'student: EXPLAIN ANALYZE DELETE of files by another school''s path shows what a missing path shows');
SELECT is(pg_temp.explained('UPDATE tenancy.files SET name = name WHERE path = %L', 'sidech/b_owner_priv'),
          pg_temp.explained('UPDATE tenancy.files SET name = name WHERE path = %L', 'sidech/no_such_file'),
          'student: EXPLAIN ANALYZE UPDATE of files by another school''s path shows what a missing path shows');
SELECT is(pg_temp.explained('DELETE FROM tenancy.files WHERE path ^@ %L', 'sidech/b_'),
          pg_temp.explained('DELETE FROM tenancy.files WHERE path ^@ %L', 'sidech/zz_'),
          'student: the same for a prefix search (^@, leakproof)');
SELECT is(pg_temp.explained('UPDATE tenancy.files SET name = name WHERE owner_id >= %L AND owner_id <= %L',
                            pg_temp.uid('b_owner')::text, pg_temp.uid('b_owner')::text),
          pg_temp.explained('UPDATE tenancy.files SET name = name WHERE owner_id >= %L AND owner_id <= %L',
                            'ffffffff-ffff-ffff-ffff-fffffffffffe', 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
          'student: the same for a range around another school''s owner id');
SELECT is(pg_temp.explained('SELECT * FROM tenancy.files WHERE path = %L', 'sidech/b_owner_priv'),
          pg_temp.explained('SELECT * FROM tenancy.files WHERE path = %L', 'sidech/no_such_file'),
          'student: and for a SELECT');
SELECT is(pg_temp.explained('SELECT * FROM tenancy.file_access_log WHERE file_id = %L',
                            pg_temp.fid('b_owner_priv')::text),
          pg_temp.explained('SELECT * FROM tenancy.file_access_log WHERE file_id = %L',
                            gen_random_uuid()::text),
          'student: and for a SELECT of the access log by another school''s file id');
SELECT pg_temp.act_as('a_teacher') AS ctx \gset
SELECT is(pg_temp.explained('SELECT * FROM tenancy.file_access_log WHERE file_id = %L',
                            pg_temp.fid('b_owner_priv')::text),
          pg_temp.explained('SELECT * FROM tenancy.file_access_log WHERE file_id = %L',
                            gen_random_uuid()::text),
          'teacher: the same for the access log (whose policy looks the file up for a teacher)');

SELECT pg_temp.act_as('a_owner') AS ctx \gset
SELECT is(pg_temp.explained('DELETE FROM tenancy.members WHERE user_id = %L', pg_temp.uid('b_owner')::text),
          pg_temp.explained('DELETE FROM tenancy.members WHERE user_id = %L', gen_random_uuid()::text),
          'owner: EXPLAIN ANALYZE DELETE of members by another school''s owner shows what an unknown user shows');
SELECT is(pg_temp.explained('UPDATE tenancy.members SET role = role WHERE user_id = %L', pg_temp.uid('b_owner')::text),
          pg_temp.explained('UPDATE tenancy.members SET role = role WHERE user_id = %L', gen_random_uuid()::text),
          'owner: the same for UPDATE of members');
SELECT is(pg_temp.explained('UPDATE tenancy.organizations SET name = name WHERE slug = %L', :'run' || '-b'),
          pg_temp.explained('UPDATE tenancy.organizations SET name = name WHERE slug = %L', :'run' || '-x'),
          'owner: EXPLAIN ANALYZE UPDATE of organizations by another school''s slug shows what an unknown slug shows');
SELECT is(pg_temp.explained('DELETE FROM tenancy.organizations WHERE slug = %L', :'run' || '-b'),
          pg_temp.explained('DELETE FROM tenancy.organizations WHERE slug = %L', :'run' || '-x'),
          'owner: the same for DELETE of organizations');
SELECT is((SELECT count(*) FROM tenancy.organizations WHERE slug = :'run' || '-a'), 1::bigint,
          'owner: (the explained DELETE was rolled back: the own school is still there)');
-- No sub-select is left in any policy of the extension's tables.
SELECT is((SELECT count(*) FROM pg_policies
           WHERE schemaname = 'tenancy'
             AND (coalesce(qual, '') ~* '\(\s*SELECT\s+tenancy\.current_'
                  OR coalesce(with_check, '') ~* '\(\s*SELECT\s+tenancy\.current_')),
          0::bigint, 'no policy of the extension reads the context through a sub-select');
RESET enable_indexscan;
RESET enable_bitmapscan;
RESET enable_indexonlyscan;

-------------------------------------------------------------------------------
-- The context does not change under an open query.
-------------------------------------------------------------------------------
-- A's student (also C's owner) opens a cursor as A's student, and would read
-- on as C's owner.
SELECT pg_temp.act_as('a_student') AS ctx \gset
DECLARE student_files CURSOR FOR SELECT name FROM tenancy.files;
SELECT results_eq('FETCH 1 FROM student_files', $$VALUES ('a_student_org')$$,
                  'the student''s cursor reads the student''s own file first');
SELECT throws_ok(format('SELECT tenancy.set_context(%L, %L)', pg_temp.org('c'), pg_temp.uid('c_owner')),
                 '55000', 'cannot change the tenant context while a query that reads tenant rows is open',
                 'with a cursor over files open, a switch to another organization is refused (55000)');
SELECT throws_ok(format('SELECT tenancy.set_context(%L, %L)', pg_temp.org('a'), pg_temp.uid('a_owner')),
                 '55000', NULL,
                 'and so is a switch to another member of the same organization');
SELECT throws_ok($q$DO $do$ BEGIN PERFORM tenancy.clear_context(); PERFORM pg_temp.act_as('c_owner'); END $do$$q$,
                 '55000', NULL,
                 'and clearing the context first does not get around it');
SELECT lives_ok(format('SELECT tenancy.set_context(%L, %L)', pg_temp.org('a'), pg_temp.uid('a_student')),
                'setting the same context again is allowed while the cursor is open');
SELECT is_empty('FETCH ALL FROM student_files',
                'the cursor reads on under the context it was opened in: no file of C, none private to others');
CLOSE student_files;
SELECT is(pg_temp.act_as('c_owner'), 'owner', 'once the cursor is closed, the switch is allowed');

-- A statement that reads tenant rows and switches the context itself.
SELECT pg_temp.act_as('a_student') AS ctx \gset
SELECT throws_ok(format('SELECT name, tenancy.set_context(%L, %L) FROM tenancy.files',
                        pg_temp.org('c'), pg_temp.uid('c_owner')),
                 '55000', NULL,
                 'a statement that reads files cannot switch the context mid-scan (55000)');
SELECT throws_ok(format($q$DO $do$ DECLARE f record; BEGIN
                            FOR f IN SELECT name FROM tenancy.files LOOP
                                PERFORM tenancy.set_context(%L, %L);
                            END LOOP;
                          END $do$$q$, pg_temp.org('c'), pg_temp.uid('c_owner')),
                 '55000', NULL,
                 'nor can a PL/pgSQL loop over files');
SELECT is(tenancy.current_org_id(), pg_temp.org('a'), 'the context is still the student''s of A');

-- Queries that are over do not count.
SAVEPOINT before_cursor;
DECLARE dropped_with_savepoint CURSOR FOR SELECT name FROM tenancy.files;
ROLLBACK TO SAVEPOINT before_cursor;
SELECT is(pg_temp.act_as('c_owner'), 'owner',
          'a cursor dropped with its savepoint no longer holds the context');
SELECT pg_temp.act_as('a_student') AS ctx \gset
SELECT is((SELECT count(*) FROM tenancy.files WHERE size_bytes < 0), 0::bigint,
          '(a finished statement over files)');
SELECT throws_ok($$INSERT INTO tenancy.files (path, name, size_bytes) VALUES ('sidech/bad', 'bad', -1)$$,
                 '23514', NULL, '(a failed statement over files)');
SELECT is(pg_temp.act_as('c_owner'), 'owner',
          'after a finished and a failed statement over files, the switch is allowed');
-- A query a cursor starts during a FETCH inside a savepoint (here the next
-- run of a set-returning function in its select list) lives on with the
-- cursor when the savepoint is rolled back, and holds the context as well.
CREATE FUNCTION pg_temp.lazy_files() RETURNS SETOF text LANGUAGE sql AS
$$ SELECT name FROM tenancy.files ORDER BY name $$;
SELECT pg_temp.act_as('a_student') AS ctx \gset
DECLARE lazy CURSOR FOR SELECT g, pg_temp.lazy_files() FROM generate_series(1, 2) g;
MOVE 1 IN lazy;
SAVEPOINT next_run;
MOVE 1 IN lazy;
ROLLBACK TO SAVEPOINT next_run;
SELECT throws_ok(format('SELECT tenancy.set_context(%L, %L)', pg_temp.org('c'), pg_temp.uid('c_owner')),
                 '55000', NULL,
                 'a query started by a cursor inside a rolled-back savepoint still holds the context');
CLOSE lazy;
SELECT is(pg_temp.act_as('c_owner'), 'owner', 'and lets it go once the cursor is closed');
SELECT pg_temp.act_as('a_student') AS ctx \gset
-- A rollback to a savepoint restores an earlier context without
-- set_context: a query that began under the context rolled away cannot read
-- on (55000). Here the next run of a set-returning function, begun by a
-- FETCH inside the savepoint as A's student, is read on as C's owner.
CREATE FUNCTION pg_temp.lazy_names() RETURNS SETOF text LANGUAGE sql AS
$$ SELECT name FROM tenancy.files ORDER BY name $$;
SELECT pg_temp.act_as('c_owner') AS ctx \gset
DECLARE lateral_files CURSOR FOR
    SELECT g, s.n FROM generate_series(1, 3) g
    LEFT JOIN LATERAL (SELECT pg_temp.lazy_names() AS n WHERE g <> 2) s ON true;
-- Plain MOVEs, outside any pgTAP function: a FETCH inside one of its
-- exception blocks would leave the function's cache to a subtransaction
-- that ends, and PostgreSQL would start the function afresh.
MOVE 2 IN lateral_files;  -- (1, c_owner_org) as C's owner; at g = 2 no run is open
SAVEPOINT switched;
SELECT pg_temp.act_as('a_student') AS ctx \gset
MOVE 1 IN lateral_files;  -- g = 3: a run begins as A's student
ROLLBACK TO SAVEPOINT switched;
SELECT throws_ok('FETCH ALL FROM lateral_files', '55000',
                 'the tenant context changed while a query that reads tenant rows was open',
                 'a query begun under a context a savepoint rollback took away cannot read on (55000)');
CLOSE lateral_files;
SELECT is(tenancy.current_member_role()::text, 'owner', '(the context is C''s owner''s again)');
SELECT pg_temp.act_as('a_student') AS ctx \gset
-- A cursor whose FETCH failed inside a rolled-back savepoint can no longer
-- be read, and holds nothing.
DECLARE failing CURSOR FOR SELECT 1 / (size_bytes - 100) FROM tenancy.files;
SAVEPOINT failing_fetch;
SELECT throws_ok('FETCH 1 FROM failing', '22012', NULL, '(a FETCH that fails: division by zero)');
ROLLBACK TO SAVEPOINT failing_fetch;
SELECT throws_ok('FETCH 1 FROM failing', '55000', 'portal "failing" cannot be run',
                 '(the failed cursor cannot be read again)');
SELECT is(pg_temp.act_as('c_owner'), 'owner', 'a cursor whose FETCH failed holds nothing');
CLOSE failing;
SELECT pg_temp.act_as('a_student') AS ctx \gset
-- However many queries are open (no cap: one beyond it would go unnoted).
DO $$
BEGIN
    FOR i IN 1 .. 40 LOOP
        EXECUTE format('DECLARE many_%s CURSOR FOR SELECT name FROM tenancy.files', i);
    END LOOP;
END
$$;
SELECT throws_ok(format('SELECT tenancy.set_context(%L, %L)', pg_temp.org('c'), pg_temp.uid('c_owner')),
                 '55000', NULL, 'with 40 cursors open the switch is refused');
CLOSE ALL;
SELECT is(pg_temp.act_as('c_owner'), 'owner', 'and allowed once they are all closed');
SELECT pg_temp.act_as('a_student') AS ctx \gset
-- A cursor over a table without row level security holds nothing.
DECLARE fixture_rows CURSOR FOR SELECT label FROM fx;
MOVE 1 IN fixture_rows;
SELECT is(pg_temp.act_as('c_owner'), 'owner',
          'a cursor over a table without row level security does not hold the context');
CLOSE fixture_rows;
SELECT pg_temp.act_as('a_student') AS ctx \gset
-- A cursor WITH HOLD holds the context until its transaction ends (at the
-- commit its rows are read and stored, under the context it was opened in).
DECLARE held_files CURSOR WITH HOLD FOR SELECT name FROM tenancy.files;
SELECT throws_ok(format('SELECT tenancy.set_context(%L, %L)', pg_temp.org('c'), pg_temp.uid('c_owner')),
                 '55000', NULL, 'a cursor WITH HOLD holds the context while its transaction is open');
CLOSE held_files;
SELECT is(pg_temp.act_as('c_owner'), 'owner', 'and lets it go once closed');

-------------------------------------------------------------------------------
-- LOCK TABLE: what would stall every tenant is the owner's only.
-------------------------------------------------------------------------------
SELECT throws_ok('LOCK TABLE tenancy.members IN ACCESS EXCLUSIVE MODE', '42501',
                 'permission denied to lock table tenancy.members in ACCESS EXCLUSIVE mode',
                 'the application cannot lock members ACCESS EXCLUSIVE (42501)');
SELECT throws_ok('LOCK TABLE tenancy.files IN SHARE MODE', '42501', NULL,
                 'nor files in SHARE mode, which would block every writer');
SELECT throws_ok('LOCK TABLE fx, tenancy.organizations IN EXCLUSIVE MODE', '42501',
                 'permission denied to lock table tenancy.organizations in EXCLUSIVE mode',
                 'nor organizations, second in a list of tables');
CREATE TEMP VIEW members_view AS SELECT * FROM tenancy.members;
CREATE TEMP VIEW members_view_view AS SELECT m.* FROM members_view m JOIN fx ON true;
SELECT throws_ok('LOCK TABLE members_view IN ACCESS EXCLUSIVE MODE', '42501',
                 'permission denied to lock table tenancy.members in ACCESS EXCLUSIVE mode',
                 'nor through a view of its own over members (LOCK TABLE locks the view''s tables too)');
SELECT throws_ok('LOCK TABLE members_view_view IN SHARE MODE', '42501',
                 'permission denied to lock table tenancy.members in SHARE mode',
                 'nor through a view over that view');
SELECT lives_ok('LOCK TABLE tenancy.members IN ROW EXCLUSIVE MODE',
                'ROW EXCLUSIVE (what its own writes take) is allowed');
SELECT lives_ok('LOCK TABLE fx IN ACCESS EXCLUSIVE MODE',
                'its own tables are none of pg_tenancy''s business');
SELECT lives_ok('LOCK TABLE members_view IN ROW EXCLUSIVE MODE',
                'and a view in ROW EXCLUSIVE mode is allowed');
-- Statements that PostgreSQL lets queue for a strong lock before it checks
-- that they may change the table are refused at once.
SELECT throws_ok($$CREATE TRIGGER t AFTER INSERT ON tenancy.members
                   FOR EACH ROW EXECUTE FUNCTION tenancy.files_audit()$$,
                 '42501', 'permission denied for table tenancy.members',
                 'CREATE TRIGGER on members is refused before it locks (42501)');
SELECT throws_ok('CREATE RULE r AS ON INSERT TO tenancy.files DO ALSO NOTIFY x',
                 '42501', 'permission denied for table tenancy.files',
                 'CREATE RULE on files is refused before it locks');
SELECT throws_ok('CREATE TEMP TABLE fk_probe (o uuid REFERENCES tenancy.organizations)',
                 '42501', 'permission denied for table tenancy.organizations',
                 'a new table''s foreign key to organizations is refused before it locks');
SELECT throws_ok('ALTER TABLE fx ADD COLUMN o uuid REFERENCES tenancy.organizations',
                 '42501', 'permission denied for table tenancy.organizations',
                 'and so is one added to an existing table');
SELECT lives_ok('ALTER TABLE IF EXISTS no_such_table ADD COLUMN o uuid REFERENCES tenancy.organizations',
                '(ALTER TABLE IF EXISTS of a missing table is skipped, as PostgreSQL does)');
SELECT throws_ok('CREATE TEMP TABLE inherit_probe () INHERITS (tenancy.members)',
                 '42501', 'permission denied for table tenancy.members',
                 'a table inheriting from members is refused before it locks');
SELECT throws_ok('ALTER TABLE fx INHERIT tenancy.members',
                 '42501', 'permission denied for table tenancy.members',
                 'and so is ALTER TABLE … INHERIT members');
CREATE TEMP TABLE parted (organization_id uuid, user_id uuid) PARTITION BY LIST (organization_id);
SELECT throws_ok($$ALTER TABLE parted ATTACH PARTITION tenancy.members
                   FOR VALUES IN ('00000000-0000-0000-0000-000000000000')$$,
                 '42501', 'permission denied for table tenancy.members',
                 'attaching members as a partition is refused before it locks');
SELECT throws_ok('ALTER TABLE parted DETACH PARTITION tenancy.members',
                 '42501', 'permission denied for table tenancy.members',
                 'and so is detaching it (PostgreSQL would only say so after the lock)');

SELECT * FROM finish();
ROLLBACK;
