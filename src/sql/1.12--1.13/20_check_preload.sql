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
-- is found as PostgreSQL finds it (process_settings): the role's setting in
-- this database, the role's, the database's, ALTER ROLE ALL's, then the
-- server's. The server's is the caller's own value when that came from the
-- server (its configuration, command line or default: what a new session
-- inherits, reloads included); when the caller's own value came from a
-- database, role or session setting, it is read from pg_file_settings if the
-- caller may (a superuser; an ALTER SYSTEM not yet reloaded counts there, a
-- command-line value does not); otherwise it is unknown, and the logins that
-- have no setting of their own at a higher level are left out rather than
-- reported (a review: taken as empty, it gave every login a fix that dropped
-- the server's other libraries). Lists are split
-- as PostgreSQL splits them (quoted items keep their commas and spaces), and
-- the fix keeps every item the login loads already. Only callers who may
-- read the preload settings (superusers, pg_read_all_settings) get this
-- finding. PL/pgSQL: pg_file_settings is read only when it may be.
-------------------------------------------------------------------------------
CREATE FUNCTION tenancy.check_preload()
    RETURNS TABLE (severity text, object text, finding text, fix text)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    -- An item that loads pg_tenancy: its name, or any path to it.
    loads_tenancy constant text := '(^|/)pg_tenancy(\.so)?/*$';
    -- One item of a list setting: quoted ("" for a quote inside), or bare
    -- and trimmed.
    list_item constant text := '\s*(?:"((?:[^"]|"")*)"|([^,"]*[^,"\s]))\s*(?:,|$)';
    server_value text;
BEGIN
    -- The preload settings are a superuser's or pg_read_all_settings' to
    -- read: for others this finding is left out, as (15) and (19) are.
    IF NOT pg_has_role('pg_read_all_settings', 'USAGE') THEN
        RETURN;
    END IF;
    IF EXISTS (SELECT FROM regexp_matches(current_setting('shared_preload_libraries'), list_item, 'g') AS m
               WHERE coalesce(replace(m[1], '""', '"'), m[2]) ~ loads_tenancy) THEN
        RETURN;
    END IF;
    SELECT CASE WHEN s.source IN ('default', 'configuration file', 'command line', 'environment variable')
                THEN s.setting END
    INTO server_value
    FROM pg_settings s WHERE s.name = 'session_preload_libraries';
    IF server_value IS NULL
       AND has_table_privilege('pg_catalog.pg_file_settings', 'SELECT')
       AND has_function_privilege('pg_catalog.pg_show_all_file_settings()', 'EXECUTE') THEN
        SELECT coalesce((SELECT f.setting FROM pg_file_settings f
                         WHERE f.name = 'session_preload_libraries' AND f.applied
                         ORDER BY f.seqno DESC LIMIT 1), '')
        INTO server_value;
    END IF;
    RETURN QUERY
    WITH logins AS (
        SELECT r.rolname,
               -- The most specific stored setting, as PostgreSQL applies
               -- them: the role in this database, the role, the database,
               -- ALTER ROLE ALL; else the server's.
               coalesce((SELECT substr(c, length('session_preload_libraries=') + 1)
                         FROM pg_db_role_setting s, unnest(s.setconfig) AS c
                         WHERE s.setrole IN (r.oid, 0) AND s.setdatabase IN (d.oid, 0)
                           AND c LIKE 'session\_preload\_libraries=%'
                         ORDER BY s.setrole = 0, s.setdatabase = 0
                         LIMIT 1),
                        server_value) AS preload
        FROM pg_roles r, pg_database d
        WHERE d.datname = current_database()
          AND r.rolcanlogin AND NOT r.rolsuper
          AND r.rolname <> 'tenancy_app'
          AND pg_has_role(r.oid, 'tenancy_app', 'MEMBER')
    ),
    items AS (
        SELECT l.rolname,
               CASE WHEN l.preload IS NOT NULL THEN
                   -- (an empty item names no file: dropped from the fix)
                   array_remove(ARRAY(SELECT coalesce(replace(m[1], '""', '"'), m[2])
                                      FROM regexp_matches(l.preload, list_item, 'g') WITH ORDINALITY AS i(m, n)
                                      ORDER BY i.n), '')
               END AS libraries
        FROM logins l
    )
    SELECT 'warning',
           format('role %s', quote_ident(i.rolname)),
           format('sessions of %s, an application login, do not load pg_tenancy from their first statement (session_preload_libraries): until one calls a pg_tenancy function, it can lock organizations, members, files or a protected table and stall every tenant',
                  quote_ident(i.rolname)),
           format('ALTER ROLE %I IN DATABASE %I SET session_preload_libraries = %s;',
                  i.rolname, current_database(),
                  (SELECT string_agg(quote_literal(l.item), ', ' ORDER BY l.n)
                   FROM unnest(i.libraries || 'pg_tenancy'::text) WITH ORDINALITY AS l(item, n)))
    FROM items i
    WHERE i.libraries IS NOT NULL
      AND NOT EXISTS (SELECT FROM unnest(i.libraries) AS item WHERE item ~ loads_tenancy)
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
