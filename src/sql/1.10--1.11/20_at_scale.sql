-------------------------------------------------------------------------------
-- What a review at scale found (50,000 organizations, 20 million log rows,
-- 1,000 protected tables):
--
--   The BRIN indexes on txid (and at) summarize their page ranges as they
--   fill (autosummarize), not only at VACUUM. An unsummarized range matches
--   every scan, so each rollup run (every minute) read every page appended
--   since the last VACUUM, which autovacuum's insert threshold lets grow to
--   a fifth of the table: an idle run over events took 54-291 ms with
--   0.8-1.0 million rows appended, 1.5-1.9 ms after a VACUUM. Months made
--   from now on get the option from file_access_log_partition_ddl().
--
--   check_configuration() found the partitions of tenant tables with
--   pg_partition_root() of every partition for each tenant table (a nested
--   loop: 3.4 s with 1,000 protected tables and one of 500 partitions), and
--   counted index partitions among them. The roots are now computed once,
--   for tables only.
--
-- Patched in place as in 1.10 (src/sql/1.9--1.10/50_patched_functions.sql):
-- each replaced text must occur exactly once, or the upgrade stops (55000).
-------------------------------------------------------------------------------
DO $patches$
DECLARE
    patches text[][] := ARRAY[
        ['tenancy.check_configuration()', $old$    FROM (SELECT c.oid, c.oid::regclass AS tbl, c.relrowsecurity, c.relforcerowsecurity,
                 pg_partition_root(c.oid)::oid AS root
          FROM pg_class c WHERE c.relispartition
          OFFSET 0) p  -- the root once per partition, then a hash join
$old$,
         $new$    FROM (WITH partitions AS MATERIALIZED (  -- each root computed once
              SELECT c.oid, c.oid::regclass AS tbl, c.relrowsecurity, c.relforcerowsecurity,
                     pg_partition_root(c.oid)::oid AS root
              FROM pg_class c WHERE c.relispartition AND c.relkind IN ('r', 'p'))
          SELECT * FROM partitions) p
$new$],
        ['tenancy.file_access_log_partition_ddl(name)', $old$    'CREATE INDEX %3$I ON tenancy.%1$I USING brin (at)',
    'CREATE INDEX %4$I ON tenancy.%1$I USING brin (txid tenancy.xid8_minmax_ops)',
$old$,
         $new$    'CREATE INDEX %3$I ON tenancy.%1$I USING brin (at) WITH (autosummarize = on)',
    'CREATE INDEX %4$I ON tenancy.%1$I USING brin (txid tenancy.xid8_minmax_ops) WITH (autosummarize = on)',
$new$]];
    definition text;
    found int;
    i int;
BEGIN
    FOR i IN 1 .. array_length(patches, 1) LOOP
        definition := pg_catalog.pg_get_functiondef(patches[i][1]::pg_catalog.regprocedure);
        found := (length(definition) - length(replace(definition, patches[i][2], '')))
                 / length(patches[i][2]);
        IF found <> 1 THEN
            RAISE EXCEPTION '% is not the function the extension installed (patch %, found % times)',
                            patches[i][1], i, found
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Restore it from the extension''s scripts before upgrading.';
        END IF;
        EXECUTE replace(definition, patches[i][2], patches[i][3]);
    END LOOP;
END
$patches$;

-- The extension's BRIN indexes: events', and those of every partition of
-- the log (the default one, the months, an upgrade's partition of old rows),
-- told from a DBA's own by their definition and the names the extension
-- gives them (a DBA's, with options of its own or not, is left as it is). Setting autosummarize takes an
-- ACCESS EXCLUSIVE lock on each index until the upgrade commits: reads and
-- writes of events and the log wait for it, and it waits for open
-- transactions that used them (README, Versions and upgrades).
DO $brin$
DECLARE
    brin_index regclass;
BEGIN
    FOR brin_index IN
        SELECT x.oid::regclass
        FROM pg_catalog.pg_index i
        JOIN pg_catalog.pg_class x ON x.oid = i.indexrelid
        JOIN pg_catalog.pg_am a ON a.oid = x.relam AND a.amname = 'brin'
        JOIN pg_catalog.pg_class r ON r.oid = i.indrelid
        JOIN pg_catalog.pg_attribute k ON k.attrelid = i.indrelid AND k.attnum = i.indkey[0]
        JOIN pg_catalog.pg_opclass o ON o.oid = i.indclass[0]
        WHERE (r.oid = 'tenancy.events'::pg_catalog.regclass
               OR r.oid IN (SELECT inhrelid FROM pg_catalog.pg_inherits
                            WHERE inhparent = 'tenancy.file_access_log'::pg_catalog.regclass))
          AND x.reloptions IS NULL AND i.indnatts = 1 AND i.indexprs IS NULL AND i.indpred IS NULL
          -- (and by the names the extension gives them)
          AND x.relname IN ('events_txid_idx', left(r.relname, 50) || '_' || k.attname || '_idx',
                            r.relname || '_' || k.attname || '_idx')
          AND ((k.attname = 'txid' AND o.opcname = 'xid8_minmax_ops'
                AND o.opcnamespace = 'tenancy'::pg_catalog.regnamespace)
               OR (k.attname = 'at' AND r.oid <> 'tenancy.events'::pg_catalog.regclass
                   AND o.opcname = 'timestamptz_minmax_ops'
                   AND o.opcnamespace = 'pg_catalog'::pg_catalog.regnamespace))
        ORDER BY 1
    LOOP
        EXECUTE pg_catalog.format('ALTER INDEX %s SET (autosummarize = on)', brin_index);
    END LOOP;
END
$brin$;
