SELECT * FROM bench.members_handwritten WHERE organization_id = :org_id ORDER BY user_id LIMIT 50;
