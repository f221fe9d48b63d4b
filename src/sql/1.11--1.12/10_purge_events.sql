-------------------------------------------------------------------------------
-- purge_events() without reading the whole of events.
--
-- Each organization has its own retention, so the purge's bound on `at` was
-- a join column: the planner could not tell how many rows were due and read
-- all of events with a hash join, every day, whatever it removed (1.5-2.4 s
-- on 5 million events over 10,000 organizations with nothing to remove,
-- 3.7 s on 10 million). Now the statement also carries the newest bound any
-- organization has (now() minus the shortest retention), a value, and is run
-- by EXECUTE so that it is planned with it: for a day's worth of events the
-- planner probes each organization's range of (organization_id, at) (about
-- 60-160 ms on 5 million, most of it locking the organizations); for a large
-- share of the table, it still reads it whole.
--
-- The bound is also what the purge records as events_complete_since, taken
-- once, before the delete: no event at or after it is removed, even when a
-- retention changes meanwhile (before, the delete and the bound recorded
-- after it could read different retentions under READ COMMITTED).
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
    new_text constant text := $new$    -- The newest event any organization's retention removes (1.12): a
    -- value the planner sees, as EXECUTE plans the statement with it.
    SELECT now() - min(event_retention) INTO cutoff FROM tenancy.organizations;
    EXECUTE 'DELETE FROM tenancy.events e
             USING tenancy.organizations o
             WHERE e.organization_id = o.id
               AND o.id <> ALL ($1)
               AND e.at < now() - o.event_retention
               AND e.at < $2
               AND pg_visible_in_snapshot(e.txid, $3)'
        USING busy, cutoff, state.last_snapshot;
    GET DIAGNOSTICS removed = ROW_COUNT;
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
