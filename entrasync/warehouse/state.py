"""Per-tenant state kept across runs: links, who the sync deactivated, mapping and scope history."""

from __future__ import annotations

import duckdb


def record_scope_and_mapping(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Remember this run's connected-group mapping (R5 step 2) and scope (explain, R3 reasons).

    Runs on the connection that planned, so the staging views exist.
    """
    con.execute("DELETE FROM group_role_history WHERE run_id = ?", [run_id])
    con.execute(
        "INSERT INTO group_role_history"
        " SELECT ?, group_name, group_id, role, now() FROM stg_connected_groups",
        [run_id],
    )
    con.execute("DELETE FROM scope_history WHERE run_id = ?", [run_id])
    con.execute(
        "INSERT INTO scope_history SELECT ?, entra_object_id, groups FROM stg_in_scope", [run_id]
    )


def refresh_links(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Bring the links table up to date with the export and this run's applied changes.

    A user reactivated by hand is no longer 'deactivated by the sync'.
    """
    con.execute(
        """
        INSERT OR REPLACE INTO links
        SELECT u.user_id, u.entra_object_id,
               coalesce(old.how, 'existing'), coalesce(old.linked_run_id, ?),
               u.username, e.user_principal_name, nullif(lower(trim(e.mail)), ''), false
        FROM emply_users u
        LEFT JOIN links old ON old.emply_user_id = u.user_id
        LEFT JOIN entra_users e ON e.id = u.entra_object_id
        WHERE u.entra_object_id IS NOT NULL
        """,
        [run_id],
    )
    con.execute(
        "UPDATE links SET emply_deleted = true"
        " WHERE emply_user_id NOT IN (SELECT user_id FROM emply_users)"
    )
    # Links made by this run's applied changes (the export was read before they happened).
    con.execute(
        """
        INSERT OR REPLACE INTO links
        SELECT coalesce(c.emply_user_id, json_extract_string(c.result, '$.user_id')),
               c.entra_object_id,
               CASE c.kind WHEN 'create_user' THEN 'created'
                           ELSE json_extract_string(c.after, '$.how') END,
               c.run_id, c.subject, e.user_principal_name,
               nullif(lower(trim(e.mail)), ''), false
        FROM changes c
        LEFT JOIN entra_users e ON e.id = c.entra_object_id
        WHERE c.run_id = ? AND c.outcome = 'applied' AND c.kind IN ('link_user', 'create_user')
          AND coalesce(c.emply_user_id, json_extract_string(c.result, '$.user_id')) IS NOT NULL
        """,
        [run_id],
    )
    con.execute(
        "DELETE FROM sync_deactivated WHERE emply_user_id IN"
        " (SELECT user_id FROM emply_users WHERE active)"
    )
    con.execute(
        """
        INSERT OR REPLACE INTO sync_deactivated
        SELECT emply_user_id, run_id FROM changes
        WHERE run_id = ? AND outcome = 'applied' AND kind = 'deactivate_user'
        """,
        [run_id],
    )
    con.execute(
        """
        DELETE FROM sync_deactivated WHERE emply_user_id IN (
            SELECT emply_user_id FROM changes
            WHERE run_id = ? AND outcome = 'applied' AND kind = 'activate_user')
        """,
        [run_id],
    )
