-------------------------------------------------------------------------------
-- 1.1 grants: protect/unprotect/check are the DBA's (no grant to PUBLIC).
-------------------------------------------------------------------------------
REVOKE ALL ON FUNCTION tenancy.protect(regclass, name), tenancy.unprotect(regclass),
    tenancy.check(), tenancy.forget_dropped_tables() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenancy.isolation_policy_name(), tenancy.strip_sublinks(text) TO PUBLIC;
