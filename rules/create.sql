-- R2 Create: an in-scope Entra user with no linked or matching Emply user gets a new Emply user
-- (username = UPN, e-mail = mail or UPN, names from Entra, roles = the mapped roles). When an
-- employee with that e-mail has no user, the new user is created for that employee.
-- reads: change_key, emply_users, link_candidates, links, plan_links, stg_emply_employees,
--        stg_emply_users, stg_entra_users, stg_in_scope
-- makes: plan_creations, plan_users
-- writes: planned_changes
CREATE OR REPLACE TEMP TABLE plan_creations AS
WITH to_create AS (
    SELECT e.*, s.mapped_roles, s.groups
    FROM stg_in_scope s
    JOIN stg_entra_users e USING (entra_object_id)
    WHERE entra_object_id NOT IN (SELECT entra_object_id FROM plan_links)
      AND entra_object_id NOT IN (SELECT entra_object_id FROM link_candidates)
      -- an Emply user the sync once linked and that was deleted in Emply is not re-created
      -- (gone from this run's export, or already marked deleted by an earlier run)
      AND entra_object_id NOT IN (
          SELECT entra_object_id FROM links
          WHERE emply_deleted OR emply_user_id NOT IN (SELECT user_id FROM emply_users)
      )
),
free_employees AS (
    SELECT email_key, any_value(employee_id) AS employee_id
    FROM stg_emply_employees
    WHERE user_id IS NULL AND NOT archived AND email_key IS NOT NULL
    GROUP BY email_key
    HAVING count(*) = 1
)
SELECT c.*, f.employee_id
FROM to_create c
LEFT JOIN free_employees f ON f.email_key = coalesce(c.mail_key, c.upn_key);

INSERT INTO planned_changes
    (change_id, kind, rule_id, emply_user_id, entra_object_id, subject, before, after, reason)
SELECT
    change_key('create_user', NULL, c.entra_object_id, NULL),
    'create_user', 'R2', NULL, c.entra_object_id, c.upn,
    NULL,
    to_json({
        'username': c.upn,
        'email': coalesce(c.mail, c.upn),
        'first_name': c.given_name,
        'last_name': c.surname,
        'roles': c.mapped_roles,
        'employee_id': c.employee_id,
        'entra_object_id': c.entra_object_id
    }),
    'R2: in scope through ' || array_to_string(c.groups, ', ')
        || ' and no Emply user is linked or matches'
        || CASE WHEN c.employee_id IS NOT NULL
                THEN '; created for employee ' || c.employee_id || ' with the same e-mail'
                ELSE '' END
FROM plan_creations c;

-- The Emply users linked after this plan, as the rules after this one see them: the linked
-- ones (plan_links) and the ones create_user makes. A created user gets every other change due
-- to it (photo, calendars, events, write-back) in the same run: its Emply id is null here and
-- known once create_user is written (the writer fills it in). It is active, has Emply's
-- default calendar switch (on), no picture, and the roles and employee create_user gives it.
CREATE OR REPLACE TEMP TABLE plan_users AS
SELECT
    l.emply_user_id, l.entra_object_id, u.username, u.active, u.calendar_sync_enabled,
    u.photo_sha256, u.roles, u.has_profile, u.profile_employee_id, u.profile_archived,
    false AS created
FROM plan_links l
JOIN stg_emply_users u ON u.user_id = l.emply_user_id
UNION ALL
SELECT
    NULL, entra_object_id, upn, true, true,
    NULL, mapped_roles, employee_id IS NOT NULL, employee_id, false,
    true
FROM plan_creations;
