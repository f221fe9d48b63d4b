-------------------------------------------------------------------------------
-- A run no longer waits for an organization whose row is locked.
--
-- run_rollups locks the organizations it writes buckets for (FOR KEY SHARE),
-- so that a deletion of one waits for the run and its cleanup then removes
-- what the run wrote. Until 1.8 it waited for each of those locks: an owner
-- or admin holding the organization's row (SELECT … FOR UPDATE, a slug change
-- or a DELETE left uncommitted) stalled the rollups of every organization.
--
-- With the 1.8 library a run takes the locks it can at once (SKIP LOCKED).
-- The buckets of an organization whose row is locked wait in these tables,
-- merged with any of its earlier ones, and the next run that can lock the
-- organization merges them into the rollups; if the organization is gone by
-- then, they go with it. The tables have the rollup tables' columns and key,
-- plus deferred_at: when the organization's first waiting bucket was written.
-- Only the extension's functions read or write them (no grants, RLS forced
-- with no policy, as tenancy.rollup_state).
-------------------------------------------------------------------------------
CREATE TABLE tenancy.event_rollups_deferred (
    organization_id uuid             NOT NULL,
    hour            timestamptz      NOT NULL,
    kind            text             NOT NULL,
    events          bigint           NOT NULL,
    value_count     bigint           NOT NULL,
    value_sum       double precision NOT NULL,
    value_min       double precision,
    value_max       double precision,
    value_sketch    bytea            NOT NULL,
    user_sketch     bytea            NOT NULL,
    deferred_at     timestamptz      NOT NULL,
    CONSTRAINT event_rollups_deferred_pkey PRIMARY KEY (organization_id, hour, kind)
);

CREATE TABLE tenancy.file_rollups_deferred (
    organization_id  uuid        NOT NULL,
    hour             timestamptz NOT NULL,
    uploads          bigint      NOT NULL,
    downloads        bigint      NOT NULL,
    bytes_uploaded   bigint      NOT NULL,
    bytes_downloaded bigint      NOT NULL,
    user_sketch      bytea       NOT NULL,
    deferred_at      timestamptz NOT NULL,
    CONSTRAINT file_rollups_deferred_pkey PRIMARY KEY (organization_id, hour)
);

ALTER TABLE tenancy.event_rollups_deferred ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenancy.event_rollups_deferred FORCE ROW LEVEL SECURITY;
ALTER TABLE tenancy.file_rollups_deferred ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenancy.file_rollups_deferred FORCE ROW LEVEL SECURITY;

-- Counted rows that are in no rollup yet: a dump without them would lose
-- them (the restored rollup state says they were counted).
SELECT pg_catalog.pg_extension_config_dump('tenancy.event_rollups_deferred', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.file_rollups_deferred', '');

-- What a run did now includes what it left waiting: buckets_deferred is the
-- number of buckets of the source waiting in its deferred table after the
-- run (0 when no organization's row was locked). A new result type means a
-- new function; the EXECUTE grants a DBA gave on the old one (to the role
-- its pg_cron job runs as, say) are given again on the new one.
DO $upgrade$
DECLARE
    grants text[];
    grant_statement text;
BEGIN
    SELECT array_agg(format('GRANT EXECUTE ON FUNCTION tenancy.run_rollups(boolean) TO %s%s',
                            CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                                 ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                            CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END))
    INTO grants
    FROM pg_proc p, aclexplode(p.proacl) a
    WHERE p.oid = 'tenancy.run_rollups(boolean)'::regprocedure
      AND a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner;

    DROP FUNCTION tenancy.run_rollups(boolean);
    CREATE FUNCTION tenancy.run_rollups(wait boolean DEFAULT false)
        RETURNS TABLE (source text, rows_read bigint, buckets_written bigint,
                       milliseconds double precision, buckets_deferred bigint)
        LANGUAGE C VOLATILE
        AS 'MODULE_PATHNAME', 'tenancy_run_rollups';
    REVOKE ALL ON FUNCTION tenancy.run_rollups(boolean) FROM PUBLIC;
    FOREACH grant_statement IN ARRAY coalesce(grants, '{}') LOOP
        EXECUTE grant_statement;
    END LOOP;
END
$upgrade$;
