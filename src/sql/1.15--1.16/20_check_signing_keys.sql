-------------------------------------------------------------------------------
-- Finding (23) of check(): RS256/ES256 keys that name no audience. Such a
-- key is an identity provider's, which signs every application's tokens
-- (and, with some, refresh or action tokens) with it: without an audience,
-- any of them with a subject and an expiry gives a context here. jwks_keys()
-- makes adding a provider's keys one statement, and the rows it gives name
-- none. HS256 keys are often the backend's own, which mints only context
-- tokens, and are left out. The keys are a superuser's to read: for others
-- the finding is left out.
-------------------------------------------------------------------------------
CREATE FUNCTION tenancy.check_signing_keys()
    RETURNS TABLE (severity text, object text, finding text, fix text)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    -- As check_signed_contexts: the current role's flag, and two statements.
    IF NOT (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user) THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT 'warning'::text, format('context signing key %s', k.key_id),
           format('the %s key names no audience: set_context_signed() takes every token it '
                  'verifies that has a subject and an expiry, also the identity provider''s '
                  'tokens for its other applications', k.algorithm),
           format('UPDATE tenancy.context_signing_keys SET audience = ''<this API''''s audience>'''
                  '%s WHERE key_id = %L',
                  CASE WHEN k.issuer IS NULL THEN ', issuer = ''<the provider''''s issuer>''' ELSE '' END,
                  k.key_id)
    FROM tenancy.context_signing_keys k
    WHERE k.algorithm IN ('RS256', 'ES256') AND k.audience IS NULL
    ORDER BY k.key_id;
END
$$;
COMMENT ON FUNCTION tenancy.check_signing_keys() IS
    'Finding (23) of tenancy.check(): RS256/ES256 context signing keys that name no audience.';
GRANT EXECUTE ON FUNCTION tenancy.check_signing_keys() TO PUBLIC;

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
    SELECT * FROM tenancy.check_signed_contexts()
    UNION ALL
    SELECT * FROM tenancy.check_signing_keys();
END;
