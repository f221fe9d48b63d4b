-- pg_tenancy 1.1 -> 1.2: cheaper file writes. Assembled from src/sql/1.1--1.2/.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '1.2'" to load this file. \quit
