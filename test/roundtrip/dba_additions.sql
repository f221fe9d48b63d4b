-- What a DBA adds to the extension's own tables (README, Dump and restore;
-- check() finding 20), for the dump/restore round trip. Runs as the
-- superuser after fixture.sql and log_months.sql:
--   columns with values: of a type of the DBA's own with a default, NOT NULL
--   with a default, a serial and an index on the log (whose months the dump
--   makes with their copies), an identity that has handed out values, a
--   generated column;
--   a default and NOT NULL on columns of the extension's own;
--   indexes, a unique key a table of the DBA's references, a foreign key to
--   a table of the DBA's, a CHECK, a trigger and a constraint trigger, a
--   policy, storage parameters (the TOAST table's too), statistics, a
--   replica identity.
\set ON_ERROR_STOP 1
CREATE SCHEMA dba;
CREATE TYPE dba.storage_tier AS ENUM ('standard', 'archive');
CREATE TABLE dba.sources (name text PRIMARY KEY);
INSERT INTO dba.sources VALUES ('web'), ('mobile');

ALTER TABLE tenancy.events ADD COLUMN source text NOT NULL DEFAULT 'web';
UPDATE tenancy.events SET source = 'mobile' WHERE id % 3 = 0;
ALTER TABLE tenancy.events ADD COLUMN kind_upper text GENERATED ALWAYS AS (upper(kind)) STORED;
ALTER TABLE tenancy.events ADD CONSTRAINT events_source_known FOREIGN KEY (source) REFERENCES dba.sources;
ALTER TABLE tenancy.file_access_log ADD COLUMN client_ip inet, ADD COLUMN seq bigserial;
CREATE INDEX file_access_log_client_ip_idx ON tenancy.file_access_log (client_ip);
INSERT INTO tenancy.file_access_log (organization_id, file_id, action, client_ip)
SELECT organization_id, id, 'view', '192.0.2.7' FROM tenancy.files ORDER BY id LIMIT 1;
ALTER TABLE tenancy.files ADD COLUMN tier dba.storage_tier DEFAULT 'standard';
UPDATE tenancy.files SET tier = 'archive' WHERE path LIKE '%/1%';
ALTER TABLE tenancy.files ALTER COLUMN mime_type SET DEFAULT 'application/octet-stream';
UPDATE tenancy.files SET mime_type = 'application/pdf' WHERE mime_type IS NULL;
ALTER TABLE tenancy.files ALTER COLUMN mime_type SET NOT NULL;
ALTER TABLE tenancy.files SET (toast.autovacuum_enabled = false);
CREATE INDEX files_tier_idx ON tenancy.files (organization_id, tier) WHERE deleted_at IS NULL;
ALTER TABLE tenancy.files ADD CONSTRAINT files_org_id_name_key UNIQUE (organization_id, id, name);
CREATE TABLE dba.file_notes (organization_id uuid, file_id uuid, name text, note text,
    PRIMARY KEY (organization_id, file_id),
    FOREIGN KEY (organization_id, file_id, name) REFERENCES tenancy.files (organization_id, id, name));
INSERT INTO dba.file_notes SELECT organization_id, id, name, 'checked' FROM tenancy.files ORDER BY id LIMIT 3;
ALTER TABLE tenancy.organizations ADD COLUMN external_id bigint GENERATED ALWAYS AS IDENTITY (START WITH 1000);
ALTER TABLE tenancy.organizations ADD CONSTRAINT organizations_name_not_blank CHECK (btrim(name) <> '');
CREATE UNIQUE INDEX members_user_org_idx ON tenancy.members (user_id, organization_id);
ALTER TABLE tenancy.members REPLICA IDENTITY USING INDEX members_user_org_idx;
CREATE FUNCTION dba.default_tier() RETURNS trigger LANGUAGE plpgsql AS
    'BEGIN NEW.tier := coalesce(NEW.tier, ''standard''); RETURN NEW; END';
CREATE TRIGGER files_default_tier BEFORE INSERT ON tenancy.files
    FOR EACH ROW EXECUTE FUNCTION dba.default_tier();
CREATE FUNCTION dba.noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';
CREATE CONSTRAINT TRIGGER members_checked AFTER INSERT ON tenancy.members
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION dba.noop();
CREATE POLICY events_monitoring ON tenancy.events FOR SELECT TO pg_monitor USING (kind <> 'secret');
ALTER TABLE tenancy.file_versions SET (fillfactor = 90);
ALTER TABLE tenancy.events ALTER COLUMN kind SET STATISTICS 500;
-- Types of types (a composite type with a collation of the DBA's, a domain
-- whose check casts to an enum of the DBA's): the dump entries to restore
-- first follow what each type is made of.
CREATE COLLATION "dba"."Case Blind" (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TYPE dba.contact AS (name text COLLATE "dba"."Case Blind", phone text);
ALTER TABLE tenancy.members ADD COLUMN contact dba.contact;
UPDATE tenancy.members SET contact = ROW('Ada', '555')::dba.contact WHERE role = 'owner';
CREATE DOMAIN dba.tier_name AS text CHECK (VALUE::dba.storage_tier IN ('standard', 'archive'));
ALTER TABLE tenancy.files ADD COLUMN tier_name dba.tier_name;
UPDATE tenancy.files SET tier_name = 'archive' WHERE path LIKE '%/2%';
-- A key added to the log that a table of the DBA's references: the dump's
-- foreign key is left out, and made after the key.
ALTER TABLE tenancy.file_access_log ADD CONSTRAINT file_access_log_id_at_key UNIQUE (id, at);
CREATE TABLE dba.reviewed_reads (organization_id uuid, id bigint, at timestamptz,
    PRIMARY KEY (organization_id, id, at),
    FOREIGN KEY (id, at) REFERENCES tenancy.file_access_log (id, at));
INSERT INTO dba.reviewed_reads SELECT organization_id, id, at FROM tenancy.file_access_log ORDER BY id LIMIT 2;
COMMENT ON CONSTRAINT reviewed_reads_id_at_fkey ON dba.reviewed_reads IS 'reads a reviewer checked';
-- A generated column whose expression casts to a domain of the DBA's.
CREATE DOMAIN dba.size AS bigint CHECK (VALUE >= 0);
ALTER TABLE tenancy.files ADD COLUMN size_checked bigint GENERATED ALWAYS AS ((size_bytes)::dba.size) STORED;
-- A publication of a schema (its dump entry names SCHEMA too, but is no
-- schema), and an extension table made to inherit from a table of the DBA's
-- (a column the DBA added, which the parent then shares).
CREATE PUBLICATION dba_schema_pub FOR TABLES IN SCHEMA dba;
CREATE TABLE dba.stamped (note text);
ALTER TABLE tenancy.file_versions ADD COLUMN note text;
UPDATE tenancy.file_versions SET note = 'kept';
ALTER TABLE tenancy.file_versions INHERIT dba.stamped;
-- A generated column that calls another extension's function (restored with
-- the extensions, first); the grants and comment of an added identity's
-- sequence; a partition of the DBA's, in a schema of its own, of the log that
-- has an added index (the dump attaches its copy of it).
CREATE EXTENSION IF NOT EXISTS pgcrypto;
ALTER TABLE tenancy.files ADD COLUMN path_hash text GENERATED ALWAYS AS (encode(digest(path, 'sha256'), 'hex')) STORED;
GRANT USAGE ON SEQUENCE tenancy.organizations_external_id_seq TO tenancy_app;
COMMENT ON SEQUENCE tenancy.organizations_external_id_seq IS 'ids the SIS gives';
CREATE SCHEMA archive;
CREATE TABLE archive.file_access_log_2010 PARTITION OF tenancy.file_access_log
    FOR VALUES FROM ('2010-01-01 00:00:00+00') TO ('2011-01-01 00:00:00+00');
INSERT INTO tenancy.file_access_log (organization_id, file_id, action, at)
SELECT organization_id, id, 'view', '2010-06-01 00:00:00+00' FROM tenancy.files ORDER BY id LIMIT 1;
-- (its guard and index, as check() says)
DO $$
DECLARE
    fix text;
BEGIN
    FOR fix IN SELECT c.fix FROM tenancy.check() c
               WHERE c.object = 'partition archive.file_access_log_2010 of tenancy.file_access_log' LOOP
        EXECUTE fix;
    END LOOP;
END
$$;
