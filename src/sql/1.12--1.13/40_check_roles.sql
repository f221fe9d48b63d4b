-------------------------------------------------------------------------------
-- check_configuration(): the roles whose policies and privileges the
-- application gets, found by walking pg_auth_members up from its members.
--
-- Until 1.13 they were found by asking pg_has_role() for every pair of a
-- member of tenancy_app and a role of the cluster. PostgreSQL caches the
-- memberships of one role at a time, so each call with another member
-- computed them again: with 2,000 application logins check() took 8.4 s, and
-- a review measured more than 10 minutes with 20,000 (a login per user, as
-- some platforms make). The same set, as pg_has_role(member, role, 'MEMBER')
-- defines it for members that are not superusers: the members themselves,
-- every role they belong to, directly or not, and pg_database_owner when
-- any of those owns this database (as PostgreSQL's roles_is_member_of adds
-- it; a first draft looked only at the members, and a review's graphs of
-- roles found the owner reached through a chain missing).
--
-- Patched in place as in 1.10 to 1.12: the replaced text must occur exactly
-- once, or the upgrade stops (55000).
-------------------------------------------------------------------------------
DO $patch$
DECLARE
    old_text constant text := $old$    SELECT r.oid AS roleid FROM pg_roles r
    WHERE EXISTS (SELECT FROM app_members m JOIN pg_roles mr ON mr.oid = m.roleid
                  WHERE NOT mr.rolsuper AND pg_has_role(m.roleid, r.oid, 'MEMBER'))
$old$;
    new_text constant text := $new$    -- (1.13: walked up pg_auth_members from the members, rather than
    -- pg_has_role() for every pair of a member and a role.)
    WITH RECURSIVE belongs(roleid) AS (
        SELECT m.roleid FROM app_members m JOIN pg_roles mr ON mr.oid = m.roleid
        WHERE NOT mr.rolsuper
        UNION
        SELECT a.roleid FROM pg_auth_members a JOIN belongs b ON a.member = b.roleid)
    SELECT roleid FROM belongs
    UNION
    -- Any role on the way that owns this database makes its members
    -- pg_database_owner, which belongs to no role in turn.
    SELECT 'pg_database_owner'::regrole::oid
    WHERE EXISTS (SELECT FROM belongs b JOIN pg_database d
                  ON d.datname = current_database() AND d.datdba = b.roleid)
$new$;
    definition text := pg_catalog.pg_get_functiondef('tenancy.check_configuration()'::pg_catalog.regprocedure);
    found int := (length(definition) - length(replace(definition, old_text, ''))) / length(old_text);
BEGIN
    IF found <> 1 THEN
        RAISE EXCEPTION 'tenancy.check_configuration() is not the function the extension installed (found % times)', found
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Restore it from the extension''s scripts before upgrading.';
    END IF;
    EXECUTE replace(definition, old_text, new_text);
END
$patch$;
