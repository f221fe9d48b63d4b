-- One line per table: its name, row count and a checksum of its rows, so two
-- databases can be compared with diff. Used by the round-trip tests.
SELECT c.oid::regclass::text AS tbl,
       (xpath('/row/n/text()',
              query_to_xml(format('SELECT count(*) AS n FROM %s', c.oid::regclass), false, true, '')))[1]::text AS rows,
       (xpath('/row/h/text()',
              query_to_xml(format('SELECT md5(coalesce(string_agg(t::text, %L ORDER BY t::text), %L)) AS h FROM %s t',
                                  ',', '', c.oid::regclass), false, true, '')))[1]::text AS checksum
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN ('tenancy', 'app') AND c.relkind IN ('r', 'p')
ORDER BY 1;
-- Where each sequence stands (new ids must not collide with restored ones).
SELECT c.oid::regclass::text AS sequence, s.last_value
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
     LATERAL (SELECT (xpath('/row/last_value/text()',
              query_to_xml(format('SELECT last_value FROM %s', c.oid::regclass), false, true, '')))[1]::text AS last_value) s
WHERE n.nspname IN ('tenancy', 'app') AND c.relkind = 'S'
ORDER BY 1;
