-------------------------------------------------------------------------------
-- members.organization_id defaults from the context, as files' and events'
-- do: an owner or admin adds a member with
--   INSERT INTO tenancy.members (user_id, role) VALUES ($1, 'teacher');
-- Until 1.13 that statement failed on the policy ("new row violates row-level
-- security policy"), which hid the NULL organization behind it. Without a
-- context the default is NULL and the policy refuses the row, as before.
-- A default a DBA set on that column before (check() finding 20) is replaced,
-- with a WARNING that shows it (an extension script's NOTICEs are not shown).
--
-- extension_table_additions() lists the extension's own defaults, so that it
-- reports only a DBA's: this one joins them (10_patched_functions.sql).
-------------------------------------------------------------------------------
DO $notice$
DECLARE
    previous text;
BEGIN
    SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid) INTO previous
    FROM pg_catalog.pg_attrdef d
    JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
    WHERE d.adrelid = 'tenancy.members'::pg_catalog.regclass AND a.attname = 'organization_id';
    IF previous IS NOT NULL AND previous NOT IN ('tenancy.current_org_id()', 'current_org_id()') THEN
        RAISE WARNING 'the default of tenancy.members.organization_id set before, %, is replaced by the extension''s, tenancy.current_org_id()', previous;
    END IF;
END
$notice$;
ALTER TABLE tenancy.members ALTER COLUMN organization_id SET DEFAULT tenancy.current_org_id();
