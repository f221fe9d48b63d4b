-------------------------------------------------------------------------------
-- A slug change no longer holds up the organization's own writes (isolation
-- review of 1.22, documented in 1.23's Security notes).
--
-- Every write of an organization's rows locks its row FOR KEY SHARE: the
-- foreign keys of members and files, and track(), record_file_access() and
-- the audit's appends, which lock it as a foreign key check would. An UPDATE
-- that changes a column of a unique index locks the row FOR UPDATE, as a
-- change of the key, and that lock conflicts with FOR KEY SHARE: an owner's
-- slug change left uncommitted (an open transaction in an admin screen)
-- stopped every upload, event and read log of the school until it ended.
--
-- PostgreSQL counts a column as a key when a unique index on it has no
-- expressions and no predicate (one a foreign key could reference). The
-- slugs' unique index now has a predicate that every row meets (slug is NOT
-- NULL), so it is unique exactly as before (23505 on a taken slug, and the
-- same name in the error), serves lookups by slug as before, and a slug
-- change locks the row FOR NO KEY UPDATE, which the writers' FOR KEY SHARE
-- does not wait for. What a DBA notices: `ON CONFLICT (slug)` must now name
-- the predicate too (`ON CONFLICT (slug) WHERE slug IS NOT NULL`), and a
-- foreign key cannot reference organizations(slug).
-------------------------------------------------------------------------------
DO $$
DECLARE
    referencing text;
BEGIN
    -- A DBA's foreign key to the slug depends on the constraint's index:
    -- the upgrade cannot take it away from under that key.
    SELECT string_agg(format('%s on %s', k.conname, k.conrelid::regclass), ', ')
      INTO referencing
      FROM pg_constraint k
     WHERE k.contype = 'f' AND k.confrelid = 'tenancy.organizations'::regclass
       AND k.confkey = ARRAY[(SELECT attnum FROM pg_attribute
                               WHERE attrelid = 'tenancy.organizations'::regclass
                                 AND attname = 'slug')];
    IF referencing IS NOT NULL THEN
        RAISE EXCEPTION 'foreign keys reference tenancy.organizations(slug): %', referencing
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'pg_tenancy 1.24 keeps slugs unique with an index that a foreign key cannot reference, so that a slug change does not hold up the organization''s writes.',
                  HINT = 'Reference tenancy.organizations(id) instead (slugs may change), drop those keys, then update the extension.';
    END IF;
END
$$;
ALTER TABLE tenancy.organizations DROP CONSTRAINT organizations_slug_key;
-- (The predicate keeps slug out of the row's key: see above.)
CREATE UNIQUE INDEX organizations_slug_key ON tenancy.organizations (slug)
    WHERE slug IS NOT NULL;
COMMENT ON INDEX tenancy.organizations_slug_key IS
    'Slugs are unique. Partial (every row meets the predicate) so that slug is not a key column: a slug change does not hold up the organization''s writes.';

-- check() reads what the extension defines from this list: the slugs'
-- unique index is no longer a constraint.
SELECT tenancy.replace_in_function('tenancy.extension_table_additions()',
    $old$'{organizations_pkey,organizations_slug_key,organizations_name_length,$old$,
    $new$'{organizations_pkey,organizations_name_length,$new$);
