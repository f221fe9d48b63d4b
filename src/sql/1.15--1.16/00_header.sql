-- pg_tenancy 1.15 -> 1.16: signing keys from an identity provider's JWK Set. Assembled from src/sql/1.15--1.16/.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '1.16'" to load this file. \quit
