-- Two more sessions through dblink, for races between transactions.
--   connect(name)  opens a session to this database.
--   hold_while(holder, holder_sql, waiter, waiter_sql)  the holder runs
--       holder_sql (one text value) in a transaction; the waiter then sends
--       waiter_sql; the holder commits once the waiter waits on a lock (up to
--       10 s). Returns holder_sql's value and whether the waiter waited; the
--       caller reads the waiter's outcome with dblink_get_result.
--   waits_on_lock(sql)  whether a session running sql waits on a lock,
--       asked again for up to 10 s until it does.
CREATE EXTENSION IF NOT EXISTS dblink;
CREATE FUNCTION pg_temp.connect(name text) RETURNS text LANGUAGE sql AS $$
    SELECT dblink_connect(name, format('host=%s port=%s dbname=%s',
        split_part(current_setting('unix_socket_directories'), ',', 1),
        current_setting('port'), current_database()))
$$;
CREATE FUNCTION pg_temp.waits_on_lock(sql text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    waited boolean := false;
BEGIN
    FOR i IN 1 .. 1000 LOOP
        waited := EXISTS (SELECT FROM pg_stat_activity WHERE wait_event_type = 'Lock'
                          AND query = sql);
        EXIT WHEN waited;
        PERFORM pg_sleep(0.01);
        PERFORM pg_stat_clear_snapshot();
    END LOOP;
    RETURN waited;
END
$$;
CREATE FUNCTION pg_temp.hold_while(holder text, holder_sql text, waiter text, waiter_sql text)
    RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    held text;
    waited boolean := false;
BEGIN
    PERFORM dblink_exec(holder, 'BEGIN');
    SELECT t.held INTO held FROM dblink(holder, holder_sql) AS t(held text);
    PERFORM dblink_send_query(waiter, waiter_sql);
    waited := pg_temp.waits_on_lock(waiter_sql);
    PERFORM dblink_exec(holder, 'COMMIT');
    RETURN format('%s: %s; %s waited: %s', holder, held, waiter, waited);
END
$$;
