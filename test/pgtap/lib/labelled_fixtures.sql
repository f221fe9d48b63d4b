-- Labelled fixtures for the file tests (included with \ir): organizations
-- and members known by label ('a', 'a_owner', …), the files by label in the
-- including file's own temp table fx, and act_as(label), which sets the
-- context of that member. Temporary tables: no RLS applies to them.
CREATE TEMP TABLE orgs (label text PRIMARY KEY, id uuid NOT NULL);
CREATE TEMP TABLE who (
    label   text PRIMARY KEY,
    org     text NOT NULL,
    role    tenancy.member_role NOT NULL,
    user_id uuid NOT NULL DEFAULT gen_random_uuid());
-- The uuid of a member, an organization, a file, by label.
CREATE FUNCTION pg_temp.uid(label text) RETURNS uuid
    LANGUAGE plpgsql STABLE AS $$
DECLARE result uuid;
BEGIN
    SELECT user_id INTO STRICT result FROM who WHERE who.label = uid.label;
    RETURN result;
END
$$;
CREATE FUNCTION pg_temp.org(label text) RETURNS uuid
    LANGUAGE plpgsql STABLE AS $$
DECLARE result uuid;
BEGIN
    SELECT id INTO STRICT result FROM orgs WHERE orgs.label = org.label;
    RETURN result;
END
$$;
CREATE FUNCTION pg_temp.fid(label text) RETURNS uuid
    LANGUAGE plpgsql STABLE AS $$
DECLARE result uuid;
BEGIN
    SELECT id INTO STRICT result FROM fx WHERE fx.label = fid.label;
    RETURN result;
END
$$;
CREATE FUNCTION pg_temp.act_as(label text) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    member who;
BEGIN
    SELECT * INTO STRICT member FROM who WHERE who.label = act_as.label;
    RETURN tenancy.set_context(pg_temp.org(member.org), member.user_id)::text;
END
$$;
