"""The frames the suites check, built from the warehouse with set-based SQL."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from entrasync.gate.r4 import deactivations_view

# Trimmed and lower-cased once here, so the suites check the keys the rules compare.
INPUT_FRAMES_SQL = {
    "entra_users": """
        SELECT id, user_principal_name, mail, nullif(lower(trim(mail)), '') AS mail_key
        FROM entra_users
    """,
    "entra_groups": "SELECT id, display_name FROM entra_groups",
    "entra_group_members": """
        SELECT
            m.group_id, m.member_id, m.member_type,
            EXISTS (SELECT 1 FROM entra_groups g WHERE g.id = m.group_id) AS group_known,
            CASE m.member_type
                -- Graph still lists a soft-deleted user as a member
                WHEN 'user' THEN EXISTS (SELECT 1 FROM entra_users u WHERE u.id = m.member_id)
                              OR EXISTS (SELECT 1 FROM entra_deleted_users d
                                         WHERE d.id = m.member_id)
                WHEN 'group' THEN EXISTS (SELECT 1 FROM entra_groups g WHERE g.id = m.member_id)
                ELSE false
            END AS member_known
        FROM entra_group_members m
    """,
    "emply_users": """
        SELECT user_id, username, email, nullif(lower(trim(email)), '') AS email_key
        FROM emply_users
    """,
    "emply_employees": """
        SELECT employee_id, email, nullif(lower(trim(email)), '') AS email_key
        FROM emply_employees
    """,
}

# For each raw table this run extracted: the rows of the latest earlier usable run (R4). A run
# held because a read came back empty (blocked, or a dry run) is no baseline: an empty table
# becomes the new normal only through a completed run, i.e. the operator's release.
ROW_COUNT_BASELINES_SQL = """
WITH this_run AS (
    SELECT tenant, started_at FROM runs WHERE run_id = $run_id
),
earlier AS (
    SELECT c.table_name, r.run_id, r.started_at, p.row_count
    FROM extract_counts c
    JOIN extract_counts p ON p.table_name = c.table_name
    JOIN runs r ON r.run_id = p.run_id
    JOIN this_run t ON r.tenant = t.tenant AND r.started_at < t.started_at
    WHERE c.run_id = $run_id AND r.run_id <> $run_id
      AND r.status IN ('completed', 'planned', 'blocked')
      AND (p.row_count > 0 OR r.status = 'completed')
)
SELECT table_name, arg_max(run_id, started_at), arg_max(row_count, started_at)
FROM earlier
GROUP BY table_name
HAVING arg_max(row_count, started_at) > 0
ORDER BY table_name
"""

PLAN_FRAMES_SQL = {
    "planned_changes": """
        SELECT kind, subject, emply_user_id, entra_object_id,
               kind || ' of ' || coalesce(emply_user_id, entra_object_id, subject)
                   -- a calendar, an Emply-made event or a group is an object of its own (R7, R9)
                   || coalesce(' / ' || coalesce(after ->> 'event_id', after ->> 'calendar_id',
                                                 after ->> 'entra_calendar_id',
                                                 after ->> 'group_id'), '')
                   AS kind_and_object
        FROM planned_changes
        WHERE kind <> 'finding'
    """,
    # Linked: tied now, tied by this plan (link_user, or create_entra_user which links by
    # itself), or a linked Emply user that has since been deleted (R7 write.delete).
    "changes_to_emply_users": """
        WITH linked AS (
            SELECT user_id AS emply_user_id FROM emply_users WHERE entra_object_id IS NOT NULL
            UNION
            SELECT emply_user_id FROM planned_changes
            WHERE kind IN ('link_user', 'create_entra_user') AND emply_user_id IS NOT NULL
            UNION
            SELECT emply_user_id FROM links l
            WHERE NOT EXISTS (SELECT 1 FROM emply_users u WHERE u.user_id = l.emply_user_id)
        )
        SELECT c.kind, c.subject, c.emply_user_id,
               EXISTS (SELECT 1 FROM linked l WHERE l.emply_user_id = c.emply_user_id)
                   AS emply_user_linked
        FROM planned_changes c
        WHERE c.kind NOT IN ('finding', 'link_user') AND c.emply_user_id IS NOT NULL
    """,
    "set_roles_changes": """
        WITH admin_roles AS (
            SELECT coalesce(list(name), []) AS names FROM emply_roles WHERE is_admin
        ),
        role_changes AS (
            SELECT subject, emply_user_id,
                   coalesce(CAST(before -> 'roles' AS VARCHAR[]), []) AS roles_before,
                   coalesce(CAST(after -> 'roles' AS VARCHAR[]), []) AS roles_after
            FROM planned_changes
            WHERE kind = 'set_roles'
        ),
        dropped AS (
            SELECT c.subject, c.emply_user_id,
                   list_filter(c.roles_before, lambda r:
                       list_contains(a.names, r) AND NOT list_contains(c.roles_after, r)
                   ) AS admin_roles_dropped
            FROM role_changes c, admin_roles a
        )
        SELECT subject, emply_user_id,
               array_to_string(admin_roles_dropped, ', ') AS admin_roles_dropped,
               len(admin_roles_dropped) > 0 AS drops_admin
        FROM dropped
    """,
    "deactivations": "SELECT * FROM r4_deactivations ORDER BY subject",  # rules/gate/
}


@dataclass(frozen=True)
class RowCountBaseline:
    """A raw table that held rows in the previous usable run of the tenant."""

    table: str
    previous_run_id: str
    previous_rows: int


def _frame(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    return con.execute(sql).df()


def input_frames(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    return {name: _frame(con, sql) for name, sql in INPUT_FRAMES_SQL.items()}


def row_count_baselines(con: duckdb.DuckDBPyConnection, run_id: str) -> list[RowCountBaseline]:
    rows = con.execute(ROW_COUNT_BASELINES_SQL, {"run_id": run_id}).fetchall()
    return [RowCountBaseline(table, previous, count) for table, previous, count in rows]


def table_rows_frame(con: duckdb.DuckDBPyConnection, table: str) -> pd.DataFrame:
    """One narrow column per row of a raw table that has no frame of its own (row counts)."""
    known = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary", [table]
    ).fetchone()[0]
    if not known:
        raise ValueError(f"extract_counts names {table!r}, which is not a warehouse table")
    return _frame(con, f'SELECT true AS present FROM "{table}"')


def plan_frames(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    deactivations_view(con)
    return {name: _frame(con, sql) for name, sql in PLAN_FRAMES_SQL.items()}
