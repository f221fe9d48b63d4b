-------------------------------------------------------------------------------
-- A refused row of the keys table no longer shows its secret. PostgreSQL's
-- error for a failed CHECK or NOT NULL has the row in its DETAIL ("Failing
-- row contains (…)"), for superusers, who are the only writers here: a DBA's
-- 31-byte HS256 secret went into the server log, also when the INSERT passed
-- it as a bound parameter (whose value the log leaves out). This trigger,
-- which runs before PostgreSQL's own checks, checks the row against the same
-- constraints, read from the catalog (the ones a DBA adds too), in
-- PostgreSQL's order (NOT NULL by column, then CHECK by name), and refuses
-- it with the same SQLSTATE, message and constraint name, without the row.
-- The constraints stay, and check what the trigger would miss (a DBA's
-- trigger that fires after it and changes the row).
-------------------------------------------------------------------------------
CREATE FUNCTION tenancy.context_signing_keys_refuse_quietly()
    RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    c record;
    passes boolean;
BEGIN
    FOR c IN SELECT a.attname FROM pg_attribute a
             WHERE a.attrelid = TG_RELID AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull
             ORDER BY a.attnum LOOP
        EXECUTE format('SELECT ($1).%I IS NOT NULL', c.attname) INTO passes USING NEW;
        IF NOT passes THEN
            RAISE not_null_violation USING
                MESSAGE = format('null value in column "%s" of relation "%s" violates not-null constraint',
                                 c.attname, TG_TABLE_NAME),
                DETAIL = 'The row is not shown: it may hold a secret.',
                COLUMN = c.attname, TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA;
        END IF;
    END LOOP;
    -- A CHECK fails when its expression is false (NULL passes). One that
    -- raises an error of its own (context_public_key_usable says why a key
    -- cannot serve, and shows no secret) is left to PostgreSQL's check,
    -- which raises it without this function in its CONTEXT; so are the ones
    -- after it, in order.
    FOR c IN SELECT con.conname, pg_get_expr(con.conbin, con.conrelid) AS expression
             FROM pg_constraint con
             WHERE con.conrelid = TG_RELID AND con.contype = 'c'
             ORDER BY con.conname LOOP
        BEGIN
            EXECUTE format('SELECT (%s) IS NOT FALSE FROM (SELECT ($1).*) AS r', c.expression)
                INTO passes USING NEW;
        EXCEPTION WHEN OTHERS THEN
            RETURN NEW;
        END;
        IF NOT passes THEN
            RAISE check_violation USING
                MESSAGE = format('new row for relation "%s" violates check constraint "%s"',
                                 TG_TABLE_NAME, c.conname),
                DETAIL = 'The row is not shown: it may hold a secret.',
                CONSTRAINT = c.conname, TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA;
        END IF;
    END LOOP;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION tenancy.context_signing_keys_refuse_quietly() FROM PUBLIC;
COMMENT ON FUNCTION tenancy.context_signing_keys_refuse_quietly() IS
    'Trigger: refuses a row of tenancy.context_signing_keys that breaks a NOT NULL or CHECK constraint as PostgreSQL would, without showing the row (its secret).';

CREATE TRIGGER context_signing_keys_refuse_quietly
    BEFORE INSERT OR UPDATE ON tenancy.context_signing_keys
    FOR EACH ROW EXECUTE FUNCTION tenancy.context_signing_keys_refuse_quietly();

-- extension_table_additions() lists the extension's own objects: the
-- trigger joins them (patched in place, as since 1.10: the replaced text
-- must occur exactly once, or the upgrade stops).
DO $patch$
DECLARE
    anchor constant text := $old$    ('context_signing_keys', 'index', '{context_signing_keys_pkey}'),
$old$;
    definition constant text :=
        pg_catalog.pg_get_functiondef('tenancy.extension_table_additions()'::pg_catalog.regprocedure);
BEGIN
    IF (length(definition) - length(replace(definition, anchor, ''))) / length(anchor) <> 1 THEN
        RAISE EXCEPTION 'tenancy.extension_table_additions() is not the function the extension installed'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Restore it from the extension''s scripts before upgrading.';
    END IF;
    EXECUTE replace(definition, anchor, anchor || $new$    ('context_signing_keys', 'trigger', '{context_signing_keys_refuse_quietly}'),
$new$);
END
$patch$;
