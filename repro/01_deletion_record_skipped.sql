-- superuser. A DBA BEFORE INSERT trigger on tenancy.organization_deletions that skips the row
-- (RETURN NULL) makes every organization deletion fail with an internal error (XX000).
\set VERBOSITY verbose
BEGIN;
CREATE FUNCTION public.c30_skip() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
CREATE TRIGGER c30_skip BEFORE INSERT ON tenancy.organization_deletions
  FOR EACH ROW EXECUTE FUNCTION public.c30_skip();
SELECT tenancy.create_organization('c30-del', 'C30 del', '00000000-0000-0000-0000-0000000000d1') AS d \gset
DELETE FROM tenancy.organizations WHERE id = :'d';
ROLLBACK;
