-------------------------------------------------------------------------------
-- Comments on every object a DBA meets in \dx+, \df+ and \d+ (until 1.10
-- most had none). The README's SQL reference has the whole story.
-------------------------------------------------------------------------------
COMMENT ON SCHEMA tenancy IS
    'pg_tenancy: tenant isolation, file audit and per-tenant analytics (see the extension''s README).';
COMMENT ON TYPE tenancy.member_role IS 'A member''s role in an organization: owner, admin, teacher, student.';
COMMENT ON TYPE tenancy.file_visibility IS 'Who sees a file besides its owner: private (managers), staff, org (everyone).';
COMMENT ON TYPE tenancy.file_action IS 'What an audit row records: upload, download, view, update, delete, restore.';

-- Tenant context.
COMMENT ON FUNCTION tenancy.clear_context() IS 'Ends the tenant context (of the transaction or the session).';
COMMENT ON FUNCTION tenancy.current_org_id() IS 'The context''s organization; NULL without a context. LEAKPROOF, for policies.';
COMMENT ON FUNCTION tenancy.current_user_id() IS 'The context''s user; NULL without a context. LEAKPROOF, for policies.';
COMMENT ON FUNCTION tenancy.current_member_role() IS 'The context''s role in its organization; NULL without a context. LEAKPROOF, for policies.';

-- Organizations and members.
COMMENT ON FUNCTION tenancy.create_organization(text, text, uuid) IS
    'Sign-up: creates an organization with its owner; returns its id. Needs no context.';
COMMENT ON FUNCTION tenancy.delete_organization(uuid) IS
    'Deletes the context''s organization (owner only), with all its tenant rows, events and audit rows.';
COMMENT ON FUNCTION tenancy.members_guard() IS 'Trigger: keeps every organization with an owner, and members from raising themselves.';
COMMENT ON FUNCTION tenancy.organizations_touch() IS 'Trigger: keeps organizations.updated_at.';
COMMENT ON FUNCTION tenancy.organizations_audit_cleanup() IS
    'Trigger: removes a deleted organization''s events and audit rows, which have no foreign key.';
COMMENT ON FUNCTION tenancy.organizations_truncate_cleanup() IS
    'Trigger: a TRUNCATE of organizations takes their events and audit rows along.';

-- Files and the audit.
COMMENT ON FUNCTION tenancy.record_file_access(uuid, tenancy.file_action, bigint) IS
    'Logs a read (download or view) of a file the caller sees; for any other id it fails as for a missing file.';
COMMENT ON FUNCTION tenancy.files_before_update() IS 'Trigger: bumps files.version on a content change.';
COMMENT ON FUNCTION tenancy.files_audit() IS 'Trigger: audit rows and superseded versions of a files statement, from its transition tables.';
COMMENT ON FUNCTION tenancy.files_audit_delete() IS 'Trigger: audit rows of deleted files (runs as the owner: it asks whether the organization is going).';
COMMENT ON FUNCTION tenancy.file_access_log_guard() IS 'Trigger: refuses UPDATE, DELETE and TRUNCATE of the audit log (append-only).';
COMMENT ON FUNCTION tenancy.file_access_log_ddl_guard() IS 'Event trigger: refuses DDL that would rewrite or remove audit rows.';
COMMENT ON FUNCTION tenancy.function_guard() IS 'Event trigger: refuses CREATE OR REPLACE of the extension''s functions outside its scripts.';
COMMENT ON FUNCTION tenancy.purge_file_access_log(interval) IS
    'Retention: removes audit rows older than older_than that the rollups have counted, and records the purge. Superuser.';
COMMENT ON FUNCTION tenancy.maintain_file_access_log(integer) IS
    'Creates the log''s monthly partitions months_ahead ahead and moves waiting rows out of the default partition. Superuser.';
COMMENT ON FUNCTION tenancy.file_access_log_partitions() IS 'The log''s partitions and their bounds, oldest first, the default partition last.';
COMMENT ON FUNCTION tenancy.file_access_log_partition_ddl(name) IS 'Internal: the indexes and guard a partition of the log gets.';
COMMENT ON FUNCTION tenancy.file_access_log_rows_waiting() IS 'For check(): whether the default partition holds rows of months without a partition.';
COMMENT ON TABLE tenancy.file_access_log_purges IS 'Every purge of the file access log: when, by whom, how old, how many rows.';

-- Analytics.
COMMENT ON TABLE tenancy.events IS 'Raw events, one per tenancy.track() or INSERT; txid is the writing transaction, for the rollups.';
COMMENT ON FUNCTION tenancy.track(text, double precision) IS 'Records an event of the context''s organization and user.';
COMMENT ON FUNCTION tenancy.events_lock_organization() IS 'Trigger: locks the event''s organization (FOR KEY SHARE), in place of a foreign key.';
COMMENT ON TABLE tenancy.event_rollups IS 'Hourly event rollups per organization and kind, with mergeable sketches. Written by run_rollups().';
COMMENT ON TABLE tenancy.file_rollups IS 'Hourly file access rollups per organization. Written by run_rollups().';
COMMENT ON TABLE tenancy.event_rollups_deferred IS 'Event buckets waiting while another transaction holds their organization''s row (1.8).';
COMMENT ON TABLE tenancy.file_rollups_deferred IS 'File buckets waiting while another transaction holds their organization''s row (1.8).';
COMMENT ON TABLE tenancy.rollup_state IS 'The rollups'' watermark: the last run''s snapshot, and since when the raw rows are complete. Superusers only.';
COMMENT ON VIEW tenancy.rollups_waiting IS 'Organizations whose buckets wait for their row, per source.';
COMMENT ON VIEW tenancy.event_stats_hourly IS 'Event figures per organization, hour (UTC) and kind, under the caller''s policies.';
COMMENT ON VIEW tenancy.event_stats_daily IS 'Event figures per organization, day (UTC) and kind, under the caller''s policies.';
COMMENT ON VIEW tenancy.file_stats_hourly IS 'File access figures per organization and hour (UTC), under the caller''s policies.';
COMMENT ON VIEW tenancy.file_stats_daily IS 'File access figures per organization and day (UTC), under the caller''s policies.';
COMMENT ON FUNCTION tenancy.run_rollups(boolean) IS
    'Aggregates the events and audit rows new since the last run into the hourly rollups, each once. Superuser (pg_cron''s job).';
COMMENT ON FUNCTION tenancy.rebuild_rollups(uuid) IS 'Recomputes the rollups (of one organization, or all) from the raw rows counted so far. Superuser.';
COMMENT ON FUNCTION tenancy.purge_events() IS 'Retention: removes rolled-up events older than their organization''s event_retention. Superuser.';
COMMENT ON FUNCTION tenancy.schedule_rollups(text) IS 'Registers or replaces the pg_cron job pg_tenancy_rollups that runs run_rollups().';
COMMENT ON FUNCTION tenancy.lock_organizations_for_purge() IS 'Internal: locks organizations for a purge; returns those it could not lock.';
COMMENT ON FUNCTION tenancy.organization_row_holders(uuid[]) IS 'The open transactions whose hold on these organizations'' rows makes rollup runs defer them.';
COMMENT ON FUNCTION tenancy.quantile_sketch_merge(bytea, bytea) IS 'Merges two quantile sketches.';
COMMENT ON AGGREGATE tenancy.quantile_sketch_union(bytea) IS 'Aggregate: the union of quantile sketches.';
COMMENT ON FUNCTION tenancy.distinct_sketch_merge(bytea, bytea) IS 'Merges two distinct-count sketches.';
COMMENT ON AGGREGATE tenancy.distinct_sketch_union(bytea) IS 'Aggregate: the union of distinct-count sketches.';
COMMENT ON FUNCTION tenancy.sketch_quantile(bytea, double precision) IS 'The q-quantile a quantile sketch estimates (1 % relative error).';
COMMENT ON FUNCTION tenancy.sketch_distinct_count(bytea) IS 'The distinct count a distinct-count sketch estimates.';

-- Application tables.
COMMENT ON FUNCTION tenancy.protect(regclass, name) IS
    'Gives an application table the extension''s isolation: RLS forced, the isolation policy, tenant column default, index, grants.';
COMMENT ON FUNCTION tenancy.unprotect(regclass) IS 'Undoes exactly what protect() did to the table.';
COMMENT ON FUNCTION tenancy.isolation_policy_name() IS 'The name of the policy protect() creates.';
COMMENT ON FUNCTION tenancy.strip_sublinks(text) IS 'For check(): a stored expression without its sub-selects.';
COMMENT ON FUNCTION tenancy.forget_dropped_tables() IS 'Event trigger: forgets protected tables that were dropped.';
