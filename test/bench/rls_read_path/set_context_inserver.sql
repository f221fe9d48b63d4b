-- The cost of one tenancy.set_context call inside the server, without the
-- client round trips: :calls calls in one statement, against the same loop
-- with two set_config calls, and against the bare loop that only computes
-- the arguments (subtracted from both). Run as the application login, in a
-- transaction block (the context is transaction-local). Then the same for
-- set_context_signed (1.15) over 10,000 minted tokens (load.sql), against
-- the bare loop over them. Prints one line:
--   inserver <seconds bare> <seconds set_config> <seconds set_context>
--            <seconds bare over tokens> <seconds set_context_signed>
\set ON_ERROR_STOP on
BEGIN;
SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
SELECT count(md5('org' || (g % :orgs + 1))::uuid::text
             || md5('user' || (g % :orgs + 1) || '-' || (g / :orgs % :members + 1))::uuid::text)
FROM generate_series(0, :calls - 1) AS g \gset bare_
SELECT extract(epoch FROM clock_timestamp()) AS t1 \gset
SELECT count(set_config('bench.org_id', md5('org' || (g % :orgs + 1))::uuid::text, true)
             || set_config('bench.user_id', md5('user' || (g % :orgs + 1) || '-' || (g / :orgs % :members + 1))::uuid::text, true))
FROM generate_series(0, :calls - 1) AS g \gset config_
SELECT extract(epoch FROM clock_timestamp()) AS t2 \gset
SELECT count(tenancy.set_context(md5('org' || (g % :orgs + 1))::uuid,
                                 md5('user' || (g % :orgs + 1) || '-' || (g / :orgs % :members + 1))::uuid))
FROM generate_series(0, :calls - 1) AS g \gset context_
SELECT extract(epoch FROM clock_timestamp()) AS t3 \gset
SELECT count(t.org_id::text || t.token)
FROM generate_series(0, :calls - 1) AS g JOIN bench.context_tokens t ON t.n = g % 10000 \gset token_bare_
SELECT extract(epoch FROM clock_timestamp()) AS t4 \gset
SELECT count(tenancy.set_context_signed(t.org_id, t.token))
FROM generate_series(0, :calls - 1) AS g JOIN bench.context_tokens t ON t.n = g % 10000 \gset signed_
SELECT extract(epoch FROM clock_timestamp()) AS t5 \gset
COMMIT;
SELECT :t1 - :t0 AS bare, :t2 - :t1 AS config, :t3 - :t2 AS context,
       :t4 - :t3 AS token_bare, :t5 - :t4 AS signed \gset
\echo inserver :bare :config :context :token_bare :signed
