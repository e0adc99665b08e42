"""Read the Entra photos R8 needs: metadata for those due a check, bytes only when needed."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import duckdb

from entrasync.connectors.graph import mailbox_batch
from entrasync.connectors.graph.client import GraphClient
from entrasync.settings import DEFAULT_PHOTO_CHECKS_PER_RUN
from entrasync.warehouse.load import insert_rows
from rules.views import make_view

# The candidates (rules/reads/photo_candidates_due.sql) with whether their metadata is read this
# run: those that must be, and as many others as the run's checks allow (`?`).
PHOTO_CANDIDATES_SQL = """
CREATE OR REPLACE TEMP TABLE photo_candidates AS
SELECT * EXCLUDE (must_read, check_order), must_read OR check_order <= ? AS read_now
FROM {view}
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
    view = make_view(con, "reads/photo_candidates_due")
    con.execute(PHOTO_CANDIDATES_SQL.format(view=view), [checks_per_run])
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
    metas = mailbox_batch.photo_metas(graph, [u[0] for u in users])
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
    values = mailbox_batch.photo_values(graph, [u for u, _, _ in to_download])
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
