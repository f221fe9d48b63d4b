-- pg_tenancy 1.22 -> 1.23: storage_use(lock => true) serves under REPEATABLE READ and SERIALIZABLE, and fails with 40001 where the transaction's snapshot misses an upload committed since (under SERIALIZABLE it let one past the quota). Catalog changes only. Assembled from src/sql/1.22--1.23/.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '1.23'" to load this file. \quit
