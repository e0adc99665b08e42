-- R7 Write-back to Entra: cloud tenants only (never when hybrid), never for an Entra user with
-- onPremisesSyncEnabled (a finding says what was not written).
--   write.update: the employee profile's master data (given name, surname, display name, job
--     title, department, mobile phone) goes to the linked Entra user, one change carrying
--     every attribute that differs. An empty Emply value clears Entra's, but never displayName.
--   write.create: an active, unlinked Emply user in one of the tenant's domains is created in
--     Entra and added to the connected group of each of its roles, so the next run keeps it in
--     scope; the create links it (externalId). External domains stay Emply-only.
--   write.delete: a linked Emply user that was deleted, or whose employee is archived, has its
--     Entra user soft-deleted (restorable for 30 days).
-- reads: change_key, changes, emply_users, entra_deleted_users, link_candidates, links,
--        plan_links, plan_users, run_settings, settings_domains, stg_connected_groups,
--        stg_emply_employees, stg_emply_users, stg_entra_users
-- makes: writeback_switches, master_data_diffs, entra_created_before, entra_creations,
--        entra_creations_planned, entra_deletions
-- writes: planned_changes

CREATE OR REPLACE TEMP TABLE writeback_switches AS
SELECT
    NOT hybrid AND write_update AS may_update,
    NOT hybrid AND write_create AS may_create,
    NOT hybrid AND write_delete AS may_delete
FROM run_settings;

-- write.update -------------------------------------------------------------------------------
CREATE OR REPLACE TEMP TABLE master_data_diffs AS
WITH profiles AS (
    SELECT
        u.emply_user_id, u.entra_object_id, u.username, e.upn, e.on_premises_sync_enabled,
        e.given_name, e.surname, e.display_name, e.job_title, e.department, e.mobile_phone,
        p.first_name AS p_first, p.last_name AS p_last, p.job_title AS p_job,
        p.department AS p_department, p.mobile_phone AS p_mobile
    FROM plan_users u  -- a user create_user makes for an employee is written back at once
    JOIN stg_emply_employees p ON p.employee_id = u.profile_employee_id
    JOIN stg_entra_users e ON e.entra_object_id = u.entra_object_id
    WHERE (SELECT may_update FROM writeback_switches) AND NOT u.profile_archived
),
pairs AS (
    SELECT *, 'givenName' AS attribute, p_first AS emply_value, given_name AS entra_value
    FROM profiles
    UNION ALL SELECT *, 'surname', p_last, surname FROM profiles
    UNION ALL SELECT *, 'displayName', concat_ws(' ', nullif(trim(p_first), ''),
                                                  nullif(trim(p_last), '')), display_name
    FROM profiles
    UNION ALL SELECT *, 'jobTitle', p_job, job_title FROM profiles
    UNION ALL SELECT *, 'department', p_department, department FROM profiles
    UNION ALL SELECT *, 'mobilePhone', p_mobile, mobile_phone FROM profiles
)
SELECT
    emply_user_id, entra_object_id, username, upn, on_premises_sync_enabled, attribute,
    nullif(trim(emply_value), '') AS emply_value,
    nullif(trim(entra_value), '') AS entra_value
FROM pairs
WHERE nullif(trim(emply_value), '') IS DISTINCT FROM nullif(trim(entra_value), '')
  AND NOT (attribute = 'displayName' AND nullif(trim(emply_value), '') IS NULL);

INSERT INTO planned_changes
    (change_id, kind, rule_id, emply_user_id, entra_object_id, subject, before, after, reason)
WITH per_user AS (
    SELECT
        emply_user_id, entra_object_id, username, upn,
        json_group_object(attribute, entra_value) AS before,
        json_group_object(attribute, emply_value) AS after,
        string_agg(attribute, ', ' ORDER BY attribute) AS attributes
    FROM master_data_diffs
    WHERE NOT on_premises_sync_enabled
    GROUP BY ALL
)
SELECT
    change_key('update_entra_user', emply_user_id, entra_object_id, after),
    'update_entra_user', 'R7', emply_user_id, entra_object_id, upn,
    before, after,
    'R7: the employee profile of ' || username || ' is the master data and differs from Entra in '
        || attributes || '; written to Entra (write.update)'
FROM per_user;

-- write.create -------------------------------------------------------------------------------
-- Users this sync created in Entra before, per the audit (a partly applied create resumes).
CREATE OR REPLACE TEMP TABLE entra_created_before AS
SELECT emply_user_id, any_value(json_extract_string(result, '$.entra_object_id')) AS entra_object_id
FROM changes
WHERE kind = 'create_entra_user' AND json_extract_string(result, '$.entra_object_id') IS NOT NULL
GROUP BY emply_user_id;

CREATE OR REPLACE TEMP TABLE entra_creations AS
WITH candidates AS (
    SELECT
        u.user_id AS emply_user_id, u.username, u.email_key, u.roles, u.has_profile,
        coalesce(p.first_name, r.first_name) AS given_name,
        coalesce(p.last_name, r.last_name) AS surname,
        p.job_title, p.department, p.mobile_phone
    FROM stg_emply_users u
    JOIN emply_users r ON r.user_id = u.user_id
    LEFT JOIN stg_emply_employees p ON p.employee_id = u.profile_employee_id
    WHERE (SELECT may_create FROM writeback_switches)
      AND u.active
      AND u.entra_object_id IS NULL
      AND u.user_id NOT IN (SELECT emply_user_id FROM plan_links)
      AND u.user_id NOT IN (SELECT emply_user_id FROM link_candidates)
      AND split_part(u.email_key, '@', 2) IN (SELECT lower(domain) FROM settings_domains)
),
groups_of_roles AS (
    SELECT c.emply_user_id,
           list(g.group_name ORDER BY g.group_name) AS group_names,
           list({'group_id': g.group_id, 'group': g.group_name} ORDER BY g.group_name) AS groups
    FROM candidates c, unnest(c.roles) AS t(role)
    JOIN (SELECT role, arg_min(group_name, group_name) AS group_name,
                 arg_min(group_id, group_name) AS group_id
          FROM stg_connected_groups WHERE group_id IS NOT NULL GROUP BY role) g
      ON g.role = t.role
    GROUP BY c.emply_user_id
),
taken AS (  -- an Entra user (or a deleted one) already has this name
    SELECT upn_key AS name_key, entra_object_id FROM stg_entra_users
    UNION ALL SELECT mail_key, entra_object_id FROM stg_entra_users WHERE mail_key IS NOT NULL
    UNION ALL SELECT lower(trim(user_principal_name)), id FROM entra_deleted_users
)
SELECT
    c.*,
    coalesce(g.group_names, []) AS group_names,
    coalesce(len(g.groups), 0) AS group_count,
    g.groups,
    b.entra_object_id AS created_before,
    (SELECT any_value(t.entra_object_id) FROM taken t WHERE t.name_key = c.email_key)
        AS taken_by
FROM candidates c
LEFT JOIN groups_of_roles g USING (emply_user_id)
LEFT JOIN entra_created_before b USING (emply_user_id);

INSERT INTO planned_changes
    (change_id, kind, rule_id, emply_user_id, entra_object_id, subject, before, after, reason)
SELECT
    change_key('finding', emply_user_id, NULL, {'r7': 'not created', 'email': email_key}),
    'finding', 'R7', emply_user_id, taken_by, username,
    NULL, NULL,
    'R7: ' || username || ' is not created in Entra: ' || CASE
        WHEN group_count = 0
            THEN 'none of its roles (' || array_to_string(roles, ', ')
                 || ') maps to a connected group, so it would be out of scope'
        ELSE 'an Entra user named ' || email_key || ' exists (' || taken_by
             || ') but is not in scope, so nothing links to it'
    END
FROM entra_creations
WHERE group_count = 0 OR (taken_by IS NOT NULL AND taken_by IS DISTINCT FROM created_before);

CREATE OR REPLACE TEMP TABLE entra_creations_planned AS
SELECT * FROM entra_creations
WHERE group_count > 0 AND (taken_by IS NULL OR taken_by = created_before);

INSERT INTO planned_changes
    (change_id, kind, rule_id, emply_user_id, entra_object_id, subject, before, after, reason)
SELECT
    change_key('create_entra_user', emply_user_id, NULL, email_key),
    'create_entra_user', 'R7', emply_user_id, created_before, email_key,
    NULL,
    to_json({
        'userPrincipalName': email_key,
        'mail': email_key,
        'mailNickname': regexp_replace(split_part(email_key, '@', 1), '[^a-z0-9._-]', '', 'g'),
        'displayName': coalesce(nullif(concat_ws(' ', given_name, surname), ''), username),
        'givenName': given_name,
        'surname': surname,
        'jobTitle': job_title,
        'department': department,
        'mobilePhone': mobile_phone,
        'groups': group_names
    }),
    'R7: ' || username || ' is active, not linked and in domain ' || split_part(email_key, '@', 2)
        || '; created in Entra with a temporary password to change at first sign-in, and linked'
        || CASE WHEN created_before IS NOT NULL
                THEN ' (resumes the create that made ' || created_before || ')' ELSE '' END
FROM entra_creations_planned;

INSERT INTO planned_changes
    (change_id, kind, rule_id, emply_user_id, entra_object_id, subject, before, after, reason)
SELECT
    change_key('add_entra_group_member', emply_user_id, NULL, g.group_id),
    'add_entra_group_member', 'R7', emply_user_id, created_before, email_key,
    NULL,
    to_json(g),
    'R7: ' || email_key || ' is added to connected group ' || g."group"
        || ' (its role maps there), so the next run keeps it in scope'
FROM (SELECT *, unnest(groups) AS g FROM entra_creations_planned);

-- write.delete -------------------------------------------------------------------------------
CREATE OR REPLACE TEMP TABLE entra_deletions AS
SELECT
    l.emply_user_id, l.entra_object_id, coalesce(l.username, e.upn) AS username, e.upn,
    e.on_premises_sync_enabled, 'the Emply user was deleted' AS why
FROM links l
JOIN stg_entra_users e ON e.entra_object_id = l.entra_object_id
WHERE (SELECT may_delete FROM writeback_switches)
  AND l.emply_user_id NOT IN (SELECT user_id FROM emply_users)
UNION ALL
SELECT
    l.emply_user_id, l.entra_object_id, u.username, e.upn,
    e.on_premises_sync_enabled, 'the employee of the Emply user is archived'
FROM plan_links l
JOIN stg_emply_users u ON u.user_id = l.emply_user_id
JOIN stg_entra_users e ON e.entra_object_id = l.entra_object_id
WHERE (SELECT may_delete FROM writeback_switches) AND u.profile_archived;

INSERT INTO planned_changes
    (change_id, kind, rule_id, emply_user_id, entra_object_id, subject, before, after, reason)
SELECT
    change_key('delete_entra_user', emply_user_id, entra_object_id, NULL),
    'delete_entra_user', 'R7', emply_user_id, entra_object_id, upn,
    to_json({'exists': true}), to_json({'deleted': true}),
    'R7: ' || why || ' (' || username || '); Entra user ' || upn
        || ' soft-deleted, restorable for 30 days (write.delete)'
FROM entra_deletions
WHERE NOT on_premises_sync_enabled;

-- On-premises users: what was not written, as findings.
INSERT INTO planned_changes
    (change_id, kind, rule_id, emply_user_id, entra_object_id, subject, before, after, reason)
SELECT
    change_key('finding', emply_user_id, entra_object_id, {'r7': 'on-premises', 'kind': kind}),
    'finding', 'R7', emply_user_id, entra_object_id, upn,
    NULL, NULL,
    'R7: ' || upn || ' is synced from on-premises AD (onPremisesSyncEnabled); ' || what
        || ' not written to Entra'
FROM (
    SELECT DISTINCT emply_user_id, entra_object_id, upn, 'update_entra_user' AS kind,
           'its employee master data differs but is' AS what
    FROM master_data_diffs WHERE on_premises_sync_enabled
    UNION ALL
    SELECT emply_user_id, entra_object_id, upn, 'delete_entra_user',
           'the delete (' || why || ') is'
    FROM entra_deletions WHERE on_premises_sync_enabled
);
