-- pg_tenancy 1.8 -> 1.9: check() reports rollups left waiting for an organization's row and is assembled from pieces; the DDL guard fires on ALTER TYPE too. Assembled from src/sql/1.8--1.9/.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '1.9'" to load this file. \quit
