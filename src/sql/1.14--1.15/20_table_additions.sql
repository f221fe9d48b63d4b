-------------------------------------------------------------------------------
-- extension_table_additions() lists the extension's own columns, defaults,
-- constraints and indexes, so that it reports only a DBA's: the new table's
-- join them. Patched in place, as in 1.10, 1.11, 1.13 and 1.14
-- (src/sql/1.13--1.14/10_organization_name.sql): the replaced text must
-- occur exactly once, or the upgrade stops (55000).
-------------------------------------------------------------------------------
DO $patch$
DECLARE
    anchor constant text := $old$    ('organizations', 'column', '{id,name,slug,storage_quota_bytes,event_retention,created_at,updated_at}'),
$old$;
    definition constant text :=
        pg_catalog.pg_get_functiondef('tenancy.extension_table_additions()'::pg_catalog.regprocedure);
BEGIN
    IF (length(definition) - length(replace(definition, anchor, ''))) / length(anchor) <> 1 THEN
        RAISE EXCEPTION 'tenancy.extension_table_additions() is not the function the extension installed'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Restore it from the extension''s scripts before upgrading.';
    END IF;
    EXECUTE replace(definition, anchor, $new$    ('context_signing_keys', 'default', '{algorithm,created_at}'),
    ('context_signing_keys', 'not null', '{key_id,algorithm,created_at}'),
    ('context_signing_keys', 'column', '{key_id,algorithm,secret,public_key,issuer,audience,created_at}'),
    ('context_signing_keys', 'index', '{context_signing_keys_pkey}'),
    ('context_signing_keys', 'constraint', '{context_signing_keys_pkey,context_signing_keys_key_id_format,context_signing_keys_algorithm,context_signing_keys_material,context_signing_keys_secret_length,context_signing_keys_secret_not_pem,context_signing_keys_public_key,context_signing_keys_claims_format}'),
$new$ || anchor);
END
$patch$;
