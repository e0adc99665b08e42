-- Staging: connected groups resolved to Entra ids, and the in-scope users (SPEC "in scope").
-- A role is Emply's role of that name (trimmed, any case), so D and R compare as Emply spells them.
-- reads: connected_groups, emply_roles, entra_groups, run_settings, runs, scope_history,
--        stg_entra_users, stg_user_memberships
-- makes: stg_connected_groups, stg_in_scope, stg_last_completed_run, stg_previous_scope
CREATE OR REPLACE TEMP TABLE stg_connected_groups AS
SELECT c.group_name, coalesce(r.name, c.role) AS role, g.id AS group_id
FROM connected_groups c
LEFT JOIN entra_groups g ON lower(trim(g.display_name)) = lower(trim(c.group_name))
LEFT JOIN (
    SELECT lower(trim(name)) AS role_key, min(name) AS name FROM emply_roles GROUP BY role_key
) r ON r.role_key = lower(trim(c.role));

CREATE OR REPLACE TEMP TABLE stg_in_scope AS
SELECT
    u.entra_object_id,
    list_sort(list_distinct(list(g.group_name))) AS groups,
    list_sort(list_distinct(list(g.role)))       AS mapped_roles
FROM stg_entra_users u
JOIN stg_user_memberships m ON m.entra_object_id = u.entra_object_id
JOIN stg_connected_groups g ON g.group_id = m.group_id
WHERE u.account_enabled
GROUP BY u.entra_object_id;

-- The last run whose plan was fully applied: the reference for "since the last run".
CREATE OR REPLACE TEMP TABLE stg_last_completed_run AS
SELECT run_id, started_at
FROM runs
WHERE status = 'completed' AND tenant = (SELECT tenant FROM run_settings)
ORDER BY started_at DESC
LIMIT 1;

-- Which connected groups put each user in scope at the last completed run.
CREATE OR REPLACE TEMP TABLE stg_previous_scope AS
SELECT s.entra_object_id, s.groups
FROM scope_history s JOIN stg_last_completed_run r USING (run_id);
