-- pg_tenancy 1.6 -> 1.7: policies that read the context without sub-selects. Assembled from src/sql/1.6--1.7/.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '1.7'" to load this file. \quit
