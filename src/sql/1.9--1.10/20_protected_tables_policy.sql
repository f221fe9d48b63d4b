-- A DBA who is not a superuser reads the protected tables' records for
-- check() with pg_read_all_data (README), which does not pass row level
-- security: without a policy, check()'s findings about protected tables
-- came back empty for it, as if all were well.
CREATE POLICY protected_tables_read ON tenancy.protected_tables
    FOR SELECT TO pg_read_all_data USING (true);
