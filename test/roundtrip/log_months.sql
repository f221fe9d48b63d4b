-- Run-time objects of the file access log for the round trips: a row dated
-- past the months run_rollups makes (this one and the next two), which
-- stays in the default partition, then the run that makes them and counts it.
\set ON_ERROR_STOP 1
INSERT INTO tenancy.file_access_log (organization_id, file_id, action, at)
SELECT organization_id, id, 'view', now() + interval '10 years'
FROM tenancy.files ORDER BY id LIMIT 1;
SELECT count(*) > 0 AS rolled_up FROM tenancy.run_rollups();
