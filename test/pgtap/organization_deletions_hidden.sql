-- tenancy.organization_deletions (1.24), the record of each organization's
-- deletion, is the DBA's: the application's login reads and writes nothing
-- of it, with or without a context, and an owner who has just deleted the
-- organization learns nothing of its record (nor of another organization's).
-- Runs as the application login (tenancy_test_app) inside one transaction that
-- is rolled back, so it leaves nothing behind and can run any number of times.
BEGIN;
SELECT plan(16);

SELECT 'gone-' || left(md5(random()::text || clock_timestamp()::text), 12) AS run,
       gen_random_uuid() AS a_owner, gen_random_uuid() AS b_owner
\gset
SELECT tenancy.create_organization(:'run' || '-a', 'Deleted School A', :'a_owner') AS org_a \gset
SELECT tenancy.create_organization(:'run' || '-b', 'Deleted School B', :'b_owner') AS org_b \gset

-- No privilege of any kind, through tenancy_app or PUBLIC.
SELECT ok(NOT has_table_privilege('tenancy.organization_deletions',
                                  'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER'),
          'the application login holds no privilege on tenancy.organization_deletions');
SELECT ok(NOT has_any_column_privilege('tenancy.organization_deletions', 'SELECT, INSERT, UPDATE, REFERENCES'),
          'nor on any of its columns');
SELECT ok(NOT has_sequence_privilege('tenancy.organization_deletions_id_seq', 'USAGE, SELECT, UPDATE'),
          'nor on the sequence of its ids');
SELECT ok(NOT has_function_privilege('tenancy.organizations_record_deletion()', 'EXECUTE'),
          'nor may it execute the trigger function that writes it');

-- B's owner deletes B, and later A's owner deletes A, in this transaction.
SELECT tenancy.set_context(:'org_b', :'b_owner') AS role_b \gset
SELECT lives_ok(format('SELECT tenancy.delete_organization(%L)', :'org_b'),
                'owner of B: delete_organization succeeds (and is recorded)');
SELECT tenancy.set_context(:'org_a', :'a_owner') AS role_a \gset

SELECT throws_ok('SELECT * FROM tenancy.organization_deletions', '42501', NULL,
    'owner of A: reading the deletions is refused (B''s deletion stays unknown to A)');
SELECT throws_ok($$SELECT count(*) FROM tenancy.organization_deletions WHERE slug LIKE 'gone-%'$$,
    '42501', NULL, 'owner of A: even counting them is refused');
SELECT throws_ok(format($$INSERT INTO tenancy.organization_deletions (organization_id, slug, name,
                              created_at, deleted_by_session_user, deleted_by_current_user,
                              deleted_by_statement, member_rows, file_rows, file_version_rows)
                          VALUES (%L, 'forged', 'Forged', now(), 'x', 'x', 'delete', 0, 0, 0)$$,
                        :'org_a'),
    '42501', NULL, 'owner of A: a forged record is refused');
SELECT throws_ok('UPDATE tenancy.organization_deletions SET name = name', '42501', NULL,
    'owner of A: rewriting records is refused');
SELECT throws_ok('DELETE FROM tenancy.organization_deletions', '42501', NULL,
    'owner of A: deleting records is refused');
SELECT throws_ok('TRUNCATE tenancy.organization_deletions', '42501', NULL,
    'owner of A: truncating the records is refused');

SELECT lives_ok(format('SELECT tenancy.delete_organization(%L)', :'org_a'),
                'owner of A: delete_organization of the own organization succeeds');
SELECT throws_ok('SELECT organization_id, slug FROM tenancy.organization_deletions', '42501', NULL,
    'owner of A, right after deleting A: its own record is not readable either');
SELECT throws_ok(format('SELECT tenancy.organizations_record_deletion()'), '42501', NULL,
    'the trigger function cannot be called to write a record');

SELECT tenancy.clear_context();
SELECT throws_ok('SELECT * FROM tenancy.organization_deletions', '42501', NULL,
    'without a context: reading the deletions is refused');
SELECT is((SELECT count(*) FROM tenancy.organizations WHERE id IN (:'org_a', :'org_b')), 0::bigint,
          'both organizations are gone (their records are the DBA''s to read)');

SELECT * FROM finish();
ROLLBACK;
