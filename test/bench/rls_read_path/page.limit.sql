SELECT * FROM tenancy.members WHERE organization_id = :org_id ORDER BY user_id LIMIT 50;
