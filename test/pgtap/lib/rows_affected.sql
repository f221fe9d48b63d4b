-- rows_affected(command): runs it and returns how many rows it reached, so
-- that an UPDATE or DELETE that row level security hides can be asserted to
-- affect 0 rows (RLS hides rows instead of raising an error).
CREATE FUNCTION pg_temp.rows_affected(command text) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE command;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
