-------------------------------------------------------------------------------
-- check(), and the DDL guard's rename of a DBA's column, at years of log
-- months (operations review of 1.23, F13).
-------------------------------------------------------------------------------

-- tenancy.extension_table_additions() (which check() and the DDL guard's
-- is_dba_column run) took 8.5 s at 64 months of the log once the catalog
-- was analysed, and ~1 s at 28. Its query runs in 30-50 ms at any number
-- of months; the time was JIT compilation (auto_explain: "Inlining true,
-- Optimization true", 8.3 s of 8.7). The recursive step of column_needs
-- joined pg_depend ON an OR of three conditions, a nested loop over a
-- sequential scan of pg_depend with two subplans per row, and estimated
-- that 10 times over (a recursive CTE's guess): 293,000 at 4 months
-- (over jit_above_cost, 100,000: ~0.7 s of compilation), 637,000 at 64
-- (over jit_inline_above_cost and jit_optimize_above_cost, 500,000: 8 s),
-- 1,079,000 at 124. Every month adds rows to pg_depend, whence the growth.
-- The step now looks each of the three up by pg_depend's index (the
-- object's own dependencies; those of a domain's constraints; those of a
-- composite type's relation), in a LATERAL union: the same rows (the
-- recursive UNION removes the duplicates an object found by two of the
-- conditions would give), estimated at 9,000-12,000 from 4 to 124 months.
SELECT tenancy.replace_in_function('tenancy.extension_table_additions()',
    $old$    SELECT n.attrelid, n.attnum, d.refclassid, d.refobjid
    FROM column_needs n
    JOIN pg_depend d
      ON (d.classid = n.classid AND d.objid = n.objid)
         -- (A domain's constraints, and a composite type's relation, depend
         -- on the type, not the other way.)
         OR (n.classid = 'pg_type'::regclass AND d.classid = 'pg_constraint'::regclass
             AND d.objid IN (SELECT k.oid FROM pg_constraint k WHERE k.contypid = n.objid))
         OR (n.classid = 'pg_type'::regclass AND d.classid = 'pg_class'::regclass
             AND d.objid = (SELECT t.typrelid FROM pg_type t WHERE t.oid = n.objid))
    WHERE n.objid >= 16384$old$,
    $new$    SELECT n.attrelid, n.attnum, d.refclassid, d.refobjid
    FROM column_needs n
    -- What the object depends on, and what its constraints (a domain's)
    -- and its relation (a composite type's) depend on: they depend on the
    -- type, not the other way. Each by pg_depend's index (1.23: an OR of
    -- the three in a join's condition read all of pg_depend per object,
    -- and its estimate started JIT compilation, seconds at 60 months).
    CROSS JOIN LATERAL (
        SELECT d.refclassid, d.refobjid FROM pg_depend d
        WHERE d.classid = n.classid AND d.objid = n.objid
        UNION ALL
        SELECT d.refclassid, d.refobjid
        FROM pg_constraint k
        JOIN pg_depend d ON d.classid = 'pg_constraint'::regclass AND d.objid = k.oid
        WHERE n.classid = 'pg_type'::regclass AND k.contypid = n.objid
        UNION ALL
        SELECT d.refclassid, d.refobjid
        FROM pg_type t
        JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = t.typrelid
        WHERE n.classid = 'pg_type'::regclass AND t.oid = n.objid
    ) d
    WHERE n.objid >= 16384$new$);

-- And no JIT compilation for it at all, whatever its estimate: the query
-- reads a few hundred catalog rows in 30-50 ms, and compiling its ~600
-- expressions takes 0.7 s (jit_above_cost) to 8 s (inlining and
-- optimization). The estimate above is still a guess (a recursive CTE's
-- is ten times its first step's), and grows with the DBA's additions and
-- other catalog rows: a function SET clause, as purge_events() turns JIT
-- off for its index probes (1.12), so that check() and the DDL guard never
-- pay for a compilation they cannot use.
ALTER FUNCTION tenancy.extension_table_additions() SET jit = off;
