-------------------------------------------------------------------------------
-- pg_dump: the extension's tables hold the application's data, so their rows
-- (and the sequences behind their ids) are dumped with the database.
-- Restore as a superuser with session_replication_role = replica (README):
-- rows come back as they were, without firing audit or foreign-key triggers
-- in table order.
-------------------------------------------------------------------------------
SELECT pg_catalog.pg_extension_config_dump('tenancy.organizations', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.members', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.files', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.file_versions', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.file_access_log', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.file_access_log_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.file_access_log_purges', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.file_access_log_purges_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.events', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.events_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.event_rollups', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.file_rollups', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.rollup_state', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.protected_tables', '');

-- The cluster the rollup state was taken in: its snapshot and the raw rows'
-- txid mean nothing in another cluster's transaction ids, so a run refuses a
-- state restored from elsewhere instead of counting the wrong rows.
ALTER TABLE tenancy.rollup_state ADD COLUMN cluster_id bigint;

-- The rollup state row is created by the first run (run_rollups), not by
-- the install script, so that a restored database gets the dumped row
-- rather than a conflict with a fresh one. A state no run has touched goes.
DELETE FROM tenancy.rollup_state WHERE runs = 0;
