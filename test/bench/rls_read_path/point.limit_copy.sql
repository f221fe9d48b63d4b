SELECT * FROM bench.members_handwritten WHERE organization_id = :org_id AND user_id = :target_id;
