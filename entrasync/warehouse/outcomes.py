"""Write outcomes in bulk: which changes an earlier run applied, and many outcomes in one UPDATE."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb


@dataclass(frozen=True)
class Outcome:
    change_id: str
    outcome: str  # applied, failed, skipped
    error: str | None = None
    result: dict[str, Any] | None = None


def applied_earlier(
    con: duckdb.DuckDBPyConnection, tenant: str, run_id: str, change_ids: list[str]
) -> dict[str, str]:
    """change id -> the run that already applied it since the last completed run (one query).

    Asked once for a whole plan, by the write engine (entrasync/write/engine.py).
    """
    if not change_ids:
        return {}
    rows = con.execute(
        """
        WITH wanted AS (SELECT DISTINCT unnest(?::VARCHAR[]) AS change_id)
        SELECT c.change_id, min(c.run_id)
        FROM changes c JOIN wanted USING (change_id) JOIN runs r USING (run_id)
        WHERE c.outcome = 'applied' AND r.tenant = ? AND c.run_id <> ?
          AND r.started_at > coalesce(
              (SELECT max(started_at) FROM runs WHERE tenant = ? AND status = 'completed'),
              TIMESTAMPTZ '1970-01-01')
        GROUP BY c.change_id
        """,
        [change_ids, tenant, run_id, tenant],
    ).fetchall()
    return dict(rows)


def record_outcomes(con: duckdb.DuckDBPyConnection, run_id: str, outcomes: list[Outcome]) -> None:
    """Set the outcome of many changes of `run_id` in one statement."""
    if not outcomes:
        return
    # Lists as parameters, not a registered frame: registering refuses a connection whose last
    # statement's result was not fetched (the Entra writer records between its own updates).
    con.execute(
        "UPDATE changes SET outcome = o.outcome, error = o.error, result = o.result::JSON,"
        " applied_at = ? FROM (SELECT unnest(?::VARCHAR[]) AS change_id,"
        " unnest(?::VARCHAR[]) AS outcome, unnest(?::VARCHAR[]) AS error,"
        " unnest(?::VARCHAR[]) AS result) o"
        " WHERE changes.run_id = ? AND changes.change_id = o.change_id",
        [
            datetime.now(UTC),
            [o.change_id for o in outcomes],
            [o.outcome for o in outcomes],
            [o.error for o in outcomes],
            [json.dumps(o.result) if o.result else None for o in outcomes],
            run_id,
        ],
    )
