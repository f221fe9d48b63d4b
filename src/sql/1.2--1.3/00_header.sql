-- pg_tenancy 1.2 -> 1.3: cheaper rollup runs. Assembled from src/sql/1.2--1.3/.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '1.3'" to load this file. \quit
