-------------------------------------------------------------------------------
-- The application no longer reads file_rollups.user_sketch (red-team review
-- of 1.24, finding 2, and the review of 1.25's first answer to it).
--
-- Staff read the file rollups of their organization; teachers see less of
-- the log than the rollups count (a student's views of their own private
-- file). Up to 256 users a sketch is an exact set of 64-bit hashes of user
-- ids, so a teacher who hashed the members' ids saw who had been active in
-- an hour, students whose only activity the teacher may not see included. A
-- keyed hash does not help: a user's hash is the same in every bucket, and a
-- teacher learns it from an hour in which it can see that user alone. So the
-- sketch leaves the application's reach: SELECT on file_rollups is granted
-- column by column, without user_sketch, and the stats views read the table
-- as their owner, applying the table's policy themselves (file_rollups_read,
-- below). `users` stays a count: how many users were active, not who.
--
-- file_rollups_read: what the stats views read. For a role under row level
-- security (the application's, members of tenancy_app) the rows of the
-- context's organization, for staff, as the policy file_rollups_select
-- admits them; for a superuser or a BYPASSRLS role every row, as before.
-- Two branches, each behind a one-time filter, so that the first keeps its
-- index scan. No grant: the application reads it through the views only.
-- event_rollups keeps its sketch: teachers read every event of their
-- organization, user ids included.
-------------------------------------------------------------------------------
CREATE VIEW tenancy.file_rollups_read WITH (security_barrier = true) AS
SELECT r.organization_id, r.hour, r.uploads, r.downloads, r.bytes_uploaded,
       r.bytes_downloaded, r.user_sketch, r.views
FROM tenancy.file_rollups r
WHERE (SELECT row_security_active('tenancy.file_rollups')
              AND pg_has_role('tenancy_app', 'MEMBER'))
  AND r.organization_id = CASE WHEN tenancy.current_member_role() IN ('owner', 'admin', 'teacher')
                               THEN tenancy.current_org_id() END
UNION ALL
SELECT r.organization_id, r.hour, r.uploads, r.downloads, r.bytes_uploaded,
       r.bytes_downloaded, r.user_sketch, r.views
FROM tenancy.file_rollups r
WHERE (SELECT NOT row_security_active('tenancy.file_rollups'));
REVOKE ALL ON tenancy.file_rollups_read FROM PUBLIC;
COMMENT ON VIEW tenancy.file_rollups_read IS
    'Internal (file_stats_hourly, file_stats_daily, 1.25): the file rollups the caller may read, sketches included, as the policy of file_rollups admits them; every row for a role that bypasses row level security.';

CREATE OR REPLACE VIEW tenancy.file_stats_hourly AS
SELECT organization_id, hour, uploads, downloads, bytes_uploaded, bytes_downloaded,
       tenancy.sketch_distinct_count(user_sketch) AS users, views
FROM tenancy.file_rollups_read;
ALTER VIEW tenancy.file_stats_hourly RESET (security_invoker);

CREATE OR REPLACE VIEW tenancy.file_stats_daily AS
SELECT organization_id, day, uploads, downloads, bytes_uploaded, bytes_downloaded,
       tenancy.sketch_distinct_count(user_sketch) AS users, views
FROM (SELECT organization_id, (hour AT TIME ZONE 'UTC')::date AS day,
             least(sum(uploads), 9223372036854775807)::bigint AS uploads,
             least(sum(downloads), 9223372036854775807)::bigint AS downloads,
             least(sum(bytes_uploaded), 9223372036854775807)::bigint AS bytes_uploaded,
             least(sum(bytes_downloaded), 9223372036854775807)::bigint AS bytes_downloaded,
             tenancy.distinct_sketch_union(user_sketch) AS user_sketch,
             least(sum(views), 9223372036854775807)::bigint AS views
      FROM tenancy.file_rollups_read
      GROUP BY 1, 2) daily;
ALTER VIEW tenancy.file_stats_daily RESET (security_invoker);

REVOKE SELECT ON tenancy.file_rollups FROM tenancy_app;
GRANT SELECT (organization_id, hour, uploads, downloads, bytes_uploaded, bytes_downloaded, views)
    ON tenancy.file_rollups TO tenancy_app;

COMMENT ON VIEW tenancy.file_stats_hourly IS
    'File access figures per organization and hour (UTC), the rows the file rollups'' policy admits; views since 1.24; read as the view''s owner since 1.25 (the application does not read the sketches).';
COMMENT ON VIEW tenancy.file_stats_daily IS
    'File access figures per organization and day (UTC), the rows the file rollups'' policy admits; views since 1.24; read as the view''s owner since 1.25 (the application does not read the sketches).';

-- check() (10) reports views of tenant tables that run as an owner who
-- bypasses row level security: pg_tenancy's own views apply the policy
-- themselves (above), and are left out.
SELECT tenancy.replace_in_function('tenancy.check_configuration()',
    $old$WHERE tv.relkind = 'v' AND (o.rolsuper OR o.rolbypassrls) AND NOT tv.security_invoker
$old$,
    $new$WHERE tv.relkind = 'v' AND (o.rolsuper OR o.rolbypassrls) AND NOT tv.security_invoker
  AND NOT EXISTS (SELECT FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = tv.oid
                    AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
                    AND e.extname = 'pg_tenancy')
$new$);
