-- Staging: Emply users, employees and roles, normalised once.
CREATE OR REPLACE TEMP TABLE stg_emply_employees AS
SELECT
    employee_id,
    nullif(lower(trim(email)), '') AS email_key,
    user_id,
    archived,
    first_name, last_name, job_title, department, mobile_phone
FROM emply_employees;

-- The employee profile of a user (SPEC "employee profile"): an employee whose user id is the
-- user's, or whose employee id the user holds; the lowest employee id when there are several.
-- Two equi-joins, not one OR join: DuckDB runs an OR join as a nested loop.
CREATE OR REPLACE TEMP TABLE stg_emply_profiles AS
SELECT user_id, min(employee_id) AS employee_id, arg_min(archived, employee_id) AS archived
FROM (
    SELECT p.user_id, p.employee_id, p.archived
    FROM stg_emply_employees p
    WHERE p.user_id IS NOT NULL
    UNION ALL
    SELECT u.user_id, p.employee_id, p.archived
    FROM emply_users u
    JOIN stg_emply_employees p ON p.employee_id = u.employee_id
)
GROUP BY user_id;

CREATE OR REPLACE TEMP TABLE stg_emply_users AS
SELECT
    u.user_id,
    u.username,
    lower(trim(u.username))                 AS username_key,
    nullif(lower(trim(u.email)), '')        AS email_key,
    u.active,
    list_sort(list_distinct(u.roles))       AS roles,
    u.entra_object_id,
    u.calendar_sync_enabled,
    u.photo_sha256,
    p.employee_id                           AS profile_employee_id,
    p.employee_id IS NOT NULL               AS has_profile,
    coalesce(p.archived, false)             AS profile_archived
FROM emply_users u
LEFT JOIN stg_emply_profiles p USING (user_id)
QUALIFY row_number() OVER (PARTITION BY u.user_id ORDER BY p.employee_id) = 1;

CREATE OR REPLACE TEMP TABLE stg_admin_roles AS
SELECT name AS role FROM emply_roles WHERE is_admin;
