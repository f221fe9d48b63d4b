-- pg_tenancy 1.7 -> 1.8: rollup runs defer the buckets of an organization whose row another transaction holds. Assembled from src/sql/1.7--1.8/.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '1.8'" to load this file. \quit
