-------------------------------------------------------------------------------
-- The file access log, partitioned by month of `at` (UTC).
--
-- Appends land in the current month's partition, whose btree stays small and
-- hot however long the log grows, and retention drops whole months instead of
-- deleting row by row. Partitions:
--   file_access_log_YYYY_MM   one month each, created at run time by
--                             tenancy.maintain_file_access_log() (run_rollups
--                             calls it), never by this script: a month
--                             created here would carry the date of the
--                             CREATE EXTENSION that a restore runs, and clash
--                             with the months the dump brings back;
--   file_access_log_default   rows of a month that has no partition yet
--                             (maintenance moves them out), an extension
--                             table whose rows pg_dump saves;
--   file_access_log_until_YYYY_MM   after an upgrade of a non-empty log: the
--                             old table, from MINVALUE to the end of the
--                             month of the upgrade.
-- The partitioned table has no index of its own: pg_dump dumps a run-time
-- partition with its indexes, which would clash on restore with the ones an
-- index on the parent makes at ATTACH. Each partition gets the same three
-- (file_access_log_partition_ddl).
-------------------------------------------------------------------------------

-- The statements that make an unattached table a log partition: the indexes
-- of the log's layout, the TRUNCATE guard (statement triggers are not cloned
-- from the parent; the row guard is), row level security with no policy (no
-- role but the owner reads a partition directly), and the whole row as
-- replica identity (purges and organization deletions publish). One source
-- for the default partition below and for maintain_file_access_log.
CREATE FUNCTION tenancy.file_access_log_partition_ddl(partition name)
    RETURNS SETOF text
    LANGUAGE sql STABLE STRICT SET search_path = pg_catalog, pg_temp AS $$
SELECT format(statement, partition, left(partition, 50) || '_file_idx',
              left(partition, 50) || '_at_idx', left(partition, 50) || '_txid_idx',
              (SELECT relowner::regrole::text FROM pg_class
               WHERE oid = 'tenancy.file_access_log'::regclass))
FROM unnest(ARRAY[
    -- The log's owner, not whoever ran maintenance: DROP OWNED BY that role
    -- must not take a month along.
    'ALTER TABLE tenancy.%1$I OWNER TO %5$s',
    'CREATE INDEX %2$I ON tenancy.%1$I (organization_id, file_id, at)',
    'CREATE INDEX %3$I ON tenancy.%1$I USING brin (at)',
    'CREATE INDEX %4$I ON tenancy.%1$I USING brin (txid tenancy.xid8_minmax_ops)',
    'ALTER TABLE tenancy.%1$I REPLICA IDENTITY FULL',
    'ALTER TABLE tenancy.%1$I ENABLE ROW LEVEL SECURITY',
    'ALTER TABLE tenancy.%1$I FORCE ROW LEVEL SECURITY',
    'CREATE TRIGGER file_access_log_no_truncate BEFORE TRUNCATE ON tenancy.%1$I'
        ' FOR EACH STATEMENT EXECUTE FUNCTION tenancy.file_access_log_guard()',
    'ALTER TABLE tenancy.%1$I ENABLE ALWAYS TRIGGER file_access_log_no_truncate'
]) WITH ORDINALITY AS s(statement, n)
ORDER BY n
$$;

-- What a DBA built on the old table would stay with it, and so with the old
-- rows only (new rows go to the new partitioned log): views, rules,
-- functions with a BEGIN ATOMIC body, publications that list it, grants
-- (column grants too) and policies for other roles, triggers of their own.
-- (Indexes of their own stay on the old rows' partition, harmlessly.)
-- The upgrade refuses rather than leave them looking at the past.
DO $$
DECLARE
    log_oid oid := 'tenancy.file_access_log'::regclass;
    found text;
BEGIN
    SELECT string_agg(what, '; ' ORDER BY what) INTO found FROM (
        SELECT DISTINCT format('view %s', r.ev_class::regclass) AS what
        FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
        WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
          AND d.refobjid = log_oid AND r.ev_class <> log_oid
        UNION ALL
        SELECT DISTINCT format('rule %I', r.rulename)
        FROM pg_rewrite r WHERE r.ev_class = log_oid
        UNION ALL
        SELECT DISTINCT format('function %s', d.objid::regprocedure)
        FROM pg_depend d
        WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_class'::regclass
          AND d.refobjid = log_oid
        UNION ALL
        SELECT DISTINCT format('column privileges of %s', CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                                                               ELSE a.grantee::regrole::text END)
        FROM pg_attribute att, aclexplode(att.attacl) a
        WHERE att.attrelid = log_oid AND att.attacl IS NOT NULL
          AND a.grantee <> 'tenancy_app'::regrole
          AND a.grantee <> (SELECT relowner FROM pg_class WHERE oid = log_oid)
        UNION ALL
        SELECT format('publication %I', p.pubname)
        FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
        WHERE pr.prrelid = log_oid
        UNION ALL
        SELECT format('policy %I', polname) FROM pg_policy
        WHERE polrelid = log_oid AND polname <> 'file_access_log_select'
        UNION ALL
        SELECT format('trigger %I', tgname) FROM pg_trigger
        WHERE tgrelid = log_oid AND NOT tgisinternal
          AND tgname NOT IN ('file_access_log_append_only', 'file_access_log_no_truncate')
        UNION ALL
        SELECT DISTINCT format('privileges of %s', CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                                                        ELSE a.grantee::regrole::text END)
        FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.oid = log_oid AND a.grantee <> c.relowner
          AND a.grantee <> 'tenancy_app'::regrole) objects;
    IF found IS NOT NULL THEN
        RAISE EXCEPTION 'tenancy.file_access_log has objects of yours that 1.5 cannot carry over: %', found
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = '1.5 replaces the log by a partitioned table; these would stay on a partition holding the old rows only.',
                  HINT = 'Drop them (or remove the log from the publication), run ALTER EXTENSION pg_tenancy UPDATE, then create them again on tenancy.file_access_log.';
    END IF;
END
$$;

-- The old table steps aside; what becomes of it is decided below.
ALTER TABLE tenancy.file_access_log RENAME TO file_access_log_until;
DROP POLICY file_access_log_select ON tenancy.file_access_log_until;
DROP TRIGGER file_access_log_append_only ON tenancy.file_access_log_until;
REVOKE ALL ON tenancy.file_access_log_until FROM tenancy_app;

-- Ids: a plain sequence (a partitioned table has no identity column in
-- PostgreSQL 15), continuing where the old identity stopped.
CREATE SEQUENCE tenancy.file_access_log_ids AS bigint CACHE 64;
SELECT pg_catalog.setval('tenancy.file_access_log_ids', last_value, is_called)
FROM tenancy.file_access_log_id_seq;
-- (Out of the extension first: that also takes it off pg_dump's list.)
ALTER EXTENSION pg_tenancy DROP SEQUENCE tenancy.file_access_log_id_seq;
ALTER TABLE tenancy.file_access_log_until ALTER COLUMN id DROP IDENTITY;

CREATE TABLE tenancy.file_access_log (
    organization_id uuid                NOT NULL,
    id              bigint              NOT NULL DEFAULT nextval('tenancy.file_access_log_ids'),
    file_id         uuid                NOT NULL,
    user_id         uuid,
    action          tenancy.file_action NOT NULL,
    bytes           bigint,
    at              timestamptz         NOT NULL DEFAULT now(),
    txid            xid8                NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT file_access_log_bytes_nonnegative CHECK (bytes >= 0),
    CONSTRAINT file_access_log_bytes_bounded CHECK (bytes <= 1e15)
) PARTITION BY RANGE (at);
ALTER SEQUENCE tenancy.file_access_log_ids OWNED BY tenancy.file_access_log.id;
SELECT pg_catalog.pg_extension_config_dump('tenancy.file_access_log_ids', '');
COMMENT ON TABLE tenancy.file_access_log IS
    'Who did what to which file, when. Append-only for every role; see tenancy.purge_file_access_log. Partitioned by month of at (UTC): tenancy.file_access_log_partitions().';
ALTER TABLE tenancy.file_access_log REPLICA IDENTITY FULL;

CREATE TRIGGER file_access_log_append_only
    BEFORE UPDATE OR DELETE ON tenancy.file_access_log
    FOR EACH ROW EXECUTE FUNCTION tenancy.file_access_log_guard();
CREATE TRIGGER file_access_log_no_truncate
    BEFORE TRUNCATE ON tenancy.file_access_log
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.file_access_log_guard();
ALTER TABLE tenancy.file_access_log ENABLE ALWAYS TRIGGER file_access_log_append_only;
ALTER TABLE tenancy.file_access_log ENABLE ALWAYS TRIGGER file_access_log_no_truncate;

ALTER TABLE tenancy.file_access_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenancy.file_access_log FORCE ROW LEVEL SECURITY;
-- Students: their own rows. Teachers: rows of files they can see. Managers: all.
CREATE POLICY file_access_log_select ON tenancy.file_access_log
    FOR SELECT TO tenancy_app
    USING (organization_id = tenancy.current_org_id()
           AND ((SELECT tenancy.current_member_role()) IN ('owner', 'admin')
                OR user_id = (SELECT tenancy.current_user_id())
                OR ((SELECT tenancy.current_member_role()) = 'teacher'
                    AND EXISTS (SELECT 1 FROM tenancy.files f
                                WHERE f.organization_id = file_access_log.organization_id
                                  AND f.id = file_access_log.file_id))));
GRANT SELECT ON tenancy.file_access_log TO tenancy_app;

CREATE TABLE tenancy.file_access_log_default PARTITION OF tenancy.file_access_log DEFAULT;
SELECT pg_catalog.pg_extension_config_dump('tenancy.file_access_log_default', '');
DO $$
DECLARE
    statement text;
BEGIN
    FOR statement IN SELECT tenancy.file_access_log_partition_ddl('file_access_log_default') LOOP
        EXECUTE statement;
    END LOOP;
END
$$;

-- An upgrade keeps the old rows where they are: the old table becomes the
-- partition of everything before the next month (UTC), and leaves the
-- extension, so that pg_dump saves it with these fixed bounds. Attaching it
-- reads it once to check the bounds. A fresh install (or a restore, before
-- its data) finds it empty and drops it.
DO $$
DECLARE
    next_month timestamptz :=
        (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
    name text := 'file_access_log_until_'
                 || to_char(date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month', 'YYYY_MM');
BEGIN
    -- Out of the extension either way, which takes it off pg_dump's list.
    ALTER EXTENSION pg_tenancy DROP TABLE tenancy.file_access_log_until;
    IF NOT EXISTS (SELECT FROM tenancy.file_access_log_until) THEN
        DROP TABLE tenancy.file_access_log_until;
        RETURN;
    END IF;
    -- Rows dated next month or later (a clock set wrong, rows written by
    -- hand) move to the default partition, whence maintenance gives them
    -- their months: the old rows' bound stays at next month, so months can
    -- follow it. The BRIN index on `at` finds them without reading the
    -- table. (The old table's row guard is gone already.)
    WITH moved AS (
        DELETE FROM tenancy.file_access_log_until WHERE at >= next_month RETURNING *)
    INSERT INTO tenancy.file_access_log_default SELECT * FROM moved;
    EXECUTE format('ALTER TABLE tenancy.file_access_log_until RENAME TO %I', name);
    EXECUTE format('ALTER INDEX tenancy.file_access_log_file_idx RENAME TO %I', name || '_file_idx');
    EXECUTE format('ALTER INDEX tenancy.file_access_log_at_idx RENAME TO %I', name || '_at_idx');
    EXECUTE format('ALTER INDEX tenancy.file_access_log_txid_idx RENAME TO %I', name || '_txid_idx');
    EXECUTE format('ALTER TABLE tenancy.file_access_log ATTACH PARTITION tenancy.%I'
                   ' FOR VALUES FROM (MINVALUE) TO (%L)', name, next_month);
END
$$;

-- The partitions and their bounds, oldest first, the default partition last
-- (bounds NULL). Parsed from pg_get_expr's text, in this function's fixed
-- date style.
CREATE FUNCTION tenancy.file_access_log_partitions()
    RETURNS TABLE (partition regclass, from_at timestamptz, to_at timestamptz,
                   is_default boolean)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp SET datestyle = 'ISO, YMD' AS $$
SELECT c.oid::regclass,
       CASE WHEN b[1] = 'MINVALUE' THEN '-infinity' ELSE btrim(b[1], '''') END::timestamptz,
       CASE WHEN b[2] = 'MAXVALUE' THEN 'infinity' ELSE btrim(b[2], '''') END::timestamptz,
       b IS NULL
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
CROSS JOIN LATERAL regexp_match(pg_get_expr(c.relpartbound, 0),
                                '^FOR VALUES FROM \((.*)\) TO \((.*)\)$') b
WHERE i.inhparent = 'tenancy.file_access_log'::regclass
ORDER BY b IS NULL, 2
$$;

-- Creates the partitions of the current month and of the next months_ahead
-- months (UTC) that do not exist yet, and a partition for each month that
-- has rows in the default partition, moving them there. Returns how many it
-- created. run_rollups calls it; the DBA may too.
CREATE FUNCTION tenancy.maintain_file_access_log(months_ahead integer DEFAULT 2)
    RETURNS integer
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'tenancy_maintain_file_access_log';

-- Log partitions are not extension members (pg_dump must save them), so the
-- extension's dependency does not keep a DBA from dropping or detaching
-- them: this does, outside purge_file_access_log.
CREATE FUNCTION tenancy.file_access_log_ddl_guard() RETURNS event_trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'tenancy_file_access_log_ddl_guard';
CREATE EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard ON ddl_command_start
    WHEN TAG IN ('DROP TABLE', 'ALTER TABLE')
    EXECUTE FUNCTION tenancy.file_access_log_ddl_guard();
ALTER EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard ENABLE ALWAYS;

REVOKE ALL ON FUNCTION tenancy.file_access_log_partition_ddl(name),
    tenancy.file_access_log_partitions(), tenancy.maintain_file_access_log(integer),
    tenancy.file_access_log_ddl_guard() FROM PUBLIC;
