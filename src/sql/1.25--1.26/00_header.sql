-- pg_tenancy 1.25 -> 1.26: tenancy.rollups_waiting runs with its caller's rights, so members of pg_read_all_data no longer read the waiting buckets the deferred tables' forced row level security hides from them. Assembled from src/sql/1.25--1.26/.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '1.26'" to load this file. \quit
