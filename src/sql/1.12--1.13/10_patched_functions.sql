-------------------------------------------------------------------------------
-- Three functions patched in place (1.13).
--
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
-- the bound, and the share of the histogram below it, times reltuples):
-- within 0.2-2% of the count on 5 and 10 million events, fresh. Statistics
-- taken before a purge still count the rows it removed, and a purge of under
-- a tenth of the table starts no autoanalyze: the changes since the last
-- ANALYZE (n_mod_since_analyze) are taken off, so that the estimate is about
-- a floor (not after a crash, a failover or pg_stat_reset(), which lose that
-- count). At the limit (5% of the rows) or above, the purge skips both counts
-- and plans its delete freely: near the limit either way costs about the
-- same. Without statistics (never analyzed, or a statistics target of 0,
-- which keeps old ones forever), the counts decide as in 1.12. The values
-- are read through JSON, which writes them in ISO 8601 whatever the caller's
-- DateStyle (through text, 'SQL' with some time zones wrote abbreviations
-- PostgreSQL does not read back). The count of newer due rows now probes only
-- the organizations whose bound is newer than the oldest one, and both counts
-- probe in the index's order.
--
-- The planner settings the block changes are now a list, taken from the
-- caller and given back: for the counts and the forced delete it also turns
-- on nested loops and index, index-only and bitmap scans, which a caller's
-- settings could have turned off (a count then read the table once per
-- organization), and JIT is off before the estimate too (a caller's
-- enable_nestloop = off made that small query cost enough to compile).
--
-- check_configuration(): the roles whose policies and privileges the
-- application gets, found by walking pg_auth_members up from its members.
--
-- Until 1.13 they were found by asking pg_has_role() for every pair of a
-- member of tenancy_app and a role of the cluster. PostgreSQL caches the
-- memberships of one role at a time, so each call with another member
-- computed them again: with 2,000 application logins check() took 8.4 s, and
-- a review measured more than 10 minutes with 20,000 (a login per user, as
-- some platforms make). The same set, as pg_has_role(member, role, 'MEMBER')
-- defines it for members that are not superusers: the members themselves,
-- every role they belong to, directly or not, and pg_database_owner when
-- any of those owns this database (as PostgreSQL's roles_is_member_of adds
-- it; a first draft looked only at the members, and a review's graphs of
-- roles found the owner reached through a chain missing).
--
-- extension_table_additions(): the extension's own defaults, which it does
-- not report, include members.organization_id's (30_members_default.sql).
--
-- The three functions above are patched in place, as in 1.10 and 1.11
-- (src/sql/1.9--1.10/50_patched_functions.sql): each replaced text must
-- occur exactly once, or the upgrade stops (55000). Patches of one function
-- apply in turn, each to the definition the one before left.
-------------------------------------------------------------------------------
DO $patches$
DECLARE
    patches text[][] := ARRAY[
        -- purge_events(): the declarations, the estimate and counts, the restore.
        ['tenancy.purge_events()', $old$        due_older bigint := 0;
        jit constant text := current_setting('jit');
        seqscan constant text := current_setting('enable_seqscan');
        hashjoin constant text := current_setting('enable_hashjoin');
        mergejoin constant text := current_setting('enable_mergejoin');
$old$,
         $new$        due_older bigint := 0;
        older_estimate double precision;
        through_index boolean;
        -- The planner settings this block changes, and the caller's values.
        planner_settings constant text[] := '{jit,enable_seqscan,enable_hashjoin,enable_mergejoin,enable_nestloop,enable_indexscan,enable_indexonlyscan,enable_bitmapscan}';
        callers_settings constant text[] := ARRAY(SELECT current_setting(s.name)
                                                  FROM unnest(planner_settings) WITH ORDINALITY AS s(name, n)
                                                  ORDER BY s.n);
$new$],
        ['tenancy.purge_events()', $old$        -- Each count stops as soon as it is too many: the newer ones at a
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
$old$,
         $new$        -- The estimate, the counts and (on the forced path) the delete are
        -- index probes, which JIT compilation (their estimated cost would
        -- start it) only slows, and which a caller's settings must not turn
        -- into reads of the whole table (1.13).
        PERFORM set_config('jit', 'off', true),
                set_config('enable_nestloop', 'on', true),
                set_config('enable_indexscan', 'on', true),
                set_config('enable_indexonlyscan', 'on', true),
                set_config('enable_bitmapscan', 'on', true);
        -- The due rows older than every bound, as the statistics of `at`
        -- tell (1.13): its most common values before the bound, and the
        -- share of its histogram below it, interpolated within the bucket,
        -- less the changes since they were taken (a floor). Read through
        -- JSON: ISO 8601, whatever the DateStyle. NULL without statistics.
        SELECT c.reltuples * (
                   coalesce((SELECT sum(f.freq)
                             FROM json_array_elements_text(to_json(s.most_common_vals)) WITH ORDINALITY AS m(at, n)
                             JOIN unnest(s.most_common_freqs) WITH ORDINALITY AS f(freq, n) ON f.n = m.n
                             WHERE m.at::timestamptz < oldest_bound), 0)
                   + (1 - s.null_frac - coalesce((SELECT sum(f) FROM unnest(s.most_common_freqs) AS f), 0))
                     * coalesce((SELECT CASE WHEN h.i = 0 THEN 0
                                             WHEN h.i >= h.n THEN 1
                                             ELSE (h.i - 1 + extract(epoch FROM oldest_bound - h.bounds[h.i])
                                                             / extract(epoch FROM h.bounds[h.i + 1] - h.bounds[h.i]))
                                                  / (h.n - 1)
                                        END
                                 FROM (SELECT b.bounds, cardinality(b.bounds) AS n,
                                              width_bucket(oldest_bound, b.bounds) AS i
                                       FROM (SELECT ARRAY(SELECT v.at::timestamptz
                                                          FROM json_array_elements_text(to_json(s.histogram_bounds))
                                                               WITH ORDINALITY AS v(at, n)
                                                          ORDER BY v.n) AS bounds) b) h), 0))
               - pg_stat_get_mod_since_analyze(c.oid)
        INTO older_estimate
        FROM pg_class c
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'at' AND a.attstattarget <> 0
        JOIN pg_stats s ON s.schemaname = 'tenancy' AND s.tablename = 'events' AND s.attname = 'at'
                       AND NOT s.inherited
        WHERE c.oid = 'tenancy.events'::regclass;
        through_index := coalesce(older_estimate < few, true);
        -- Each count stops as soon as it is too many: the newer ones at a
        -- quarter of the table's pages (a random page read costs about four
        -- sequential ones), all of them at `few`.
        IF through_index THEN
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
            PERFORM set_config('enable_seqscan', 'off', true),
                    set_config('enable_hashjoin', 'off', true),
                    set_config('enable_mergejoin', 'off', true);
        ELSE
            -- Planned freely: with the caller's settings.
            PERFORM set_config(s.name, s.value, true)
            FROM unnest(planner_settings, callers_settings) AS s(name, value);
        END IF;
$new$],
        ['tenancy.purge_events()', $old$        PERFORM set_config('jit', jit, true),
                set_config('enable_seqscan', seqscan, true),
                set_config('enable_hashjoin', hashjoin, true),
                set_config('enable_mergejoin', mergejoin, true);
$old$,
         $new$        PERFORM set_config(s.name, s.value, true)
        FROM unnest(planner_settings, callers_settings) AS s(name, value);
$new$],
        -- extension_table_additions(): members.organization_id's default.
        ['tenancy.extension_table_additions()', $old$    ('members', 'default', '{created_at,updated_at}'),
$old$,
         $new$    ('members', 'default', '{organization_id,created_at,updated_at}'),
$new$],
        -- check_configuration(): the application's roles.
        ['tenancy.check_configuration()', $old$    SELECT r.oid AS roleid FROM pg_roles r
    WHERE EXISTS (SELECT FROM app_members m JOIN pg_roles mr ON mr.oid = m.roleid
                  WHERE NOT mr.rolsuper AND pg_has_role(m.roleid, r.oid, 'MEMBER'))
$old$,
         $new$    -- (1.13: walked up pg_auth_members from the members, rather than
    -- pg_has_role() for every pair of a member and a role.)
    WITH RECURSIVE belongs(roleid) AS (
        SELECT m.roleid FROM app_members m JOIN pg_roles mr ON mr.oid = m.roleid
        WHERE NOT mr.rolsuper
        UNION
        SELECT a.roleid FROM pg_auth_members a JOIN belongs b ON a.member = b.roleid)
    SELECT roleid FROM belongs
    UNION
    -- Any role on the way that owns this database makes its members
    -- pg_database_owner, which belongs to no role in turn.
    SELECT 'pg_database_owner'::regrole::oid
    WHERE EXISTS (SELECT FROM belongs b JOIN pg_database d
                  ON d.datname = current_database() AND d.datdba = b.roleid)
$new$]];
    definition text;
    found int;
    i int;
BEGIN
    FOR i IN 1 .. array_length(patches, 1) LOOP
        definition := pg_catalog.pg_get_functiondef(patches[i][1]::pg_catalog.regprocedure);
        found := (length(definition) - length(replace(definition, patches[i][2], '')))
                 / length(patches[i][2]);
        IF found <> 1 THEN
            RAISE EXCEPTION '% is not the function the extension installed (patch %, found % times)',
                            patches[i][1], i, found
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Restore it from the extension''s scripts before upgrading.';
        END IF;
        EXECUTE replace(definition, patches[i][2], patches[i][3]);
    END LOOP;
END
$patches$;
