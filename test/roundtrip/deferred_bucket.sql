-- A bucket waiting in a deferred table (1.8), as a run leaves one for an
-- organization whose row another transaction held: a day before an hour the
-- rollups have, so that the run after the restore has something to merge.
INSERT INTO tenancy.event_rollups_deferred
SELECT organization_id, hour - interval '1 day', kind, events, value_count, value_sum,
       value_min, value_max, value_sketch, user_sketch, now()
FROM tenancy.event_rollups ORDER BY organization_id, hour, kind LIMIT 1;
