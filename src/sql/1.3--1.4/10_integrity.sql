-------------------------------------------------------------------------------
-- Events go with their organization, even one deleted while they are written.
-- events has no foreign key (track() is the hot path); this trigger locks the
-- organization row FOR KEY SHARE, once per transaction, as the key's check
-- would. A deletion then waits for the writer, and its cleanup
-- (organizations_audit_cleanup) sees the committed rows and removes them; a
-- writer that comes after the deletion fails instead of leaving orphans.
-- record_file_access does the same for the log in C.
-------------------------------------------------------------------------------
CREATE FUNCTION tenancy.events_lock_organization() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'tenancy_events_lock_organization';
REVOKE ALL ON FUNCTION tenancy.events_lock_organization() FROM PUBLIC;
CREATE TRIGGER events_lock_organization
    BEFORE INSERT ON tenancy.events
    FOR EACH ROW EXECUTE FUNCTION tenancy.events_lock_organization();

-------------------------------------------------------------------------------
-- The last owner. Two owners demoting each other at once both counted the
-- other as an owner under REPEATABLE READ (the count reads the transaction's
-- snapshot; the organization lock made them take turns, not see each other).
-- The other owners' rows are now locked FOR SHARE before they are counted:
-- under READ COMMITTED the lock rechecks each row's latest version, and under
-- REPEATABLE READ a row demoted since the snapshot is a serialization failure.
-------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION tenancy.members_guard() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    org_exists boolean;
    other_owners bigint;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.organization_id <> OLD.organization_id OR NEW.user_id <> OLD.user_id THEN
            RAISE EXCEPTION 'a membership cannot move to another organization or user'
                USING ERRCODE = '42501';
        END IF;
        NEW.updated_at := now();
        IF NEW.role = 'owner' AND NEW.deactivated_at IS NULL THEN
            RETURN NEW;
        END IF;
    END IF;
    IF OLD.role <> 'owner' OR OLD.deactivated_at IS NOT NULL THEN
        RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
    END IF;

    -- An active owner is being removed, demoted or deactivated. NO KEY
    -- UPDATE: guards take turns and a deletion waits, but the KEY SHARE locks
    -- of transactions writing events (below) do not block it.
    SELECT true INTO org_exists FROM tenancy.organizations
        WHERE id = OLD.organization_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        -- The organization itself is being deleted (cascade): let it go.
        RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    PERFORM FROM tenancy.members
        WHERE organization_id = OLD.organization_id AND user_id <> OLD.user_id
          AND role = 'owner' AND deactivated_at IS NULL
        FOR SHARE;
    GET DIAGNOSTICS other_owners = ROW_COUNT;
    IF other_owners = 0 THEN
        RAISE EXCEPTION 'cannot remove, demote or deactivate the last owner of an organization'
            USING ERRCODE = '42501',
                  HINT = 'Make another member owner first, or delete the organization.';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;

-------------------------------------------------------------------------------
-- Daily figures saturate as the hourly ones do: a sum of hourly counts or
-- byte totals that passes the bigint range is shown as its largest value
-- instead of failing every dashboard query that reaches that day.
-------------------------------------------------------------------------------
CREATE OR REPLACE VIEW tenancy.event_stats_daily WITH (security_invoker = true) AS
SELECT organization_id, day, kind, events, value_sum, value_min, value_max,
       tenancy.sketch_quantile(value_sketch, 0.5)  AS value_p50,
       tenancy.sketch_quantile(value_sketch, 0.95) AS value_p95,
       tenancy.sketch_distinct_count(user_sketch)  AS users
FROM (SELECT organization_id, (hour AT TIME ZONE 'UTC')::date AS day, kind,
             least(sum(events), 9223372036854775807)::bigint AS events,
             CASE WHEN sum(value_count) > 0 THEN sum(value_sum) END AS value_sum,
             min(value_min) AS value_min, max(value_max) AS value_max,
             tenancy.quantile_sketch_union(value_sketch) AS value_sketch,
             tenancy.distinct_sketch_union(user_sketch) AS user_sketch
      FROM tenancy.event_rollups
      GROUP BY 1, 2, 3) daily;

CREATE OR REPLACE VIEW tenancy.file_stats_daily WITH (security_invoker = true) AS
SELECT organization_id, day, uploads, downloads, bytes_uploaded, bytes_downloaded,
       tenancy.sketch_distinct_count(user_sketch) AS users
FROM (SELECT organization_id, (hour AT TIME ZONE 'UTC')::date AS day,
             least(sum(uploads), 9223372036854775807)::bigint AS uploads,
             least(sum(downloads), 9223372036854775807)::bigint AS downloads,
             least(sum(bytes_uploaded), 9223372036854775807)::bigint AS bytes_uploaded,
             least(sum(bytes_downloaded), 9223372036854775807)::bigint AS bytes_downloaded,
             tenancy.distinct_sketch_union(user_sketch) AS user_sketch
      FROM tenancy.file_rollups
      GROUP BY 1, 2) daily;

-------------------------------------------------------------------------------
-- The analytics policies read the role through a sub-select, which PostgreSQL
-- runs once, at its first use, and ordered before the organization equality
-- (it is cheaper). A caller's own leakproof condition runs first of all, so
-- whether the sub-select ran (EXPLAIN ANALYZE: "never executed") told whether
-- any row of any organization matched it: another organization's event kinds,
-- and by bisection its ids. The role now chooses the organization to compare
-- with, in one expression without a sub-select; it is still an index
-- condition, evaluated once per scan.
-------------------------------------------------------------------------------
ALTER POLICY events_select ON tenancy.events
    USING (organization_id = CASE WHEN tenancy.current_member_role() IN ('owner', 'admin', 'teacher')
                                  THEN tenancy.current_org_id() END);
ALTER POLICY event_rollups_select ON tenancy.event_rollups
    USING (organization_id = CASE WHEN tenancy.current_member_role() IN ('owner', 'admin', 'teacher')
                                  THEN tenancy.current_org_id() END);
ALTER POLICY file_rollups_select ON tenancy.file_rollups
    USING (organization_id = CASE WHEN tenancy.current_member_role() IN ('owner', 'admin', 'teacher')
                                  THEN tenancy.current_org_id() END);
