INSERT INTO bench.event_rollups_sql AS r
    (organization_id, hour, kind, events, value_sum, value_min, value_max, value_p50, value_p95, users)
SELECT organization_id, date_trunc('hour', at), kind, count(*), coalesce(sum(value), 0),
       min(value), max(value),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY value),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY value),
       count(DISTINCT user_id)
FROM tenancy.events
WHERE id > (SELECT last_id FROM bench.recipe_state)
GROUP BY 1, 2, 3
ON CONFLICT (organization_id, hour, kind) DO UPDATE SET
    events = r.events + excluded.events,
    value_sum = r.value_sum + excluded.value_sum,
    value_min = least(r.value_min, excluded.value_min),
    value_max = greatest(r.value_max, excluded.value_max),
    value_p50 = excluded.value_p50,
    value_p95 = excluded.value_p95,
    users = r.users + excluded.users
