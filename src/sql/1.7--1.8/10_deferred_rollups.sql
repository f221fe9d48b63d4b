-------------------------------------------------------------------------------
-- A run no longer waits for an organization whose row is locked.
--
-- run_rollups locks the organizations it writes buckets for (FOR KEY SHARE),
-- so that a deletion of one waits for the run and its cleanup then removes
-- what the run wrote. Until 1.8 it waited for each of those locks: an owner
-- or admin holding the organization's row (SELECT … FOR UPDATE, a slug change
-- or a DELETE left uncommitted) stalled the rollups of every organization.
--
-- With the 1.8 library a run takes the locks it can at once (SKIP LOCKED),
-- and waits at most tenancy.rollup_lock_timeout in all for rows being
-- written (which SKIP LOCKED does not skip: it follows their update).
-- The buckets of an organization whose row is held wait in these tables,
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

-- What waits, for the DBA: one row per organization and source. Like the
-- tables, for superusers (no grants).
CREATE VIEW tenancy.rollups_waiting AS
SELECT 'events'::text AS source, organization_id, count(*) AS buckets,
       min(hour) AS first_hour, max(hour) AS last_hour, min(deferred_at) AS waiting_since
FROM tenancy.event_rollups_deferred
GROUP BY organization_id
UNION ALL
SELECT 'file_access_log', organization_id, count(*), min(hour), max(hour), min(deferred_at)
FROM tenancy.file_rollups_deferred
GROUP BY organization_id;
REVOKE ALL ON tenancy.rollups_waiting FROM PUBLIC;
