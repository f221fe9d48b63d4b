-- pg_tenancy 1.10 -> 1.11: check() reports what a DBA added to the extension's own tables (columns, indexes, constraints, triggers, rules, policies, storage and column settings), which a dump does not save, with the statement that makes each again. Assembled from src/sql/1.10--1.11/.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '1.11'" to load this file. \quit
