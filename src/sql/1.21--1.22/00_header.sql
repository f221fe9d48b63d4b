-- pg_tenancy 1.21 -> 1.22: protect() calls a materialized view one (it said "a view", with a view's hint); file_access_log_partition_ddl(), internal, refuses a name that is not a table of schema tenancy. Assembled from src/sql/1.21--1.22/.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '1.22'" to load this file. \quit
