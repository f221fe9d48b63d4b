-------------------------------------------------------------------------------
-- tenancy.check() (1.11): one piece more.
--   tenancy.check_extension_tables()  finding (20): what a DBA added to the
--                                     extension's own tables.
-------------------------------------------------------------------------------

-- (20) What was added to the extension's own tables after the extension made
-- them. pg_dump saves the rows of an extension's tables, not their
-- definitions: a restore's CREATE EXTENSION makes them as the extension
-- defines them. So an added column, default, NOT NULL, identity, serial's
-- ownership, index, constraint, trigger, rule, policy, extended statistics,
-- publication, storage parameter, replica identity, CLUSTER ON or column
-- setting (and the comments on them) does not come back; the rows of a
-- table with an added column fail to load (COPY names a column the new
-- table lacks; for the log, its months then fail to attach). Each addition
-- comes with the statement that makes it again in the restored database,
-- and the step of the README's recipe (Dump and restore) it belongs to:
--   early_types      not an addition: a type or collation of the DBA's that an
--                    added column needs, as the dump's table of contents
--                    names it, to restore with the schemas and extensions;
--   left_out         not an addition either: an entry of the dump to leave
--                    out of the restore, made by a statement instead (a
--                    foreign key of the DBA's to a key added to the log);
--   before_data      columns (type, collation, NOT NULL, a generated
--                    column's expression): after the schemas, extensions and
--                    those types, before the rest of the dump;
--   after_data       defaults (a serial's sequence is the dump's: its
--                    ownership first), identities (with their sequence's
--                    value, which the dump does not save), the rest: after
--                    the dump's tables and rows, before its indexes,
--                    constraints and triggers, which may need them (a foreign
--                    key to a key added here);
--   after_post_data  foreign keys (they may reference the dump's keys),
--                    publications, and everything on the log, whose months
--                    the dump makes with copies of it (their INDEX ATTACH
--                    entries left out);
--   manual           a column whose type the restore makes only after the
--                    rows (a table's row type, a type or domain that calls a
--                    function of the DBA's), or a generated column on the log
--                    that calls a function of the DBA's: the recipe cannot
--                    add it.
--
-- What the extension itself defines is listed below, as every version since
-- 1.0 leaves it (an upgraded database's tables are the same as a fresh
-- install's: test/roundtrip). A version that changes its tables changes this
-- list with them; a fresh install's check() is empty (check_findings.sql).
-- Things inherited from the log (a partition's columns, constraints, index
-- and trigger copies) are reported once, on the log. Changes to what the
-- extension defines (another default for one of its columns, a setting of one
-- of its indexes) are not additions and are not reported.
CREATE FUNCTION tenancy.extension_table_additions()
    RETURNS TABLE (table_name regclass, kind text, name text, statement text, restore_step text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
WITH RECURSIVE own(table_name, kind, names) AS (VALUES
    ('organizations', 'default', '{id,storage_quota_bytes,event_retention,created_at,updated_at}'::text[]),
    ('organizations', 'not null', '{id,slug,name,storage_quota_bytes,event_retention,created_at,updated_at}'),
    ('members', 'default', '{created_at,updated_at}'),
    ('members', 'not null', '{organization_id,user_id,role,created_at,updated_at}'),
    ('files', 'default', '{organization_id,id,owner_id,visibility,version,created_at,updated_at}'),
    ('files', 'not null', '{organization_id,id,owner_id,path,name,size_bytes,visibility,version,created_at,updated_at}'),
    ('file_versions', 'default', '{created_at}'),
    ('file_versions', 'not null', '{organization_id,file_id,version,path,size_bytes,created_at}'),
    ('file_access_log', 'default', '{id,at,txid}'),
    ('file_access_log', 'not null', '{organization_id,id,file_id,action,at,txid}'),
    ('file_access_log', 'owned sequence', '{tenancy.file_access_log_ids}'),
    ('file_access_log_purges', 'default', '{purged_at,purged_by}'),
    ('file_access_log_purges', 'not null', '{purged_at,purged_by,older_than,rows_purged}'),
    ('file_access_log_purges', 'identity', '{id}'),
    ('events', 'default', '{organization_id,user_id,at,txid}'),
    ('events', 'not null', '{organization_id,kind,at,txid}'),
    ('events', 'identity', '{id}'),
    ('event_rollups', 'not null', '{organization_id,hour,kind,events,value_count,value_sum,value_sketch,user_sketch}'),
    ('event_rollups_deferred', 'not null', '{organization_id,hour,kind,events,value_count,value_sum,value_sketch,user_sketch,deferred_at}'),
    ('file_rollups', 'not null', '{organization_id,hour,uploads,downloads,bytes_uploaded,bytes_downloaded,user_sketch}'),
    ('file_rollups_deferred', 'not null', '{organization_id,hour,uploads,downloads,bytes_uploaded,bytes_downloaded,user_sketch,deferred_at}'),
    ('rollup_state', 'default', '{singleton,runs}'),
    ('rollup_state', 'not null', '{singleton,last_snapshot,runs}'),
    ('protected_tables', 'default', '{default_set,granted,granted_sequences,granted_schema_usage,protected_at,protected_by}'),
    ('protected_tables', 'not null', '{relid,tenant_column,rls_was_enabled,rls_was_forced,default_set,granted,granted_sequences,granted_schema_usage,protected_at,protected_by}'),
    ('organizations', 'column', '{id,name,slug,storage_quota_bytes,event_retention,created_at,updated_at}'),
    ('organizations', 'index', '{organizations_pkey,organizations_slug_key}'),
    ('organizations', 'constraint', '{organizations_pkey,organizations_slug_key,organizations_name_length,organizations_slug_format,organizations_quota_nonnegative,organizations_retention_positive}'),
    ('organizations', 'trigger', '{organizations_touch,organizations_audit_cleanup,organizations_truncate_cleanup}'),
    ('organizations', 'policy', '{organizations_select,organizations_update,organizations_delete}'),
    ('members', 'column', '{organization_id,user_id,role,created_at,updated_at,deactivated_at}'),
    ('members', 'index', '{members_pkey,members_user_idx}'),
    ('members', 'constraint', '{members_pkey,members_organization_fkey}'),
    ('members', 'trigger', '{members_guard}'),
    ('members', 'policy', '{members_select,members_insert,members_update,members_delete}'),
    ('files', 'column', '{organization_id,id,owner_id,path,name,mime_type,size_bytes,checksum,visibility,version,created_at,updated_at,deleted_at}'),
    ('files', 'index', '{files_pkey,files_path_key,files_owner_idx}'),
    ('files', 'constraint', '{files_pkey,files_path_key,files_organization_fkey,files_checksum_length,files_mime_type_length,files_name_length,files_path_length,files_size_bounded,files_size_nonnegative,files_version_positive}'),
    ('files', 'trigger', '{files_before_update,files_audit_insert,files_audit_update,files_audit_delete,files_truncate_versions}'),
    ('files', 'policy', '{files_select,files_insert,files_update,files_delete}'),
    ('file_versions', 'column', '{organization_id,file_id,version,path,size_bytes,checksum,created_by,created_at}'),
    ('file_versions', 'index', '{file_versions_pkey}'),
    ('file_versions', 'constraint', '{file_versions_pkey}'),
    ('file_versions', 'policy', '{file_versions_select}'),
    ('file_access_log', 'column', '{id,organization_id,file_id,user_id,action,bytes,at,txid,file_created_at}'),
    ('file_access_log', 'constraint', '{file_access_log_bytes_bounded,file_access_log_bytes_nonnegative}'),
    ('file_access_log', 'trigger', '{file_access_log_append_only,file_access_log_no_truncate}'),
    ('file_access_log', 'policy', '{file_access_log_select}'),
    ('file_access_log', 'replica identity', '{FULL}'),
    ('file_access_log_default', 'trigger', '{file_access_log_no_truncate}'),
    ('file_access_log_default', 'replica identity', '{FULL}'),
    ('file_access_log_default', 'index', '{file_access_log_default_at_idx,file_access_log_default_file_idx,file_access_log_default_txid_idx}'),
    ('file_access_log_purges', 'column', '{id,purged_at,purged_by,older_than,rows_purged}'),
    ('file_access_log_purges', 'index', '{file_access_log_purges_pkey}'),
    ('file_access_log_purges', 'constraint', '{file_access_log_purges_pkey}'),
    ('events', 'column', '{id,organization_id,user_id,kind,value,at,txid}'),
    ('events', 'index', '{events_pkey,events_org_at_idx,events_txid_idx}'),
    ('events', 'constraint', '{events_pkey,events_at_finite,events_kind_length,events_value_bounded}'),
    ('events', 'trigger', '{events_lock_organization}'),
    ('events', 'policy', '{events_select,events_insert}'),
    ('event_rollups', 'column', '{organization_id,hour,kind,events,value_count,value_sum,value_min,value_max,value_sketch,user_sketch}'),
    ('event_rollups', 'index', '{event_rollups_pkey}'),
    ('event_rollups', 'constraint', '{event_rollups_pkey}'),
    ('event_rollups', 'policy', '{event_rollups_select}'),
    ('event_rollups', 'storage parameter', '{fillfactor=70}'),
    ('event_rollups_deferred', 'column', '{organization_id,hour,kind,events,value_count,value_sum,value_min,value_max,value_sketch,user_sketch,deferred_at}'),
    ('event_rollups_deferred', 'index', '{event_rollups_deferred_pkey}'),
    ('event_rollups_deferred', 'constraint', '{event_rollups_deferred_pkey}'),
    ('file_rollups', 'column', '{organization_id,hour,uploads,downloads,bytes_uploaded,bytes_downloaded,user_sketch}'),
    ('file_rollups', 'index', '{file_rollups_pkey}'),
    ('file_rollups', 'constraint', '{file_rollups_pkey}'),
    ('file_rollups', 'policy', '{file_rollups_select}'),
    ('file_rollups', 'storage parameter', '{fillfactor=70}'),
    ('file_rollups_deferred', 'column', '{organization_id,hour,uploads,downloads,bytes_uploaded,bytes_downloaded,user_sketch,deferred_at}'),
    ('file_rollups_deferred', 'index', '{file_rollups_deferred_pkey}'),
    ('file_rollups_deferred', 'constraint', '{file_rollups_deferred_pkey}'),
    ('rollup_state', 'column', '{singleton,last_snapshot,last_run_at,runs,events_complete_since,file_log_complete_since,cluster_id}'),
    ('rollup_state', 'index', '{rollup_state_pkey}'),
    ('rollup_state', 'constraint', '{rollup_state_pkey,rollup_state_singleton}'),
    ('protected_tables', 'column', '{relid,tenant_column,protected_at,protected_by,rls_was_enabled,rls_was_forced,default_set,previous_default,granted,granted_schema_usage,granted_sequences,created_index}'),
    ('protected_tables', 'index', '{protected_tables_pkey}'),
    ('protected_tables', 'constraint', '{protected_tables_pkey}'),
    ('protected_tables', 'policy', '{protected_tables_read}')
), extension_tables AS (
    SELECT c.oid, c.relname, c.oid::regclass AS tbl, c.relkind
    FROM pg_depend d
    JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_tenancy'
    JOIN pg_class c ON c.oid = d.objid AND c.relkind IN ('r', 'p')
    WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_extension'::regclass
      AND d.deptype = 'e'
), added_columns AS (
    SELECT a.attrelid, a.attnum, a.atttypid, a.attcollation, a.attgenerated
    FROM extension_tables t
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attislocal
    WHERE NOT EXISTS (SELECT FROM own o WHERE o.table_name = t.relname AND o.kind = 'column' AND a.attname = ANY (o.names))
), column_needs(attrelid, attnum, classid, objid) AS (
    -- What an added column's type and collation are made of, as the catalog
    -- records it (pg_depend), down to built-in objects: an array's element,
    -- a domain's base and its constraints' types and functions, a composite
    -- type's attributes and their collations, a range's subtype, collation,
    -- operator class and functions, an operator's function. A table (a row
    -- type) and functions end the walk.
    SELECT attrelid, attnum, 'pg_type'::regclass::oid, atttypid FROM added_columns
    UNION
    SELECT attrelid, attnum, 'pg_collation'::regclass::oid, attcollation FROM added_columns WHERE attcollation <> 0
    UNION
    -- (A generated column's expression: its types, collations and operators;
    -- its functions make it wait for the rows, generated_after_rows below.)
    SELECT c.attrelid, c.attnum, d.refclassid, d.refobjid
    FROM added_columns c
    JOIN pg_attrdef ad ON ad.adrelid = c.attrelid AND ad.adnum = c.attnum
    JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
    WHERE c.attgenerated = 's'
      AND d.refclassid IN ('pg_type'::regclass, 'pg_collation'::regclass, 'pg_operator'::regclass)
    UNION
    SELECT n.attrelid, n.attnum, d.refclassid, d.refobjid
    FROM column_needs n
    JOIN pg_depend d
      ON (d.classid = n.classid AND d.objid = n.objid)
         -- (A domain's constraints, and a composite type's relation, depend
         -- on the type, not the other way.)
         OR (n.classid = 'pg_type'::regclass AND d.classid = 'pg_constraint'::regclass
             AND d.objid IN (SELECT k.oid FROM pg_constraint k WHERE k.contypid = n.objid))
         OR (n.classid = 'pg_type'::regclass AND d.classid = 'pg_class'::regclass
             AND d.objid = (SELECT t.typrelid FROM pg_type t WHERE t.oid = n.objid))
    WHERE n.objid >= 16384
      AND (n.classid IN ('pg_type'::regclass, 'pg_operator'::regclass, 'pg_opclass'::regclass, 'pg_opfamily'::regclass)
           OR (n.classid = 'pg_class'::regclass AND (SELECT r.relkind FROM pg_class r WHERE r.oid = n.objid) = 'c'))
      AND d.refclassid IN ('pg_type'::regclass, 'pg_collation'::regclass, 'pg_proc'::regclass, 'pg_class'::regclass,
                           'pg_operator'::regclass, 'pg_opclass'::regclass, 'pg_opfamily'::regclass)
), dba_needs AS (
    -- Of those, the DBA's own (not built in, not another extension's), and
    -- whether the restore makes each only after the rows: all but types,
    -- collations and composite types' relations (functions, operators,
    -- operator classes, a table for its row type).
    SELECT n.attrelid, n.attnum, n.classid, n.objid,
           NOT (n.classid IN ('pg_type'::regclass, 'pg_collation'::regclass)
                OR (n.classid = 'pg_class'::regclass AND (SELECT r.relkind FROM pg_class r WHERE r.oid = n.objid) = 'c'))
               AS made_after_rows
    FROM column_needs n
    WHERE n.objid >= 16384
      AND NOT EXISTS (SELECT FROM pg_depend x WHERE x.classid = n.classid AND x.objid = n.objid AND x.deptype = 'e')
      AND NOT EXISTS (SELECT FROM pg_type t JOIN pg_depend x ON x.classid = 'pg_class'::regclass
                                                          AND x.objid = t.typrelid AND x.deptype = 'e'
                      WHERE n.classid = 'pg_type'::regclass AND t.oid = n.objid)
), columns AS (
    -- Every column, a partition's inherited ones too (for their settings;
    -- the others take a table's own columns: attislocal, which a column the
    -- DBA added and then had a parent of its own share still is).
    SELECT t.relname, t.tbl, t.relkind, a.*, ty.typcollation, ty.typstorage,
           pg_get_expr(d.adbin, d.adrelid) AS default_expression,
           col_description(a.attrelid, a.attnum) AS comment,
           EXISTS (SELECT FROM dba_needs x WHERE x.attrelid = a.attrelid AND x.attnum = a.attnum AND x.made_after_rows)
               AS type_made_after_rows,
           -- A generated column whose expression calls a function of the
           -- DBA's is added after the rows (COPY leaves it out anyway) ...
           a.attgenerated = 's' AND EXISTS (
               SELECT FROM pg_depend x
               WHERE x.classid = 'pg_attrdef'::regclass AND x.objid = d.oid
                 AND x.refclassid = 'pg_proc'::regclass AND x.refobjid >= 16384
                 AND NOT EXISTS (SELECT FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass
                                                          AND e.objid = x.refobjid AND e.deptype = 'e'))
               AS generated_after_rows,
           -- ... unless the dump has what needs it before that: views and
           -- functions that read it, grants of it.
           a.attacl IS NOT NULL OR EXISTS (
               SELECT FROM pg_depend x
               WHERE x.refclassid = 'pg_class'::regclass AND x.refobjid = a.attrelid AND x.refobjsubid = a.attnum
                 AND x.classid IN ('pg_rewrite'::regclass, 'pg_proc'::regclass)) AS dumped_dependents
    FROM extension_tables t
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
    JOIN pg_type ty ON ty.oid = a.atttypid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
), column_settings AS (
    -- A statistics target, n_distinct, storage, compression.
    SELECT c.relname, c.tbl, c.relkind, c.attrelid, c.attname, s.setting
    FROM columns c
    CROSS JOIN LATERAL (
        SELECT 'SET STATISTICS ' || c.attstattarget WHERE c.attstattarget >= 0
        UNION ALL
        SELECT format('SET (%s)', o) FROM unnest(c.attoptions) o
        WHERE split_part(o, '=', 1) IN ('n_distinct', 'n_distinct_inherited')
        UNION ALL
        SELECT 'SET STORAGE ' || CASE c.attstorage WHEN 'p' THEN 'PLAIN' WHEN 'e' THEN 'EXTERNAL'
                                                   WHEN 'm' THEN 'MAIN' ELSE 'EXTENDED' END
        WHERE c.attstorage <> c.typstorage
        UNION ALL
        SELECT 'SET COMPRESSION ' || CASE c.attcompression WHEN 'p' THEN 'pglz' ELSE 'lz4' END
        WHERE c.attcompression <> ''
    ) s(setting)
), present(relname, tbl, relkind, kind, name, statement, step, position) AS (
    -- A column whose type the restore makes only after the rows cannot be
    -- added before them: 'manual' (README).
    SELECT c.relname, c.tbl, c.relkind, 'column', c.attname::text,
           format('ALTER TABLE %s ADD COLUMN %I %s%s%s%s', c.tbl, c.attname,
                  format_type(c.atttypid, c.atttypmod),
                  CASE WHEN c.attcollation <> 0 AND c.attcollation <> c.typcollation
                       THEN ' COLLATE ' || c.attcollation::regcollation END,
                  CASE WHEN c.attgenerated = 's' THEN format(' GENERATED ALWAYS AS (%s) STORED', c.default_expression) END,
                  CASE WHEN c.attnotnull THEN ' NOT NULL' END)
           || coalesce(format('; COMMENT ON COLUMN %s.%I IS ', c.tbl, c.attname) || quote_literal(c.comment), ''),
           -- (On the log, a generated column cannot wait: the dump's months
           -- have it, and attach only to a log that has it too; nor where the
           -- dump's views, functions or grants need it.)
           CASE WHEN c.type_made_after_rows OR (c.generated_after_rows AND (c.relkind = 'p' OR c.dumped_dependents))
                THEN 'manual'
                WHEN c.generated_after_rows THEN 'after_data' ELSE 'before_data' END,
           c.attnum
    FROM columns c WHERE c.attislocal
    UNION ALL
    -- The DBA's own types and collations the added columns need, as the
    -- dump's table of contents (pg_restore -l) identifies them, by catalog
    -- and OID ("; 1247 16398 "): the README's recipe restores these entries
    -- first. (Not for a manual column; an array comes with its element.)
    SELECT DISTINCT t.relname, t.tbl, t.relkind, 'type', e.schema_name || '.' || e.object_name,
           format('; %s %s ', y.classid, y.objid), 'early_types', 0
    FROM dba_needs y
    JOIN extension_tables t ON t.oid = y.attrelid
    CROSS JOIN LATERAL (
        SELECT CASE ty.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, sn.nspname, ty.typname
        FROM pg_type ty JOIN pg_namespace sn ON sn.oid = ty.typnamespace
        WHERE y.classid = 'pg_type'::regclass AND ty.oid = y.objid
          AND NOT (ty.typelem <> 0 AND ty.typsubscript = 'array_subscript_handler'::regproc)
        UNION ALL
        SELECT 'COLLATION', cn.nspname, l.collname
        FROM pg_collation l JOIN pg_namespace cn ON cn.oid = l.collnamespace
        WHERE y.classid = 'pg_collation'::regclass AND l.oid = y.objid
    ) e(entry, schema_name, object_name)
    WHERE NOT EXISTS (SELECT FROM dba_needs z WHERE z.attrelid = y.attrelid AND z.attnum = y.attnum AND z.made_after_rows)
    UNION ALL
    SELECT c.relname, c.tbl, c.relkind, 'default', c.attname::text,
           format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT %s', c.tbl, c.attname, c.default_expression),
           CASE WHEN c.type_made_after_rows THEN 'manual' ELSE 'after_data' END, 0
    FROM columns c WHERE c.attislocal AND c.atthasdef AND c.attgenerated = ''
    UNION ALL
    -- Of the extension's own columns only (an added one has it in its ADD
    -- COLUMN); an identity's comes with it.
    SELECT c.relname, c.tbl, c.relkind, 'not null', c.attname::text,
           format('ALTER TABLE %s ALTER COLUMN %I SET NOT NULL', c.tbl, c.attname), 'after_data', 0
    FROM columns c
    WHERE c.attislocal AND c.attnotnull AND c.attidentity = ''
      AND EXISTS (SELECT FROM own o WHERE o.table_name = c.relname AND o.kind = 'column' AND c.attname = ANY (o.names))
    UNION ALL
    -- The identity's sequence is made with it, as it was, and set to where
    -- it stands now (the dump saves neither). Read as pg_sequences reads
    -- it: a caller who may not read the sequence is told so, and check()
    -- still runs.
    SELECT c.relname, c.tbl, c.relkind, 'identity', c.attname::text,
           format('ALTER TABLE %s ALTER COLUMN %I ADD GENERATED %s AS IDENTITY (SEQUENCE NAME %s INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s%s)%s',
                  c.tbl, c.attname, CASE c.attidentity WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END,
                  q.seqrelid::regclass, q.seqincrement, q.seqmin, q.seqmax, q.seqstart, q.seqcache,
                  CASE WHEN q.seqcycle THEN ' CYCLE' ELSE ' NO CYCLE' END,
                  CASE WHEN NOT has_sequence_privilege(q.seqrelid, 'SELECT')
                       THEN '; -- set its sequence to where it stands in this database (setval): its value is not readable here'
                       ELSE (SELECT format('; SELECT setval(%L, %s, %s)', q.seqrelid::regclass,
                                           (xpath('/row/last_value/text()', x))[1], (xpath('/row/is_called/text()', x))[1])
                             FROM query_to_xml(format('SELECT last_value, is_called FROM %s', q.seqrelid::regclass),
                                               false, true, '') x) END)
           -- The sequence's grants and comment, which the dump has as
           -- entries of a sequence it does not make (left out, below).
           || coalesce((SELECT string_agg(format('; GRANT %s ON SEQUENCE %s TO %s%s', g.privilege_type, q.seqrelid::regclass,
                                                 CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE g.grantee::regrole::text END,
                                                 CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END),
                                          '' ORDER BY g.grantee, g.privilege_type)
                        FROM pg_class sq, aclexplode(sq.relacl) g
                        WHERE sq.oid = q.seqrelid AND g.grantee <> sq.relowner), '')
           || coalesce(format('; COMMENT ON SEQUENCE %s IS ', q.seqrelid::regclass)
                       || quote_literal(obj_description(q.seqrelid, 'pg_class')), ''),
           CASE WHEN c.type_made_after_rows THEN 'manual' ELSE 'after_data' END, 0
    FROM columns c
    JOIN pg_sequence q ON q.seqrelid = pg_get_serial_sequence(c.tbl::text, c.attname)::regclass
    WHERE c.attislocal AND c.attidentity <> ''
    UNION ALL
    -- The dump's entries for an added identity's sequence: its grants and
    -- comment (the identity's statement makes them).
    SELECT c.relname, c.tbl, c.relkind, 'dump entry', c.attname || ' ' || e.what,
           format(' %s %s %s ', e.what, sn.nspname, e.tag), 'left_out', 0
    FROM columns c
    JOIN pg_class sq ON sq.oid = pg_get_serial_sequence(c.tbl::text, c.attname)::regclass
    JOIN pg_namespace sn ON sn.oid = sq.relnamespace
    CROSS JOIN LATERAL (VALUES ('ACL', 'SEQUENCE ' || quote_ident(sq.relname)),
                               ('COMMENT', 'SEQUENCE ' || quote_ident(sq.relname))) e(what, tag)
    WHERE c.attislocal AND c.attidentity <> ''
      AND NOT EXISTS (SELECT FROM own o WHERE o.table_name = c.relname AND o.kind = 'identity' AND c.attname = ANY (o.names))
    UNION ALL
    -- A sequence a column owns (serial): the dump makes it, and sets its
    -- value, but not its owner.
    SELECT t.relname, t.tbl, t.relkind, 'owned sequence', s.oid::regclass::text,
           format('ALTER SEQUENCE %s OWNED BY %s.%I', s.oid::regclass, t.tbl, a.attname), 'after_data', 0
    FROM extension_tables t
    JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = t.oid AND d.refobjsubid > 0
                    AND d.classid = 'pg_class'::regclass AND d.deptype = 'a'
    JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
    UNION ALL
    -- Indexes that back no constraint (a constraint's is made with it), nor
    -- are a partition of another. One on the log is made again on the whole
    -- log (not ON ONLY): it then takes the months' own copies that the dump
    -- restored (README: leave out the dump's INDEX ATTACH entries, which
    -- would name it before it exists).
    SELECT t.relname, t.tbl, t.relkind, 'index', x.relname::text,
           CASE WHEN x.relkind = 'I'
                THEN replace(pg_get_indexdef(i.indexrelid), format(' ON ONLY %s ', t.tbl), format(' ON %s ', t.tbl))
                ELSE pg_get_indexdef(i.indexrelid) END
           || coalesce(format('; COMMENT ON INDEX %s IS ', x.oid::regclass) || quote_literal(obj_description(x.oid, 'pg_class')), ''),
           'after_data', 0
    FROM extension_tables t
    JOIN pg_index i ON i.indrelid = t.oid
    JOIN pg_class x ON x.oid = i.indexrelid
    WHERE NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = t.oid
                                                    AND k.contype IN ('p', 'u', 'x'))
      AND NOT EXISTS (SELECT FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
    UNION ALL
    -- (A constraint trigger is a trigger, below.)
    SELECT t.relname, t.tbl, t.relkind, 'constraint', k.conname::text,
           format('ALTER TABLE %s ADD CONSTRAINT %I %s', t.tbl, k.conname, pg_get_constraintdef(k.oid))
           || coalesce(format('; COMMENT ON CONSTRAINT %I ON %s IS ', k.conname, t.tbl) || quote_literal(obj_description(k.oid, 'pg_constraint')), ''),
           CASE WHEN k.contype = 'f' THEN 'after_post_data' ELSE 'after_data' END, 0
    FROM extension_tables t
    JOIN pg_constraint k ON k.conrelid = t.oid
    WHERE k.conparentid = 0 AND k.coninhcount = 0 AND k.contype <> 't'
    UNION ALL
    -- A foreign key of a table of the DBA's to a key added to the log: the
    -- dump makes it in its post-data, before the log's additions (which wait
    -- for the months). Its entry is left out of the dump's restore, and it is
    -- made after them.
    SELECT t.relname, t.tbl, t.relkind, f.kind, f.name, f.statement, f.step, 0
    FROM extension_tables t
    JOIN pg_constraint k ON k.confrelid = t.oid AND k.contype = 'f'
    JOIN pg_class child ON child.oid = k.conrelid
    JOIN pg_namespace cn ON cn.oid = child.relnamespace
    CROSS JOIN LATERAL (VALUES
        ('foreign key', k.conname::text,
         format('ALTER TABLE %s ADD CONSTRAINT %I %s', child.oid::regclass, k.conname, pg_get_constraintdef(k.oid))
         || coalesce(format('; COMMENT ON CONSTRAINT %I ON %s IS ', k.conname, child.oid::regclass)
                     || quote_literal(obj_description(k.oid, 'pg_constraint')), ''),
         'after_post_data'),
        -- (The foreign key's entry, by catalog and OID, and its comment's.)
        ('dump entry', k.conname::text, format('; %s %s ', 'pg_constraint'::regclass::oid, k.oid), 'left_out'),
        ('dump entry', k.conname::text || ' comment',
         format(' COMMENT %s CONSTRAINT %s ON %s ', cn.nspname, quote_ident(k.conname), quote_ident(child.relname)),
         'left_out')) f(kind, name, statement, step)
    WHERE t.relkind = 'p' AND k.conparentid = 0
      AND NOT EXISTS (SELECT FROM extension_tables e WHERE e.oid = k.conrelid)
    UNION ALL
    -- The dump attaches the log's partitions' copies of an index added to
    -- the log (INDEX ATTACH) before that index exists: left out, in every
    -- schema a partition of the DBA's may be in; the index made on the whole
    -- log takes the copies.
    SELECT t.relname, t.tbl, t.relkind, 'dump entry', x.relname || ' ' || child.relname,
           format(' INDEX ATTACH %s %s ', cn.nspname, child.relname), 'left_out', 0
    FROM extension_tables t
    JOIN pg_index i ON i.indrelid = t.oid
    JOIN pg_class x ON x.oid = i.indexrelid AND x.relkind = 'I'
    JOIN pg_inherits h ON h.inhparent = x.oid
    JOIN pg_class child ON child.oid = h.inhrelid
    JOIN pg_namespace cn ON cn.oid = child.relnamespace
    UNION ALL
    -- An extension table made to inherit from a table of the DBA's.
    SELECT t.relname, t.tbl, t.relkind, 'inherits', h.inhparent::regclass::text,
           format('ALTER TABLE %s INHERIT %s', t.tbl, h.inhparent::regclass), 'after_data', 0
    FROM extension_tables t
    JOIN pg_inherits h ON h.inhrelid = t.oid
    WHERE NOT EXISTS (SELECT FROM extension_tables e WHERE e.oid = h.inhparent)
    UNION ALL
    SELECT t.relname, t.tbl, t.relkind, 'trigger', g.tgname::text,
           pg_get_triggerdef(g.oid)
           || CASE g.tgenabled WHEN 'D' THEN format('; ALTER TABLE %s DISABLE TRIGGER %I', t.tbl, g.tgname)
                               WHEN 'A' THEN format('; ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', t.tbl, g.tgname)
                               WHEN 'R' THEN format('; ALTER TABLE %s ENABLE REPLICA TRIGGER %I', t.tbl, g.tgname)
                               ELSE '' END
           || coalesce(format('; COMMENT ON TRIGGER %I ON %s IS ', g.tgname, t.tbl) || quote_literal(obj_description(g.oid, 'pg_trigger')), ''),
           'after_data', 0
    FROM extension_tables t
    JOIN pg_trigger g ON g.tgrelid = t.oid AND NOT g.tgisinternal
    WHERE g.tgparentid = 0
    UNION ALL
    SELECT t.relname, t.tbl, t.relkind, 'rule', r.rulename::text,
           rtrim(pg_get_ruledef(r.oid), ';')
           || coalesce(format('; COMMENT ON RULE %I ON %s IS ', r.rulename, t.tbl) || quote_literal(obj_description(r.oid, 'pg_rewrite')), ''),
           'after_data', 0
    FROM extension_tables t
    JOIN pg_rewrite r ON r.ev_class = t.oid
    UNION ALL
    SELECT t.relname, t.tbl, t.relkind, 'policy', p.polname::text,
           format('CREATE POLICY %I ON %s AS %s FOR %s TO %s%s%s', p.polname, t.tbl,
                  CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
                  CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                                WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
                  (SELECT string_agg(CASE WHEN r = 0 THEN 'PUBLIC' ELSE r::regrole::text END, ', ')
                   FROM unnest(p.polroles) r),
                  ' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')',
                  ' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')')
           || coalesce(format('; COMMENT ON POLICY %I ON %s IS ', p.polname, t.tbl) || quote_literal(obj_description(p.oid, 'pg_policy')), ''),
           'after_data', 0
    FROM extension_tables t
    JOIN pg_policy p ON p.polrelid = t.oid
    UNION ALL
    SELECT t.relname, t.tbl, t.relkind, 'statistics', x.stxnamespace::regnamespace || '.' || x.stxname,
           pg_get_statisticsobjdef(x.oid)
           || CASE WHEN x.stxstattarget >= 0
                   THEN format('; ALTER STATISTICS %s.%I SET STATISTICS %s', x.stxnamespace::regnamespace, x.stxname,
                               x.stxstattarget) ELSE '' END
           || coalesce(format('; COMMENT ON STATISTICS %s.%I IS ', x.stxnamespace::regnamespace, x.stxname) || quote_literal(obj_description(x.oid, 'pg_statistic_ext')), ''),
           'after_data', 0
    FROM extension_tables t
    JOIN pg_statistic_ext x ON x.stxrelid = t.oid
    UNION ALL
    -- Publication of an extension table: the dump makes the publication,
    -- not its tables (with their column lists and row filters).
    SELECT t.relname, t.tbl, t.relkind, 'publication', b.pubname::text,
           format('ALTER PUBLICATION %I ADD TABLE %s%s%s', b.pubname, t.tbl,
                  ' (' || (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY n)
                           FROM unnest(r.prattrs::int2[]) WITH ORDINALITY u(attnum, n)
                           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = u.attnum) || ')',
                  ' WHERE (' || pg_get_expr(r.prqual, r.prrelid) || ')'),
           'after_post_data', 0
    FROM extension_tables t
    JOIN pg_publication_rel r ON r.prrelid = t.oid
    JOIN pg_publication b ON b.oid = r.prpubid
    UNION ALL
    -- The table's storage parameters and its TOAST table's.
    SELECT t.relname, t.tbl, t.relkind, 'storage parameter', o.option, format('ALTER TABLE %s SET (%s)', t.tbl, o.option),
           'after_data', 0
    FROM extension_tables t
    JOIN pg_class c ON c.oid = t.oid
    CROSS JOIN LATERAL (
        SELECT unnest(c.reloptions)
        UNION ALL
        SELECT 'toast.' || unnest(toast.reloptions) FROM pg_class toast WHERE toast.oid = c.reltoastrelid
    ) o(option)
    UNION ALL
    SELECT t.relname, t.tbl, t.relkind, 'replica identity', r.identity,
           format('ALTER TABLE %s REPLICA IDENTITY %s', t.tbl, r.identity), 'after_data', 0
    FROM extension_tables t
    JOIN pg_class c ON c.oid = t.oid
    CROSS JOIN LATERAL (
        SELECT CASE c.relreplident WHEN 'f' THEN 'FULL' WHEN 'n' THEN 'NOTHING'
                    ELSE 'USING INDEX ' || (SELECT quote_ident(x.relname) FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid
                                            WHERE i.indrelid = t.oid AND i.indisreplident) END) r(identity)
    WHERE c.relreplident <> 'd'
    UNION ALL
    SELECT t.relname, t.tbl, t.relkind, 'clustered on', x.relname::text,
           format('ALTER TABLE %s CLUSTER ON %I', t.tbl, x.relname), 'after_data', 0
    FROM extension_tables t
    JOIN pg_index i ON i.indrelid = t.oid AND i.indisclustered
    JOIN pg_class x ON x.oid = i.indexrelid
    UNION ALL
    -- Column settings (a partition's only where they differ from the log's,
    -- whence they come).
    SELECT s.relname, s.tbl, s.relkind, 'column setting', format('%s %s', s.attname, s.setting),
           format('ALTER TABLE %s ALTER COLUMN %I %s', s.tbl, s.attname, s.setting), 'after_data', 0
    FROM column_settings s
    WHERE NOT EXISTS (SELECT FROM pg_inherits h
                      JOIN column_settings p ON p.attrelid = h.inhparent
                      WHERE h.inhrelid = s.attrelid AND p.attname = s.attname AND p.setting = s.setting)
), stepped AS (
    -- Everything on the log but its columns waits for its months.
    SELECT p.*, CASE WHEN p.relkind = 'p' AND p.step = 'after_data' THEN 'after_post_data' ELSE p.step END
                    AS restore_step
    FROM present p
    WHERE p.statement IS NOT NULL
      AND NOT EXISTS (SELECT FROM own o WHERE o.table_name = p.relname AND o.kind = p.kind AND p.name = ANY (o.names))
)
SELECT tbl, kind, name, statement, restore_step
FROM stepped
-- The order to run them in, within a step: sequences owned before defaults
-- use them; indexes before the constraints and replica identities that may
-- use them; foreign keys last.
ORDER BY array_position('{early_types,left_out,before_data,after_data,after_post_data,manual}'::text[], restore_step),
         array_position('{type,dump entry,column,owned sequence,default,not null,identity,index,constraint,inherits,trigger,rule,policy,statistics,storage parameter,replica identity,clustered on,column setting,publication,foreign key}'::text[], kind),
         kind = 'constraint' AND statement LIKE '% FOREIGN KEY %', tbl::text, position, name
$$;
COMMENT ON FUNCTION tenancy.extension_table_additions() IS
    'What a DBA added to the extension''s own tables, which a dump does not save, with the statement that makes each again and the step of a restore it belongs to.';
GRANT EXECUTE ON FUNCTION tenancy.extension_table_additions() TO PUBLIC;

CREATE FUNCTION tenancy.check_extension_tables()
    RETURNS TABLE (severity text, object text, finding text, fix text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
SELECT 'warning',
       a.table_name::text,
       CASE WHEN a.kind = 'column' AND a.restore_step = 'manual' AND a.statement LIKE '% GENERATED ALWAYS AS (%'
                 AND a.table_name = 'tenancy.file_access_log'::regclass
            THEN format('generated column "%s" was added to %s, an extension table, with an expression that needs something of the DBA''s that a restore makes only after the log''s months, which attach only to a log that has the column: the restore recipe cannot bring it back, and the months'' rows stay out of the log (README, Dump and restore)',
                        a.name, a.table_name)
            WHEN a.kind = 'column' AND a.restore_step = 'manual' AND a.statement LIKE '% GENERATED ALWAYS AS (%'
            THEN format('generated column "%s" was added to %s, an extension table, with an expression that needs something of the DBA''s that a restore makes only after the rows, and the dump has views, functions or grants that need the column before that: the restore recipe cannot bring it back (README, Dump and restore)',
                        a.name, a.table_name)
            WHEN a.kind = 'column' AND a.restore_step = 'manual'
            THEN format('column "%s" was added to %s, an extension table, of a type that a restore makes only after the table''s rows (a table''s row type, or a type or domain that calls a function of the DBA''s): the restore recipe cannot bring the column back, and the table''s rows fail to load (README, Dump and restore)',
                        a.name, a.table_name)
            WHEN a.kind = 'column' AND a.statement LIKE '% GENERATED ALWAYS AS (%) STORED%'
            THEN format('generated column "%s" was added to %s, an extension table: a dump does not save it, and a restore makes the table without it',
                        a.name, a.table_name)
            WHEN a.kind = 'column'
            THEN format('column "%s" was added to %s, an extension table: a dump saves its values but a restore makes the table without it, so the table''s rows fail to load%s',
                        a.name, a.table_name,
                        CASE WHEN a.table_name = 'tenancy.file_access_log'::regclass THEN ' (and the log''s months to attach)' ELSE '' END)
            WHEN a.kind = 'default'
            THEN format('a default was added to column "%s" of %s, an extension table: a dump does not save it, and a restore leaves it out',
                        a.name, a.table_name)
            WHEN a.kind = 'not null'
            THEN format('NOT NULL was added to column "%s" of %s, an extension table: a dump does not save it, and a restore leaves it out',
                        a.name, a.table_name)
            WHEN a.kind = 'identity'
            THEN format('column "%s" of %s, an extension table, was made an identity: a dump saves neither that nor its sequence, and a restored table would hand out its ids again',
                        a.name, a.table_name)
            WHEN a.kind = 'owned sequence'
            THEN format('sequence %s is owned by a column of %s, an extension table: a dump saves the sequence but not its owner',
                        a.name, a.table_name)
            WHEN a.kind = 'foreign key'
            THEN format('foreign key "%s" of a table of the DBA''s references a key added to %s, an extension table: a restore makes the foreign key before that key, and fails on it, unless its entry is left out (README, Dump and restore)',
                        a.name, a.table_name)
            WHEN a.kind = 'inherits'
            THEN format('%s, an extension table, was made to inherit from %s: a dump does not save it, and the restored %s has none of its rows',
                        a.table_name, a.name, a.name)
            WHEN a.kind = 'publication'
            THEN format('%s, an extension table, was added to publication "%s": a dump saves the publication, not that it publishes the table',
                        a.table_name, a.name)
            WHEN a.kind IN ('replica identity', 'clustered on')
            THEN format('%s %s of %s, an extension table, was set: a dump does not save it', a.kind, a.name, a.table_name)
            ELSE format('%s "%s" was added to %s, an extension table: a dump does not save it, and a restore leaves it out',
                        a.kind, a.name, a.table_name)
       END,
       a.statement || format('; -- in the restored database, step %s (README, Dump and restore)', a.restore_step)
FROM tenancy.extension_table_additions() a
-- (The DBA's types that added columns need are entries of the dump to
-- restore first, and dump entries to leave out are made by the statements:
-- neither is an addition.)
WHERE a.kind NOT IN ('type', 'dump entry')
$$;
COMMENT ON FUNCTION tenancy.check_extension_tables() IS
    'Finding (20) of tenancy.check(): what a DBA added to the extension''s own tables, which a dump does not save.';
GRANT EXECUTE ON FUNCTION tenancy.check_extension_tables() TO PUBLIC;

CREATE OR REPLACE FUNCTION tenancy.check()
    RETURNS TABLE (severity text, object text, finding text, fix text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT * FROM tenancy.check_configuration()
    UNION ALL
    SELECT * FROM tenancy.check_rollups()
    UNION ALL
    SELECT * FROM tenancy.check_guards()
    UNION ALL
    SELECT * FROM tenancy.check_protected_keys()
    UNION ALL
    SELECT * FROM tenancy.check_rollup_state()
    UNION ALL
    SELECT * FROM tenancy.check_extension_tables();
END;
