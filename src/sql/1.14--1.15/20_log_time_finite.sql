-------------------------------------------------------------------------------
-- A log row's time is a time (from a review of bad input).
--
-- The extension writes at = now(), but a superuser or the table's owner
-- could insert 'infinity' or '-infinity': run_rollups then stored an hour
-- past the end of timestamptz (which file_stats_daily could not read back,
-- 22008, for everyone in that organization). tenancy.events has refused such
-- times since 1.0 (events_at_finite); the log now does too. NOT VALID: the
-- rows already there are not read (the log may hold hundreds of millions;
-- the constraint would take ACCESS EXCLUSIVE for the scan); only a direct
-- insert could have made one, and the rollups skip them since the 1.15
-- library. `ALTER TABLE tenancy.file_access_log VALIDATE CONSTRAINT
-- file_access_log_at_finite` checks them when the DBA chooses.
-------------------------------------------------------------------------------
ALTER TABLE tenancy.file_access_log
    ADD CONSTRAINT file_access_log_at_finite CHECK (isfinite(at)) NOT VALID;
