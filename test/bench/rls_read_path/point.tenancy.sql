SELECT * FROM tenancy.members WHERE user_id = :target_id;
