-- tenancy.protect(tbl, tenant_column) and tenancy.unprotect(tbl) (DESIGN.md,
-- "Application tables"; src/sql/1.0--1.1/10_protect.sql):
--   - protect applies the isolation of the extension's own tables to an
--     application table of any supported shape: plain, partitioned (the
--     parent; a partition is refused), serial and identity columns (USAGE on
--     the sequence), an existing default, RLS already on, an existing tenant
--     index, existing grants; a key without the tenant column is accepted
--     with a WARNING;
--   - what cannot be protected is refused with a precise SQLSTATE;
--   - protecting twice is protecting once;
--   - unprotect undoes exactly what protect did and nothing else: a catalog
--     snapshot (RLS flags, policies, column defaults, indexes, table and
--     sequence privileges, partitions included) taken before protect equals
--     the one taken after unprotect;
--   - dropping a protected table forgets it (sql_drop event trigger);
--   - the isolation matrix on a protected table, as the application login
--     tenancy_test_app (SET LOCAL ROLE), with contexts of two organizations,
--     without a context, and in strict mode (tenancy.require_context).
--
-- Runs as the superuser postgres (protect/unprotect are the DBA's), with psql
-- variables host and port (pg_prove --set): the WARNING is read from a child
-- psql session started with COPY … FROM PROGRAM, since SQL cannot catch a
-- WARNING. Everything happens in one transaction, rolled back at the end, in
-- a schema of its own with a random name; the child session rolls back too.
SET client_min_messages = error;
BEGIN;
SELECT plan(146);

SELECT 'app_' || substr(md5(random()::text || clock_timestamp()::text), 1, 10) AS s,
       'ptt-' || substr(md5(random()::text || clock_timestamp()::text), 1, 10) AS slug,
       gen_random_uuid() AS org_a, gen_random_uuid() AS org_b,
       gen_random_uuid() AS user_a, gen_random_uuid() AS user_b \gset
CREATE SCHEMA :"s";
SET LOCAL search_path = :"s", public;
GRANT USAGE ON SCHEMA :"s" TO tenancy_app;

-- Two organizations with one member each, written as the superuser.
INSERT INTO tenancy.organizations (id, slug, name)
VALUES (:'org_a', :'slug' || '-a', 'Protect A'), (:'org_b', :'slug' || '-b', 'Protect B');
INSERT INTO tenancy.members (organization_id, user_id, role)
VALUES (:'org_a', :'user_a', 'owner'), (:'org_b', :'user_b', 'owner');

-------------------------------------------------------------------------------
-- Helpers.
-------------------------------------------------------------------------------
-- What protect/unprotect may change on one relation, privileges normalized
-- (a NULL acl is the owner's default; a GRANT then REVOKE leaves it explicit).
CREATE FUNCTION pg_temp.acl_text(acl aclitem[]) RETURNS jsonb
    LANGUAGE sql AS $$
    SELECT coalesce(jsonb_agg(format('%s->%s:%s%s',
                                     a.grantor::regrole,
                                     CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END,
                                     a.privilege_type,
                                     CASE WHEN a.is_grantable THEN '*' ELSE '' END) ORDER BY 1), '[]')
    FROM aclexplode(acl) a
$$;
CREATE FUNCTION pg_temp.rel_state(rel oid) RETURNS jsonb
    LANGUAGE sql AS $$
    SELECT jsonb_build_object(
        'rls', c.relrowsecurity,
        'forced', c.relforcerowsecurity,
        'policies', (SELECT coalesce(jsonb_agg(jsonb_build_array(
                                p.polname, p.polcmd, p.polpermissive,
                                (SELECT array_agg(CASE r WHEN 0 THEN 'PUBLIC' ELSE r::regrole::text END ORDER BY 1)
                                 FROM unnest(p.polroles) r),
                                pg_get_expr(p.polqual, p.polrelid),
                                pg_get_expr(p.polwithcheck, p.polrelid)) ORDER BY p.polname), '[]')
                     FROM pg_policy p WHERE p.polrelid = c.oid),
        'defaults', (SELECT coalesce(jsonb_object_agg(a.attname, pg_get_expr(d.adbin, d.adrelid)), '{}')
                     FROM pg_attrdef d
                     JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
                     WHERE d.adrelid = c.oid),
        'indexes', (SELECT coalesce(jsonb_agg(pg_get_indexdef(i.indexrelid) ORDER BY 1), '[]')
                    FROM pg_index i WHERE i.indrelid = c.oid),
        'acl', pg_temp.acl_text(coalesce(c.relacl, acldefault('r', c.relowner))),
        'sequences', (SELECT coalesce(jsonb_object_agg(s.relname,
                                 pg_temp.acl_text(coalesce(s.relacl, acldefault('s', s.relowner)))), '{}')
                      FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
                      WHERE d.classid = 'pg_class'::regclass AND d.refobjid = c.oid
                        AND d.deptype IN ('a', 'i')))
    FROM pg_class c WHERE c.oid = rel
$$;
-- The table and, for a partitioned one, every partition.
CREATE FUNCTION pg_temp.snapshot(tbl regclass) RETURNS jsonb
    LANGUAGE sql AS $$
    SELECT jsonb_object_agg(c.relname, pg_temp.rel_state(c.oid))
    FROM pg_class c
    WHERE c.oid = tbl OR c.oid IN (SELECT relid FROM pg_partition_tree(tbl))
$$;
CREATE TEMP TABLE snapshots (tbl regclass PRIMARY KEY, before jsonb NOT NULL);
CREATE FUNCTION pg_temp.remember(tbl regclass) RETURNS void
    LANGUAGE sql AS $$ INSERT INTO snapshots VALUES (tbl, pg_temp.snapshot(tbl)) $$;
CREATE FUNCTION pg_temp.before(tbl regclass) RETURNS jsonb
    LANGUAGE sql AS $$ SELECT before FROM snapshots WHERE snapshots.tbl = $1 $$;

-- The catalog row protect() wrote, with its arrays sorted.
CREATE FUNCTION pg_temp.catalog_row(tbl regclass) RETURNS text
    LANGUAGE sql AS $$
    SELECT format('%s|%s|%s|%s|%s|%s|%s', p.tenant_column, p.rls_was_enabled, p.rls_was_forced,
                  p.previous_default, p.created_index,
                  (SELECT array_agg(g ORDER BY g) FROM unnest(p.granted) g),
                  (SELECT array_agg(g::text ORDER BY 1) FROM unnest(p.granted_sequences) g))
    FROM tenancy.protected_tables p WHERE p.relid = tbl
$$;
CREATE FUNCTION pg_temp.is_protected(tbl regclass) RETURNS boolean
    LANGUAGE sql AS $$ SELECT EXISTS (SELECT FROM tenancy.protected_tables WHERE relid = tbl) $$;

-- Does an index of tbl lead with the column?
CREATE FUNCTION pg_temp.leading_indexes(tbl regclass, col name) RETURNS bigint
    LANGUAGE sql AS $$
    SELECT count(*) FROM pg_index i
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
    WHERE i.indrelid = tbl AND a.attname = col
$$;

-- The privileges tenancy_app holds directly on a table, sorted.
CREATE FUNCTION pg_temp.app_privileges(tbl regclass) RETURNS text
    LANGUAGE sql AS $$
    SELECT coalesce(string_agg(a.privilege_type, ',' ORDER BY a.privilege_type), '')
    FROM pg_class c, aclexplode(c.relacl) a
    WHERE c.oid = tbl AND a.grantee = 'tenancy_app'::regrole
$$;

-- Runs one statement as the application login tenancy_test_app: SET LOCAL
-- ROLE, then tenancy.set_context(org, usr) unless org is NULL, with
-- tenancy.require_context switched on first (as the superuser) when strict.
-- Returns the first column of the first row (write DML as a CTE or with
-- RETURNING), or 'error <SQLSTATE>: <message>'. Everything the statement did
-- is rolled back (role, context and setting included), so calls are
-- independent.
CREATE FUNCTION pg_temp.as_app(org uuid, usr uuid, command text, strict boolean DEFAULT false)
    RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    value text;
BEGIN
    BEGIN
        IF strict THEN
            PERFORM set_config('tenancy.require_context', 'on', true);
        END IF;
        SET LOCAL ROLE tenancy_test_app;
        IF org IS NOT NULL THEN
            PERFORM tenancy.set_context(org, usr);
        END IF;
        EXECUTE command INTO value;
        RAISE EXCEPTION USING ERRCODE = 'P0999', MESSAGE = coalesce(value, '<null>');
    EXCEPTION
        WHEN SQLSTATE 'P0999' THEN RETURN SQLERRM;
        WHEN OTHERS THEN RETURN 'error ' || SQLSTATE || ': ' || SQLERRM;
    END;
END
$$;

-- The stderr (and failure, if any) of a child psql session as postgres that
-- runs commands. psql is the one next to the server's own binary.
CREATE FUNCTION pg_temp.sh_quote(s text) RETURNS text
    LANGUAGE sql AS $$ SELECT '''' || replace(s, '''', '''"''"''') || '''' $$;
CREATE TEMP TABLE psql_lines (n serial, line text);
CREATE FUNCTION pg_temp.psql_messages(host text, port text, commands text) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE psql_lines;
    EXECUTE format('COPY psql_lines (line) FROM PROGRAM %L WITH (FORMAT csv, DELIMITER %L, QUOTE %L)',
        format('"$(dirname "$(readlink -f /proc/$PPID/exe)")/psql" -X -q -o /dev/null'
               ' -v ON_ERROR_STOP=1 -h %s -p %s -U postgres -d %s -c %s 2>&1'
               ' || echo "psql failed with status $?"',
               pg_temp.sh_quote(host), pg_temp.sh_quote(port),
               pg_temp.sh_quote(current_database()), pg_temp.sh_quote(commands)),
        E'\x01', E'\x02');
    RETURN coalesce((SELECT string_agg(line, E'\n' ORDER BY n) FROM psql_lines), '');
END
$$;

-------------------------------------------------------------------------------
-- 1. An ordinary table whose primary key leads with organization_id.
-------------------------------------------------------------------------------
CREATE TABLE t_plain (
    organization_id uuid NOT NULL,
    id integer NOT NULL,
    body text,
    PRIMARY KEY (organization_id, id)
);
SELECT pg_temp.remember('t_plain');
SELECT lives_ok($$SELECT tenancy.protect('t_plain')$$, 'plain table: protect succeeds');
SELECT ok((SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = 't_plain'::regclass),
          'plain table: row level security is enabled and forced');
SELECT is((SELECT format('%s %s %s %s | %s | %s', polname, polcmd, polpermissive,
                         polroles::regrole[]::text,
                         pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid))
           FROM pg_policy WHERE polrelid = 't_plain'::regclass),
          'tenancy_isolation * t {tenancy_app} | (organization_id = tenancy.current_org_id()) | (organization_id = tenancy.current_org_id())',
          'plain table: one permissive policy for all commands, to tenancy_app, USING and WITH CHECK on the context');
SELECT is((SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef
           WHERE adrelid = 't_plain'::regclass AND adnum = 1),
          'tenancy.current_org_id()', 'plain table: the tenant column defaults to the context');
SELECT is(pg_temp.app_privileges('t_plain'), 'DELETE,INSERT,SELECT,UPDATE',
          'plain table: tenancy_app may SELECT, INSERT, UPDATE and DELETE');
SELECT is(pg_temp.leading_indexes('t_plain', 'organization_id'), 1::bigint,
          'plain table: the primary key leads with the tenant column, so no index is added');
SELECT is(pg_temp.catalog_row('t_plain'), 'organization_id|f|f|||{DELETE,INSERT,SELECT,UPDATE}|',
          'plain table: the catalog row records what protect changed');
-- LOCK TABLE of a protected table stronger than ROW EXCLUSIVE is its
-- owner's only, as for the extension's tables (1.10 library): protect()
-- grants UPDATE and DELETE, with which PostgreSQL lets any tenant lock it
-- ACCESS EXCLUSIVE and stall every other. Named or under a view; a table
-- that is not protected is left to PostgreSQL's rule.
CREATE TABLE t_lock_free (organization_id uuid, id integer);
GRANT UPDATE ON t_lock_free TO tenancy_app;
SELECT tenancy.current_org_id() IS NULL AS library_loaded \gset
SET ROLE tenancy_test_app;
CREATE TEMP VIEW t_plain_view AS SELECT * FROM t_plain;
SAVEPOINT before_locks;
SELECT throws_ok('LOCK TABLE t_plain IN ACCESS EXCLUSIVE MODE', '42501', NULL,
                 'plain table: the application cannot lock it ACCESS EXCLUSIVE (42501)');
SELECT throws_ok('LOCK TABLE t_plain_view IN SHARE MODE', '42501', NULL,
                 'plain table: nor SHARE through a view of its own');
SELECT lives_ok('LOCK TABLE t_plain IN ROW EXCLUSIVE MODE',
                'plain table: ROW EXCLUSIVE (what its writes take) is allowed');
SELECT lives_ok('LOCK TABLE t_lock_free IN ACCESS EXCLUSIVE MODE',
                'a table that is not protected: PostgreSQL''s rule (UPDATE lets it lock)');
ROLLBACK TO SAVEPOINT before_locks;
DROP VIEW t_plain_view;
RESET ROLE;
DROP TABLE t_lock_free;
SELECT lives_ok($$SELECT tenancy.unprotect('t_plain')$$, 'plain table: unprotect succeeds');
SELECT is(pg_temp.snapshot('t_plain'), pg_temp.before('t_plain'),
          'plain table: after unprotect the catalog is as before protect');
SELECT ok(NOT pg_temp.is_protected('t_plain'), 'plain table: unprotect removes the catalog row');

-------------------------------------------------------------------------------
-- 2. Keys without the tenant column: accepted, with a WARNING per key.
-------------------------------------------------------------------------------
CREATE TABLE t_nokey (id integer PRIMARY KEY, organization_id uuid, code text UNIQUE);
SELECT pg_temp.remember('t_nokey');
SELECT lives_ok($$SELECT tenancy.protect('t_nokey')$$, 'key without the tenant column: protect succeeds');
SELECT ok(pg_temp.is_protected('t_nokey')
          AND (SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = 't_nokey'::regclass),
          'key without the tenant column: the table is protected');
SELECT is(pg_temp.leading_indexes('t_nokey', 'organization_id'), 1::bigint,
          'key without the tenant column: an index on the tenant column is created');
SELECT is((SELECT created_index::text FROM tenancy.protected_tables WHERE relid = 't_nokey'::regclass),
          't_nokey_organization_id_idx', 'key without the tenant column: the created index is recorded');
SELECT lives_ok($$SELECT tenancy.unprotect('t_nokey')$$, 'key without the tenant column: unprotect succeeds');
SELECT is(pg_temp.snapshot('t_nokey'), pg_temp.before('t_nokey'),
          'key without the tenant column: unprotect drops the created index and restores everything');

-- The WARNING, as a client sees it (a child session; it rolls back).
SELECT 'w_' || substr(md5(random()::text || clock_timestamp()::text), 1, 10) AS w \gset
SELECT pg_temp.psql_messages(:'host', :'port', format(
    'BEGIN; CREATE SCHEMA %1$I;'
    ' CREATE TABLE %1$I.t_bad (id integer PRIMARY KEY, organization_id uuid, code text UNIQUE);'
    ' SELECT tenancy.protect(%2$L); ROLLBACK;', :'w', :'w' || '.t_bad')) AS bad_messages \gset
SELECT pg_temp.psql_messages(:'host', :'port', format(
    'BEGIN; CREATE SCHEMA %1$I;'
    ' CREATE TABLE %1$I.t_good (organization_id uuid, id integer, code text,'
    ' PRIMARY KEY (organization_id, id), UNIQUE (organization_id, code));'
    ' SELECT tenancy.protect(%2$L); ROLLBACK;', :'w', :'w' || '.t_good')) AS good_messages \gset
SELECT matches(:'bad_messages'::text,
               'WARNING:  primary key "t_bad_pkey" of [a-z_0-9.]*t_bad does not include the tenant column "organization_id"',
               'a primary key without the tenant column raises a WARNING naming it');
SELECT matches(:'bad_messages'::text,
               'WARNING:  unique constraint "t_bad_code_key" of [a-z_0-9.]*t_bad does not include the tenant column "organization_id"',
               'a unique constraint without the tenant column raises a WARNING naming it');
SELECT is(:'good_messages'::text, '', 'keys that include the tenant column raise no WARNING (and the child session ran cleanly)');
-- A foreign key between protected tables that does not pair the tenant
-- columns (1.10): protecting either table warns of it (foreign key checks
-- bypass row level security, so it reaches across tenants); one that pairs
-- them does not.
SELECT pg_temp.psql_messages(:'host', :'port', format(
    'BEGIN; CREATE SCHEMA %1$I;'
    ' CREATE TABLE %1$I.lessons (organization_id uuid, id integer, PRIMARY KEY (organization_id, id), UNIQUE (id));'
    ' CREATE TABLE %1$I.grades (organization_id uuid, id integer, lesson_id integer REFERENCES %1$I.lessons (id),'
    ' PRIMARY KEY (organization_id, id));'
    ' CREATE TABLE %1$I.notes (organization_id uuid, id integer, lesson_id integer,'
    ' PRIMARY KEY (organization_id, id), FOREIGN KEY (organization_id, lesson_id) REFERENCES %1$I.lessons);'
    ' SET client_min_messages = error; SELECT tenancy.protect(%2$L); SELECT tenancy.protect(%3$L);'
    ' SET client_min_messages = warning; SELECT tenancy.protect(%4$L); ROLLBACK;',
    :'w' || 'fk', :'w' || 'fk.lessons', :'w' || 'fk.notes', :'w' || 'fk.grades')) AS fk_messages \gset
SELECT matches(:'fk_messages'::text,
               'WARNING:  foreign key "grades_lesson_id_fkey" of [a-z_0-9.]*grades references [a-z_0-9.]*lessons without matching its tenant column to that table''s: it reaches across tenants',
               'a foreign key to a protected table without the tenant columns raises a WARNING naming it');
SELECT unalike(:'fk_messages'::text, '%notes%', 'one that pairs the tenant columns raises none');

-------------------------------------------------------------------------------
-- 3. A partitioned table: the parent is protected, a partition is refused.
-------------------------------------------------------------------------------
CREATE TABLE t_part (organization_id uuid NOT NULL, at date NOT NULL, v integer)
    PARTITION BY RANGE (at);
CREATE TABLE t_part_2024 PARTITION OF t_part FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE t_part_2025 PARTITION OF t_part FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
INSERT INTO t_part VALUES (:'org_a', '2024-06-01', 1), (:'org_b', '2025-06-01', 2), (:'org_b', '2024-07-01', 3);
SELECT pg_temp.remember('t_part');
SELECT throws_ok($$SELECT tenancy.protect('t_part_2024')$$, '42809', NULL,
                 'partitioned table: protecting a partition fails with 42809');
SELECT lives_ok($$SELECT tenancy.protect('t_part')$$, 'partitioned table: protecting the parent succeeds');
SELECT ok((SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = 't_part'::regclass)
          AND EXISTS (SELECT FROM pg_policy WHERE polrelid = 't_part'::regclass AND polname = 'tenancy_isolation'),
          'partitioned table: the parent has forced RLS and the isolation policy');
SELECT is((SELECT relkind::text FROM pg_class WHERE relname = (SELECT created_index FROM tenancy.protected_tables
                                                                WHERE relid = 't_part'::regclass)
                                                AND relnamespace = :'s'::regnamespace),
          'I', 'partitioned table: the tenant index is a partitioned index');
SELECT is(pg_temp.as_app(:'org_a', :'user_a', 'SELECT count(*) FROM t_part'), '1',
          'partitioned table: the application sees its organization''s rows in every partition, only those');
SELECT is(pg_temp.as_app(:'org_a', :'user_a',
                         $$INSERT INTO t_part (at, v) VALUES ('2025-03-01', 4) RETURNING organization_id$$),
          :'org_a', 'partitioned table: an insert through the parent gets the context''s organization');
SELECT matches(pg_temp.as_app(:'org_a', :'user_a', 'SELECT count(*) FROM t_part_2025'), '^error 42501',
               'partitioned table: a partition cannot be read directly by the application');
SELECT lives_ok($$SELECT tenancy.unprotect('t_part')$$, 'partitioned table: unprotect succeeds');
SELECT is(pg_temp.snapshot('t_part'), pg_temp.before('t_part'),
          'partitioned table: after unprotect, parent and partitions are as before (indexes included)');

-------------------------------------------------------------------------------
-- 4. Serial and identity columns: USAGE on their sequences, and back.
-------------------------------------------------------------------------------
CREATE TABLE t_serial (organization_id uuid NOT NULL, id bigserial, PRIMARY KEY (organization_id, id));
CREATE TABLE t_ident (organization_id uuid NOT NULL, id bigint GENERATED BY DEFAULT AS IDENTITY,
                      PRIMARY KEY (organization_id, id));
SELECT pg_temp.remember('t_serial');
SELECT pg_temp.remember('t_ident');
SELECT ok(NOT has_sequence_privilege('tenancy_app', pg_get_serial_sequence('t_serial', 'id'), 'USAGE')
          AND NOT has_sequence_privilege('tenancy_app', pg_get_serial_sequence('t_ident', 'id'), 'USAGE'),
          'sequences: tenancy_app has no USAGE before protect');
SELECT lives_ok($$SELECT tenancy.protect('t_serial'); SELECT tenancy.protect('t_ident')$$,
                'sequences: protect succeeds on a serial and an identity table');
SELECT ok(has_sequence_privilege('tenancy_app', pg_get_serial_sequence('t_serial', 'id'), 'USAGE'),
          'sequences: protect grants USAGE on the serial column''s sequence');
SELECT ok(has_sequence_privilege('tenancy_app', pg_get_serial_sequence('t_ident', 'id'), 'USAGE'),
          'sequences: protect grants USAGE on the identity column''s sequence');
SELECT is((SELECT granted_sequences::text[] FROM tenancy.protected_tables WHERE relid = 't_serial'::regclass),
          ARRAY[pg_get_serial_sequence('t_serial', 'id')::regclass::text],
          'sequences: the granted sequence is recorded');
SELECT is(pg_temp.as_app(:'org_a', :'user_a', 'INSERT INTO t_serial DEFAULT VALUES RETURNING id > 0'), 'true',
          'sequences: the application can insert into a serial table (nextval)');
SELECT lives_ok($$SELECT tenancy.unprotect('t_serial'); SELECT tenancy.unprotect('t_ident')$$,
                'sequences: unprotect succeeds');
SELECT ok(NOT has_sequence_privilege('tenancy_app', pg_get_serial_sequence('t_serial', 'id'), 'USAGE')
          AND NOT has_sequence_privilege('tenancy_app', pg_get_serial_sequence('t_ident', 'id'), 'USAGE'),
          'sequences: unprotect revokes USAGE');
SELECT is(pg_temp.snapshot('t_serial'), pg_temp.before('t_serial'), 'sequences: serial table as before protect');
SELECT is(pg_temp.snapshot('t_ident'), pg_temp.before('t_ident'), 'sequences: identity table as before protect');

-- A sequence the application could already use is left granted.
CREATE TABLE t_seq_granted (organization_id uuid NOT NULL, id serial, PRIMARY KEY (organization_id, id));
GRANT USAGE ON SEQUENCE t_seq_granted_id_seq TO tenancy_app;
SELECT pg_temp.remember('t_seq_granted');
SELECT lives_ok($$SELECT tenancy.protect('t_seq_granted'); SELECT tenancy.unprotect('t_seq_granted')$$,
                'sequence already granted: protect and unprotect succeed');
SELECT ok(has_sequence_privilege('tenancy_app', 't_seq_granted_id_seq', 'USAGE'),
          'sequence already granted: unprotect does not revoke the USAGE it did not grant');
SELECT is(pg_temp.snapshot('t_seq_granted'), pg_temp.before('t_seq_granted'),
          'sequence already granted: as before protect');

-------------------------------------------------------------------------------
-- 5. Existing defaults on the tenant column come back exactly.
-------------------------------------------------------------------------------
CREATE FUNCTION fallback_org() RETURNS uuid LANGUAGE sql STABLE
    AS $$ SELECT '00000000-0000-0000-0000-00000000000a'::uuid $$;
CREATE TABLE t_default_fn (organization_id uuid NOT NULL DEFAULT fallback_org(), id integer,
                           PRIMARY KEY (organization_id, id));
CREATE TABLE t_default_const (organization_id uuid DEFAULT '00000000-0000-0000-0000-00000000000b',
                              id integer, PRIMARY KEY (organization_id, id));
SELECT pg_temp.remember('t_default_fn');
SELECT pg_temp.remember('t_default_const');
SELECT lives_ok($$SELECT tenancy.protect('t_default_fn'); SELECT tenancy.protect('t_default_const')$$,
                'existing default: protect succeeds');
SELECT is((SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 't_default_fn'::regclass AND adnum = 1),
          'tenancy.current_org_id()', 'existing default: protect replaces it with the context');
SELECT is((SELECT previous_default FROM tenancy.protected_tables WHERE relid = 't_default_fn'::regclass),
          :'s' || '.fallback_org()', 'existing default: the replaced default is recorded, schema-qualified');
SELECT lives_ok($$SELECT tenancy.unprotect('t_default_fn'); SELECT tenancy.unprotect('t_default_const')$$,
                'existing default: unprotect succeeds');
SELECT is(pg_temp.snapshot('t_default_fn'), pg_temp.before('t_default_fn'),
          'existing default (a function): unprotect restores it exactly');
SELECT is(pg_temp.snapshot('t_default_const'), pg_temp.before('t_default_const'),
          'existing default (a constant): unprotect restores it exactly');
-- ... even where search_path differs at unprotect time.
CREATE TABLE t_default_path (organization_id uuid DEFAULT fallback_org(), id integer,
                             PRIMARY KEY (organization_id, id));
SELECT pg_temp.remember('t_default_path');
SELECT tenancy.protect('t_default_path');
SET LOCAL search_path = public;
SELECT lives_ok(format('SELECT tenancy.unprotect(%L)', :'s' || '.t_default_path'),
                'existing default: unprotect with another search_path succeeds');
SET LOCAL search_path = :"s", public;
SELECT is(pg_temp.snapshot('t_default_path'), pg_temp.before('t_default_path'),
          'existing default: restored to the same function whatever the search_path');
-- A table whose tenant column defaults to the context already: protect
-- changes nothing there, so unprotect must leave that default alone.
CREATE TABLE t_default_ctx (organization_id uuid NOT NULL DEFAULT tenancy.current_org_id(), id integer,
                            PRIMARY KEY (organization_id, id));
SELECT pg_temp.remember('t_default_ctx');
SELECT lives_ok($$SELECT tenancy.protect('t_default_ctx'); SELECT tenancy.unprotect('t_default_ctx')$$,
                'default already the context: protect and unprotect succeed');
SELECT is(pg_temp.snapshot('t_default_ctx'), pg_temp.before('t_default_ctx'),
          'default already the context: unprotect leaves the default it did not set');

-------------------------------------------------------------------------------
-- 6. Row level security already on: unprotect leaves it on (and forced if it was).
-------------------------------------------------------------------------------
CREATE TABLE t_rls (organization_id uuid NOT NULL, id integer, PRIMARY KEY (organization_id, id));
ALTER TABLE t_rls ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_policy ON t_rls FOR SELECT TO PUBLIC USING (id > 0);
CREATE TABLE t_rls_forced (organization_id uuid NOT NULL, id integer, PRIMARY KEY (organization_id, id));
ALTER TABLE t_rls_forced ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
SELECT pg_temp.remember('t_rls');
SELECT pg_temp.remember('t_rls_forced');
SELECT lives_ok($$SELECT tenancy.protect('t_rls'); SELECT tenancy.protect('t_rls_forced')$$,
                'RLS already on: protect succeeds');
SELECT is((SELECT format('%s %s', relrowsecurity, relforcerowsecurity) FROM pg_class WHERE oid = 't_rls'::regclass),
          't t', 'RLS enabled, not forced: protect forces it');
SELECT is((SELECT array_agg(polname::text ORDER BY polname) FROM pg_policy WHERE polrelid = 't_rls'::regclass),
          ARRAY['own_policy', 'tenancy_isolation'], 'RLS already on: the table''s own policy stays beside the isolation one');
SELECT lives_ok($$SELECT tenancy.unprotect('t_rls'); SELECT tenancy.unprotect('t_rls_forced')$$,
                'RLS already on: unprotect succeeds');
SELECT is((SELECT format('%s %s', relrowsecurity, relforcerowsecurity) FROM pg_class WHERE oid = 't_rls'::regclass),
          't f', 'RLS enabled, not forced: unprotect leaves it enabled and unforced');
SELECT is(pg_temp.snapshot('t_rls'), pg_temp.before('t_rls'), 'RLS enabled before: as before protect');
SELECT is(pg_temp.snapshot('t_rls_forced'), pg_temp.before('t_rls_forced'),
          'RLS enabled and forced before: as before protect (still forced)');

-------------------------------------------------------------------------------
-- 7. An index leading with the tenant column exists: none added, none dropped.
-------------------------------------------------------------------------------
CREATE TABLE t_indexed (id integer PRIMARY KEY, organization_id uuid, at timestamptz);
CREATE INDEX t_indexed_org_at ON t_indexed (organization_id, at);
SELECT pg_temp.remember('t_indexed');
SELECT lives_ok($$SELECT tenancy.protect('t_indexed')$$, 'existing tenant index: protect succeeds');
SELECT is((SELECT count(*) FROM pg_index WHERE indrelid = 't_indexed'::regclass), 2::bigint,
          'existing tenant index: no index is added');
SELECT is((SELECT created_index::text FROM tenancy.protected_tables WHERE relid = 't_indexed'::regclass), NULL::text,
          'existing tenant index: no created index is recorded');
SELECT lives_ok($$SELECT tenancy.unprotect('t_indexed')$$, 'existing tenant index: unprotect succeeds');
SELECT ok(to_regclass('t_indexed_org_at') IS NOT NULL, 'existing tenant index: unprotect keeps it');
SELECT is(pg_temp.snapshot('t_indexed'), pg_temp.before('t_indexed'), 'existing tenant index: as before protect');

-- An index that merely contains the tenant column (second) does not count.
CREATE TABLE t_second (id integer PRIMARY KEY, organization_id uuid);
CREATE INDEX t_second_id_org ON t_second (id, organization_id);
SELECT tenancy.protect('t_second');
SELECT is(pg_temp.leading_indexes('t_second', 'organization_id'), 1::bigint,
          'tenant column second in an index: protect adds one that leads with it');
SELECT tenancy.unprotect('t_second');

-------------------------------------------------------------------------------
-- 8. Existing grants to tenancy_app are not revoked.
-------------------------------------------------------------------------------
CREATE TABLE t_granted (organization_id uuid NOT NULL, id integer, PRIMARY KEY (organization_id, id));
GRANT SELECT ON t_granted TO tenancy_app;
SELECT pg_temp.remember('t_granted');
SELECT lives_ok($$SELECT tenancy.protect('t_granted')$$, 'existing grant: protect succeeds');
SELECT is((SELECT (SELECT array_agg(g ORDER BY g) FROM unnest(granted) g) FROM tenancy.protected_tables
           WHERE relid = 't_granted'::regclass),
          ARRAY['DELETE', 'INSERT', 'UPDATE'], 'existing grant: only the missing privileges are granted and recorded');
SELECT lives_ok($$SELECT tenancy.unprotect('t_granted')$$, 'existing grant: unprotect succeeds');
SELECT is(pg_temp.app_privileges('t_granted'), 'SELECT', 'existing grant: unprotect leaves SELECT granted');
SELECT is(pg_temp.snapshot('t_granted'), pg_temp.before('t_granted'), 'existing grant: as before protect');

-------------------------------------------------------------------------------
-- 9. Other tenant columns and names that need quoting.
-------------------------------------------------------------------------------
CREATE TABLE t_school (school_id uuid NOT NULL, id integer, PRIMARY KEY (id));
CREATE TABLE "Weird Table" ("Tenant Id" uuid, "select" integer);
SELECT pg_temp.remember('t_school');
SELECT pg_temp.remember('"Weird Table"');
SELECT lives_ok($$SELECT tenancy.protect('t_school', 'school_id')$$, 'tenant column school_id: protect succeeds');
SELECT is((SELECT pg_get_expr(polqual, polrelid) FROM pg_policy WHERE polrelid = 't_school'::regclass),
          '(school_id = tenancy.current_org_id())', 'tenant column school_id: the policy uses it');
SELECT lives_ok($$SELECT tenancy.protect('"Weird Table"', 'Tenant Id')$$,
                'quoted table and column names: protect succeeds');
SELECT is(pg_temp.leading_indexes('"Weird Table"', 'Tenant Id'), 1::bigint,
          'quoted names: the tenant index is created');
SELECT is(pg_temp.as_app(:'org_b', :'user_b', 'INSERT INTO "Weird Table" ("select") VALUES (1) RETURNING "Tenant Id"'),
          :'org_b', 'quoted names: the default and the policy work');
SELECT lives_ok($$SELECT tenancy.unprotect('t_school'); SELECT tenancy.unprotect('"Weird Table"')$$,
                'quoted names: unprotect succeeds');
SELECT is(pg_temp.snapshot('t_school'), pg_temp.before('t_school'), 'tenant column school_id: as before protect');
SELECT is(pg_temp.snapshot('"Weird Table"'), pg_temp.before('"Weird Table"'), 'quoted names: as before protect');

-- Two tables whose names share their first 50 characters each get an index.
CREATE TABLE aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_one (organization_id uuid, id integer);
CREATE TABLE aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_two (organization_id uuid, id integer);
SELECT lives_ok($$SELECT tenancy.protect('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_one')$$,
                'long table names: protecting the first succeeds');
SELECT lives_ok($$SELECT tenancy.protect('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_two')$$,
                'long table names: protecting a second one with the same 50-character prefix succeeds');

-------------------------------------------------------------------------------
-- 10. What cannot be protected, with its SQLSTATE.
-------------------------------------------------------------------------------
CREATE TABLE t_err (organization_id uuid, org_text text, other_org uuid, id integer);
CREATE VIEW v_err AS SELECT * FROM t_err;
CREATE MATERIALIZED VIEW mv_err AS SELECT * FROM t_err;
CREATE SEQUENCE s_err;
CREATE TEMP TABLE tmp_err (organization_id uuid);
SELECT pg_temp.remember('t_err');
SELECT throws_ok($$SELECT tenancy.protect('t_err', 'missing_column')$$, '42703', NULL,
                 'missing tenant column: 42703');
SELECT throws_ok($$SELECT tenancy.protect('t_err', 'id')$$, '42804', NULL,
                 'tenant column not uuid (integer): 42804');
SELECT throws_ok($$SELECT tenancy.protect('t_err', 'org_text')$$, '42804', NULL,
                 'tenant column not uuid (text): 42804');
CREATE TABLE t_generated (src uuid, organization_id uuid GENERATED ALWAYS AS (src) STORED);
SELECT throws_ok($$SELECT tenancy.protect('t_generated')$$, '0A000', NULL,
                 'a generated tenant column: 0A000');
SELECT throws_ok($$SELECT tenancy.protect('v_err')$$, '42809',
                 format('%I.v_err is a view; protect the tables it reads', current_schema()), 'a view: 42809');
SELECT throws_ok($$SELECT tenancy.protect('mv_err')$$, '42809',
                 format('%I.mv_err is a materialized view; protect the tables it reads', current_schema()),
                 'a materialized view: 42809, called one (1.22; a view before)');
SELECT throws_ok($$SELECT tenancy.protect('s_err')$$, '42809', NULL, 'a sequence: 42809');
SELECT throws_ok($$SELECT tenancy.protect('t_part_2025')$$, '42809', NULL, 'a partition: 42809');
SELECT throws_ok($$SELECT tenancy.protect('pg_temp.tmp_err')$$, '42809', NULL, 'a temporary table: 42809');
SELECT throws_ok($$SELECT tenancy.protect('pg_catalog.pg_class', 'relname')$$, '42501', NULL,
                 'a pg_catalog table: 42501');
SELECT throws_ok($$SELECT tenancy.protect('information_schema.sql_features', 'feature_id')$$, '42501', NULL,
                 'an information_schema table: 42501');
SELECT throws_ok($$SELECT tenancy.protect(NULL)$$, '22004', NULL, 'protect(NULL): 22004');
SELECT throws_ok($$SELECT tenancy.protect('t_err', NULL)$$, '22004', NULL, 'protect(tbl, NULL): 22004');
SELECT throws_ok($$SELECT tenancy.unprotect(NULL)$$, '22004', NULL, 'unprotect(NULL): 22004');
SELECT throws_ok($$SELECT tenancy.protect(999999::oid::regclass)$$, '42P01',
                 'relation with OID 999999 does not exist',
                 'an OID that names no relation: 42P01 (1.25; 42703 before)');
SELECT throws_ok($$SELECT tenancy.unprotect(999999::oid::regclass)$$, '42P01',
                 'relation with OID 999999 does not exist',
                 'unprotect of an OID that names no relation: 42P01 (1.26; 22023 before)');
SELECT throws_ok($$SELECT tenancy.protect('tenancy.files')$$, '42809', NULL, 'a table of pg_tenancy: 42809');
SELECT throws_ok($$SELECT tenancy.protect('tenancy.protected_tables', 'tenant_column')$$, '42809', NULL,
                 'pg_tenancy''s own catalog: 42809');
-- Another extension's table: that extension creates, updates and drops it.
CREATE TABLE ext_owned (organization_id uuid);
ALTER EXTENSION pgtap ADD TABLE ext_owned;
SELECT throws_ok($$SELECT tenancy.protect('ext_owned')$$, '42809', NULL, 'a table of another extension: 42809');
ALTER EXTENSION pgtap DROP TABLE ext_owned;
SELECT throws_ok($$SELECT tenancy.unprotect('t_err')$$, '22023', NULL, 'unprotect of a table never protected: 22023');
SELECT is(pg_temp.snapshot('t_err'), pg_temp.before('t_err'), 'failed calls leave the table as it was');
SELECT ok(NOT pg_temp.is_protected('t_err'), 'failed calls leave no catalog row');
SELECT tenancy.protect('t_err');
SELECT throws_ok($$SELECT tenancy.protect('t_err', 'other_org')$$, '22023', NULL,
                 'protecting again with another tenant column: 22023');
SELECT is(pg_temp.catalog_row('t_err'), 'organization_id|f|f||t_err_organization_id_idx|{DELETE,INSERT,SELECT,UPDATE}|',
          'protecting again with another tenant column changes nothing');
SELECT tenancy.unprotect('t_err');
SELECT throws_ok($$SELECT tenancy.unprotect('t_err')$$, '22023', NULL, 'unprotect twice: the second is 22023');

-------------------------------------------------------------------------------
-- 11. Idempotence: protect twice == protect once.
-------------------------------------------------------------------------------
CREATE TABLE t_idem (id bigserial PRIMARY KEY, organization_id uuid DEFAULT fallback_org(), body text);
SELECT pg_temp.remember('t_idem');
SELECT tenancy.protect('t_idem');
SELECT pg_temp.snapshot('t_idem') AS idem_once, pg_temp.catalog_row('t_idem') AS idem_row_once \gset
SELECT lives_ok($$SELECT tenancy.protect('t_idem')$$, 'idempotence: protecting again succeeds');
SELECT is(pg_temp.snapshot('t_idem'), :'idem_once'::jsonb,
          'idempotence: same RLS, policies, default, indexes, grants after the second protect');
SELECT is(pg_temp.catalog_row('t_idem'), :'idem_row_once', 'idempotence: the catalog row is unchanged');
SELECT is((SELECT count(*) FROM tenancy.protected_tables WHERE relid = 't_idem'::regclass), 1::bigint,
          'idempotence: one catalog row');
SELECT is((SELECT count(*) FROM pg_policy WHERE polrelid = 't_idem'::regclass), 1::bigint,
          'idempotence: one policy');
SELECT tenancy.unprotect('t_idem');
SELECT is(pg_temp.snapshot('t_idem'), pg_temp.before('t_idem'),
          'idempotence: one unprotect after two protects restores the table');

-------------------------------------------------------------------------------
-- 12. Dropping a protected table forgets it (sql_drop event trigger).
-------------------------------------------------------------------------------
CREATE TABLE t_drop (organization_id uuid, id integer);
CREATE TABLE t_drop_part (organization_id uuid, at date) PARTITION BY RANGE (at);
CREATE TABLE t_drop_part_1 PARTITION OF t_drop_part FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
SELECT 'd_' || substr(md5(random()::text || clock_timestamp()::text), 1, 10) AS d \gset
CREATE SCHEMA :"d";
CREATE TABLE :"d".t_in_schema (organization_id uuid);
SELECT tenancy.protect('t_drop'), tenancy.protect('t_drop_part'),
       tenancy.protect(format('%I.t_in_schema', :'d'));
SELECT 't_drop'::regclass::oid AS drop_oid, 't_drop_part'::regclass::oid AS drop_part_oid,
       format('%I.t_in_schema', :'d')::regclass::oid AS drop_schema_oid \gset
SELECT is((SELECT count(*) FROM tenancy.protected_tables
           WHERE relid::oid IN (:drop_oid, :drop_part_oid, :drop_schema_oid)), 3::bigint,
          'drop: three protected tables are in the catalog');
DROP TABLE t_drop;
SELECT is((SELECT count(*) FROM tenancy.protected_tables WHERE relid::oid = :drop_oid), 0::bigint,
          'drop: DROP TABLE removes the catalog row');
DROP TABLE t_drop_part;
SELECT is((SELECT count(*) FROM tenancy.protected_tables WHERE relid::oid = :drop_part_oid), 0::bigint,
          'drop: DROP TABLE of a partitioned table removes its catalog row');
DROP SCHEMA :"d" CASCADE;
SELECT is((SELECT count(*) FROM tenancy.protected_tables WHERE relid::oid = :drop_schema_oid), 0::bigint,
          'drop: DROP SCHEMA … CASCADE removes the catalog rows of its tables');
SELECT is((SELECT count(*) FROM tenancy.protected_tables WHERE NOT EXISTS
           (SELECT FROM pg_class WHERE oid = relid::oid)), 0::bigint,
          'drop: no catalog row names a table that does not exist');

-------------------------------------------------------------------------------
-- 13. The isolation matrix, as the application login tenancy_test_app.
-------------------------------------------------------------------------------
CREATE TABLE notes (
    organization_id uuid NOT NULL,
    id bigserial,
    body text NOT NULL DEFAULT '',
    PRIMARY KEY (organization_id, id)
);
INSERT INTO notes (organization_id, body)
VALUES (:'org_a', 'a1'), (:'org_a', 'a2'), (:'org_b', 'b1'), (:'org_b', 'b2'), (:'org_b', 'b3');
SELECT tenancy.protect('notes');
-- A table with RLS and a policy of its own (not protected), for contrast.
CREATE TABLE unprotected_rls (organization_id uuid, id integer);
ALTER TABLE unprotected_rls ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY app_own ON unprotected_rls TO tenancy_app USING (organization_id = tenancy.current_org_id());
GRANT SELECT ON unprotected_rls TO tenancy_app;
INSERT INTO unprotected_rls VALUES (:'org_a', 1);

SELECT is(pg_temp.as_app(:'org_a', :'user_a', 'SELECT current_user || '' '' || tenancy.current_org_id()'),
          'tenancy_test_app ' || :'org_a', 'matrix: the statements run as tenancy_test_app with org A''s context');
SELECT is(pg_temp.as_app(:'org_a', :'user_a', 'SELECT count(*) || '' '' || string_agg(DISTINCT organization_id::text, '','') FROM notes'),
          '2 ' || :'org_a', 'matrix: org A''s member sees org A''s two rows, only');
SELECT is(pg_temp.as_app(:'org_b', :'user_b', 'SELECT count(*) || '' '' || string_agg(DISTINCT organization_id::text, '','') FROM notes'),
          '3 ' || :'org_b', 'matrix: org B''s member sees org B''s three rows, only');
SELECT is(pg_temp.as_app(:'org_a', :'user_a', format('SELECT count(*) FROM notes WHERE organization_id = %L', :'org_b')),
          '0', 'matrix: asking for the other organization''s rows by id returns none');
SELECT is(pg_temp.as_app(:'org_a', :'user_a', $$INSERT INTO notes (body) VALUES ('new') RETURNING organization_id$$),
          :'org_a', 'matrix: an insert without organization_id gets the context''s organization');
SELECT is(pg_temp.as_app(:'org_a', :'user_a',
                         format($$INSERT INTO notes (organization_id, body) VALUES (%L, 'x') RETURNING id$$, :'org_b')),
          'error 42501: new row violates row-level security policy for table "notes"',
          'matrix: an insert into the other organization fails with 42501');
SELECT is(pg_temp.as_app(:'org_a', :'user_a',
                         format($$WITH u AS (UPDATE notes SET body = 'hacked' WHERE organization_id = %L RETURNING 1)
                                  SELECT count(*) FROM u$$, :'org_b')),
          '0', 'matrix: an update of the other organization''s rows affects none');
SELECT is(pg_temp.as_app(:'org_a', :'user_a',
                         $$WITH u AS (UPDATE notes SET body = 'hacked' RETURNING 1) SELECT count(*) FROM u$$),
          '2', 'matrix: an unqualified update affects the own organization''s rows only');
SELECT is(pg_temp.as_app(:'org_a', :'user_a',
                         format($$WITH d AS (DELETE FROM notes WHERE organization_id = %L RETURNING 1)
                                  SELECT count(*) FROM d$$, :'org_b')),
          '0', 'matrix: a delete of the other organization''s rows affects none');
SELECT is(pg_temp.as_app(:'org_a', :'user_a',
                         $$WITH d AS (DELETE FROM notes RETURNING 1) SELECT count(*) FROM d$$),
          '2', 'matrix: an unqualified delete affects the own organization''s rows only');
SELECT is(pg_temp.as_app(:'org_a', :'user_a',
                         format($$UPDATE notes SET organization_id = %L WHERE body = 'a1' RETURNING id$$, :'org_b')),
          'error 42501: new row violates row-level security policy for table "notes"',
          'matrix: moving a row to the other organization fails with 42501');
SELECT is((SELECT count(*) || ' ' || count(*) FILTER (WHERE body = 'hacked') FROM notes WHERE organization_id = :'org_b'),
          '3 0', 'matrix: org B''s rows are untouched (seen as the superuser)');
SELECT is(pg_temp.as_app(NULL, NULL, 'SELECT count(*) FROM notes'), '0',
          'matrix: without a context the application sees no rows');
SELECT matches(pg_temp.as_app(NULL, NULL, $$INSERT INTO notes (body) VALUES ('x') RETURNING id$$), '^error 42501',
               'matrix: without a context an insert fails with 42501');
SELECT matches(pg_temp.as_app(NULL, NULL, format($$INSERT INTO notes (organization_id, body) VALUES (%L, 'x') RETURNING id$$, :'org_a')),
               '^error 42501', 'matrix: without a context an insert naming an organization fails with 42501');
SELECT is(pg_temp.as_app(NULL, NULL, 'SELECT count(*) FROM notes', true),
          'error 42501: no tenant context is set for access to "notes"',
          'strict mode: reading a protected table without a context fails with 42501');
SELECT matches(pg_temp.as_app(NULL, NULL, $$INSERT INTO notes (organization_id, body) VALUES (gen_random_uuid(), 'x') RETURNING id$$, true),
               '^error 42501: no tenant context is set',
               'strict mode: writing a protected table without a context fails with 42501');
SELECT is(pg_temp.as_app(:'org_a', :'user_a', 'SELECT count(*) FROM notes', true), '2',
          'strict mode: with a context the protected table reads normally');
SELECT is(pg_temp.as_app(NULL, NULL, 'SELECT count(*) FROM unprotected_rls', true), '0',
          'strict mode: a table with RLS but not protected is not a tenant table (no rows, no error)');
SELECT is(format('%s|%s|%s', current_user, tenancy.current_org_id(), current_setting('tenancy.require_context')),
          'postgres||off', 'matrix: nothing of the application calls is left in this transaction');
SELECT tenancy.unprotect('notes');
SELECT matches(pg_temp.as_app(:'org_a', :'user_a', 'SELECT count(*) FROM notes'), '^error 42501: permission denied',
               'after unprotect the application has no privilege on the table again');

-- A migration role that the DBA granted REFERENCES on organizations may give
-- its own tables a foreign key to it: the 1.7 library's early check of such
-- statements asks for that privilege, as PostgreSQL does, not for ownership.
CREATE ROLE tenancy_test_migrator NOLOGIN;
GRANT USAGE ON SCHEMA tenancy TO tenancy_test_migrator;
GRANT CREATE ON SCHEMA public TO tenancy_test_migrator;
SELECT tenancy.current_org_id() IS NULL AS library_loaded \gset
SET ROLE tenancy_test_migrator;
SELECT throws_ok('CREATE TABLE public.courses_probe (organization_id uuid REFERENCES tenancy.organizations)',
                 '42501', 'permission denied for table tenancy.organizations',
                 'without REFERENCES on organizations, a foreign key to it is refused before it locks');
RESET ROLE;
GRANT REFERENCES ON tenancy.organizations TO tenancy_test_migrator;
SET ROLE tenancy_test_migrator;
SELECT lives_ok('CREATE TABLE public.courses_probe (organization_id uuid REFERENCES tenancy.organizations)',
                'with REFERENCES on organizations, a migration role may reference it');
RESET ROLE;
REVOKE REFERENCES ON tenancy.organizations FROM tenancy_test_migrator;
GRANT REFERENCES (id) ON tenancy.organizations TO tenancy_test_migrator;
SET ROLE tenancy_test_migrator;
SELECT lives_ok('CREATE TABLE public.rooms_probe (organization_id uuid REFERENCES tenancy.organizations (id))',
                'and so may it with REFERENCES on the referenced column only');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
