-------------------------------------------------------------------------------
-- extension_table_additions() lists the extension's own columns, defaults,
-- constraints and indexes, so that it reports only a DBA's: the new table's
-- and the log's new check join them. Patched in place, as in 1.10, 1.11,
-- 1.13 and 1.14 (src/sql/1.13--1.14/10_organization_name.sql): each replaced
-- text must occur exactly once, or the upgrade stops (55000).
-------------------------------------------------------------------------------
DO $patches$
DECLARE
    patches text[][] := ARRAY[
        ['tenancy.extension_table_additions()',
         $old$    ('organizations', 'column', '{id,name,slug,storage_quota_bytes,event_retention,created_at,updated_at}'),
$old$,
         $new$    ('context_signing_keys', 'default', '{created_at}'),
    ('context_signing_keys', 'not null', '{key_id,secret,created_at}'),
    ('context_signing_keys', 'column', '{key_id,secret,created_at}'),
    ('context_signing_keys', 'index', '{context_signing_keys_pkey}'),
    ('context_signing_keys', 'constraint', '{context_signing_keys_pkey,context_signing_keys_key_id_format,context_signing_keys_secret_length}'),
    ('organizations', 'column', '{id,name,slug,storage_quota_bytes,event_retention,created_at,updated_at}'),
$new$],
        ['tenancy.extension_table_additions()',
         $old$'{file_access_log_bytes_bounded,file_access_log_bytes_nonnegative}'$old$,
         $new$'{file_access_log_bytes_bounded,file_access_log_bytes_nonnegative,file_access_log_at_finite}'$new$]];
    definition text;
    found integer;
BEGIN
    FOR i IN 1 .. array_length(patches, 1) LOOP
        definition := pg_catalog.pg_get_functiondef(patches[i][1]::pg_catalog.regprocedure);
        found := (length(definition) - length(replace(definition, patches[i][2], '')))
                 / length(patches[i][2]);
        IF found <> 1 THEN
            RAISE EXCEPTION '% is not the function the extension installed (patch %, found % times)',
                            patches[i][1], i, found
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Restore it from the extension''s scripts before upgrading.';
        END IF;
        EXECUTE replace(definition, patches[i][2], patches[i][3]);
    END LOOP;
END
$patches$;
