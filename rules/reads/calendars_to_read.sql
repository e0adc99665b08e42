-- R9: the calendars whose events extraction fetches: editable, and enabled in Emply or a new
-- default calendar (a user not linked yet has only new ones).
-- reads: emply_calendars, emply_users, entra_calendars
-- makes: calendars_to_read
CREATE OR REPLACE TEMP VIEW calendars_to_read AS
SELECT DISTINCT c.entra_object_id, c.calendar_id
FROM entra_calendars c
LEFT JOIN emply_users u ON u.entra_object_id = c.entra_object_id
LEFT JOIN emply_calendars m ON m.user_id = u.user_id AND m.entra_calendar_id = c.calendar_id
WHERE c.can_edit AND (m.enabled OR (m.calendar_id IS NULL AND c.is_default));
