-- pg_tenancy 1.12 -> 1.13: purge_events() skips its counts when the statistics of events.at already tell that many rows are due (it reads the table once then), and its count of newer due rows probes only the organizations whose retention is shorter than the longest. Assembled from src/sql/1.12--1.13/.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '1.13'" to load this file. \quit
