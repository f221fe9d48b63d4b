-------------------------------------------------------------------------------
-- tenancy.organization_deletions (1.24): a record of each organization's
-- deletion.
--
-- Every row of an organization goes with it (members, files, versions, the
-- audit log, events, rollups), so before 1.24 nothing in the database said
-- that it had existed, who deleted it or when: a DBA asked "where did school
-- X's audit trail go?" had nothing to show. One row per organization deleted,
-- whatever the path: tenancy.delete_organization() (its owner), a superuser's
-- DELETE (of one or several organizations, in a writable CTE or a MERGE too),
-- and TRUNCATE tenancy.organizations (CASCADE).
--
-- Written in the deleting transaction, so a deletion rolled back (or rolled
-- back to a savepoint) leaves no record, and a committed one always has one.
-- Not under session_replication_role = replica (a restore, a logical
-- replication subscriber, which receives the publisher's record instead),
-- where the deletion's other triggers do not fire either.
--
--   organizations_record_deletion  BEFORE DELETE FOR EACH ROW: the row, who
--                                  deletes it and its members, files and
--                                  versions, counted before the foreign
--                                  keys' cascade removes them;
--                                  organizations_audit_cleanup (AFTER
--                                  STATEMENT) then adds the audit log rows
--                                  and events it deletes itself (their
--                                  counts come with those deletes: no
--                                  second pass over them);
--   organizations_record_truncation BEFORE TRUNCATE: one row per organization
--                                  of the table, with counts; a TRUNCATE
--                                  leaves the log and the events in place
--                                  (their counts are 0).
-- The trigger function is C (src/file_audit.cpp) and runs as the caller, so
-- that it sees the role that deletes (current_user), then writes as the
-- table's owner: the application's roles cannot reach the table.
--
-- Who reads it: superusers and the extension's owner. Not tenancy_app, not
-- even an owner of the organization: it is gone, and the row must tell no
-- other organization about it (no grant, row level security forced, no
-- policy). Not append-only, unlike the log: nothing of the extension
-- changes or deletes a row once its transaction committed, but a superuser
-- may delete rows, for a retention period or a request to erase (the record
-- holds the school's name and a user id, which the application may have to
-- forget); only superusers reach the table, and a guard would not stop them.
-------------------------------------------------------------------------------
CREATE TABLE tenancy.organization_deletions (
    id                      bigint      GENERATED ALWAYS AS IDENTITY,
    -- The organization as it was when deleted.
    organization_id         uuid        NOT NULL,
    slug                    text        NOT NULL,
    name                    text        NOT NULL,
    created_at              timestamptz NOT NULL,
    -- When and by whom: the deleting transaction's start (now(), as the
    -- other tables' timestamps), the tenant context's user (NULL without a
    -- context: a superuser's DELETE, say), the login (session_user) and the
    -- role in effect (current_user: differs after SET ROLE, or in a
    -- SECURITY DEFINER function of the DBA's).
    deleted_at              timestamptz NOT NULL DEFAULT now(),
    deleted_by_user_id      uuid,
    deleted_by_session_user name        NOT NULL,
    deleted_by_current_user name        NOT NULL,
    -- How it was deleted: 'delete' (a DELETE, delete_organization() too) or
    -- 'truncate'.
    deleted_by_statement    text        NOT NULL,
    -- What went with it: the rows of each table removed with the
    -- organization (soft-deleted files and deactivated members too).
    member_rows             bigint      NOT NULL,
    file_rows               bigint      NOT NULL,
    file_version_rows       bigint      NOT NULL,
    file_access_log_rows    bigint      NOT NULL DEFAULT 0,
    event_rows              bigint      NOT NULL DEFAULT 0,
    CONSTRAINT organization_deletions_pkey PRIMARY KEY (id),
    CONSTRAINT organization_deletions_statement CHECK (deleted_by_statement IN ('delete', 'truncate'))
);
-- "What happened to organization X": by its id (and the cleanup's lookup).
CREATE INDEX organization_deletions_organization_idx
    ON tenancy.organization_deletions (organization_id);

ALTER TABLE tenancy.organization_deletions ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenancy.organization_deletions FORCE ROW LEVEL SECURITY;
REVOKE ALL ON tenancy.organization_deletions FROM PUBLIC;

-- The records are data, and come back with a dump (Dump and restore).
SELECT pg_catalog.pg_extension_config_dump('tenancy.organization_deletions', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.organization_deletions_id_seq', '');

COMMENT ON TABLE tenancy.organization_deletions IS
    'One row per organization deleted (delete_organization, DELETE, TRUNCATE): what it was, when, by whom, what went with it. Superusers only.';
COMMENT ON COLUMN tenancy.organization_deletions.deleted_at IS
    'The start of the deleting transaction (now()).';
COMMENT ON COLUMN tenancy.organization_deletions.deleted_by_user_id IS
    'The tenant context''s user when the deletion ran; NULL without a context.';
COMMENT ON COLUMN tenancy.organization_deletions.deleted_by_session_user IS
    'session_user of the deletion: the login.';
COMMENT ON COLUMN tenancy.organization_deletions.deleted_by_current_user IS
    'current_user of the deletion: the role in effect (SET ROLE, SECURITY DEFINER).';
COMMENT ON COLUMN tenancy.organization_deletions.deleted_by_statement IS
    'delete (DELETE, delete_organization) or truncate (TRUNCATE tenancy.organizations).';
COMMENT ON COLUMN tenancy.organization_deletions.file_access_log_rows IS
    'Audit log rows removed with the organization; 0 for a TRUNCATE, which leaves the log.';
COMMENT ON COLUMN tenancy.organization_deletions.event_rows IS
    'Events removed with the organization; 0 for a TRUNCATE, which leaves the events.';

-- Runs as the caller (current_user is the deleter); the row is written as
-- the table's owner by the C code.
CREATE FUNCTION tenancy.organizations_record_deletion() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'tenancy_organizations_record_deletion';
REVOKE ALL ON FUNCTION tenancy.organizations_record_deletion() FROM PUBLIC;
COMMENT ON FUNCTION tenancy.organizations_record_deletion() IS
    'Trigger: records each organization deleted or truncated in tenancy.organization_deletions.';

CREATE TRIGGER organizations_record_deletion
    BEFORE DELETE ON tenancy.organizations
    FOR EACH ROW EXECUTE FUNCTION tenancy.organizations_record_deletion();
CREATE TRIGGER organizations_record_truncation
    BEFORE TRUNCATE ON tenancy.organizations
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.organizations_record_deletion();

-- extension_table_additions() lists the extension's own columns, defaults,
-- constraints, indexes and triggers, so that check() reports only a DBA's:
-- the new table and triggers join them (the replaced text must occur
-- exactly once, or the upgrade stops with 55000).
SELECT tenancy.replace_in_function('tenancy.extension_table_additions()',
    $old$    ('organizations', 'trigger', '{organizations_touch,organizations_audit_cleanup,organizations_truncate_cleanup}'),
$old$,
    $new$    ('organizations', 'trigger', '{organizations_touch,organizations_audit_cleanup,organizations_truncate_cleanup,organizations_record_deletion,organizations_record_truncation}'),
    ('organization_deletions', 'default', '{deleted_at,file_access_log_rows,event_rows}'),
    ('organization_deletions', 'not null', '{id,organization_id,slug,name,created_at,deleted_at,deleted_by_session_user,deleted_by_current_user,deleted_by_statement,member_rows,file_rows,file_version_rows,file_access_log_rows,event_rows}'),
    ('organization_deletions', 'identity', '{id}'),
    ('organization_deletions', 'column', '{id,organization_id,slug,name,created_at,deleted_at,deleted_by_user_id,deleted_by_session_user,deleted_by_current_user,deleted_by_statement,member_rows,file_rows,file_version_rows,file_access_log_rows,event_rows}'),
    ('organization_deletions', 'index', '{organization_deletions_pkey,organization_deletions_organization_idx}'),
    ('organization_deletions', 'constraint', '{organization_deletions_pkey,organization_deletions_statement}'),
$new$);
