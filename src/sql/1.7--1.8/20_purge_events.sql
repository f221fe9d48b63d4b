-------------------------------------------------------------------------------
-- purge_events skips the events another transaction is deleting.
--
-- An owner's DELETE of its organization deletes the organization's events
-- in the same transaction. Left uncommitted, it held purge_events, which
-- waited for those rows while holding tenancy.rollup_state: every
-- run_rollups meanwhile did nothing (or, with wait => true, waited too). The
-- events a purge finds locked are left: they go with their organization, or
-- the next purge takes them.
-------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION tenancy.purge_events() RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    state tenancy.rollup_state%ROWTYPE;
    removed bigint;
    cutoff timestamptz;
BEGIN
    SELECT * INTO state FROM tenancy.rollup_state FOR UPDATE;
    DELETE FROM tenancy.events
    WHERE ctid IN (SELECT e.ctid
                   FROM tenancy.events e
                   JOIN tenancy.organizations o ON o.id = e.organization_id
                   WHERE e.at < now() - o.event_retention
                     AND pg_visible_in_snapshot(e.txid, state.last_snapshot)
                   FOR UPDATE OF e SKIP LOCKED);
    GET DIAGNOSTICS removed = ROW_COUNT;
    SELECT now() - min(event_retention) INTO cutoff FROM tenancy.organizations;
    IF removed > 0 THEN
        UPDATE tenancy.rollup_state
        SET events_complete_since = greatest(events_complete_since, cutoff);
    END IF;
    RETURN removed;
END
$$;
