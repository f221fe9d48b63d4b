-- Files, their versions and the access log, as the application sees them.
INSERT INTO tenancy.organizations (id, slug, name) VALUES
    ('00000000-0000-4000-a000-0000000000f1', 'files-north', 'Files North'),
    ('00000000-0000-4000-a000-0000000000f2', 'files-south', 'Files South');
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES
    ('00000000-0000-4000-a000-0000000000f1', '00000000-0000-4000-b000-0000000000f1', 'owner'),
    ('00000000-0000-4000-a000-0000000000f1', '00000000-0000-4000-b000-0000000000f2', 'teacher'),
    ('00000000-0000-4000-a000-0000000000f1', '00000000-0000-4000-b000-0000000000f3', 'student'),
    ('00000000-0000-4000-a000-0000000000f2', '00000000-0000-4000-b000-0000000000f9', 'owner');

-- The log as the owner sees it, with actors by role name.
CREATE VIEW log_as_seen AS
SELECT l.action, f.path, l.bytes, m.role AS actor
FROM tenancy.file_access_log l
LEFT JOIN tenancy.files f ON f.organization_id = l.organization_id AND f.id = l.file_id
LEFT JOIN tenancy.members m ON m.organization_id = l.organization_id AND m.user_id = l.user_id
ORDER BY l.id;
GRANT SELECT ON log_as_seen TO tenancy_app;

\c - tenancy_test_app
-- A student uploads: org and owner come from the context.
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000f1',
                           '00000000-0000-4000-b000-0000000000f3');
INSERT INTO tenancy.files (path, name, size_bytes, checksum)
VALUES ('essays/river.docx', 'river.docx', 1000, 'sha256:aa')
RETURNING organization_id, owner_id, version, visibility;
-- Content updates make versions; metadata updates do not.
UPDATE tenancy.files SET size_bytes = 1500, checksum = 'sha256:bb' WHERE path = 'essays/river.docx';
UPDATE tenancy.files SET name = 'River essay.docx', visibility = 'org' WHERE path = 'essays/river.docx';
UPDATE tenancy.files SET path = 'essays/river-final.docx', size_bytes = 1600, checksum = 'sha256:cc'
WHERE path = 'essays/river.docx';
-- Setting a column to what it was is not a change.
UPDATE tenancy.files SET name = name;
SELECT path, name, size_bytes, version, visibility FROM tenancy.files;
SELECT version, path, size_bytes, checksum FROM tenancy.file_versions ORDER BY version;
-- Soft delete and restore.
UPDATE tenancy.files SET deleted_at = now();
UPDATE tenancy.files SET deleted_at = NULL;
-- Upsert on the storage key: logged as what it did.
INSERT INTO tenancy.files (id, path, name, size_bytes, checksum)
VALUES (gen_random_uuid(), 'essays/river-final.docx', 'river.docx', 1700, 'sha256:dd'),
       ('c0000000-0000-4000-8000-00000000001a', 'essays/lake.docx', 'lake.docx', 10, NULL)
ON CONFLICT (organization_id, path)
DO UPDATE SET size_bytes = EXCLUDED.size_bytes, checksum = EXCLUDED.checksum;
-- Reads are recorded by the application.
SELECT tenancy.record_file_access(id) FROM tenancy.files WHERE path = 'essays/lake.docx';
SELECT tenancy.record_file_access(id, 'view', 5) FROM tenancy.files WHERE path = 'essays/lake.docx';
COMMIT;

-- What the owner sees in the log and the version chain.
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000f1',
                           '00000000-0000-4000-b000-0000000000f1');
SELECT * FROM log_as_seen;
SELECT f.path, v.version, v.path AS old_path, v.size_bytes, v.checksum
FROM tenancy.file_versions v JOIN tenancy.files f ON f.id = v.file_id
ORDER BY f.path, v.version;
COMMIT;

-- A soft delete that also changes the content logs both, the update first;
-- a restore that does, the restore first (1.14 library; before, the delete
-- or restore alone, with the new size).
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000f1',
                           '00000000-0000-4000-b000-0000000000f3');
UPDATE tenancy.files SET deleted_at = now(), size_bytes = 1800
WHERE path = 'essays/river-final.docx';
UPDATE tenancy.files SET deleted_at = NULL, checksum = 'sha256:ee'
WHERE path = 'essays/river-final.docx' RETURNING version;
SELECT action, bytes FROM tenancy.file_access_log WHERE txid = pg_current_xact_id() ORDER BY id;
ROLLBACK;

-- Bad input: clear errors, nothing logged.
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000f1',
                           '00000000-0000-4000-b000-0000000000f3');
SAVEPOINT s;
INSERT INTO tenancy.files (path, name, size_bytes) VALUES ('neg', 'neg', -1);
ROLLBACK TO s;
INSERT INTO tenancy.files (path, name, size_bytes) VALUES (repeat('p', 1025), 'long', 1);
ROLLBACK TO s;
INSERT INTO tenancy.files (path, name, size_bytes) VALUES (NULL, 'null path', 1);
ROLLBACK TO s;
-- Another org, or another owner, cannot be forged by a student.
INSERT INTO tenancy.files (organization_id, path, name, size_bytes)
VALUES ('00000000-0000-4000-a000-0000000000f2', 'forged-org', 'x', 1);
ROLLBACK TO s;
INSERT INTO tenancy.files (owner_id, path, name, size_bytes)
VALUES ('00000000-0000-4000-b000-0000000000f2', 'forged-owner', 'x', 1);
ROLLBACK TO s;
UPDATE tenancy.files SET version = 99;
ROLLBACK TO s;
SELECT tenancy.record_file_access(NULL);
ROLLBACK TO s;
SELECT tenancy.record_file_access('00000000-0000-4000-c000-000000000000');
ROLLBACK TO s;
SELECT tenancy.record_file_access(id, 'download', -5) FROM tenancy.files WHERE path = 'essays/lake.docx';
ROLLBACK TO s;
SELECT tenancy.record_file_access(id, 'delete') FROM tenancy.files WHERE path = 'essays/lake.docx';
ROLLBACK TO s;
UPDATE tenancy.files SET deleted_at = now() WHERE path = 'essays/lake.docx';
SELECT tenancy.record_file_access(id) FROM tenancy.files WHERE path = 'essays/lake.docx';
ROLLBACK TO s;
-- A statement that fails leaves no log row: a multi-row insert whose last row is bad.
INSERT INTO tenancy.files (path, name, size_bytes) VALUES ('ok-1', 'ok', 1), ('bad', 'bad', -1);
ROLLBACK;

-- A file of another organization is as unknown as a file that does not exist.
\set lake 'c0000000-0000-4000-8000-00000000001a'
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000f2',
                           '00000000-0000-4000-b000-0000000000f9');
SAVEPOINT s;
SELECT tenancy.record_file_access(:'lake');
ROLLBACK TO s;
UPDATE tenancy.files SET name = 'stolen' WHERE id = :'lake';
ROLLBACK;
-- Without a context it says so, for any file (1.23 library: before, that the
-- file does not exist, which a superuser's maintenance took at its word).
SELECT tenancy.record_file_access(:'lake');
\c - postgres
SELECT tenancy.record_file_access(:'lake');
\c - tenancy_test_app

-- Bulk statements: one log row per file, in one trigger call.
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000f1',
                           '00000000-0000-4000-b000-0000000000f1');
INSERT INTO tenancy.files (path, name, size_bytes)
SELECT 'bulk/' || g, 'file ' || g, g FROM generate_series(1, 5000) g;
UPDATE tenancy.files SET checksum = 'x' WHERE path LIKE 'bulk/%';
DELETE FROM tenancy.files WHERE path LIKE 'bulk/%' AND size_bytes <= 1000;
SELECT action, count(*), sum(bytes) FROM tenancy.file_access_log
WHERE action IN ('upload', 'update', 'delete') GROUP BY action ORDER BY action;
SELECT count(*) AS versions_of_bulk_files FROM tenancy.file_versions v
JOIN tenancy.files f ON f.id = v.file_id WHERE f.path LIKE 'bulk/%';
COMMIT;

-- Append-only: for the application...
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000f1',
                           '00000000-0000-4000-b000-0000000000f1');
SAVEPOINT s;
UPDATE tenancy.file_access_log SET bytes = 0;
ROLLBACK TO s;
DELETE FROM tenancy.file_access_log;
ROLLBACK TO s;
INSERT INTO tenancy.file_access_log (organization_id, file_id, action)
VALUES (tenancy.current_org_id(), gen_random_uuid(), 'download');
ROLLBACK;
-- ...and for the superuser.
\c - postgres
UPDATE tenancy.file_access_log SET bytes = 0;
DELETE FROM tenancy.file_access_log;
TRUNCATE tenancy.file_access_log;
SET session_replication_role = replica;
DELETE FROM tenancy.file_access_log;
RESET session_replication_role;

-- Log rows survive their file; they go with their organization.
-- Versions go with their file (deleted by the files trigger: file_versions
-- has no foreign key since 1.2).
SELECT count(*) AS log_rows_before FROM tenancy.file_access_log;
SELECT count(*) AS versions_before FROM tenancy.file_versions;
DELETE FROM tenancy.files WHERE path LIKE 'bulk/%';
SELECT count(*) AS log_rows_after_file_delete FROM tenancy.file_access_log;
SELECT count(*) AS versions_after_file_delete FROM tenancy.file_versions;
SELECT count(*) AS versions_without_file FROM tenancy.file_versions v
WHERE NOT EXISTS (SELECT 1 FROM tenancy.files f
                  WHERE f.organization_id = v.organization_id AND f.id = v.file_id);

-- Retention: only through purge, which is itself recorded.
SELECT tenancy.purge_file_access_log(NULL);
-- older_than reaches back: now() - older_than before now() (terse: the
-- DETAIL names that time). A month back is at most 31 days.
\set VERBOSITY terse
SELECT tenancy.purge_file_access_log('0 seconds');
SELECT tenancy.purge_file_access_log('-1 day');
SELECT tenancy.purge_file_access_log('1 month -31 days');
SELECT tenancy.purge_file_access_log('-178000000 years');
\set VERBOSITY default
SELECT tenancy.purge_file_access_log('6800 years');
SELECT tenancy.purge_file_access_log('178000000 years');
-- Only rows the rollups have counted go: before their first run, none.
SELECT tenancy.purge_file_access_log('1 microsecond');
SELECT source, rows_read > 0 AS counted FROM tenancy.run_rollups() ORDER BY source;
-- Every row so far is older than this transaction's start. A field may be
-- negative where the whole reaches back (interval arithmetic gives such).
SELECT tenancy.purge_file_access_log('1 day -1 second');
SELECT tenancy.purge_file_access_log('1 microsecond');
SELECT count(*) AS log_rows_left FROM tenancy.file_access_log;
SELECT older_than, rows_purged > 0 AS removed FROM tenancy.file_access_log_purges ORDER BY id;
-- analytics.sql starts before any run: forget this one and what it marked.
TRUNCATE tenancy.rollup_state, tenancy.event_rollups, tenancy.file_rollups;
\c - tenancy_test_app
SELECT tenancy.purge_file_access_log('1 day');

\c - postgres
INSERT INTO tenancy.files (organization_id, owner_id, path, name, size_bytes)
VALUES ('00000000-0000-4000-a000-0000000000f1', '00000000-0000-4000-b000-0000000000f1', 'keep', 'keep', 1);
SELECT count(*) > 0 AS org_has_log FROM tenancy.file_access_log
WHERE organization_id = '00000000-0000-4000-a000-0000000000f1';
-- Deleting an organization removes its log rows, also when the log is
-- published for logical replication (the log has no primary key: its replica
-- identity is the whole row).
SET client_min_messages = error;
CREATE PUBLICATION tenancy_log_publication FOR TABLE tenancy.file_access_log;
RESET client_min_messages;
DELETE FROM tenancy.organizations WHERE id = '00000000-0000-4000-a000-0000000000f1';
DROP PUBLICATION tenancy_log_publication;
SELECT count(*) AS org_log_rows FROM tenancy.file_access_log
WHERE organization_id = '00000000-0000-4000-a000-0000000000f1';
SELECT count(*) AS org_versions FROM tenancy.file_versions
WHERE organization_id = '00000000-0000-4000-a000-0000000000f1';
-- A superuser's COPY … FROM (how pg_restore brings files back with their own
-- audit rows) is not audited a second time; COPY (UPDATE … RETURNING) TO is a
-- write like any other and is.
COPY tenancy.files (organization_id, id, owner_id, path, name, size_bytes) FROM stdin;
00000000-0000-4000-a000-0000000000f2	c0000000-0000-4000-8000-0000000000c1	00000000-0000-4000-b000-0000000000f9	restored.pdf	restored.pdf	10
\.
SELECT count(*) AS log_rows_of_restored_file FROM tenancy.file_access_log
WHERE file_id = 'c0000000-0000-4000-8000-0000000000c1';
COPY (UPDATE tenancy.files SET size_bytes = 11 WHERE id = 'c0000000-0000-4000-8000-0000000000c1'
      RETURNING version) TO STDOUT;
SELECT action, bytes FROM tenancy.file_access_log
WHERE file_id = 'c0000000-0000-4000-8000-0000000000c1';
SELECT version, size_bytes FROM tenancy.file_versions
WHERE file_id = 'c0000000-0000-4000-8000-0000000000c1';
-- The log's CHECK constraints hold for the triggers' rows, including one
-- added after this session's first append (compiled checks are cached per
-- backend and recompiled when the table's constraints change).
-- (The error names the month's partition: only the constraint is shown.)
DO $$
DECLARE
    violated text;
BEGIN
    ALTER TABLE tenancy.file_access_log ADD CONSTRAINT bytes_below_12 CHECK (bytes < 12);
    UPDATE tenancy.files SET size_bytes = 12 WHERE id = 'c0000000-0000-4000-8000-0000000000c1';
    RAISE EXCEPTION 'the update was not refused';
EXCEPTION WHEN check_violation THEN
    GET STACKED DIAGNOSTICS violated = CONSTRAINT_NAME;
    RAISE NOTICE 'refused by %', violated;
END
$$;
UPDATE tenancy.files SET size_bytes = 12 WHERE id = 'c0000000-0000-4000-8000-0000000000c1'
RETURNING version;
-- TRUNCATE of files (owner or superuser) takes the versions along; the log stays.
BEGIN;
SELECT count(*) AS versions_before_truncate FROM tenancy.file_versions;
TRUNCATE tenancy.files;
SELECT count(*) AS versions_after_truncate FROM tenancy.file_versions;
SELECT count(*) > 0 AS log_kept FROM tenancy.file_access_log;
ROLLBACK;
-- Naming both tables (what the foreign key required before 1.2) works too,
-- and so does a TRUNCATE applied by a replication subscriber.
BEGIN;
TRUNCATE tenancy.files, tenancy.file_versions;
SELECT count(*) AS versions_after_truncating_both FROM tenancy.file_versions;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
TRUNCATE tenancy.files;
SELECT count(*) AS versions_after_replica_truncate FROM tenancy.file_versions;
ROLLBACK;
-- The application's DELETE takes the versions along too, though it has no
-- privilege on file_versions (the files trigger does it, as the extension).
\c - tenancy_test_app
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000f2',
                           '00000000-0000-4000-b000-0000000000f9');
DELETE FROM tenancy.files WHERE id = 'c0000000-0000-4000-8000-0000000000c1';
COMMIT;
\c - postgres
SELECT count(*) AS versions_after_app_delete FROM tenancy.file_versions
WHERE file_id = 'c0000000-0000-4000-8000-0000000000c1';
SELECT action FROM tenancy.file_access_log
WHERE file_id = 'c0000000-0000-4000-8000-0000000000c1' ORDER BY id DESC LIMIT 1;
DELETE FROM tenancy.organizations WHERE id = '00000000-0000-4000-a000-0000000000f2';
SELECT count(*) AS versions_left FROM tenancy.file_versions;
DROP VIEW log_as_seen;

-- The caller's search_path cannot change what the extension's statements
-- mean (1.4). An operator = of the caller's own, put before pg_catalog, made
-- record_file_access take any file it can see (here the owner's, shared with
-- the organization) for the one asked for, and log a file that does not exist.
INSERT INTO tenancy.organizations (id, slug, name)
VALUES ('00000000-0000-4000-a000-0000000000f3', 'files-west', 'Files West');
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES
    ('00000000-0000-4000-a000-0000000000f3', '00000000-0000-4000-b000-0000000000f1', 'owner'),
    ('00000000-0000-4000-a000-0000000000f3', '00000000-0000-4000-b000-0000000000f3', 'student');
INSERT INTO tenancy.files (organization_id, id, owner_id, path, name, size_bytes, visibility)
VALUES ('00000000-0000-4000-a000-0000000000f3', 'c0000000-0000-4000-8000-0000000000f3',
        '00000000-0000-4000-b000-0000000000f1', 'west/owner.pdf', 'owner.pdf', 300, 'org');
CREATE SCHEMA app_owned AUTHORIZATION tenancy_test_app;
\c - tenancy_test_app
CREATE FUNCTION app_owned.always(uuid, uuid) RETURNS boolean
    LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE OPERATOR app_owned.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = app_owned.always);
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000f3',
                           '00000000-0000-4000-b000-0000000000f3');
SET LOCAL search_path = app_owned, pg_catalog;
SAVEPOINT s;
SELECT tenancy.record_file_access('00000000-0000-4000-c000-000000000000');
ROLLBACK TO s;
-- ... and the caller's own setting is back afterwards.
SHOW search_path;
ROLLBACK;
\c - postgres
DROP SCHEMA app_owned CASCADE;

-- A file at the highest version number: its next content update is refused
-- (22003) rather than wrapped around.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE tenancy.files SET version = 2147483647 WHERE path = 'west/owner.pdf';
SET LOCAL session_replication_role = origin;
UPDATE tenancy.files SET size_bytes = 2 WHERE path = 'west/owner.pdf';
ROLLBACK;
DELETE FROM tenancy.organizations WHERE id = '00000000-0000-4000-a000-0000000000f3';

-- What a DBA may add to the log, and what not (1.9 library and schema).
INSERT INTO tenancy.organizations (id, slug, name)
VALUES ('00000000-0000-4000-a000-0000000000f4', 'files-north', 'Files North');
INSERT INTO tenancy.members (organization_id, user_id, role)
VALUES ('00000000-0000-4000-a000-0000000000f4', '00000000-0000-4000-b000-0000000000f1', 'owner');
BEGIN;
-- A row trigger of its own on the log fires for the audit's rows, and the
-- months it fires in are closed again (no "relcache reference leak").
CREATE TABLE dba_seen (action tenancy.file_action, source text);
CREATE FUNCTION dba_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO dba_seen VALUES (NEW.action, NEW.source);
    RETURN NEW;
END
$$;
-- Columns of its own: their defaults apply to the audit's rows, a NOT NULL
-- one included.
ALTER TABLE tenancy.file_access_log ADD COLUMN source text NOT NULL DEFAULT 'app';
ALTER TABLE tenancy.file_versions ADD COLUMN kept_until date DEFAULT '2030-01-01';
ALTER TABLE tenancy.file_versions ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
-- ... but not to a value the extension leaves NULL on purpose: an event
-- tracked without a value has none.
ALTER TABLE tenancy.events ALTER COLUMN value SET DEFAULT 42;
CREATE TRIGGER dba_note AFTER INSERT ON tenancy.file_access_log
    FOR EACH ROW EXECUTE FUNCTION dba_note();
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000f4',
                           '00000000-0000-4000-b000-0000000000f1');
INSERT INTO tenancy.files (id, path, name, size_bytes)
VALUES ('c0000000-0000-4000-8000-0000000000f4', 'north/a.pdf', 'a.pdf', 1);
UPDATE tenancy.files SET size_bytes = 2 WHERE id = 'c0000000-0000-4000-8000-0000000000f4';
SELECT action, source FROM dba_seen ORDER BY action;
SELECT action, source FROM tenancy.file_access_log
WHERE file_id = 'c0000000-0000-4000-8000-0000000000f4' ORDER BY id;
SELECT version, kept_until, seq IS NOT NULL AS has_seq FROM tenancy.file_versions
WHERE file_id = 'c0000000-0000-4000-8000-0000000000f4';
SELECT tenancy.track('dba-default', NULL);
SELECT value FROM tenancy.events WHERE kind = 'dba-default';
-- A column of its own on files is metadata: changing it alone logs an
-- update (1.14 library; before, nothing).
ALTER TABLE tenancy.files ADD COLUMN dba_tag text;
UPDATE tenancy.files SET dba_tag = 'archive' WHERE id = 'c0000000-0000-4000-8000-0000000000f4'
RETURNING version, updated_at = now() AS updated_now;
-- A generated column follows its own inputs: a soft delete and a restore stay
-- a delete and a restore alone.
ALTER TABLE tenancy.files ADD COLUMN is_deleted boolean GENERATED ALWAYS AS (deleted_at IS NOT NULL) STORED;
UPDATE tenancy.files SET deleted_at = now() WHERE id = 'c0000000-0000-4000-8000-0000000000f4';
UPDATE tenancy.files SET deleted_at = NULL WHERE id = 'c0000000-0000-4000-8000-0000000000f4';
-- A BEFORE UPDATE trigger of its own that changes the content after
-- files_before_update (triggers fire in name order) would leave the version
-- behind it, and the audit with it: the statement is refused (1.14 library;
-- before, no version and no update row).
CREATE FUNCTION dba_resize() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.size_bytes := NEW.size_bytes + 1;
    RETURN NEW;
END
$$;
CREATE TRIGGER resize BEFORE UPDATE ON tenancy.files FOR EACH ROW EXECUTE FUNCTION dba_resize();
SAVEPOINT trigger_after;
UPDATE tenancy.files SET name = 'b.pdf' WHERE id = 'c0000000-0000-4000-8000-0000000000f4';
ROLLBACK TO trigger_after;
-- Named to fire before it, its change is a new version like any other.
ALTER TRIGGER resize ON tenancy.files RENAME TO a_resize;
UPDATE tenancy.files SET name = 'b.pdf' WHERE id = 'c0000000-0000-4000-8000-0000000000f4'
RETURNING version, size_bytes;
DROP TRIGGER a_resize ON tenancy.files;
SELECT action, bytes FROM tenancy.file_access_log
WHERE file_id = 'c0000000-0000-4000-8000-0000000000f4' ORDER BY id;
-- A column the DBA added is the DBA's to drop or retype.
ALTER TABLE tenancy.file_access_log ALTER COLUMN source TYPE varchar(10);
ALTER TABLE tenancy.file_access_log DROP COLUMN source;
ROLLBACK;
-- Rewriting or dropping a column of the log is refused (an UPDATE of every
-- audit row by its owner), on the log and on a month alike.
ALTER TABLE tenancy.file_access_log ALTER COLUMN bytes TYPE bigint USING 0;
ALTER TABLE tenancy.file_access_log ALTER COLUMN action TYPE text USING 'view';
ALTER TABLE tenancy.file_access_log DROP COLUMN bytes;
ALTER TABLE tenancy.file_access_log_default DROP COLUMN bytes;
ALTER TABLE tenancy.file_access_log RENAME COLUMN bytes TO size;
-- ... however the rename is spelled (PostgreSQL lets these rename a table's
-- columns too).
ALTER VIEW tenancy.file_access_log RENAME COLUMN user_id TO file_id_was;
ALTER FOREIGN TABLE tenancy.file_access_log RENAME COLUMN file_created_at TO made_at;
ALTER TYPE tenancy.file_access_log RENAME ATTRIBUTE action TO what;
-- Renaming a value of the audit's enum would change what every row says.
ALTER TYPE tenancy.file_action RENAME VALUE 'view' TO 'viewed';
-- The extension's tables, views and schema keep their names and schema
-- (1.10 library): its statements name them, and every file write would fail.
ALTER TABLE tenancy.file_access_log RENAME TO file_access_log_old;
ALTER TABLE tenancy.files SET SCHEMA public;
ALTER INDEX tenancy.members RENAME TO members_old;
ALTER VIEW tenancy.event_stats_daily RENAME TO daily;
ALTER SCHEMA tenancy RENAME TO tenancy_old;
-- ... nor its functions, types, aggregates and sequences.
ALTER FUNCTION tenancy.current_org_id() RENAME TO current_org;
ALTER ROUTINE tenancy.track(text, double precision) SET SCHEMA public;
ALTER TYPE tenancy.file_action RENAME TO file_act;
ALTER AGGREGATE tenancy.distinct_sketch_union(bytea) RENAME TO union_of;
ALTER SEQUENCE tenancy.file_access_log_ids RENAME TO log_ids;
ALTER OPERATOR CLASS tenancy.xid8_minmax_ops USING brin RENAME TO xid8_ops;
-- A month of the log keeps its name and schema (moved, DROP SCHEMA … CASCADE
-- would take its rows).
SELECT tenancy.maintain_file_access_log(0) >= 0 AS months_made;
SELECT format('ALTER TABLE %s SET SCHEMA public', partition) AS move_month,
       format('ALTER TABLE %s RENAME TO some_month', partition) AS rename_month
FROM tenancy.file_access_log_partitions() WHERE NOT is_default ORDER BY from_at LIMIT 1 \gset
:move_month;
:rename_month;
-- ... nor the columns and primary keys of its tables (a member's
-- deactivated_at renamed would make every deactivated member active again;
-- members is read through members_pkey, by name).
ALTER TABLE tenancy.members RENAME COLUMN deactivated_at TO gone_at;
ALTER TABLE tenancy.members RENAME COLUMN no_such_column TO still_none;
ALTER TYPE tenancy.member_role RENAME VALUE 'teacher' TO 'tutor';
ALTER INDEX tenancy.members_pkey RENAME TO members_key;
ALTER TABLE tenancy.members RENAME CONSTRAINT members_pkey TO members_key;
-- A DBA's own index and constraint on them are the DBA's.
CREATE INDEX files_name_idx ON tenancy.files (organization_id, name);
ALTER INDEX tenancy.files_name_idx RENAME TO files_name_index;
DROP INDEX tenancy.files_name_index;
ALTER TABLE tenancy.files ADD CONSTRAINT files_name_not_blank CHECK (name <> '');
ALTER TABLE tenancy.files RENAME CONSTRAINT files_name_not_blank TO files_name_present;
ALTER TABLE tenancy.files DROP CONSTRAINT files_name_present;
-- So are the columns a DBA adds, the log's included (1.12 library, as
-- tenancy.extension_table_additions() lists them); the extension's stay.
ALTER TABLE tenancy.files ADD COLUMN dba_note text;
ALTER TABLE tenancy.files RENAME COLUMN dba_note TO "DBA note";
ALTER TABLE tenancy.file_access_log ADD COLUMN dba_reason text;
ALTER TABLE tenancy.file_access_log RENAME COLUMN dba_reason TO dba_why;
SELECT table_name, kind, name FROM tenancy.extension_table_additions() ORDER BY 1, 3;
ALTER TABLE tenancy.files RENAME COLUMN "DBA note" TO name;
ALTER TABLE tenancy.files RENAME COLUMN name TO "DBA note";
ALTER TABLE tenancy.files DROP COLUMN "DBA note";
ALTER TABLE tenancy.file_access_log DROP COLUMN dba_why;
-- A DBA's own table in the schema is the DBA's.
CREATE TABLE tenancy.dba_notes (note text);
ALTER TABLE tenancy.dba_notes RENAME TO dba_notes_renamed;
DROP TABLE tenancy.dba_notes_renamed;
-- The extension's functions are replaced only by its scripts: the guard, made
-- a function that does nothing, would switch the append-only log off.
CREATE OR REPLACE FUNCTION tenancy.file_access_log_guard() RETURNS trigger
    LANGUAGE plpgsql AS 'BEGIN RETURN CASE WHEN TG_OP = ''DELETE'' THEN OLD ELSE NEW END; END';
CREATE OR REPLACE FUNCTION tenancy.current_org_id() RETURNS uuid
    LANGUAGE sql AS 'SELECT NULL::uuid';
SELECT l.lanname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
WHERE p.oid = 'tenancy.file_access_log_guard()'::regprocedure;
-- A function of the DBA's own in the schema is the DBA's.
CREATE FUNCTION tenancy.dba_helper() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE OR REPLACE FUNCTION tenancy.dba_helper() RETURNS int LANGUAGE sql AS 'SELECT 2';
DROP FUNCTION tenancy.dba_helper();
-- Nor can they be taken out of the extension, rewritten and put back.
ALTER EXTENSION pg_tenancy DROP FUNCTION tenancy.file_access_log_guard();
ALTER EXTENSION pg_tenancy DROP TABLE tenancy.file_access_log;
ALTER EXTENSION pg_tenancy DROP TYPE tenancy.file_action;
ALTER EXTENSION pg_tenancy DROP EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard;
-- Adding one and setting a default stay allowed (above, rolled back).
DELETE FROM tenancy.organizations WHERE id = '00000000-0000-4000-a000-0000000000f4';

-- What an organization stores, for the quota check at an upload (1.22):
-- any member gets the organization's totals, a student too, though it sees
-- fewer files; lock => true makes uploads that check and insert in one
-- transaction take turns.
\c - postgres
INSERT INTO tenancy.organizations (id, slug, name, storage_quota_bytes) VALUES
    ('00000000-0000-4000-a000-0000000000f5', 'files-quota', 'Files Quota', 10000);
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES
    ('00000000-0000-4000-a000-0000000000f5', '00000000-0000-4000-b000-0000000000f5', 'owner'),
    ('00000000-0000-4000-a000-0000000000f5', '00000000-0000-4000-b000-0000000000f6', 'student');
\c - tenancy_test_app
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000f5',
                           '00000000-0000-4000-b000-0000000000f5');
INSERT INTO tenancy.files (path, name, size_bytes) VALUES ('plans/2027.pdf', '2027.pdf', 4000);
UPDATE tenancy.files SET size_bytes = 4500, checksum = 'sha256:b2' WHERE path = 'plans/2027.pdf';
COMMIT;
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000f5',
                           '00000000-0000-4000-b000-0000000000f6');
INSERT INTO tenancy.files (path, name, size_bytes) VALUES ('homework/a.txt', 'a.txt', 300);
SELECT count(*) AS files_seen, sum(size_bytes) AS bytes_seen FROM tenancy.files;
SELECT * FROM tenancy.storage_use();
SELECT quota_bytes - file_bytes - version_bytes AS bytes_left FROM tenancy.storage_use(lock => true);
COMMIT;
SELECT * FROM tenancy.storage_use();
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000f5',
                           '00000000-0000-4000-b000-0000000000f6');
SELECT * FROM tenancy.storage_use(NULL);
ROLLBACK;
-- The lock behind lock => true is the library's, for the context's
-- organization only (1.25): the application cannot take it itself, and a
-- superuser without a context takes none.
SELECT tenancy.lock_context_storage();
\c - postgres
SELECT tenancy.lock_context_storage();
\c - tenancy_test_app
-- Under REPEATABLE READ the sums are the snapshot's: with the lock they
-- serve when nothing was stored since the snapshot (1.23; before, refused).
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000f5',
                           '00000000-0000-4000-b000-0000000000f6');
SELECT file_bytes FROM tenancy.storage_use();
SELECT file_bytes FROM tenancy.storage_use(lock => true);
ROLLBACK;
-- While another transaction holds the lock, a check with the lock waits
-- (here: a lock timeout); one without it does not, nor does an owner's
-- update of the organization (the lock is not on its row).
\c - postgres
\i sql/include/two_sessions.sql
SELECT pg_temp.connect('quota');
SELECT dblink_exec('quota', 'BEGIN');
SELECT * FROM dblink('quota', $$SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000f5',
                                  '00000000-0000-4000-b000-0000000000f5')::text$$) AS t(role text);
SELECT * FROM dblink('quota', 'SELECT file_bytes FROM tenancy.storage_use(lock => true)')
    AS t(file_bytes numeric);
SET ROLE tenancy_test_app;
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000f5',
                           '00000000-0000-4000-b000-0000000000f6');
SELECT file_bytes FROM tenancy.storage_use();
SET LOCAL lock_timeout = '200ms';
\set VERBOSITY terse
SELECT file_bytes FROM tenancy.storage_use(lock => true);
\set VERBOSITY default
ROLLBACK;
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000f5',
                           '00000000-0000-4000-b000-0000000000f5');
SET LOCAL lock_timeout = '200ms';
UPDATE tenancy.organizations SET name = 'Files Quota School'
WHERE id = '00000000-0000-4000-a000-0000000000f5';
ROLLBACK;
RESET ROLE;
SELECT dblink_exec('quota', 'ROLLBACK');
-- An upload committed after a REPEATABLE READ or SERIALIZABLE snapshot
-- (here while the check waits for nothing: a READ COMMITTED upload that
-- held the lock would have the same effect) makes the locked check fail
-- with 40001: its sums would miss it. Without the lock it reads the
-- snapshot, as any query does.
SET ROLE tenancy_test_app;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000f5',
                           '00000000-0000-4000-b000-0000000000f6');
SELECT file_bytes FROM tenancy.storage_use();
SELECT dblink_exec('quota', $$BEGIN;
    SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000f5',
                               '00000000-0000-4000-b000-0000000000f5');
    INSERT INTO tenancy.files (path, name, size_bytes) VALUES ('plans/2028.pdf', '2028.pdf', 700);
    COMMIT$$);
SELECT file_bytes FROM tenancy.storage_use();
SELECT file_bytes FROM tenancy.storage_use(lock => true);
ROLLBACK;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000f5',
                           '00000000-0000-4000-b000-0000000000f6');
SELECT file_bytes FROM tenancy.storage_use();
SELECT dblink_exec('quota', $$BEGIN;
    SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000f5',
                               '00000000-0000-4000-b000-0000000000f5');
    DELETE FROM tenancy.files WHERE path = 'plans/2028.pdf';
    COMMIT$$);
SELECT file_bytes FROM tenancy.storage_use(lock => true);
ROLLBACK;
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000f5',
                           '00000000-0000-4000-b000-0000000000f6');
SELECT file_bytes FROM tenancy.storage_use(lock => true);
COMMIT;
RESET ROLE;
-- The sums inside are the extension owner's to read.
SELECT has_function_privilege('tenancy_test_app', 'tenancy.stored_bytes(uuid, boolean)', 'EXECUTE');
SELECT dblink_disconnect('quota');
DROP EXTENSION dblink;
DELETE FROM tenancy.organizations WHERE id = '00000000-0000-4000-a000-0000000000f5';
