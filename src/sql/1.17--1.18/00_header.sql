-- pg_tenancy 1.17 -> 1.18: context tokens signed with every JWS algorithm of RFC 7518 (HS384, HS512, RS384, RS512, PS384, PS512, ES512 added); purge_events leaves an organization whose retention reaches no time before now(). Assembled from src/sql/1.17--1.18/.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '1.18'" to load this file. \quit
