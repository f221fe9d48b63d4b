-- The rollups' distinct-user sketches name nobody to the application (1.25;
-- red-team rt30, finding 2). Before 1.25 a sketch of up to 256 users was an
-- exact set of an unkeyed hash of each user id: a teacher, who reads
-- file_rollups.user_sketch and the members' ids, hashed each member and saw
-- who had been active in an hour, a student whose only activity was on a
-- private file the teacher may not see included. Since 1.25 a run hashes
-- with SipHash-2-4 under tenancy.sketch_key, which only superusers read.
--
-- Shown here with real rollup rows, made by run_rollups() (the DBA's, so as
-- postgres), and read as the application login (SET LOCAL ROLE
-- tenancy_test_app with a teacher's context, as rollups_exactly_once.sql
-- section 11 does): the teacher's 1.24 attack (hash_id of every member,
-- tested against the sketch, computed here in SQL) finds no member, the
-- users counts are right, and, as a control, the same attack on a sketch
-- the library made without the key table (a schema of 1.24, which it
-- hashes as before) names exactly the active members (test/roundtrip/
-- upgrade.sh runs that fallback). test/pgtap/sketch_key_hidden.sql shows,
-- as the application login itself, that the key is out of its reach.
-- The fixture commits (a run defers the buckets of an organization whose row
-- a transaction holds, its own included), as in rollups_exactly_once.sql:
-- an organization with a unique slug ('skey-…'), deleted at the end with
-- its rollups; the new key of the last section is rolled back.
SET client_min_messages = warning;
SET lock_timeout = '60s';
SELECT plan(12);

-- hash_id (src/core/distinct_sketch.cpp, the 1.24 hash): splitmix64's
-- finalizer over the id's two little-endian halves, in numeric (0 … 2^64-1).
CREATE FUNCTION pg_temp.to_bits(n numeric) RETURNS bit(64) LANGUAGE sql IMMUTABLE AS $$
    SELECT (CASE WHEN n >= 9223372036854775808 THEN n - 18446744073709551616 ELSE n END)::bigint::bit(64) $$;
CREATE FUNCTION pg_temp.to_num(b bit(64)) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN b::bigint < 0 THEN b::bigint + 18446744073709551616 ELSE b::bigint END::numeric $$;
CREATE FUNCTION pg_temp.mix64(x numeric) RETURNS numeric LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE b bit(64);
BEGIN
    b := pg_temp.to_bits(x);
    x := mod(pg_temp.to_num(b # (b >> 30)) * 13787848793156543929, 18446744073709551616);
    b := pg_temp.to_bits(x);
    x := mod(pg_temp.to_num(b # (b >> 27)) * 10723151780598845931, 18446744073709551616);
    b := pg_temp.to_bits(x);
    RETURN pg_temp.to_num(b # (b >> 31));
END $$;
CREATE FUNCTION pg_temp.le64(b bytea, at int) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
    SELECT sum(get_byte(b, at + i)::numeric * (256::numeric ^ i)::numeric(30, 0))
    FROM generate_series(0, 7) i $$;
CREATE FUNCTION pg_temp.hash_id(u uuid) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
    SELECT pg_temp.mix64(pg_temp.to_num(pg_temp.to_bits(pg_temp.le64(uuid_send(u), 0))
           # pg_temp.to_bits(pg_temp.mix64(mod(pg_temp.le64(uuid_send(u), 8) + 11400714819323198485,
                                                18446744073709551616))))) $$;
-- The hashes an exact distinct sketch holds (format 1, kind 0, a count
-- below 128: one varint byte, then 8-byte little-endian hashes).
CREATE FUNCTION pg_temp.sketch_hashes(s bytea) RETURNS SETOF numeric LANGUAGE sql IMMUTABLE AS $$
    SELECT pg_temp.le64(s, 3 + 8 * i) FROM generate_series(0, get_byte(s, 2) - 1) i
    WHERE get_byte(s, 0) = 1 AND get_byte(s, 1) = 0 $$;

SELECT 'skey-' || left(md5(random()::text || clock_timestamp()::text), 12) AS run,
       gen_random_uuid() AS org, gen_random_uuid() AS owner_id, gen_random_uuid() AS teacher_id,
       gen_random_uuid() AS private_student, gen_random_uuid() AS public_student,
       gen_random_uuid() AS idle_student
\gset
INSERT INTO tenancy.organizations (id, slug, name) VALUES (:'org', :'run', 'Sketch Key School');
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES
    (:'org', :'owner_id', 'owner'), (:'org', :'teacher_id', 'teacher'),
    (:'org', :'private_student', 'student'), (:'org', :'public_student', 'student'),
    (:'org', :'idle_student', 'student');

-- The members' file actions, as the application does them.
BEGIN;
SET LOCAL ROLE tenancy_test_app;
SELECT tenancy.set_context(:'org', :'private_student') \g /dev/null
INSERT INTO tenancy.files (path, name, size_bytes, visibility)
    VALUES (:'run' || '/diary.pdf', 'diary.pdf', 10, 'private') RETURNING id AS private_file \gset
SELECT tenancy.record_file_access(:'private_file', 'view') \g /dev/null
SELECT tenancy.set_context(:'org', :'public_student') \g /dev/null
INSERT INTO tenancy.files (path, name, size_bytes, visibility)
    VALUES (:'run' || '/essay.pdf', 'essay.pdf', 10, 'org') RETURNING id AS public_file \gset
SELECT tenancy.set_context(:'org', :'teacher_id') \g /dev/null
SELECT tenancy.record_file_access(:'public_file', 'download', 10) \g /dev/null
SELECT tenancy.clear_context() \g /dev/null
RESET ROLE;
COMMIT;

-- What the teacher reads of the organization's newest hour: the log rows of
-- the private student, the hour's users, and which members the sketch names
-- under the 1.24 attack. Run as the application login.
CREATE FUNCTION pg_temp.teacher_reads(org uuid, teacher uuid, private_student uuid) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE result text;
BEGIN
    SET LOCAL ROLE tenancy_test_app;
    PERFORM tenancy.set_context(org, teacher);
    SELECT format('log_rows_of_private_student=%s users=%s named=%s',
        (SELECT count(*) FROM tenancy.file_access_log WHERE user_id = private_student),
        (SELECT users FROM tenancy.file_stats_hourly ORDER BY hour DESC LIMIT 1),
        (SELECT count(*) FROM tenancy.members m
         WHERE pg_temp.hash_id(m.user_id) IN
               (SELECT pg_temp.sketch_hashes(user_sketch) FROM tenancy.file_rollups
                ORDER BY hour DESC LIMIT 1)))
    INTO result;
    PERFORM tenancy.clear_context();
    RESET ROLE;
    RETURN result;
END $$;

-- The SQL hash_id is the library's: the sketch below is what run_rollups
-- stored for h_rt30's repro 02 in a schema without tenancy.sketch_key (the
-- 1.25 library there hashes as 1.24 did): teacher a2 and students a3 (a
-- private file only) and a4 active in the hour. The attack names them.
SELECT is(ARRAY(SELECT u FROM unnest(ARRAY['a0000000-0000-0000-0000-000000000000',
                    'a1000000-0000-0000-0000-000000000000', 'a2000000-0000-0000-0000-000000000000',
                    'a3000000-0000-0000-0000-000000000000', 'a4000000-0000-0000-0000-000000000000']::uuid[]) u
                WHERE pg_temp.hash_id(u) IN (SELECT pg_temp.sketch_hashes(
                    '\x010003da2c26aa7d213266b179b42a2a5be9a465f50b9f24d935ed'::bytea))),
          ARRAY['a2000000-0000-0000-0000-000000000000', 'a3000000-0000-0000-0000-000000000000',
                'a4000000-0000-0000-0000-000000000000']::uuid[],
          'the 1.24 attack, on an unkeyed sketch the library made: it names the 3 active members');
SELECT is(tenancy.sketch_distinct_count('\x010003da2c26aa7d213266b179b42a2a5be9a465f50b9f24d935ed'::bytea),
          3::bigint, 'that sketch counts 3 users');

-- With the key (1.25).
SELECT ok((SELECT count(*) FROM tenancy.run_rollups(wait => true)) = 2, 'run_rollups counts with the key');
SELECT is((SELECT count(*) FROM tenancy.file_access_log WHERE organization_id = :'org'), 4::bigint,
          'the organization''s log has its 4 rows (2 uploads, a view, a download)');
BEGIN;
SELECT pg_temp.teacher_reads(:'org', :'teacher_id', :'private_student') AS seen \gset
COMMIT;
SELECT is(:'seen'::text, 'log_rows_of_private_student=0 users=3 named=0',
          'with the key: users is still 3, and the teacher''s hashes of the members name nobody');
SELECT is((SELECT get_byte(user_sketch, 2) FROM tenancy.file_rollups WHERE organization_id = :'org'),
          3, 'the sketch still holds 3 exact hashes (an exact set, counted exactly)');
SELECT is((SELECT count(*) FROM tenancy.file_rollups r, pg_temp.sketch_hashes(r.user_sketch) h
           WHERE r.organization_id = :'org'
             AND h IN (SELECT pg_temp.hash_id(u) FROM unnest(ARRAY[:'owner_id', :'teacher_id',
                       :'private_student', :'public_student', :'idle_student']::uuid[]) u)),
          0::bigint, 'no member''s unkeyed hash is in the sketch');

-- rebuild_rollups recounts with the key too: the same sketch, bit for bit.
SELECT user_sketch AS run_sketch FROM tenancy.file_rollups WHERE organization_id = :'org' \gset
SELECT ok((SELECT count(*) FROM tenancy.rebuild_rollups(:'org')) = 2, 'rebuild_rollups(org) recounts');
SELECT is((SELECT user_sketch FROM tenancy.file_rollups WHERE organization_id = :'org'), :'run_sketch'::bytea,
          'rebuild_rollups hashes with the same key as the run: the same sketch');
SELECT is((SELECT users FROM tenancy.file_stats_daily WHERE organization_id = :'org'), 3::bigint,
          'file_stats_daily: users 3');

-- A new key (INSERT … DEFAULT VALUES) replaces the old one; a rebuild then
-- gives other hashes, the same count (rolled back: the database keeps its key).
BEGIN;
INSERT INTO tenancy.sketch_key DEFAULT VALUES;
SELECT count(*) AS keys_after_insert FROM tenancy.sketch_key \gset
SELECT * FROM tenancy.rebuild_rollups(:'org') \g /dev/null
SELECT user_sketch <> :'run_sketch'::bytea AND tenancy.sketch_distinct_count(user_sketch) = 3 AS rekeyed
    FROM tenancy.file_rollups WHERE organization_id = :'org' \gset
ROLLBACK;
SELECT is(:'keys_after_insert'::bigint, 1::bigint, 'a key inserted replaces the one there');
SELECT ok(:'rekeyed'::boolean, 'under a new key: other hashes, still 3 users');

DELETE FROM tenancy.organizations WHERE id = :'org';
DELETE FROM tenancy.organization_deletions WHERE organization_id = :'org';
SELECT * FROM finish();
