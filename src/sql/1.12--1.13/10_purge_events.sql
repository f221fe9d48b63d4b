-------------------------------------------------------------------------------
-- purge_events(): no counts where the statistics already say "many".
--
-- 1.12 counted the due rows through each organization's (organization_id,
-- at) range before choosing how to delete them, each count stopping at its
-- limit. Where a count reached it, the purge read the whole table after all,
-- and the count had only added to it: after a retention was shortened (5% or
-- more of the table due, read index entry by index entry up to that limit),
-- and with many organizations (every one probed, even those whose bound is
-- the oldest, where no row can be among the newer ones). A review measured
-- +10-55% against 1.11 on 10 million events.
--
-- Now the due rows older than every bound, which lie in the oldest pages, are
-- first estimated from the statistics of `at` (the most common values before
-- the bound, and the share of the histogram below it). These do not depend
-- on the retentions, only on the rows, which autovacuum keeps analyzed: the
-- estimate was within 0.2-2% of the count on 5 and 10 million events. At
-- the limit (5% of the rows) or above, the purge skips both counts and plans
-- its delete freely: near the limit either way costs about the same. Without
-- statistics (never analyzed), the counts decide as in 1.12. The count of
-- newer due rows now probes only the organizations whose bound is newer than
-- the oldest one, and both counts probe in the index's order.
--
-- Patched in place as in 1.10 to 1.12: each replaced text must occur exactly
-- once, or the upgrade stops (55000).
-------------------------------------------------------------------------------
DO $patch$
DECLARE
    old_declarations constant text := $old$        due_older bigint := 0;
$old$;
    new_declarations constant text := $new$        due_older bigint := 0;
        older_estimate double precision;
        through_index boolean;
$new$;
    old_counts constant text := $old$        -- Each count stops as soon as it is too many: the newer ones at a
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
$old$;
    new_counts constant text := $new$        -- The due rows older than every bound, as the statistics of `at`
        -- tell (1.13): its most common values before the bound, and the
        -- share of its histogram below it, interpolated within the bucket.
        -- NULL without statistics. At the limit or above, no count is needed.
        SELECT c.reltuples * (
                   coalesce((SELECT sum(m.freq)
                             FROM unnest(s.most_common_vals::text::timestamptz[], s.most_common_freqs) AS m(at, freq)
                             WHERE m.at < oldest_bound), 0)
                   + (1 - s.null_frac - coalesce((SELECT sum(f) FROM unnest(s.most_common_freqs) AS f), 0))
                     * coalesce((SELECT CASE WHEN h.i = 0 THEN 0
                                             WHEN h.i >= h.n THEN 1
                                             ELSE (h.i - 1 + extract(epoch FROM oldest_bound - h.bounds[h.i])
                                                             / extract(epoch FROM h.bounds[h.i + 1] - h.bounds[h.i]))
                                                  / (h.n - 1)
                                        END
                                 FROM (SELECT b.bounds, cardinality(b.bounds) AS n,
                                              width_bucket(oldest_bound, b.bounds) AS i
                                       FROM (SELECT s.histogram_bounds::text::timestamptz[] AS bounds) b) h), 0))
        INTO older_estimate
        FROM pg_class c
        JOIN pg_stats s ON s.schemaname = 'tenancy' AND s.tablename = 'events' AND s.attname = 'at'
                       AND NOT s.inherited
        WHERE c.oid = 'tenancy.events'::regclass;
        through_index := coalesce(older_estimate < few, true);
        -- Each count stops as soon as it is too many: the newer ones at a
        -- quarter of the table's pages (a random page read costs about four
        -- sequential ones), all of them at `few`. Index probes, as the delete
        -- on the forced path is, which JIT compilation (their estimated cost
        -- would start it) only slows: off for them.
        IF through_index THEN
            PERFORM set_config('jit', 'off', true);
            -- Only organizations whose bound is newer than the oldest can
            -- have due rows among the newer ones. Both counts probe the
            -- organizations in the index's order, so that consecutive probes
            -- read neighbouring index pages (half the time with 200,000).
            SELECT count(*) INTO due_among_newer
            FROM (SELECT FROM (SELECT id, event_retention FROM tenancy.organizations
                               WHERE now() - event_retention > oldest_bound
                               ORDER BY id) o
                  CROSS JOIN LATERAL (SELECT FROM tenancy.events e
                                      WHERE e.organization_id = o.id
                                        AND e.at >= oldest_bound
                                        AND e.at < now() - o.event_retention
                                      LIMIT table_pages / 4 + 1) d
                  LIMIT table_pages / 4 + 1) t;
            through_index := due_among_newer * 4 < table_pages;
        END IF;
        IF through_index THEN
            SELECT count(*) INTO due_older
            FROM (SELECT FROM (SELECT id FROM tenancy.organizations ORDER BY id) o
                  CROSS JOIN LATERAL (SELECT FROM tenancy.events e
                                      WHERE e.organization_id = o.id
                                        AND e.at < oldest_bound
                                      LIMIT few) d
                  LIMIT few) t;
            through_index := due_among_newer + due_older < few;
        END IF;
        IF through_index THEN
$new$;
    definition text := pg_catalog.pg_get_functiondef('tenancy.purge_events()'::pg_catalog.regprocedure);
    found int;
BEGIN
    FOREACH found IN ARRAY ARRAY[
        (length(definition) - length(replace(definition, old_declarations, ''))) / length(old_declarations),
        (length(definition) - length(replace(definition, old_counts, ''))) / length(old_counts)]
    LOOP
        IF found <> 1 THEN
            RAISE EXCEPTION 'tenancy.purge_events() is not the function the extension installed (a part found % times)', found
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Restore it from the extension''s scripts before upgrading.';
        END IF;
    END LOOP;
    EXECUTE replace(replace(definition, old_declarations, new_declarations), old_counts, new_counts);
END
$patch$;
