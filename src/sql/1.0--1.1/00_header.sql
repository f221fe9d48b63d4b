-- pg_tenancy 1.0 -> 1.1: protect the application's own tables, lint the
-- database, and survive dump and restore. Assembled from src/sql/1.0--1.1/.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '1.1'" to load this file. \quit
