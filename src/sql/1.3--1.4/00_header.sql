-- pg_tenancy 1.3 -> 1.4: integrity under concurrency. Assembled from src/sql/1.3--1.4/.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '1.4'" to load this file. \quit
