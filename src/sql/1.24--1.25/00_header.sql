-- pg_tenancy 1.24 -> 1.25: see README, Versions and upgrades. Assembled from src/sql/1.24--1.25/.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '1.25'" to load this file. \quit
