-- pg_tenancy 1.16 -> 1.17: context tokens signed with PS256, ES384 and EdDSA. Assembled from src/sql/1.16--1.17/.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '1.17'" to load this file. \quit
