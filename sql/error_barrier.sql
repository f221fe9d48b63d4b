-- The error barrier: C++ failures and PostgreSQL errors raised under C++ code
-- reach the client as clean SQL errors with the right SQLSTATE, and the
-- backend stays healthy. The probe functions live in the module but are not
-- part of the extension's SQL surface; this test creates them.
CREATE FUNCTION probe_cxx_error(text) RETURNS text
    LANGUAGE C AS 'pg_tenancy', 'tenancy_probe_cxx_error';
CREATE FUNCTION probe_pg_error(text) RETURNS bigint
    LANGUAGE C AS 'pg_tenancy', 'tenancy_probe_pg_error';
CREATE FUNCTION probe_stream(text, int, text) RETURNS bigint
    LANGUAGE C AS 'pg_tenancy', 'tenancy_probe_stream';
CREATE FUNCTION probe_unwound_frames() RETURNS int
    LANGUAGE C AS 'pg_tenancy', 'tenancy_probe_unwound_frames';

-- "SQLSTATE: message" of a statement, or 'ok'.
CREATE FUNCTION outcome(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

\set VERBOSITY default
-- A pg::Error keeps its SQLSTATE, detail and hint.
SELECT outcome($$SELECT probe_cxx_error('error')$$);
SELECT probe_cxx_error('error');
-- Other C++ exceptions become out-of-memory or internal errors.
SELECT outcome($$SELECT probe_cxx_error('bad_alloc')$$);
SELECT outcome($$SELECT probe_cxx_error('exception')$$);
SELECT outcome($$SELECT probe_cxx_error('unknown')$$);
SELECT probe_cxx_error('no error');

-- PostgreSQL errors raised inside SPI under C++ frames keep their SQLSTATE.
SELECT outcome($$SELECT probe_pg_error('SELECT 1/0')$$);
SELECT outcome($$SELECT probe_pg_error('SELECT * FROM no_such_table')$$);
SELECT outcome($$SELECT probe_pg_error('SELECT ''x''::int')$$);
SELECT probe_pg_error('SELECT 1/0');

-- Every probe frame above was unwound: destructors ran (4 C++ errors, 1
-- success, 4 PostgreSQL errors, each probe owns one witness).
SELECT probe_unwound_frames();

-- The backend is healthy: SPI works again, and the transaction is usable.
SELECT probe_pg_error('SELECT generate_series(1, 3)');
BEGIN;
SELECT outcome($$SELECT probe_pg_error('SELECT 1/0')$$);
SELECT probe_pg_error('SELECT 42');
COMMIT;
SELECT 1 AS still_alive;

-- A long error message raised under SPI: the error is kept in memory that
-- survives the SPI connection closing while the C++ frames unwind.
SELECT left(outcome(format($$SELECT probe_pg_error(%L)$$,
                           'SELECT ' || quote_literal(repeat('y', 30000)) || '::int')), 60) AS outcome;
SELECT left(outcome(format($$SELECT probe_pg_error(%L)$$,
                           'SELECT ' || quote_literal(repeat('z', 100000)) || '::int')), 60) AS outcome;
SELECT 1 AS still_alive;

-- Rows streamed to a C++ callback inside the executor (how run_rollups reads
-- the raw rows): all of them arrive; a C++ error in the callback stops the
-- statement and surfaces with its SQLSTATE; a PostgreSQL error met in the
-- callback stays that error; an error of the query itself too.
SELECT probe_stream('SELECT g FROM generate_series(1, 100000) g', 0, 'none');
SELECT outcome($$SELECT probe_stream('SELECT g FROM generate_series(1, 1000) g', 500, 'cxx')$$);
SELECT outcome($$SELECT probe_stream('SELECT g FROM generate_series(1, 1000) g', 500, 'pg')$$);
SELECT outcome($$SELECT probe_stream('SELECT 1 / (500 - g) FROM generate_series(1, 1000) g', 0, 'none')$$);
SELECT probe_stream('SELECT g FROM generate_series(1, 10) g', 0, 'none');
SELECT 1 AS still_alive;

DROP FUNCTION probe_cxx_error(text), probe_pg_error(text), probe_stream(text, int, text),
    probe_unwound_frames(), outcome(text);
