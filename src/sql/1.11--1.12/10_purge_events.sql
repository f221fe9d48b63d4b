-------------------------------------------------------------------------------
-- purge_events() without reading the whole of events.
--
-- Each organization has its own retention, so the purge's bound on `at` was
-- a join column: the planner could not tell how many rows were due and read
-- all of events with a hash join, every day, whatever it removed (2-3 s on
-- 5-10 million events with nothing or a day's worth to remove). Now the
-- organizations are purged by groups of retentions, one statement each, run
-- by EXECUTE so that it is planned with the group's values: the retentions
-- (matched by equality, estimated from organizations' statistics) and the
-- newest bound of the group (now() minus each retention, the latest). For
-- a day's worth due the planner probes each organization's range of
-- (organization_id, at); where much of a group's rows are due, it reads the
-- table. A short retention of a few organizations is a group of its own and
-- does not turn the others' purge into a full read. At most 16 groups:
-- beyond 16 distinct retentions, neighbouring ones share a statement (and
-- its bound: still exact, as each organization's own bound stays a
-- condition).
--
-- The newest bound of all is what the purge records as
-- events_complete_since: no event at or after it is removed, even when a
-- retention changes meanwhile. It is computed from each retention as a
-- span back from now(): before, it was now() - min(event_retention), and
-- '1 year' is less than '364 days' as a value (360 days) but reaches 365 or
-- 366 days back, so the bound recorded could be older than events removed.
--
-- Patched in place as in 1.10 and 1.11: the replaced text must occur exactly
-- once, or the upgrade stops (55000).
-------------------------------------------------------------------------------
DO $patch$
DECLARE
    old_text constant text := $old$    DELETE FROM tenancy.events e
    USING tenancy.organizations o
    WHERE e.organization_id = o.id
      AND o.id <> ALL (busy)
      AND e.at < now() - o.event_retention
      AND pg_visible_in_snapshot(e.txid, state.last_snapshot);
    GET DIAGNOSTICS removed = ROW_COUNT;
    SELECT now() - min(event_retention) INTO cutoff FROM tenancy.organizations;
$old$;
    new_text constant text := $new$    -- By groups of retentions, each statement planned with its values (1.12).
    DECLARE
        retentions interval[];
        newest_bound timestamptz;
        group_removed bigint;
    BEGIN
        removed := 0;
        FOR retentions, newest_bound IN
            SELECT array_agg(DISTINCT g.event_retention), max(now() - g.event_retention)
            FROM (SELECT o.event_retention,
                         (dense_rank() OVER (ORDER BY o.event_retention) - 1) * 16
                             / (SELECT count(DISTINCT event_retention) FROM tenancy.organizations)
                             AS retention_group
                  FROM tenancy.organizations o) g
            GROUP BY g.retention_group
        LOOP
            EXECUTE 'DELETE FROM tenancy.events e
                     USING tenancy.organizations o
                     WHERE e.organization_id = o.id
                       AND o.id <> ALL ($1)
                       AND o.event_retention = ANY ($2)
                       AND e.at < now() - o.event_retention
                       AND e.at < $3
                       AND pg_visible_in_snapshot(e.txid, $4)'
                USING busy, retentions, newest_bound, state.last_snapshot;
            GET DIAGNOSTICS group_removed = ROW_COUNT;
            removed := removed + group_removed;
            cutoff := greatest(cutoff, newest_bound);
        END LOOP;
    END;
$new$;
    definition text := pg_catalog.pg_get_functiondef('tenancy.purge_events()'::pg_catalog.regprocedure);
    found int := (length(definition) - length(replace(definition, old_text, ''))) / length(old_text);
BEGIN
    IF found <> 1 THEN
        RAISE EXCEPTION 'tenancy.purge_events() is not the function the extension installed (found % times)', found
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Restore it from the extension''s scripts before upgrading.';
    END IF;
    EXECUTE replace(definition, old_text, new_text);
END
$patch$;
