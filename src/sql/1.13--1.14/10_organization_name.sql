-------------------------------------------------------------------------------
-- An organization's name must hold a character other than ASCII white space.
--
-- Until 1.14 a name of 1 to 200 characters was all the check asked, so a
-- name of spaces (or tabs, or line breaks) passed, here and through
-- create_organization(): a sign-up form sending a blank name made a school
-- no one could tell apart in a list. Now both refuse it, as they refuse an
-- empty one: the table's check with 23514, create_organization() with 22023.
-- White space is an explicit set (space, tab, line feed, carriage return,
-- form feed, vertical tab), not the regular expression class [[:space:]],
-- which follows the database's locale: a name of ideographic spaces (U+3000)
-- passed under LC_CTYPE C and would then fail a restore into a C.UTF-8
-- database, which would refuse the whole table. Unicode's other spaces
-- (no-break, ideographic) are accepted everywhere alike.
--
-- A blank name stored before becomes the organization's slug (unique, and
-- what the school's address shows), with a WARNING that counts them (an
-- extension script's NOTICEs are not shown). Left blank, it would break the
-- next restore: a dump's COPY into the new check would refuse the whole table.
-- The table is locked first: no blank name can be written between the renaming
-- and the check, and an application transaction that holds one of those rows
-- makes the upgrade wait for it instead of deadlocking with it (renaming
-- first took row locks, then asked for the table's). The WARNING comes at
-- the very end of the upgrade (90_warnings.sql), once nothing can fail.
-------------------------------------------------------------------------------
DO $blank_names$
DECLARE
    renamed bigint;
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_constraint
               WHERE conrelid = 'tenancy.organizations'::pg_catalog.regclass
                 AND conname = 'organizations_name_not_only_spaces') THEN
        RAISE EXCEPTION 'constraint "organizations_name_not_only_spaces" for relation "organizations" already exists'
            USING ERRCODE = 'duplicate_object',
                  HINT = 'pg_tenancy 1.14 adds a check of that name: rename or drop the one there, then upgrade.';
    END IF;
    LOCK TABLE tenancy.organizations IN ACCESS EXCLUSIVE MODE;
    UPDATE tenancy.organizations SET name = slug, updated_at = now()
    WHERE btrim(name, E' \t\n\r\f\013') = '';
    GET DIAGNOSTICS renamed = ROW_COUNT;
    ALTER TABLE tenancy.organizations
        ADD CONSTRAINT organizations_name_not_only_spaces CHECK (btrim(name, E' \t\n\r\f\013') <> '');
    PERFORM pg_catalog.set_config('tenancy_upgrade.blank_names_renamed', renamed::text, true);
END
$blank_names$;

-- create_organization() (sign-up) refuses a blank name with 22023 before the
-- insert would refuse it with 23514; extension_table_additions() lists the
-- extension's own constraints, so that it reports only a DBA's: the new check
-- joins them. Both are patched in place, as in 1.10, 1.11 and 1.13
-- (src/sql/1.12--1.13/10_patched_functions.sql): each replaced text must
-- occur exactly once, or the upgrade stops (55000).
DO $patches$
DECLARE
    patches text[][] := ARRAY[
        ['tenancy.create_organization(text,text,uuid)', $old$    IF length(name) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION 'organization name must have 1 to 200 characters'
            USING ERRCODE = '22023';
    END IF;
$old$,
         $new$    IF length(name) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION 'organization name must have 1 to 200 characters'
            USING ERRCODE = '22023';
    END IF;
    IF btrim(name, E' \t\n\r\f\013') = '' THEN
        RAISE EXCEPTION 'organization name must not be blank'
            USING ERRCODE = '22023';
    END IF;
$new$],
        ['tenancy.extension_table_additions()',
         $old$organizations_quota_nonnegative,organizations_retention_positive}'),$old$,
         $new$organizations_quota_nonnegative,organizations_retention_positive,organizations_name_not_only_spaces}'),$new$]];
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
