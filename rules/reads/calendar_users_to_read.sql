-- R9 scope of the reads: whose calendars extraction fetches. Linked, active Emply users with
-- calendar sync on whose Entra user is in scope: enabled and a member of a connected group
-- (entra_group_members holds only those groups' members); plus the in-scope Entra users no
-- Emply user is linked to yet, whom this run may link or create (R9 is then due in the same
-- run). A superset of what rules/calendars.sql plans for: the rules decide.
-- reads: emply_users, entra_group_members, entra_users, entra_users_to_link
-- makes: calendar_users_to_read
CREATE OR REPLACE TEMP VIEW calendar_users_to_read AS
SELECT DISTINCT e.id AS entra_object_id
FROM emply_users u
JOIN entra_users e ON e.id = u.entra_object_id
JOIN entra_group_members m ON m.member_id = e.id AND m.member_type = 'user'
WHERE u.active AND u.calendar_sync_enabled AND e.account_enabled
UNION
SELECT entra_object_id FROM entra_users_to_link;
