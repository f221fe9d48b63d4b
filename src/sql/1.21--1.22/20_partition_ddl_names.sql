-- file_access_log_partition_ddl() returned its statements for any name,
-- the empty one included (robustness review of 1.21, C3). It is internal
-- (no grants), called by maintenance for a month's table it has just made:
-- it now refuses a name not named as the log's months are
-- (file_access_log_…, 22023) or that is not a table of schema tenancy
-- (42P01). Restated whole (it becomes PL/pgSQL to raise); same signature,
-- so grants and the comment stay.
CREATE OR REPLACE FUNCTION tenancy.file_access_log_partition_ddl(partition name)
    RETURNS SETOF text
    LANGUAGE plpgsql STABLE STRICT SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    takes constant text := 'It takes the name of a table of schema tenancy, file_access_log_…, '
                           'that is to become a month of the log.';
BEGIN
    IF partition NOT LIKE 'file\_access\_log\_%' THEN
        RAISE EXCEPTION '"%" is not named as a month of tenancy.file_access_log', partition
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = takes;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_class
                   WHERE relname = partition AND relnamespace = 'tenancy'::regnamespace
                     AND relkind = 'r') THEN
        RAISE EXCEPTION 'relation "tenancy.%" does not exist', partition
            USING ERRCODE = 'undefined_table',
                  HINT = takes;
    END IF;
    RETURN QUERY
    SELECT format(statement, partition, left(partition, 50) || '_file_idx',
                  left(partition, 50) || '_at_idx', left(partition, 50) || '_txid_idx',
                  (SELECT relowner::regrole::text FROM pg_class
                   WHERE oid = 'tenancy.file_access_log'::regclass))
    FROM unnest(ARRAY[
        -- The log's owner, not whoever ran maintenance: DROP OWNED BY that role
        -- must not take a month along.
        'ALTER TABLE tenancy.%1$I OWNER TO %5$s',
        'CREATE INDEX %2$I ON tenancy.%1$I (organization_id, file_id, at)',
        'CREATE INDEX %3$I ON tenancy.%1$I USING brin (at) WITH (autosummarize = on)',
        'CREATE INDEX %4$I ON tenancy.%1$I USING brin (txid tenancy.xid8_minmax_ops) WITH (autosummarize = on)',
        'ALTER TABLE tenancy.%1$I REPLICA IDENTITY FULL',
        'ALTER TABLE tenancy.%1$I ENABLE ROW LEVEL SECURITY',
        'ALTER TABLE tenancy.%1$I FORCE ROW LEVEL SECURITY',
        'CREATE TRIGGER file_access_log_no_truncate BEFORE TRUNCATE ON tenancy.%1$I'
            ' FOR EACH STATEMENT EXECUTE FUNCTION tenancy.file_access_log_guard()',
        'ALTER TABLE tenancy.%1$I ENABLE ALWAYS TRIGGER file_access_log_no_truncate'
    ]) WITH ORDINALITY AS s(statement, n)
    ORDER BY n;
END
$$;
