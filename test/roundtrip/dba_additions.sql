-- What a DBA adds to the extension's own tables (README, Dump and restore;
-- check() finding 20), for the dump/restore round trip: columns with values
-- (one on the log, so its months must attach to a log that has it), indexes
-- (one on the log, whose months' copies the dump saves),
-- constraints, a trigger, a policy, storage and column settings, a replica
-- identity. Runs as the superuser after fixture.sql and log_months.sql.
\set ON_ERROR_STOP 1
ALTER TABLE tenancy.events ADD COLUMN source text NOT NULL DEFAULT 'web';
UPDATE tenancy.events SET source = 'mobile' WHERE id % 3 = 0;
ALTER TABLE tenancy.file_access_log ADD COLUMN client_ip inet;
CREATE INDEX file_access_log_client_ip_idx ON tenancy.file_access_log (client_ip);
INSERT INTO tenancy.file_access_log (organization_id, file_id, action, client_ip)
SELECT organization_id, id, 'view', '192.0.2.7' FROM tenancy.files ORDER BY id LIMIT 1;
ALTER TABLE tenancy.files ADD COLUMN storage_class text COLLATE "C" DEFAULT 'standard';
CREATE INDEX files_storage_class_idx ON tenancy.files (organization_id, storage_class) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX members_user_org_idx ON tenancy.members (user_id, organization_id);
ALTER TABLE tenancy.members REPLICA IDENTITY USING INDEX members_user_org_idx;
ALTER TABLE tenancy.organizations ADD CONSTRAINT organizations_name_not_blank CHECK (btrim(name) <> '');
CREATE FUNCTION public.dba_note_upload() RETURNS trigger LANGUAGE plpgsql AS
    'BEGIN NEW.storage_class := coalesce(NEW.storage_class, ''standard''); RETURN NEW; END';
CREATE TRIGGER files_dba_storage_class BEFORE INSERT ON tenancy.files
    FOR EACH ROW EXECUTE FUNCTION public.dba_note_upload();
CREATE POLICY events_monitoring ON tenancy.events FOR SELECT TO pg_monitor USING (kind <> 'secret');
ALTER TABLE tenancy.file_versions SET (fillfactor = 90);
ALTER TABLE tenancy.events ALTER COLUMN kind SET STATISTICS 500;
