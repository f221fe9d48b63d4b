-------------------------------------------------------------------------------
-- tenancy.sketch_key (1.25): the key the rollups hash user ids with.
--
-- The rollups' distinct-user sketches (event_rollups.user_sketch,
-- file_rollups.user_sketch) are readable by the application (the stats
-- views are security_invoker and merge them). Up to 256 users a sketch is an
-- exact set of 64-bit hashes of the users' ids; before 1.25 the hash was
-- unkeyed, so a teacher who read the members' ids could hash each one and
-- see who was active in an hour, students whose only activity was on their
-- own private files included (red-team rt30, finding 2). Since 1.25 a run
-- and rebuild_rollups() hash each user id with SipHash-2-4 under this key
-- (src/core/siphash.cpp), read once per run; without the key the hashes
-- cannot be computed, so a sketch names nobody. The counts are unchanged.
--
-- One 128-bit key per database, made here with random bytes: gen_random_uuid()
-- takes its 16 bytes from pg_strong_random() (OpenSSL's RAND_bytes in the
-- packaged builds) and sets 6 bits (version and variant); only the bytes
-- it leaves whole are taken (bytes 1-6 and 10-16 of one, 1-3 of another).
--
-- Who reads it: superusers (the role run_rollups runs as), as for
-- rollup_state and organization_deletions: no grant, row level security
-- forced, no policy. The library of 1.25 reads it when the table exists and
-- otherwise (a schema of 1.24 or before) hashes as those versions did.
--
-- Dumped with the data (pg_extension_config_dump), so a restored database
-- hashes as the original did and its sketches keep merging. CREATE EXTENSION
-- in the new database has made a key already: the dumped row replaces it
-- (sketch_key_replace, a BEFORE INSERT trigger enabled ALWAYS, so that it
-- fires under session_replication_role = replica too). A superuser's
-- INSERT INTO tenancy.sketch_key DEFAULT VALUES makes a new key the same way;
-- every hour counted under the old one then needs rebuild_rollups().
-------------------------------------------------------------------------------
CREATE TABLE tenancy.sketch_key (
    singleton  boolean     NOT NULL DEFAULT true,
    key        bytea       NOT NULL DEFAULT
        substring(uuid_send(gen_random_uuid()) FROM 1 FOR 6)
        || substring(uuid_send(gen_random_uuid()) FROM 10 FOR 7)
        || substring(uuid_send(gen_random_uuid()) FROM 1 FOR 3),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sketch_key_pkey PRIMARY KEY (singleton),
    CONSTRAINT sketch_key_singleton CHECK (singleton),
    CONSTRAINT sketch_key_length CHECK (octet_length(key) = 16)
);

CREATE FUNCTION tenancy.sketch_key_replace() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM tenancy.sketch_key;
    RETURN NEW;
END
$$;
CREATE TRIGGER sketch_key_replace BEFORE INSERT ON tenancy.sketch_key
    FOR EACH ROW EXECUTE FUNCTION tenancy.sketch_key_replace();
ALTER TABLE tenancy.sketch_key ENABLE ALWAYS TRIGGER sketch_key_replace;
REVOKE ALL ON FUNCTION tenancy.sketch_key_replace() FROM PUBLIC;

ALTER TABLE tenancy.sketch_key ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenancy.sketch_key FORCE ROW LEVEL SECURITY;
REVOKE ALL ON tenancy.sketch_key FROM PUBLIC;

INSERT INTO tenancy.sketch_key DEFAULT VALUES;
SELECT pg_catalog.pg_extension_config_dump('tenancy.sketch_key', '');

COMMENT ON TABLE tenancy.sketch_key IS
    'The 128-bit SipHash key the rollups hash user ids with in their distinct-user sketches (1.25). Superusers only; dumped with the data.';
COMMENT ON FUNCTION tenancy.sketch_key_replace() IS
    'Trigger: a row inserted into tenancy.sketch_key (a restore, a new key) replaces the one there.';

-- extension_table_additions() lists the extension's own columns, defaults,
-- constraints, indexes and triggers, so that check() reports only a DBA's:
-- the new table's join them (the replaced text must occur exactly once, or
-- the upgrade stops with 55000).
SELECT tenancy.replace_in_function('tenancy.extension_table_additions()',
    $old$    ('organization_deletions', 'constraint', '{organization_deletions_pkey,organization_deletions_statement}'),
$old$,
    $new$    ('organization_deletions', 'constraint', '{organization_deletions_pkey,organization_deletions_statement}'),
    ('sketch_key', 'default', '{singleton,key,created_at}'),
    ('sketch_key', 'not null', '{singleton,key,created_at}'),
    ('sketch_key', 'column', '{singleton,key,created_at}'),
    ('sketch_key', 'index', '{sketch_key_pkey}'),
    ('sketch_key', 'constraint', '{sketch_key_pkey,sketch_key_singleton,sketch_key_length}'),
    ('sketch_key', 'trigger', '{sketch_key_replace}'),
$new$);
