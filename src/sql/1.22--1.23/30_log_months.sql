-------------------------------------------------------------------------------
-- The log's months ahead of the clock (operations review of 1.22, F1 and F7).
-------------------------------------------------------------------------------

-- A maintain_file_access_log(120), by mistake or not, made up to 120 empty
-- months that nothing could remove: the append-only guard refuses DROP
-- TABLE and DETACH PARTITION of a month, and purges drop only months older
-- than their cutoff. Each month costs every log read that does not rule it
-- out (a file's history: one index probe per month) and every rollup run.
-- This drops the empty ones that start after the current month and the
-- next months_ahead (at least the 2 run_rollups keeps), as a purge drops
-- months: in turn with maintenance, purges and runs (the rollup state row),
-- then ACCESS EXCLUSIVE on the log, its default partition and those months
-- within tenancy.purge_lock_timeout, each month looked at under its lock on
-- a fresh snapshot. A month that holds a row stays. The library's
-- (1.23 library).
CREATE FUNCTION tenancy.drop_future_log_months(months_ahead integer DEFAULT 2)
    RETURNS integer
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'tenancy_drop_future_log_months';
REVOKE ALL ON FUNCTION tenancy.drop_future_log_months(integer) FROM PUBLIC;
COMMENT ON FUNCTION tenancy.drop_future_log_months(integer) IS
    'Drops the log''s empty monthly partitions that start after the current month and the next months_ahead; returns how many. Superuser.';

-- check(): rows waiting in the default partition are not always a failure
-- of maintenance. run_rollups leaves them when the log is busy (now with a
-- NOTICE), and maintenance may simply not have run since they were written;
-- the finding said "see its WARNINGs in the server log", which then had
-- none.
SELECT tenancy.replace_in_function('tenancy.check_configuration()',
    $old$'the default partition of the file access log holds rows of months that have no partition of their own: maintenance has not moved them (see its WARNINGs in the server log)'$old$,
    $new$'the default partition of the file access log holds rows of months that have no partition of their own: maintenance has not moved them yet (it has not run since, run_rollups() found the log busy and left them to a later run, or making their month failed, with a WARNING in the server log)'$new$);

-- (26) Many empty months ahead: more than a year past the current month.
-- Catalog and relation sizes only (an empty month has no page).
SELECT tenancy.replace_in_function('tenancy.check_configuration()',
    $old$WHERE tenancy.file_access_log_rows_waiting()$old$,
    $new$WHERE tenancy.file_access_log_rows_waiting()
UNION ALL
-- (26) Empty months far ahead (a maintain_file_access_log(120), say): each
-- costs every read of the log that does not rule it out and every rollup
-- run. Months that hold rows are not counted (they stay).
SELECT 'warning', 'tenancy.file_access_log',
       format('%s empty months of the file access log start more than a year ahead: each costs every read of the log that does not rule it out (a file''s history) and every rollup run',
              count(*)),
       'SELECT tenancy.drop_future_log_months();'
FROM tenancy.file_access_log_partitions() p
WHERE NOT p.is_default
  AND p.from_at >= (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '13 months') AT TIME ZONE 'UTC'
  AND pg_relation_size(p.partition) = 0
HAVING count(*) > 0$new$);
