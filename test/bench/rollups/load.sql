-- rollups dataset: 1,000 organizations with 50 members each, and the table
-- the hand-written SQL recipe (recipe.sql) writes. Events are added by
-- rollups.sh: add_events(n, hours) spreads n events over the organizations,
-- five kinds and the last `hours` hours.
\set ON_ERROR_STOP 1
\ir ../lib/statement_ms.sql
SET timezone = 'UTC';

INSERT INTO tenancy.organizations (id, slug, name)
SELECT md5('org' || g)::uuid, 'org-' || g, 'Org ' || g FROM generate_series(1, 1000) g;
INSERT INTO tenancy.members (organization_id, user_id, role)
SELECT md5('org' || g)::uuid, md5('user' || g || '-' || u)::uuid,
       CASE WHEN u = 1 THEN 'owner' ELSE 'student' END::tenancy.member_role
FROM generate_series(1, 1000) g, generate_series(1, 50) u;

-- The kind, whether an event has a value and the value must not follow from
-- i % 1000 (the organization): with i % 5 each organization logged a single
-- kind with a single value, and a million events fell into 3,550 buckets
-- with one-value quantile sketches, instead of every kind of every
-- organization in every hour (15,000), each with a spread of values.
CREATE FUNCTION bench.add_events(n bigint, hours int) RETURNS void LANGUAGE sql AS $$
    INSERT INTO tenancy.events (organization_id, user_id, kind, value, at)
    SELECT md5('org' || (i % 1000 + 1))::uuid,
           md5('user' || (i % 1000 + 1) || '-' || (i / 1000 % 50 + 1))::uuid,
           (ARRAY['login', 'lesson_viewed', 'quiz_submitted', 'video_played', 'file_opened'])
               [abs(hashint8(i) % 5) + 1],
           CASE WHEN abs(hashint8(i + n) % 5) = 0 THEN NULL
                ELSE abs(hashint8(-i) % 1000) / 10.0 END,
           -- The `hours` whole UTC hours before the current one: the bucket
           -- count does not depend on the minute the benchmark starts.
           date_bin('1 hour', now(), '2000-01-01 00:00+00')
               - (i % (hours * 60) + 1) * interval '1 minute'
    FROM generate_series(1, n) i
$$;

-- Hourly buckets the rollups of the events not rolled up yet will fill.
CREATE FUNCTION bench.new_event_buckets() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(DISTINCT (organization_id, date_bin('1 hour', at, '2000-01-01 00:00+00'), kind))
    FROM tenancy.events e,
         (SELECT coalesce((SELECT last_snapshot FROM tenancy.rollup_state), '3:3:') AS snap) s
    WHERE txid >= pg_snapshot_xmin(s.snap) AND NOT pg_visible_in_snapshot(txid, s.snap)
$$;

-- The recipe's target: what users write by hand (quantiles and distinct
-- users cannot be merged, so the recipe overwrites or adds them - wrong, but
-- typical) and its max(id) watermark (which loses late commits).
CREATE TABLE bench.event_rollups_sql (
    organization_id uuid, hour timestamptz, kind text, events bigint,
    value_sum double precision, value_min double precision, value_max double precision,
    value_p50 double precision, value_p95 double precision, users bigint,
    PRIMARY KEY (organization_id, hour, kind));
CREATE TABLE bench.recipe_state (last_id bigint NOT NULL);
INSERT INTO bench.recipe_state VALUES (0);
