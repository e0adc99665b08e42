-- R8 Pictures: for linked users WITHOUT an employee profile, the Entra photo is copied to Emply
-- when its content hash (SHA-256) differs from Emply's. Never Emply → Entra, and an Entra user
-- without a photo leaves Emply's picture alone. The audit holds the hash and size, never bytes.
-- A user create_user makes in this run (plan_users.created) gets its photo in the same run.
-- reads: change_key, entra_photos, plan_users, stg_entra_users
-- writes: planned_changes
INSERT INTO planned_changes
    (change_id, kind, rule_id, emply_user_id, entra_object_id, subject, before, after, reason)
SELECT
    change_key('set_photo', u.emply_user_id, u.entra_object_id, p.sha256),
    'set_photo', 'R8', u.emply_user_id, u.entra_object_id, u.username,
    to_json({'sha256': u.photo_sha256}),
    to_json({'sha256': p.sha256, 'size_bytes': p.size_bytes, 'content_type': p.content_type}),
    'R8: the Entra photo of ' || e.upn || ' (sha256 ' || left(p.sha256, 12) || '…, '
        || p.size_bytes || ' bytes) differs from the Emply picture ('
        || coalesce('sha256 ' || left(u.photo_sha256, 12) || '…', 'none')
        || ') and ' || u.username || ' has no employee profile; copied to Emply'
        || CASE WHEN u.created THEN ' once create_user has made the user' ELSE '' END
FROM plan_users u
JOIN stg_entra_users e ON e.entra_object_id = u.entra_object_id
JOIN entra_photos p ON p.entra_object_id = u.entra_object_id
WHERE NOT u.has_profile
  AND p.sha256 IS NOT NULL
  AND p.sha256 IS DISTINCT FROM lower(u.photo_sha256);
