-- R5 Roles (sync_roles on; linked in-scope users WITHOUT an employee profile).
-- D = roles mapped from the user's connected groups, R = the user's roles now.
-- 1. D ⊆ R: no change.  2. For each connected group the user is in whose mapped role changed
-- since the last run (old → new): if old ∈ R, replace it with new.  3. If now D ⊆ R, stop.
-- 4. Otherwise R := D. An administrator role is never removed.
-- reads: change_key, group_role_history, plan_links, run_settings, stg_admin_roles,
--        stg_connected_groups, stg_emply_users, stg_in_scope, stg_last_completed_run
-- makes: remapped_groups, role_subjects, roles_after_remap, held_admin_roles
-- writes: planned_changes

-- Connected groups whose role changed since the last completed run.
CREATE OR REPLACE TEMP TABLE remapped_groups AS
SELECT h.group_name, h.role AS old_role, c.role AS new_role
FROM group_role_history h
JOIN stg_last_completed_run r USING (run_id)
JOIN stg_connected_groups c ON lower(c.group_name) = lower(h.group_name)
WHERE h.role <> c.role;

CREATE OR REPLACE TEMP TABLE role_subjects AS
SELECT l.emply_user_id, l.entra_object_id, u.username, u.roles AS current_roles,
       s.mapped_roles, s.groups
FROM plan_links l
JOIN stg_emply_users u ON u.user_id = l.emply_user_id
JOIN stg_in_scope s ON s.entra_object_id = l.entra_object_id
WHERE (SELECT sync_roles FROM run_settings)
  AND NOT u.has_profile
  AND NOT list_has_all(u.roles, s.mapped_roles);  -- step 1

-- Step 2: swap old for new where the user holds old (an old admin role is kept beside new).
CREATE OR REPLACE TEMP TABLE roles_after_remap AS
WITH held AS (
    SELECT emply_user_id, unnest(current_roles) AS role FROM role_subjects
),
swaps AS (
    SELECT DISTINCT s.emply_user_id, g.old_role, g.new_role
    FROM role_subjects s, unnest(s.groups) AS t(group_name)
    JOIN remapped_groups g ON lower(g.group_name) = lower(t.group_name)
),
swapped AS (
    SELECT h.emply_user_id, coalesce(w.new_role, h.role) AS role
    FROM held h LEFT JOIN swaps w ON w.emply_user_id = h.emply_user_id AND w.old_role = h.role
    UNION ALL
    SELECT h.emply_user_id, h.role
    FROM held h JOIN swaps w ON w.emply_user_id = h.emply_user_id AND w.old_role = h.role
    WHERE h.role IN (SELECT role FROM stg_admin_roles)
)
SELECT s.emply_user_id,
       list_sort(list_distinct(list(w.role) FILTER (WHERE w.role IS NOT NULL))) AS roles
FROM role_subjects s LEFT JOIN swapped w USING (emply_user_id)
GROUP BY s.emply_user_id;

CREATE OR REPLACE TEMP TABLE held_admin_roles AS
SELECT emply_user_id, list_sort(list(role)) AS admin_roles
FROM (SELECT emply_user_id, unnest(current_roles) AS role FROM role_subjects)
WHERE role IN (SELECT role FROM stg_admin_roles)
GROUP BY emply_user_id;

INSERT INTO planned_changes
    (change_id, kind, rule_id, emply_user_id, entra_object_id, subject, before, after, reason)
WITH decided AS (
    SELECT
        s.*,
        coalesce(r.roles, []) AS remapped_roles,
        list_has_all(coalesce(r.roles, []), s.mapped_roles) AS remap_suffices,
        coalesce(a.admin_roles, []) AS admin_roles
    FROM role_subjects s
    LEFT JOIN roles_after_remap r USING (emply_user_id)
    LEFT JOIN held_admin_roles a USING (emply_user_id)
),
target AS (
    SELECT *,
        CASE WHEN remap_suffices THEN remapped_roles                                  -- step 3
             ELSE list_sort(list_distinct(list_concat(mapped_roles, admin_roles)))    -- step 4
        END AS target_roles
    FROM decided
)
SELECT
    change_key('set_roles', emply_user_id, entra_object_id, target_roles),
    'set_roles', 'R5', emply_user_id, entra_object_id, username,
    to_json({'roles': current_roles}), to_json({'roles': target_roles}),
    'R5: mapped roles ' || array_to_string(mapped_roles, ', ') || ' (from '
        || array_to_string(groups, ', ') || ') not all held; '
        || CASE WHEN remap_suffices
                THEN 'replaced the roles of remapped groups, other roles kept'
                ELSE 'roles set to exactly the mapped roles'
                     || CASE WHEN len(admin_roles) > 0
                             THEN ' (administrator role kept: ' || array_to_string(admin_roles, ', ') || ')'
                             ELSE '' END
           END
FROM target
WHERE list_sort(target_roles) <> list_sort(current_roles);
