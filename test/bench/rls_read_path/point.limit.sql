SELECT * FROM tenancy.members WHERE organization_id = :org_id AND user_id = :target_id;
