-- Staging: Entra users and memberships, normalised once (trimmed, lower-cased keys).
-- reads: entra_group_members, entra_users, run_settings
-- makes: stg_entra_users, stg_user_memberships
CREATE OR REPLACE TEMP TABLE stg_entra_users AS
SELECT
    id                                               AS entra_object_id,
    user_principal_name                              AS upn,
    lower(trim(user_principal_name))                 AS upn_key,
    nullif(lower(trim(mail)), '')                    AS mail_key,
    list_filter(
        list_transform(coalesce(other_mails, []), lambda m: lower(trim(m))),
        lambda m: m <> ''
    )                                                AS other_mail_keys,
    coalesce(user_type, 'Member') = 'Guest'
        OR user_principal_name LIKE '%#EXT#%'        AS is_guest,
    account_enabled,
    coalesce(on_premises_sync_enabled, false)        AS on_premises_sync_enabled,
    mail, display_name, given_name, surname, job_title, department, mobile_phone
FROM entra_users;

CREATE OR REPLACE TEMP TABLE stg_user_memberships AS
SELECT DISTINCT group_id, member_id AS entra_object_id
FROM entra_group_members
WHERE member_type = 'user'
  AND (NOT transitive OR (SELECT transitive_groups FROM run_settings));
