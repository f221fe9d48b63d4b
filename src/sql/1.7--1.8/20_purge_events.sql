-------------------------------------------------------------------------------
-- purge_events skips the events of organizations another transaction holds.
--
-- An owner's DELETE of its organization deletes the organization's events
-- in the same transaction. Left uncommitted, it held purge_events, which
-- waited for those rows while holding tenancy.rollup_state: every
-- run_rollups meanwhile did nothing (or, with wait => true, waited too).
-- Now the purge locks the organizations whose events it removes (FOR NO KEY
-- UPDATE SKIP LOCKED: a deletion of one waits for the purge instead) and
-- leaves the events of those another transaction holds to the next purge.
-- A conflicting lock is skipped at once, without following an update.
-------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION tenancy.purge_events() RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    state tenancy.rollup_state%ROWTYPE;
    busy uuid[];
    removed bigint;
    cutoff timestamptz;
BEGIN
    SELECT * INTO state FROM tenancy.rollup_state FOR UPDATE;
    WITH locked AS (SELECT id FROM tenancy.organizations FOR NO KEY UPDATE SKIP LOCKED)
    SELECT coalesce(array_agg(o.id), '{}') INTO busy
    FROM tenancy.organizations o WHERE o.id NOT IN (SELECT id FROM locked);
    DELETE FROM tenancy.events e
    USING tenancy.organizations o
    WHERE e.organization_id = o.id
      AND o.id <> ALL (busy)
      AND e.at < now() - o.event_retention
      AND pg_visible_in_snapshot(e.txid, state.last_snapshot);
    GET DIAGNOSTICS removed = ROW_COUNT;
    SELECT now() - min(event_retention) INTO cutoff FROM tenancy.organizations;
    IF removed > 0 THEN
        UPDATE tenancy.rollup_state
        SET events_complete_since = greatest(events_complete_since, cutoff);
    END IF;
    RETURN removed;
END
$$;
