"""The audit history: runs and every planned change with its outcome."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import duckdb

from entrasync.warehouse.outcomes import Outcome, record_outcomes

RUN_STATES = ("running", "completed", "planned", "blocked", "failed")


def now() -> datetime:
    return datetime.now(UTC)


def start_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    tenant: str,
    dry_run: bool,
    allow_deactivations: bool,
) -> None:
    con.execute(
        "INSERT INTO runs (run_id, tenant, started_at, status, dry_run, allow_deactivations)"
        " VALUES (?, ?, ?, 'running', ?, ?)",
        [run_id, tenant, now(), dry_run, allow_deactivations],
    )


def finish_run(
    con: duckdb.DuckDBPyConnection, run_id: str, status: str, error: str | None = None
) -> None:
    assert status in RUN_STATES, status
    con.execute(
        """
        UPDATE runs SET
            status = ?, error = ?, ended_at = ?,
            planned = (SELECT count(*) FROM changes WHERE run_id = ?),
            applied = (SELECT count(*) FROM changes WHERE run_id = ? AND outcome = 'applied'),
            failed  = (SELECT count(*) FROM changes WHERE run_id = ? AND outcome = 'failed'),
            skipped = (SELECT count(*) FROM changes WHERE run_id = ? AND outcome = 'skipped')
        WHERE run_id = ?
        """,
        [status, error, now(), run_id, run_id, run_id, run_id, run_id],
    )


def record_plan(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Copy this run's plan into the history: findings are recorded, the rest planned."""
    con.execute("DELETE FROM changes WHERE run_id = ?", [run_id])
    con.execute(
        """
        INSERT INTO changes
        SELECT ?, change_id, kind, rule_id, emply_user_id, entra_object_id, subject, before,
               after, reason,
               CASE WHEN kind = 'finding' THEN 'recorded' ELSE 'planned' END,
               NULL, NULL, ?, NULL
        FROM planned_changes
        """,
        [run_id, now()],
    )


def pending_changes(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict[str, Any]]:
    """This run's changes still to write, in a safe order (links and creations first)."""
    cursor = con.execute(
        """
        SELECT change_id, kind, rule_id, emply_user_id, entra_object_id, subject, before, after
        FROM changes
        WHERE run_id = ? AND outcome = 'planned'
        ORDER BY CASE kind WHEN 'link_user' THEN 0 WHEN 'create_user' THEN 1 ELSE 2 END,
                 kind, subject
        """,
        [run_id],
    )
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        row["before"] = json.loads(row["before"]) if row["before"] else None
        row["after"] = json.loads(row["after"]) if row["after"] else None
    return rows


def record_outcome(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    change_id: str,
    outcome: str,
    error: str | None = None,
    result: dict | None = None,
) -> None:
    """Set one change's outcome by hand (the writers record through write.engine.OutcomeLog)."""
    record_outcomes(con, run_id, [Outcome(change_id, outcome, error, result)])


def skip_planned(con: duckdb.DuckDBPyConnection, run_id: str, why: str) -> None:
    """Mark every change not written as skipped (dry run, blocked, failed gate)."""
    con.execute(
        "UPDATE changes SET outcome = 'skipped', error = ?"
        " WHERE run_id = ? AND outcome = 'planned'",
        [why, run_id],
    )


def change_counts(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, int]:
    rows = con.execute(
        "SELECT kind, count(*) FROM changes WHERE run_id = ? GROUP BY kind ORDER BY kind",
        [run_id],
    ).fetchall()
    return dict(rows)


def outcome_counts(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, dict[str, int]]:
    rows = con.execute(
        "SELECT kind, outcome, count(*) FROM changes WHERE run_id = ? GROUP BY ALL ORDER BY ALL",
        [run_id],
    ).fetchall()
    counts: dict[str, dict[str, int]] = {}
    for kind, outcome, count in rows:
        counts.setdefault(kind, {})[outcome] = count
    return counts


def record_extract_counts(
    con: duckdb.DuckDBPyConnection, run_id: str, counts: dict[str, int]
) -> None:
    """How many rows each raw table got in this run (the inputs gate compares runs)."""
    con.execute(
        "DELETE FROM extract_counts WHERE run_id = ? AND list_contains(?, table_name)",
        [run_id, list(counts)],
    )
    con.executemany(
        "INSERT INTO extract_counts VALUES (?, ?, ?)",
        [(run_id, table, rows) for table, rows in counts.items()],
    )
