-------------------------------------------------------------------------------
-- What the upgrade changed in the DBA's data, said once everything else has
-- been done (a WARNING: an extension script's NOTICEs are not shown). Said
-- earlier, a later failure that rolls the upgrade back would leave the DBA
-- told of renamings that never happened.
-------------------------------------------------------------------------------
DO $warnings$
DECLARE
    renamed constant bigint := coalesce(nullif(pg_catalog.current_setting('tenancy_upgrade.blank_names_renamed', true), ''), '0')::bigint;
BEGIN
    IF renamed > 0 THEN
        RAISE WARNING '% organization name(s) of white space only now read as their slug', renamed;
    END IF;
END
$warnings$;
