-- pg_tenancy 1.11 -> 1.12: purge_events() reads each organization's oldest events through its (organization_id, at) index when few are due, instead of the whole events table every day. Assembled from src/sql/1.11--1.12/.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '1.12'" to load this file. \quit
