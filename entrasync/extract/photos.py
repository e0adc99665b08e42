"""Read the Entra photos R8 needs: metadata for those due a check, bytes only when needed."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from urllib.parse import quote

import duckdb

from entrasync.connectors.graph import mailbox_batch
from entrasync.connectors.graph.client import GraphClient
from entrasync.settings import DEFAULT_PHOTO_CHECKS_PER_RUN
from entrasync.warehouse.load import insert_rows

# Linked Emply users without an employee profile (the warehouse's emply_user_profiles, as the
# rules see it), whose Entra user exists; plus the Entra users this run may link or create
# (entra_users_to_link), whose photo is then due in the same run (Emply holds none for them).
# With the photo last downloaded, the last check, and whether its metadata is read this run:
# never checked; or its photo at the last check is not what Emply holds (copy it again); or
# among the `?` others checked longest ago. The rest keep what their last check saw.
PHOTO_CANDIDATES_SQL = """
CREATE OR REPLACE TEMP TABLE photo_candidates AS
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
    d.emply_differs, d.had_photo,
    d.must_read OR row_number() OVER (
        PARTITION BY d.must_read ORDER BY d.checked_at, d.entra_object_id
    ) <= ? AS read_now
FROM due d
LEFT JOIN entra_photo_seen s USING (entra_object_id)
"""

# Candidates not read this run: the photo their last check saw (a 404 then: no photo). Only a
# photo whose hash is what Emply holds is carried over, so R8 plans nothing from these rows.
CARRIED_PHOTOS_SQL = """
INSERT INTO entra_photos
SELECT
    entra_object_id,
    CASE WHEN had_photo THEN media_etag END,
    CASE WHEN had_photo THEN content_type END,
    CASE WHEN had_photo THEN sha256 END,
    CASE WHEN had_photo THEN size_bytes END
FROM photo_candidates
WHERE NOT read_now
"""

# The bytes downloaded this run are the photo seen last for their users.
RECORD_SEEN_SQL = """
INSERT OR REPLACE INTO entra_photo_seen
SELECT p.entra_object_id, p.media_etag, p.content_type, p.sha256, p.size_bytes, ?
FROM entra_photos p
JOIN entra_photo_content c USING (entra_object_id)
"""

RECORD_CHECKS_SQL = """
INSERT OR REPLACE INTO entra_photo_checks
SELECT c.entra_object_id, ?, p.sha256 IS NOT NULL, ?
FROM photo_candidates c
JOIN entra_photos p USING (entra_object_id)
WHERE c.read_now
"""

READ_NOW_SQL = """
SELECT entra_object_id, media_etag, content_type, sha256, size_bytes, emply_differs
FROM photo_candidates
WHERE read_now
ORDER BY entra_object_id
"""


def extract_photos(
    con: duckdb.DuckDBPyConnection,
    graph: GraphClient,
    run_id: str,
    checks_per_run: int = DEFAULT_PHOTO_CHECKS_PER_RUN,
    now: datetime | None = None,
) -> int:
    """Fill entra_photos (every candidate) and entra_photo_content (bytes read this run).

    Returns how many candidates' photo metadata was read; their check is recorded at `now`.
    """
    con.execute("DELETE FROM entra_photos")
    con.execute("DELETE FROM entra_photo_content")
    con.execute(PHOTO_CANDIDATES_SQL, [checks_per_run])
    try:
        con.execute(CARRIED_PHOTOS_SQL)
        users = con.execute(READ_NOW_SQL).fetchall()
        photos, contents = _read_photos(graph, users)
        insert_rows(con, "entra_photos", photos)
        insert_rows(con, "entra_photo_content", contents)
        con.execute(RECORD_SEEN_SQL, [run_id])
        con.execute(RECORD_CHECKS_SQL, [now or datetime.now(UTC), run_id])
    finally:
        con.execute("DROP TABLE IF EXISTS photo_candidates")
    return len(users)


def _read_photos(graph: GraphClient, users: list[tuple]) -> tuple[list[dict], list[dict]]:
    """Rows of entra_photos and entra_photo_content for the users whose photo is read now."""
    metas = mailbox_batch.get_many(
        graph, [mailbox_batch.Get(u[0], u[0], _path(u[0])) for u in users]
    )
    photos, to_download = [], []
    for user_id, seen_etag, seen_type, seen_sha, seen_size, emply_differs in users:
        meta = metas[user_id]
        if meta.status == 404:  # no photo in Entra; Emply's is never removed (R8: Entra → Emply)
            photos.append(_photo(user_id, None, None, None, None))
            continue
        meta.raise_for_failure()
        etag = meta.body.get("@odata.mediaEtag")
        content_type = meta.body.get("@odata.mediaContentType") or "image/jpeg"
        if etag is not None and etag == seen_etag and not emply_differs:
            photos.append(_photo(user_id, etag, seen_type, seen_sha, seen_size))
        else:
            to_download.append((user_id, etag, content_type))
    values = mailbox_batch.get_many(
        graph, [mailbox_batch.Get(u, u, f"{_path(u)}/$value") for u, _, _ in to_download]
    )
    contents = []
    for user_id, etag, content_type in to_download:
        answer = values[user_id]
        if answer.status == 404:  # removed between the two reads
            photos.append(_photo(user_id, None, None, None, None))
            continue
        answer.raise_for_failure()
        content = answer.content()
        sha = hashlib.sha256(content).hexdigest()
        photos.append(_photo(user_id, etag, content_type, sha, len(content)))
        contents.append({"entra_object_id": user_id, "sha256": sha, "content": content})
    return photos, contents


def _path(user_id: str) -> str:
    return f"/users/{quote(user_id, safe='')}/photo"


def _photo(
    user_id: str, etag: str | None, content_type: str | None, sha: str | None, size: int | None
) -> dict:
    return {
        "entra_object_id": user_id,
        "media_etag": etag,
        "content_type": content_type,
        "sha256": sha,
        "size_bytes": size,
    }
