-------------------------------------------------------------------------------
-- purge_events leaves the events of organizations another transaction holds.
--
-- An owner's DELETE of its organization deletes the organization's events
-- in the same transaction. Left uncommitted, it held purge_events, which
-- waited for those rows while holding tenancy.rollup_state: every
-- run_rollups meanwhile did nothing (or, with wait => true, waited too).
-- Now the purge first locks the organizations as a rollup run does
-- (tenancy.lock_organizations_for_purge, src/rollups.cpp: FOR KEY SHARE, so
-- that a rename does not wait for the purge, a deletion does; rows being
-- written found from their headers; tenancy.rollup_lock_timeout at most) and
-- leaves the events of those it could not lock to the next purge.
-------------------------------------------------------------------------------
CREATE FUNCTION tenancy.lock_organizations_for_purge() RETURNS uuid[]
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'tenancy_lock_organizations_for_purge';
REVOKE ALL ON FUNCTION tenancy.lock_organizations_for_purge() FROM PUBLIC;

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
    busy := tenancy.lock_organizations_for_purge();
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
