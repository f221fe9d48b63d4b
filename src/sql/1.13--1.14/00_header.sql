-- pg_tenancy 1.13 -> 1.14: an organization's name must hold more than spaces. Assembled from src/sql/1.13--1.14/.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '1.14'" to load this file. \quit
