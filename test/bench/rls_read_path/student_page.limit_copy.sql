SELECT * FROM bench.members_handwritten WHERE organization_id = :org_id AND (user_id = :ctx_user_id OR role <> 'student') ORDER BY user_id LIMIT 50;
