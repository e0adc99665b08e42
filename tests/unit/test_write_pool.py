"""Concurrent Emply writes: one user's changes in order, every outcome recorded, repeats skipped."""

from __future__ import annotations

import json
import threading
import time

import pytest

from entrasync.warehouse import audit
from entrasync.warehouse.db import connect_memory
from entrasync.write import emply as write_emply


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


class FakeEmplyWithMailboxes(FakeEmply):
    """Creates users (username 'refused' fails), adds calendars and photos to them."""

    def __init__(self, calendar_sync: bool = True) -> None:
        super().__init__()
        self.calendar_sync = calendar_sync

    def create_user(self, **fields) -> dict:
        if fields["username"] == "refused":
            raise RuntimeError("409 Conflict")
        super().create_user(**fields)
        return {"userId": f"new-{fields['username']}", "calendarSyncEnabled": self.calendar_sync}

    def add_calendar(self, user_id: str, **fields) -> dict:
        self._record(user_id, {"add_calendar": fields["name"]})
        return {"calendarId": f"cal-{fields['name']}"}

    def set_photo(self, user_id: str, content: bytes, content_type: str) -> dict:
        self._record(user_id, {"photo": content})
        return {"photoSha256": "f" * 64}


def _plan_rows(con, run_id: str, rows: list[tuple[str, str, str | None, str, dict]]) -> None:
    """(change id, kind, emply user id, entra object id, after) rows as one run's plan."""
    audit.start_run(con, run_id, "t", False, True)
    con.execute("DELETE FROM planned_changes")
    for change_id, kind, user, entra_id, after in rows:
        con.execute(
            "INSERT INTO planned_changes VALUES (?, ?, 'R8', ?, ?, ?, NULL, ?::JSON, 'r')",
            [change_id, kind, user, entra_id, entra_id.removeprefix("oid-"), json.dumps(after)],
        )
    audit.record_plan(con, run_id)


def _created_user_plan(con, username: str) -> None:
    entra_id = f"oid-{username}"
    con.execute("INSERT INTO entra_photo_content VALUES (?, ?, ?)", [entra_id, "f" * 64, b"jpg"])
    calendar = {"entra_calendar_id": "c1", "name": "Team", "enabled": False, "can_disable": True}
    _plan_rows(con, "run-1", [
        ("create", "create_user", None, entra_id,
         {"username": username, "email": username, "roles": [], "entra_object_id": entra_id}),
        ("photo", "set_photo", None, entra_id, {"sha256": "f" * 64, "content_type": "image/png"}),
        ("calendar", "add_calendar", None, entra_id, calendar),
    ])  # fmt: skip


def test_changes_due_to_a_created_user_are_written_to_it_in_the_same_run():
    con = connect_memory()
    _created_user_plan(con, "nora")
    client = FakeEmplyWithMailboxes()
    counts = write_emply.write_emply_changes(con, client, "t", "run-1", workers=2)
    assert counts == {"applied": 3, "failed": 0, "skipped": 0}
    assert [(user, fields) for user, _, fields in client.calls[1:]] == [
        ("new-nora", {"add_calendar": "Team"}),  # plan order: add_calendar, set_photo
        ("new-nora", {"photo": b"jpg"}),
    ]
    users = dict(con.execute("SELECT change_id, emply_user_id FROM changes").fetchall())
    assert users == {"create": None, "photo": "new-nora", "calendar": "new-nora"}


def test_changes_due_to_a_user_whose_create_failed_are_skipped_not_applied():
    con = connect_memory()
    _created_user_plan(con, "refused")
    client = FakeEmplyWithMailboxes()
    counts = write_emply.write_emply_changes(con, client, "t", "run-1", workers=2)
    assert counts == {"applied": 0, "failed": 1, "skipped": 2}
    rows = con.execute("SELECT change_id, outcome, error FROM changes ORDER BY ALL").fetchall()
    assert rows == [
        ("calendar", "skipped", "its create_user did not complete: refused is not in Emply"),
        ("create", "failed", "409 Conflict"),
        ("photo", "skipped", "its create_user did not complete: refused is not in Emply"),
    ]
    assert client.calls == []


def test_calendar_changes_of_a_user_created_with_calendar_sync_off_are_skipped():
    con = connect_memory()
    _created_user_plan(con, "nora")
    client = FakeEmplyWithMailboxes(calendar_sync=False)
    counts = write_emply.write_emply_changes(con, client, "t", "run-1", workers=2)
    assert counts == {"applied": 2, "failed": 0, "skipped": 1}
    outcome = con.execute("SELECT outcome, error FROM changes WHERE change_id = 'calendar'")
    assert outcome.fetchone() == ("skipped", "Emply created nora with calendar sync off")


def test_past_the_deadline_no_further_user_is_written_and_the_rest_stays_planned(monkeypatch):
    from entrasync.run import deadline as deadline_module
    from entrasync.run.deadline import RunDeadline, RunDeadlinePassed

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
