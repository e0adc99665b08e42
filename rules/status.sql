-- R3 Status: a linked user in scope is active; one out of scope is deactivated (never deleted).
-- Only a user the sync deactivated is reactivated when it is back in scope.
-- reads: change_key, entra_deleted_users, group_role_history, plan_links, run_settings,
--        stg_connected_groups, stg_emply_users, stg_entra_users, stg_in_scope,
--        stg_last_completed_run, stg_previous_scope, sync_deactivated
-- makes: left_groups, status_facts
-- writes: planned_changes

-- The connected groups a user was in at the last completed run; a group that no longer counts
-- for another reason than the user leaving it says so (the R3 reason names what changed).
-- Only users out of scope now need it.
CREATE OR REPLACE TEMP TABLE left_groups AS
SELECT p.entra_object_id,
       string_agg(t.group_name || CASE
           WHEN c.group_name IS NULL THEN ' (taken out of the settings)'
           WHEN c.group_id IS NULL THEN ' (deleted in Entra)'
           ELSE '' END, ', ' ORDER BY t.group_name) AS described
FROM (SELECT * FROM stg_previous_scope ANTI JOIN stg_in_scope USING (entra_object_id)) p,
     unnest(p.groups) AS t(group_name)
LEFT JOIN stg_connected_groups c ON lower(trim(c.group_name)) = lower(trim(t.group_name))
GROUP BY p.entra_object_id;

CREATE OR REPLACE TEMP TABLE status_facts AS
SELECT
    l.emply_user_id,
    l.entra_object_id,
    u.username,
    u.active,
    u.has_profile,
    u.profile_archived,
    s.entra_object_id IS NOT NULL AS in_scope,
    s.groups,
    e.entra_object_id IS NOT NULL AS entra_exists,
    e.account_enabled,
    d.id IS NOT NULL AS entra_deleted,
    lg.described AS previous_groups,
    sd.emply_user_id IS NOT NULL AS deactivated_by_sync,
    sd.run_id AS deactivated_in_run
FROM plan_links l
JOIN stg_emply_users u ON u.user_id = l.emply_user_id
LEFT JOIN stg_in_scope s ON s.entra_object_id = l.entra_object_id
LEFT JOIN stg_entra_users e ON e.entra_object_id = l.entra_object_id
LEFT JOIN entra_deleted_users d ON d.id = l.entra_object_id
LEFT JOIN left_groups lg ON lg.entra_object_id = l.entra_object_id
LEFT JOIN sync_deactivated sd ON sd.emply_user_id = l.emply_user_id;

INSERT INTO planned_changes
    (change_id, kind, rule_id, emply_user_id, entra_object_id, subject, before, after, reason)
SELECT
    change_key('deactivate_user', emply_user_id, entra_object_id, NULL),
    'deactivate_user', 'R3', emply_user_id, entra_object_id, username,
    to_json({'active': true}), to_json({'active': false}),
    'R3: ' || CASE
        WHEN entra_deleted THEN 'the Entra user was deleted'
        WHEN NOT entra_exists THEN 'the Entra user ' || entra_object_id || ' is not in tenant '
                                   || (SELECT entra_tenant_id FROM run_settings)
        WHEN NOT account_enabled THEN 'the Entra user is disabled'
        WHEN previous_groups IS NOT NULL
            THEN 'not in any connected group since run '
                 || (SELECT run_id FROM stg_last_completed_run) || ': removed from '
                 || previous_groups
        ELSE 'not in any connected group'
    END || '; deactivated, not deleted'
FROM status_facts
WHERE NOT in_scope AND active;

INSERT INTO planned_changes
    (change_id, kind, rule_id, emply_user_id, entra_object_id, subject, before, after, reason)
SELECT
    change_key('activate_user', emply_user_id, entra_object_id, NULL),
    'activate_user', 'R3', emply_user_id, entra_object_id, username,
    to_json({'active': false}), to_json({'active': true}),
    'R3: back in scope through ' || array_to_string(groups, ', ')
        || '; the sync deactivated it in run ' || deactivated_in_run
FROM status_facts
WHERE in_scope AND NOT active AND deactivated_by_sync;

-- R10: an Entra user deleted while its employee is still active is reported, not hidden.
INSERT INTO planned_changes
    (change_id, kind, rule_id, emply_user_id, entra_object_id, subject, before, after, reason)
SELECT
    change_key('finding', emply_user_id, entra_object_id, {'r10': 'entra deleted'}),
    'finding', 'R10', emply_user_id, entra_object_id, username,
    NULL, NULL,
    'R10: the Entra user was deleted while the employee of ' || username
        || ' is still active in Emply'
FROM status_facts
WHERE (entra_deleted OR NOT entra_exists) AND has_profile AND NOT profile_archived;

-- R3: a connected group that resolved in an earlier run and is gone from Entra now was deleted
-- there; its members go out of scope above, and the run says so once per run.
INSERT INTO planned_changes
    (change_id, kind, rule_id, emply_user_id, entra_object_id, subject, before, after, reason)
SELECT
    change_key('finding', NULL, NULL, {'deleted_group': c.group_name}),
    'finding', 'R3', NULL, NULL, c.group_name,
    NULL, NULL,
    'R3: connected group ' || c.group_name || ' (mapped to ' || c.role
        || ') no longer exists in Entra; its members are out of scope through it'
FROM stg_connected_groups c
WHERE c.group_id IS NULL
  AND lower(trim(c.group_name)) IN (
      SELECT lower(trim(group_name)) FROM group_role_history WHERE group_id IS NOT NULL
  );
