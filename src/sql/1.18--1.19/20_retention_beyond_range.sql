-------------------------------------------------------------------------------
-- A retention longer than timestamps reach ('10000 years', a "keep
-- forever"): now() - event_retention is before 4714 BC, and purge_events()
-- failed for every organization with a bare "timestamp out of range" that
-- named none. retention_cutoff() now gives '-infinity' for it: no event is
-- older, none is purged, and no WARNING (the events are kept on purpose).
-- Told from the span's parts, each of which the subtraction applies in turn
-- (months, then days, then time): any beyond 2,000 years, either way, and
-- the span reaches past every event; within, the three reach at most about
-- 6,000 years from taken_at, inside the range from any time after 1300 AD.
-- The purge's counts take their bounds from it too: they computed
-- now() - event_retention themselves, and counted the events of an
-- organization whose retention reaches no time before now() as due.
-------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION tenancy.retention_cutoff(retention interval, taken_at timestamptz)
    RETURNS timestamptz
    LANGUAGE sql STABLE PARALLEL SAFE
    -- A standard SQL body: its operators are bound now, whatever the
    -- caller's search_path, and the call is inlined into the purge's
    -- statements (a SET clause would keep it from being inlined).
    RETURN CASE
        WHEN NOT (date_trunc('month', retention) BETWEEN interval '-2000 years' AND interval '2000 years'
                  AND date_trunc('day', retention) - date_trunc('month', retention)
                      BETWEEN interval '-730000 days' AND interval '730000 days'
                  AND retention - date_trunc('day', retention)
                      BETWEEN interval '-17520000 hours' AND interval '17520000 hours')
            THEN timestamptz '-infinity'
        WHEN taken_at - retention < taken_at THEN taken_at - retention
    END;
COMMENT ON FUNCTION tenancy.retention_cutoff(interval, timestamptz) IS
    'The time events older than a retention were written before, taken_at - retention; NULL when that is not before taken_at (''1 month -29 days'' on 1 March); -infinity (none is older) when a part of the span (its months, days or time) exceeds 2,000 years.';

SELECT tenancy.replace_in_function('tenancy.purge_events()',
    $old$WHERE now() - event_retention > oldest_bound$old$,
    $new$WHERE tenancy.retention_cutoff(event_retention, now()) > oldest_bound$new$);
SELECT tenancy.replace_in_function('tenancy.purge_events()',
    $old$AND e.at < now() - o.event_retention$old$,
    $new$AND e.at < tenancy.retention_cutoff(o.event_retention, now())$new$);
