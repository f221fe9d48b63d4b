SELECT * FROM tenancy.members ORDER BY user_id LIMIT 50;
