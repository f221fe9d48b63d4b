-- pg_tenancy 1.4 -> 1.5: the file access log partitioned by month. Assembled from src/sql/1.4--1.5/.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '1.5'" to load this file. \quit
