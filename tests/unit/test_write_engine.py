"""One write engine: both writers ask it what an earlier run applied and record through it."""

from __future__ import annotations

import json

from entrasync.warehouse import audit
from entrasync.warehouse.db import connect_memory
from entrasync.warehouse.outcomes import Outcome
from entrasync.write.engine import OutcomeLog
from entrasync.write.entra import write_entra_changes


def _plan(con, run_id: str, changes: list[tuple[str, str]]) -> None:
    audit.start_run(con, run_id, "t", False, True)
    con.execute("DELETE FROM planned_changes")
    for change_id, kind in changes:
        con.execute(
            "INSERT INTO planned_changes VALUES (?, ?, 'R7', 'u1', 'e1', 's', NULL, ?::JSON, 'r')",
            [change_id, kind, json.dumps({"displayName": "S"})],
        )
    audit.record_plan(con, run_id)


def _outcomes(con, run_id: str) -> dict[str, tuple[str, str | None]]:
    rows = con.execute(
        "SELECT change_id, outcome, error FROM changes WHERE run_id = ?", [run_id]
    ).fetchall()
    return {change_id: (outcome, error) for change_id, outcome, error in rows}


def test_a_change_an_unfinished_run_applied_is_skipped_and_the_rest_returned():
    con = connect_memory()
    _plan(con, "run-1", [("a", "set_roles")])
    first = OutcomeLog(con, "t", "run-1")
    first.add(Outcome("a", "applied"))
    first.flush()
    _plan(con, "run-2", [("a", "set_roles"), ("b", "set_roles")])
    log = OutcomeLog(con, "t", "run-2")
    todo = log.skip_applied_earlier(audit.pending_changes(con, "run-2"))
    assert [c["change_id"] for c in todo] == ["b"]
    assert log.counts == {"applied": 0, "failed": 0, "skipped": 1}
    assert _outcomes(con, "run-2")["a"] == ("skipped", "already applied in run run-1")


def test_a_completed_run_ends_what_counts_as_applied_earlier():
    con = connect_memory()
    _plan(con, "run-1", [("a", "set_roles")])
    OutcomeLog(con, "t", "run-1", flush_every=1).add(Outcome("a", "applied"))
    audit.finish_run(con, "run-1", "completed", None)
    _plan(con, "run-2", [("a", "set_roles")])
    assert OutcomeLog(con, "t", "run-2").applied_earlier([{"change_id": "a"}]) == {}


class RefusingGraph:
    def update_user(self, user_id: str, body: dict) -> None:
        raise AssertionError("an applied change is not written again")


def test_the_entra_writer_skips_through_the_same_engine():
    con = connect_memory()
    _plan(con, "run-1", [("w", "update_entra_user")])
    OutcomeLog(con, "t", "run-1", flush_every=1).add(Outcome("w", "applied"))
    _plan(con, "run-2", [("w", "update_entra_user")])
    counts = write_entra_changes(con, RefusingGraph(), None, "t", "run-2")
    assert counts == {"applied": 0, "failed": 0, "skipped": 1}
    assert _outcomes(con, "run-2")["w"] == ("skipped", "already applied in run run-1")
