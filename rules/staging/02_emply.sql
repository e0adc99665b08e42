-- Staging: Emply users, employees and roles, normalised once.
-- reads: emply_employees, emply_roles, emply_user_profiles, emply_users
-- makes: stg_emply_employees, stg_emply_profiles, stg_emply_users, stg_admin_roles
CREATE OR REPLACE TEMP TABLE stg_emply_employees AS
SELECT
    employee_id,
    nullif(lower(trim(email)), '') AS email_key,
    user_id,
    archived,
    first_name, last_name, job_title, department, mobile_phone
FROM emply_employees;

-- The employee profile of each user that has one (SPEC "employee profile"), as the warehouse
-- defines it (emply_user_profiles in entrasync/warehouse/schema.sql).
CREATE OR REPLACE TEMP TABLE stg_emply_profiles AS
SELECT user_id, employee_id, archived FROM emply_user_profiles;

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
