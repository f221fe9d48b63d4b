-- The view ran as its owner, a superuser who bypasses row level security, so a
-- member of pg_read_all_data (SELECT on every table, no BYPASSRLS) read through it
-- the organizations and buckets waiting in the deferred tables, whose forced row
-- level security with no policy shows that role no row. With the caller's rights
-- it shows what the tables show: every row to a superuser, none to the others.
ALTER VIEW tenancy.rollups_waiting SET (security_invoker = true);
