-- Like compare_data.sql, for the upgrade test: each table's checksum covers
-- only the columns recorded in public.upgrade_columns before the upgrade, so
-- a column the new version adds is not a difference in the kept data.
SELECT u.tbl,
       (xpath('/row/h/text()', query_to_xml(format(
           'SELECT md5(coalesce(string_agg(k::text, %L ORDER BY k::text), %L)) AS h'
           ' FROM (SELECT (SELECT jsonb_object_agg(key, value) FROM jsonb_each(to_jsonb(t))'
           '               WHERE key = ANY (%L::text[])) AS k FROM %s t) rows',
           ',', '', u.cols, u.tbl), false, true, '')))[1]::text AS checksum
FROM (SELECT tbl, array_agg(col ORDER BY col) AS cols FROM public.upgrade_columns GROUP BY tbl) u
ORDER BY 1;
