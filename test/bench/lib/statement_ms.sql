-- bench.statement_ms(statement, reps): median wall time in ms of a statement
-- over reps runs, each rolled back (a subtransaction that raises), so every
-- run starts from the same data. Triggers fired by the statement are inside
-- the EXECUTE and so in the time.
CREATE SCHEMA IF NOT EXISTS bench;
CREATE OR REPLACE FUNCTION bench.statement_ms(statement text, reps int)
RETURNS double precision
LANGUAGE plpgsql AS $$
DECLARE
    times double precision[] := '{}';
    started timestamptz;
BEGIN
    FOR i IN 1 .. reps LOOP
        BEGIN
            started := clock_timestamp();
            EXECUTE statement;
            times := times || (extract(epoch FROM clock_timestamp() - started) * 1000);
            RAISE EXCEPTION USING ERRCODE = 'P0004';  -- roll this run back
        EXCEPTION WHEN assert_failure THEN
            NULL;
        END;
    END LOOP;
    RETURN (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY t) FROM unnest(times) t);
END
$$;
