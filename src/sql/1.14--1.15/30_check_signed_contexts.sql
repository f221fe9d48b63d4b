-------------------------------------------------------------------------------
-- Finding (22) of check(): logins for which tenancy.require_signed_context
-- is on while tenancy.context_signing_keys is empty. Such a login can get no
-- tenant context at all: set_context() is refused and every
-- set_context_signed() fails (55000). Read as PostgreSQL reads role and
-- database settings: the role in this database, the role, the database,
-- ALTER ROLE ALL (a server-wide value in postgresql.conf is not examined).
-- The keys are a superuser's to read: for others the finding is left out.
-------------------------------------------------------------------------------
CREATE FUNCTION tenancy.check_signed_contexts()
    RETURNS TABLE (severity text, object text, finding text, fix text)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    -- The current role's (is_superuser is the session's, also under SET
    -- ROLE); and two statements: in one, the keys' privilege check would
    -- come first.
    IF NOT (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user) THEN
        RETURN;
    END IF;
    IF EXISTS (SELECT FROM tenancy.context_signing_keys) THEN
        RETURN;
    END IF;
    RETURN QUERY
    WITH this_database AS (
        SELECT oid FROM pg_database WHERE datname = current_database()
    ), levels AS (
        -- Each login's most specific setting of the switch.
        SELECT DISTINCT ON (r.oid) r.rolname, split_part(c.item, '=', 2) AS value
        FROM pg_roles r
        JOIN pg_db_role_setting s ON s.setrole IN (r.oid, 0)
                                 AND s.setdatabase IN ((SELECT oid FROM this_database), 0)
        CROSS JOIN LATERAL unnest(s.setconfig) AS c(item)
        WHERE r.rolcanlogin AND c.item LIKE 'tenancy.require\_signed\_context=%'
        ORDER BY r.oid, s.setrole = 0, s.setdatabase = 0
    )
    SELECT 'error'::text, format('role %s', quote_ident(l.rolname)),
           'tenancy.require_signed_context is on for this login, but tenancy.context_signing_keys '
           'is empty: set_context() is refused and every set_context_signed() fails (55000), '
           'so its sessions get no tenant context',
           'INSERT INTO tenancy.context_signing_keys (key_id, secret) VALUES (''<key id>'', '
           'convert_to(''<the token issuer''''s HS256 secret>'', ''UTF8''))'
    FROM levels l
    WHERE l.value::boolean
    ORDER BY l.rolname;
END
$$;
COMMENT ON FUNCTION tenancy.check_signed_contexts() IS
    'Finding (22) of tenancy.check(): logins that must prove the user with a signed token while no context signing key is set.';
GRANT EXECUTE ON FUNCTION tenancy.check_signed_contexts() TO PUBLIC;

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
    SELECT * FROM tenancy.check_preload()
    UNION ALL
    SELECT * FROM tenancy.check_signed_contexts();
END;
