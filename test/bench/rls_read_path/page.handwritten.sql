SELECT * FROM bench.members_handwritten ORDER BY user_id LIMIT 50;
