-- An UPDATE that set the role of the last active owner to NULL was refused as
-- a demotion ("cannot remove, demote or deactivate the last owner", 42501)
-- before the NOT NULL constraint could say what was wrong (23502), as it says
-- for every other member (review of 1.25's errors). The guard lets a NULL role
-- through to the constraint, which refuses it after the BEFORE triggers. One
-- line for one: the line numbers of its CONTEXT lines stay.
SELECT tenancy.replace_in_function('tenancy.members_guard()',
    $old$        IF NEW.role = 'owner' AND NEW.deactivated_at IS NULL THEN
$old$,
    $new$        IF NEW.role IS NULL OR (NEW.role = 'owner' AND NEW.deactivated_at IS NULL) THEN
$new$);
