-- R4 Safety, what it counts: the deactivations a plan makes (deleting an Entra user, R7
-- write.delete, counts too: it is the more drastic), and the linked Emply users before the
-- plan, the base of the percentage. The thresholds are the settings' (entrasync/gate/r4.py).
-- reads: emply_users, planned_changes
-- makes: r4_deactivations, r4_linked_users
CREATE OR REPLACE TEMP VIEW r4_deactivations AS
SELECT subject, emply_user_id
FROM planned_changes
WHERE kind IN ('deactivate_user', 'delete_entra_user');

CREATE OR REPLACE TEMP VIEW r4_linked_users AS
SELECT count(*) AS linked_users FROM emply_users WHERE entra_object_id IS NOT NULL;
