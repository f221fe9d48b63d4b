SELECT * FROM bench.members_handwritten WHERE user_id = :target_id;
