-------------------------------------------------------------------------------
-- check() finding (21): the application's logins that do not load pg_tenancy
-- from their first statement.
--
-- The module's guard on LOCK TABLE (a session of the application must not
-- lock organizations, members, files or a protected table in a mode that
-- stalls every tenant) is a hook, in place from the moment the library
-- loads. Without session_preload_libraries (or shared_preload_libraries) a
-- new session loads it at its first call of a pg_tenancy function, and can
-- take such a lock before. The README asked for the setting; nothing told a
-- DBA who missed it, or whose restore lost it (pg_dump without --create does
-- not save ALTER DATABASE … SET).
--
-- For each login that is a member of tenancy_app (superusers aside: other
-- findings report them), the value its sessions in this database start with
-- is found as PostgreSQL finds it: the role's setting in this database, the
-- role's, the database's, then the server's. The server's is read from
-- pg_file_settings when the caller may (a superuser; PostgreSQL grants it to
-- no one else); otherwise from the caller's own session when that value came
-- from the configuration, and taken as empty when it came from a database or
-- role setting. Only callers who may read the preload settings (superusers,
-- pg_read_all_settings) get this finding. PL/pgSQL: pg_file_settings is read
-- only when it may be.
-------------------------------------------------------------------------------
CREATE FUNCTION tenancy.check_preload()
    RETURNS TABLE (severity text, object text, finding text, fix text)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    -- A list setting's items, without quotes or spaces.
    loads_tenancy constant text := '^(\$libdir/)?pg_tenancy(\.so)?$';
    server_value text;
BEGIN
    -- The preload settings are a superuser's or pg_read_all_settings' to
    -- read: for others this finding is left out, as (15) and (19) are.
    IF NOT pg_has_role('pg_read_all_settings', 'USAGE') THEN
        RETURN;
    END IF;
    IF EXISTS (SELECT FROM unnest(string_to_array(replace(replace(current_setting('shared_preload_libraries'), '"', ''), ' ', ''), ',')) AS item
               WHERE item ~ loads_tenancy) THEN
        RETURN;
    END IF;
    IF has_table_privilege('pg_catalog.pg_file_settings', 'SELECT') THEN
        SELECT f.setting INTO server_value FROM pg_file_settings f
        WHERE f.name = 'session_preload_libraries' AND f.applied
        ORDER BY f.seqno DESC LIMIT 1;
    ELSE
        SELECT s.setting INTO server_value FROM pg_settings s
        WHERE s.name = 'session_preload_libraries' AND s.source IN ('default', 'configuration file');
    END IF;
    RETURN QUERY
    WITH logins AS (
        SELECT r.oid, r.rolname,
               coalesce((SELECT substr(c, length('session_preload_libraries=') + 1)
                         FROM pg_db_role_setting s, unnest(s.setconfig) AS c
                         WHERE s.setrole = r.oid AND s.setdatabase = d.oid
                           AND c LIKE 'session\_preload\_libraries=%'),
                        (SELECT substr(c, length('session_preload_libraries=') + 1)
                         FROM pg_db_role_setting s, unnest(s.setconfig) AS c
                         WHERE s.setrole = r.oid AND s.setdatabase = 0
                           AND c LIKE 'session\_preload\_libraries=%'),
                        (SELECT substr(c, length('session_preload_libraries=') + 1)
                         FROM pg_db_role_setting s, unnest(s.setconfig) AS c
                         WHERE s.setrole = 0 AND s.setdatabase = d.oid
                           AND c LIKE 'session\_preload\_libraries=%'),
                        server_value, '') AS preload
        FROM pg_roles r, pg_database d
        WHERE d.datname = current_database()
          AND r.rolcanlogin AND NOT r.rolsuper
          AND r.rolname <> 'tenancy_app'
          AND pg_has_role(r.oid, 'tenancy_app', 'MEMBER')
    ),
    items AS (
        SELECT l.rolname,
               array_remove(string_to_array(replace(replace(l.preload, '"', ''), ' ', ''), ','), '') AS libraries
        FROM logins l
    )
    SELECT 'warning',
           format('role %s', quote_ident(i.rolname)),
           format('sessions of %s, an application login, do not load pg_tenancy from their first statement (session_preload_libraries): until one calls a pg_tenancy function, it can lock organizations, members, files or a protected table and stall every tenant',
                  quote_ident(i.rolname)),
           format('ALTER ROLE %I IN DATABASE %I SET session_preload_libraries = %s',
                  i.rolname, current_database(),
                  (SELECT string_agg(quote_literal(item), ', ') FROM unnest(i.libraries || 'pg_tenancy'::text) AS item))
    FROM items i
    WHERE NOT EXISTS (SELECT FROM unnest(i.libraries) AS item WHERE item ~ loads_tenancy)
    ORDER BY i.rolname;
END
$$;
COMMENT ON FUNCTION tenancy.check_preload() IS
    'Finding (21) of tenancy.check(): application logins whose sessions do not load pg_tenancy from their first statement, so its LOCK TABLE guard is not in place yet.';
GRANT EXECUTE ON FUNCTION tenancy.check_preload() TO PUBLIC;

CREATE OR REPLACE FUNCTION tenancy.check()
    RETURNS TABLE (severity text, object text, finding text, fix text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT * FROM tenancy.check_configuration()
    UNION ALL
    SELECT * FROM tenancy.check_rollups()
    UNION ALL
    SELECT * FROM tenancy.check_guards()
    UNION ALL
    SELECT * FROM tenancy.check_protected_keys()
    UNION ALL
    SELECT * FROM tenancy.check_rollup_state()
    UNION ALL
    SELECT * FROM tenancy.check_extension_tables()
    UNION ALL
    SELECT * FROM tenancy.check_preload();
END;
