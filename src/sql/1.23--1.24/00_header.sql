-- pg_tenancy 1.23 -> 1.24 (in progress). Assembled from src/sql/1.23--1.24/.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '1.24'" to load this file. \quit
