-------------------------------------------------------------------------------
-- An event_retention is a span back from now(), and the table's check only
-- asks that it compare above zero, as intervals compare (a month as 30
-- days). Some such spans reach no time before now() on some dates: on
-- 1 March, '1 month -29 days' reaches back to 1 February and forward 29
-- days, to 2 March; purge_events() then took every rolled-up event of that
-- organization, the newest included. The cutoff is now computed by one
-- function, which gives NULL for a span that does not end before the time
-- it is taken from: such an organization's events are left, with a WARNING
-- naming it, until its retention is set to one that does.
-------------------------------------------------------------------------------
CREATE FUNCTION tenancy.retention_cutoff(retention interval, taken_at timestamptz)
    RETURNS timestamptz
    LANGUAGE sql STABLE PARALLEL SAFE
    -- A standard SQL body: its operators are bound now, whatever the
    -- caller's search_path, and the call is inlined into the purge's
    -- statements (a SET clause would keep it from being inlined).
    RETURN CASE WHEN taken_at - retention < taken_at THEN taken_at - retention END;
COMMENT ON FUNCTION tenancy.retention_cutoff(interval, timestamptz) IS
    'The time events older than a retention were written before, taken_at - retention, or NULL when that is not before taken_at (''1 month -29 days'' on 1 March).';

-- purge_events(): the bounds and the delete through it; a WARNING for each
-- organization whose retention reaches no time before now().
SELECT tenancy.replace_in_function('tenancy.purge_events()',
    $old$    cutoff timestamptz;
BEGIN
$old$,
    $new$    cutoff timestamptz;
    unreachable record;
BEGIN
$new$);
SELECT tenancy.replace_in_function('tenancy.purge_events()',
    $old$    busy := tenancy.lock_organizations_for_purge();
$old$,
    $new$    busy := tenancy.lock_organizations_for_purge();
    FOR unreachable IN SELECT o.slug, o.event_retention FROM tenancy.organizations o
                       WHERE tenancy.retention_cutoff(o.event_retention, now()) IS NULL
                       ORDER BY o.slug LOOP
        RAISE WARNING 'the events of organization % are not purged', unreachable.slug
            USING DETAIL = format('Its event_retention, %s, reaches no time before now(): now() - event_retention is %s.',
                                  unreachable.event_retention, now() - unreachable.event_retention),
                  HINT = 'Set a retention of days, months or years with no negative part: UPDATE tenancy.organizations SET event_retention = ''365 days'' WHERE slug = ...';
    END LOOP;
$new$);
SELECT tenancy.replace_in_function('tenancy.purge_events()',
    $old$SELECT max(now() - event_retention), min(now() - event_retention)$old$,
    $new$SELECT max(tenancy.retention_cutoff(event_retention, now())),
               min(tenancy.retention_cutoff(event_retention, now()))$new$);
SELECT tenancy.replace_in_function('tenancy.purge_events()',
    $old$                   AND e.at < now() - o.event_retention
                   AND e.at < $2$old$,
    $new$                   AND e.at < tenancy.retention_cutoff(o.event_retention, now())
                   AND e.at < $2$new$);
