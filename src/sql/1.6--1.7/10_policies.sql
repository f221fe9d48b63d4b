-------------------------------------------------------------------------------
-- Policies that read the context by plain calls of its getters, never in a
-- sub-select.
--
-- A sub-select such as (SELECT tenancy.current_member_role()) is an InitPlan:
-- evaluated once per statement, when the first row reaches it. The planner
-- orders a policy's conjuncts by cost and lets a caller's leakproof condition
-- (=, ^@, <) run before them, so the InitPlan could be reached by a row of
-- another organization before the organization was compared: EXPLAIN ANALYZE
-- of an UPDATE or DELETE then showed it executed when some row of any
-- organization matched the caller's condition, and "never executed" when none
-- did, which was enough to read other organizations' paths and ids a bit at a
-- time. A plain call leaves no such trace. Where a role decides whether the
-- organization's rows are reachable at all, the role goes into the compared
-- value (organization_id = CASE WHEN role … THEN current_org_id() END), as
-- 1.4 did for the analytics policies: one indexable condition.
-------------------------------------------------------------------------------
ALTER POLICY organizations_update ON tenancy.organizations
    USING (id = CASE WHEN tenancy.current_member_role() IN ('owner', 'admin')
                     THEN tenancy.current_org_id() END)
    WITH CHECK (id = tenancy.current_org_id());
ALTER POLICY organizations_delete ON tenancy.organizations
    USING (id = CASE WHEN tenancy.current_member_role() = 'owner'
                     THEN tenancy.current_org_id() END);

ALTER POLICY members_select ON tenancy.members
    USING (organization_id = tenancy.current_org_id()
           AND (tenancy.current_member_role() <> 'student'
                OR user_id = tenancy.current_user_id()
                OR role <> 'student'));
ALTER POLICY members_insert ON tenancy.members
    WITH CHECK (organization_id = CASE WHEN tenancy.current_member_role() IN ('owner', 'admin')
                                       THEN tenancy.current_org_id() END
                AND (role <> 'owner' OR tenancy.current_member_role() = 'owner'));
ALTER POLICY members_update ON tenancy.members
    USING (organization_id = CASE WHEN tenancy.current_member_role() IN ('owner', 'admin')
                                  THEN tenancy.current_org_id() END
           AND (role <> 'owner' OR tenancy.current_member_role() = 'owner'))
    WITH CHECK (organization_id = tenancy.current_org_id()
                AND (role <> 'owner' OR tenancy.current_member_role() = 'owner'));
ALTER POLICY members_delete ON tenancy.members
    USING (organization_id = CASE WHEN tenancy.current_member_role() IN ('owner', 'admin')
                                  THEN tenancy.current_org_id() END
           AND (role <> 'owner' OR tenancy.current_member_role() = 'owner'));

ALTER POLICY files_select ON tenancy.files
    USING (organization_id = tenancy.current_org_id()
           AND (tenancy.current_member_role() IN ('owner', 'admin')
                OR owner_id = tenancy.current_user_id()
                OR (deleted_at IS NULL
                    AND (visibility = 'org'
                         OR (visibility = 'staff'
                             AND tenancy.current_member_role() = 'teacher')))));
ALTER POLICY files_insert ON tenancy.files
    WITH CHECK (organization_id = tenancy.current_org_id()
                AND (owner_id = tenancy.current_user_id()
                     OR tenancy.current_member_role() IN ('owner', 'admin')));
ALTER POLICY files_update ON tenancy.files
    USING (organization_id = tenancy.current_org_id()
           AND (owner_id = tenancy.current_user_id()
                OR tenancy.current_member_role() IN ('owner', 'admin')))
    WITH CHECK (organization_id = tenancy.current_org_id()
                AND (owner_id = tenancy.current_user_id()
                     OR tenancy.current_member_role() IN ('owner', 'admin')));
ALTER POLICY files_delete ON tenancy.files
    USING (organization_id = tenancy.current_org_id()
           AND (owner_id = tenancy.current_user_id()
                OR tenancy.current_member_role() IN ('owner', 'admin')));

ALTER POLICY file_access_log_select ON tenancy.file_access_log
    USING (organization_id = tenancy.current_org_id()
           AND (tenancy.current_member_role() IN ('owner', 'admin')
                OR user_id = tenancy.current_user_id()
                OR (tenancy.current_member_role() = 'teacher'
                    AND EXISTS (SELECT 1 FROM tenancy.files f
                                WHERE f.organization_id = file_access_log.organization_id
                                  AND f.id = file_access_log.file_id))));

ALTER POLICY events_insert ON tenancy.events
    WITH CHECK (organization_id = tenancy.current_org_id()
                AND user_id = tenancy.current_user_id());
