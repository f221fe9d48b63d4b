-- pg_tenancy 1.5 -> 1.6: check() reports the log's months not kept ahead of the clock. Assembled from src/sql/1.5--1.6/.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '1.6'" to load this file. \quit
