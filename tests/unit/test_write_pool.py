"""Concurrent Emply writes: one user's changes in order, every outcome recorded, repeats skipped."""

from __future__ import annotations

import json
import threading
import time

import pytest

from entrasync.sync import write_emply
from entrasync.warehouse import audit
from entrasync.warehouse.db import connect_memory


class FakeEmply:
    """Records each call with the thread that made it; user 'bad' always fails."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict]] = []
        self.threads: set[str] = set()
        self._lock = threading.Lock()

    def _record(self, user: str, fields: dict) -> None:
        time.sleep(0.005)
        with self._lock:
            self.calls.append((user, threading.current_thread().name, fields))
            self.threads.add(threading.current_thread().name)
        if user == "bad":
            raise RuntimeError("Emply said no")

    def update_user(self, user_id: str, **fields) -> dict:
        self._record(user_id, fields)
        return {}

    def create_user(self, **fields) -> dict:
        self._record(fields["username"], fields)
        return {"userId": f"new-{fields['username']}"}


def _plan(con, run_id: str, changes: list[tuple[str, str, str | None, dict]]) -> None:
    audit.start_run(con, run_id, "t", False, True)
    con.execute("DELETE FROM planned_changes")
    for change_id, kind, user, after in changes:
        con.execute(
            "INSERT INTO planned_changes VALUES (?, ?, 'R3', ?, 'e', 's', NULL, ?::JSON, 'r')",
            [change_id, kind, user, json.dumps(after)],
        )
    audit.record_plan(con, run_id)


def test_pool_writes_everything_once_in_user_order_and_records_it():
    con = connect_memory()
    changes = [(f"d{i}", "deactivate_user", f"u{i}", {"active": False}) for i in range(40)]
    changes += [("r5", "set_roles", "u5", {"roles": ["A"]})]
    changes += [("bad", "set_roles", "bad", {"roles": []})]
    changes += [("c1", "create_user", None, {"username": "n1", "email": "n1@x", "roles": [],
                                              "entra_object_id": "e1"})]  # fmt: skip
    _plan(con, "run-1", changes)
    client = FakeEmply()
    counts = write_emply.write_emply_changes(con, client, "t", "run-1", workers=4)
    assert counts == {"applied": 42, "failed": 1, "skipped": 0}
    assert len(client.calls) == 43 and len(client.threads) > 1
    assert client.calls[0][0] == "n1"  # creations go first
    u5 = [fields for user, _, fields in client.calls if user == "u5"]
    assert u5 == [{"active": False}, {"roles": ["A"]}]  # plan order within one user
    outcomes = dict(con.execute("SELECT outcome, count(*) FROM changes GROUP BY ALL").fetchall())
    assert outcomes == {"applied": 42, "failed": 1}
    assert con.execute("SELECT error FROM changes WHERE change_id = 'bad'").fetchone() == (
        "Emply said no",
    )
    created = con.execute("SELECT result FROM changes WHERE change_id = 'c1'").fetchone()[0]
    assert "new-n1" in created


def test_a_change_applied_by_an_unfinished_earlier_run_is_skipped():
    con = connect_memory()
    _plan(con, "run-1", [("d1", "deactivate_user", "u1", {"active": False})])
    write_emply.write_emply_changes(con, FakeEmply(), "t", "run-1", workers=2)
    _plan(con, "run-2", [("d1", "deactivate_user", "u1", {"active": False}),
                         ("d2", "deactivate_user", "u2", {"active": False})])  # fmt: skip
    client = FakeEmply()
    counts = write_emply.write_emply_changes(con, client, "t", "run-2", workers=2)
    assert counts == {"applied": 1, "failed": 0, "skipped": 1}
    assert [user for user, _, _ in client.calls] == ["u2"]


def test_past_the_deadline_no_further_user_is_written_and_the_rest_stays_planned(monkeypatch):
    from entrasync.sync import deadline as deadline_module
    from entrasync.sync.deadline import RunDeadline, RunDeadlinePassed

    con = connect_memory()
    _plan(
        con, "run-1", [(f"d{i}", "deactivate_user", f"u{i}", {"active": False}) for i in range(6)]
    )
    now = [0.0]
    monkeypatch.setattr(deadline_module, "clock", lambda: now[0])
    run_deadline = RunDeadline.starting_now(25)
    client = FakeEmply()
    original = client._record

    def record_then_time_flies(user: str, fields: dict) -> None:
        original(user, fields)
        now[0] = 25 * 60  # the deadline passes during the first writes

    client._record = record_then_time_flies
    with pytest.raises(RunDeadlinePassed, match="before every Emply write was made"):
        write_emply.write_emply_changes(con, client, "t", "run-1", workers=1, deadline=run_deadline)
    outcomes = dict(con.execute("SELECT outcome, count(*) FROM changes GROUP BY ALL").fetchall())
    assert outcomes == {"applied": len(client.calls), "planned": 6 - len(client.calls)}
    assert 1 <= len(client.calls) <= 2  # the writes in flight end; no new user is started
