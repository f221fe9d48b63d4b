-- pg_tenancy 1.14 -> 1.15: a tenant context proven by a signed token. Assembled from src/sql/1.14--1.15/.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '1.15'" to load this file. \quit
