-- R8 scope of the reads: whose Entra photo extraction may fetch. Linked Emply users without an
-- employee profile (emply_user_profiles, as rules/pictures.sql sees it) whose Entra user
-- exists; plus the Entra users this run may link or create (entra_users_to_link), whose photo
-- is then due in the same run (Emply holds none for them). With the photo last downloaded and
-- the last check: `must_read` when never checked, or when the photo at the last check is not
-- what Emply holds (copy it again); the others in `check_order`, checked longest ago first
-- (extraction reads as many of those as the tenant's photo_checks_per_run allows).
-- reads: emply_user_profiles, emply_users, entra_photo_checks, entra_photo_seen, entra_users,
--        entra_users_to_link
-- makes: photo_candidates_due
CREATE OR REPLACE TEMP VIEW photo_candidates_due AS
WITH candidates AS (
    SELECT
        e.id AS entra_object_id,
        bool_or(s.sha256 IS DISTINCT FROM lower(u.photo_sha256)) AS emply_differs
    FROM emply_users u
    JOIN entra_users e ON e.id = u.entra_object_id
    LEFT JOIN entra_photo_seen s ON s.entra_object_id = e.id
    WHERE NOT EXISTS (SELECT 1 FROM emply_user_profiles p WHERE p.user_id = u.user_id)
    GROUP BY e.id
    UNION ALL
    SELECT t.entra_object_id, s.sha256 IS NOT NULL
    FROM entra_users_to_link t
    LEFT JOIN entra_photo_seen s USING (entra_object_id)
), due AS (
    SELECT
        c.entra_object_id,
        c.emply_differs,
        k.checked_at,
        coalesce(k.has_photo, false) AS had_photo,
        k.entra_object_id IS NULL OR (k.has_photo AND c.emply_differs) AS must_read
    FROM candidates c
    LEFT JOIN entra_photo_checks k USING (entra_object_id)
)
SELECT
    d.entra_object_id, s.media_etag, s.content_type, s.sha256, s.size_bytes,
    d.emply_differs, d.had_photo, d.must_read,
    row_number() OVER (PARTITION BY d.must_read ORDER BY d.checked_at, d.entra_object_id)
        AS check_order
FROM due d
LEFT JOIN entra_photo_seen s USING (entra_object_id);
