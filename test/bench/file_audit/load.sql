-- file_audit dataset: 1,000 organizations with an owner each, and three
-- tables of the same shape holding the same 100,000 files:
--   tenancy.files             with pg_tenancy's C++ triggers
--   bench.files_none          no triggers: the limit
--   bench.files_plpgsql       the equivalent PL/pgSQL triggers (plpgsql_triggers.sql),
--                             writing to copies of the versions and log tables
-- Every table has the same keys, indexes, checks and foreign keys: the copies
-- of file_versions and file_access_log have none to files, as pg_tenancy's
-- own (since 1.2; its triggers delete a file's versions, and so does the
-- anchor's). The comparison is then of the triggers alone, writing the same
-- rows into the same indexes.
\set ON_ERROR_STOP 1
CREATE SCHEMA IF NOT EXISTS bench;
-- The log's months, as run_rollups (pg_cron) keeps them: appends go to this
-- month's partition, not to the default one.
SELECT tenancy.maintain_file_access_log();
-- The log's indexes are its partitions' (1.5): the anchor's copies of the log
-- get the same three.
CREATE FUNCTION bench.index_like_the_log(copy regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE INDEX ON %s (organization_id, file_id, at)', copy);
    EXECUTE format('CREATE INDEX ON %s USING brin (at)', copy);
    EXECUTE format('CREATE INDEX ON %s USING brin (txid tenancy.xid8_minmax_ops)', copy);
END
$$;

INSERT INTO tenancy.organizations (id, slug, name)
SELECT md5('org' || g)::uuid, 'org-' || g, 'Org ' || g FROM generate_series(1, 1000) g;
INSERT INTO tenancy.members (organization_id, user_id, role)
SELECT md5('org' || g)::uuid, md5('owner' || g)::uuid, 'owner' FROM generate_series(1, 1000) g;

CREATE TABLE bench.files_none (LIKE tenancy.files INCLUDING ALL);
CREATE TABLE bench.files_plpgsql (LIKE tenancy.files INCLUDING ALL);
ALTER TABLE bench.files_none ADD FOREIGN KEY (organization_id)
    REFERENCES tenancy.organizations (id) ON DELETE CASCADE;
ALTER TABLE bench.files_plpgsql ADD FOREIGN KEY (organization_id)
    REFERENCES tenancy.organizations (id) ON DELETE CASCADE;
CREATE TABLE bench.file_versions_plpgsql (LIKE tenancy.file_versions INCLUDING ALL);
CREATE TABLE bench.file_access_log_plpgsql (LIKE tenancy.file_access_log INCLUDING ALL);
SELECT bench.index_like_the_log('bench.file_access_log_plpgsql');

\ir plpgsql_triggers.sql

-- The floor: no trigger at all, the statement itself writes the same audit
-- and version rows (insert.sql_rows / update.sql_rows, writable CTEs) into
-- its own copies of the tables. What any trigger adds can only be compared
-- with this much of the PL/pgSQL overhead being the rows themselves.
CREATE TABLE bench.files_sql_rows (LIKE tenancy.files INCLUDING ALL);
ALTER TABLE bench.files_sql_rows ADD FOREIGN KEY (organization_id)
    REFERENCES tenancy.organizations (id) ON DELETE CASCADE;
CREATE TABLE bench.file_versions_sql_rows (LIKE tenancy.file_versions INCLUDING ALL);
CREATE TABLE bench.file_access_log_sql_rows (LIKE tenancy.file_access_log INCLUDING ALL);
SELECT bench.index_like_the_log('bench.file_access_log_sql_rows');

INSERT INTO tenancy.files (organization_id, id, owner_id, path, name, size_bytes)
SELECT md5('org' || (n % 1000 + 1))::uuid, md5('file' || n)::uuid,
       md5('owner' || (n % 1000 + 1))::uuid, 'p/' || n, 'f' || n, n
FROM generate_series(1, 100000) n;
INSERT INTO bench.files_none SELECT * FROM tenancy.files;
INSERT INTO bench.files_plpgsql SELECT * FROM tenancy.files;
INSERT INTO bench.files_sql_rows SELECT * FROM tenancy.files;

\ir ../lib/statement_ms.sql

VACUUM ANALYZE;
