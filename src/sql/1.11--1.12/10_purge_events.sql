-------------------------------------------------------------------------------
-- purge_events() without reading the whole of events every day.
--
-- Each organization has its own retention, so the purge's bound on `at` is
-- a join value: the planner cannot tell how many rows are due, and read all
-- of events with a hash join every day, whatever it removed (1.4-2.1 s on 5
-- million events over 10,000 organizations with nothing or a day's worth
-- due). Now the purge first counts the due rows through each organization's
-- range of (organization_id, at). Those older than every organization's
-- bound lie together in the oldest pages; newer ones, due under a shorter
-- retention, lie among everyone's rows, a page read each in index order.
-- When the newer ones are fewer than a quarter of the table's pages and all
-- fewer than 5% of its rows (at least 10,000), the statement runs with
-- sequential scans, hash and merge joins switched off for it, and JIT off
-- for it and the counts (the caller's settings back after it), so it
-- deletes them organization by organization through that index. Otherwise it is planned as before, and reads the
-- table once. Three drafts were reviewed before this one: a single bound as
-- a value (one short retention made it "most of the table" again), a
-- statement per group of retentions (a short one sharing a group, or several
-- groups with much due, each read the table), and a count of rows without
-- telling old from newer (due rows spread over every page were read page by
-- page, organization by organization: slower than 1.11 from cold).
--
-- The delete is also bounded by the newest bound any organization has, and
-- that bound is what the purge records as events_complete_since: no event
-- at or after it is removed, even when a retention changes meanwhile. It is
-- computed from each retention as a span back from now(): before, it was
-- now() - min(event_retention), and '1 year' is less than '364 days' as a
-- value (360 days) but reaches 365 or 366 days back, so the bound recorded
-- could be older than events removed.
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
    new_text constant text := $new$    -- Few due, and few of them among newer rows: deleted through each
    -- organization's (organization_id, at) range, which the planner cannot
    -- tell is cheaper, as each bound is a join value (1.12). Due rows older
    -- than every bound lie together in the oldest pages; newer ones, due
    -- under a shorter retention, lie among others' rows, each one a page read
    -- in index order.
    DECLARE
        oldest_bound timestamptz;
        few bigint;
        table_pages bigint;
        due_among_newer bigint;
        due_older bigint := 0;
        jit constant text := current_setting('jit');
        seqscan constant text := current_setting('enable_seqscan');
        hashjoin constant text := current_setting('enable_hashjoin');
        mergejoin constant text := current_setting('enable_mergejoin');
    BEGIN
        -- The newest and oldest bounds in one reading of the retentions, each
        -- a span back from now().
        SELECT max(now() - event_retention), min(now() - event_retention)
        INTO cutoff, oldest_bound FROM tenancy.organizations;
        SELECT greatest(10000, c.reltuples::bigint / 20), c.relpages INTO few, table_pages
        FROM pg_class c WHERE c.oid = 'tenancy.events'::regclass;
        -- Each count stops as soon as it is too many: the newer ones at a
        -- quarter of the table's pages (a random page read costs about four
        -- sequential ones), all of them at `few`. Index probes, as the delete
        -- on the forced path is, which JIT compilation (their estimated cost
        -- would start it) only slows: off for them.
        PERFORM set_config('jit', 'off', true);
        SELECT count(*) INTO due_among_newer
        FROM (SELECT FROM tenancy.organizations o
              CROSS JOIN LATERAL (SELECT FROM tenancy.events e
                                  WHERE e.organization_id = o.id
                                    AND e.at >= oldest_bound
                                    AND e.at < now() - o.event_retention
                                  LIMIT table_pages / 4 + 1) d
              LIMIT table_pages / 4 + 1) t;
        IF due_among_newer * 4 < table_pages THEN
            SELECT count(*) INTO due_older
            FROM (SELECT FROM tenancy.organizations o
                  CROSS JOIN LATERAL (SELECT FROM tenancy.events e
                                      WHERE e.organization_id = o.id
                                        AND e.at < oldest_bound
                                        AND e.at < now() - o.event_retention
                                      LIMIT few) d
                  LIMIT few) t;
        END IF;
        IF due_among_newer * 4 < table_pages AND due_among_newer + due_older < few THEN
            PERFORM set_config('enable_seqscan', 'off', true),
                    set_config('enable_hashjoin', 'off', true),
                    set_config('enable_mergejoin', 'off', true);
        ELSE
            PERFORM set_config('jit', jit, true);
        END IF;
        -- EXECUTE: planned afresh, with the settings of this call (a plan
        -- PL/pgSQL kept would not follow them).
        EXECUTE 'DELETE FROM tenancy.events e
                 USING tenancy.organizations o
                 WHERE e.organization_id = o.id
                   AND o.id <> ALL ($1)
                   AND e.at < now() - o.event_retention
                   AND e.at < $2
                   AND pg_visible_in_snapshot(e.txid, $3)'
            USING busy, cutoff, state.last_snapshot;
        GET DIAGNOSTICS removed = ROW_COUNT;
        PERFORM set_config('jit', jit, true),
                set_config('enable_seqscan', seqscan, true),
                set_config('enable_hashjoin', hashjoin, true),
                set_config('enable_mergejoin', mergejoin, true);
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
