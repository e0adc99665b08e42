"""Read the Entra photos R8 needs: metadata for all, bytes only when they changed or must go."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

import duckdb

from entrasync.connectors.graph.client import GraphClient
from entrasync.sync import graph_batch
from entrasync.warehouse.load import insert_rows

# Linked Emply users without an employee profile (as rules/staging/02_emply.sql defines it),
# whose Entra user exists; with the photo last downloaded and the hash Emply holds.
PHOTO_USERS_SQL = """
SELECT e.id, s.media_etag, s.content_type, s.sha256, s.size_bytes, any_value(u.photo_sha256)
FROM emply_users u
JOIN entra_users e ON e.id = u.entra_object_id
LEFT JOIN entra_photo_seen s ON s.entra_object_id = e.id
WHERE NOT EXISTS (
    SELECT 1 FROM emply_employees p
    WHERE p.user_id = u.user_id OR (u.employee_id IS NOT NULL AND p.employee_id = u.employee_id)
)
GROUP BY ALL
ORDER BY e.id
"""


def extract_photos(con: duckdb.DuckDBPyConnection, graph: GraphClient, run_id: str) -> None:
    """Fill entra_photos (every candidate) and entra_photo_content (bytes read this run)."""
    con.execute("DELETE FROM entra_photos")
    con.execute("DELETE FROM entra_photo_content")
    users = con.execute(PHOTO_USERS_SQL).fetchall()
    metas = graph_batch.get_many(
        graph, [graph_batch.Get(u[0], u[0], f"/users/{quote(u[0], safe='')}/photo") for u in users]
    )
    photos, to_download = [], []
    for user_id, seen_etag, seen_type, seen_sha, seen_size, emply_sha in users:
        meta = metas[user_id]
        if meta.status == 404:  # no photo in Entra; Emply's is never removed (R8: Entra → Emply)
            photos.append(_photo(user_id, None, None, None, None))
            continue
        meta.raise_for_failure()
        etag = meta.body.get("@odata.mediaEtag")
        content_type = meta.body.get("@odata.mediaContentType") or "image/jpeg"
        if etag is not None and etag == seen_etag and seen_sha == emply_sha:
            photos.append(_photo(user_id, etag, seen_type, seen_sha, seen_size))
        else:
            to_download.append((user_id, etag, content_type))
    values = graph_batch.get_many(
        graph,
        [
            graph_batch.Get(u, u, f"/users/{quote(u, safe='')}/photo/$value")
            for u, _, _ in to_download
        ],
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
        con.execute(
            "INSERT OR REPLACE INTO entra_photo_seen VALUES (?, ?, ?, ?, ?, ?)",
            [user_id, etag, content_type, sha, len(content), run_id],
        )
    insert_rows(con, "entra_photos", photos)
    insert_rows(con, "entra_photo_content", contents)


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
