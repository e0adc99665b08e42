"""R7/R9 Entra writes: paced to the write budget, resumable, and the password never kept."""

import json

import pytest

from entrasync.connectors.graph.errors import GraphError
from entrasync.warehouse.db import connect_memory
from entrasync.write.entra import WriteBudget, write_entra_changes
from entrasync.write.passwords import temporary_password


class FakeClock:
    def __init__(self) -> None:
        self.now, self.slept = 0.0, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_budget_allows_a_burst_of_3000_then_paces_at_20_a_second():
    clock = FakeClock()
    budget = WriteBudget(clock=clock, sleep=clock.sleep)
    for _ in range(3000):
        budget.take()
    assert clock.slept == []
    for _ in range(3):
        budget.take()
    assert clock.slept == pytest.approx([0.05, 0.05, 0.05])
    clock.now += 150  # a quiet 2.5 minutes refill the bucket, never above 3000
    for _ in range(3000):
        budget.take()
    assert len(clock.slept) == 3


def test_temporary_passwords_are_random_and_meet_entras_complexity():
    passwords = {temporary_password() for _ in range(50)}
    assert len(passwords) == 50
    for password in passwords:
        assert len(password) == 20
        assert any(c.isupper() for c in password) and any(c.islower() for c in password)
        assert any(c.isdigit() for c in password) and any(not c.isalnum() for c in password)


class FakeGraph:
    def __init__(self, fail_members: bool = False) -> None:
        self.calls: list[tuple] = []
        self.fail_members = fail_members

    def create_user(self, body):
        self.calls.append(("create_user", body))
        return {"id": "oid-new"}

    def add_group_member(self, group_id, user_id):
        self.calls.append(("add_group_member", group_id, user_id))
        if self.fail_members:
            raise GraphError(403, "Authorization_RequestDenied", "denied", None, "POST", "/g")

    def create_event(self, user_id, calendar_id, body):
        self.calls.append(("create_event", user_id, calendar_id, body))
        return {"id": "ev-new"}


class FakeEmply:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def update_user(self, user_id, **fields):
        self.calls.append(("update_user", user_id, fields))

    def mark_event_pushed(self, event_id, entra_event_id):
        self.calls.append(("mark_event_pushed", event_id, entra_event_id))


def warehouse(*changes: dict):
    con = connect_memory()
    con.execute(
        "INSERT INTO runs (run_id, tenant, started_at, status, dry_run, allow_deactivations)"
        " VALUES ('run-1', 't', now(), 'running', false, false)"
    )
    for change in changes:
        con.execute(
            "INSERT INTO changes (run_id, change_id, kind, rule_id, emply_user_id,"
            " entra_object_id, subject, after, reason, outcome, decided_at)"
            " VALUES ('run-1', ?, ?, 'R7', ?, ?, ?, ?, 'given', 'planned', now())",
            [change["change_id"], change["kind"], change.get("emply_user_id"),
             change.get("entra_object_id"), "nestor@contoso.com", json.dumps(change["after"])],
        )  # fmt: skip
    return con


CREATE = {
    "change_id": "c-create", "kind": "create_entra_user", "emply_user_id": "u-nestor",
    "after": {"userPrincipalName": "nestor@contoso.com", "mail": "nestor@contoso.com",
              "mailNickname": "nestor", "displayName": "Nestor Wilke", "givenName": "Nestor",
              "surname": "Wilke", "jobTitle": None, "groups": ["HR"]},
}  # fmt: skip
MEMBER = {"change_id": "c-member", "kind": "add_entra_group_member", "emply_user_id": "u-nestor",
          "after": {"group_id": "g-hr", "group": "HR"}}  # fmt: skip


def outcomes(con) -> dict:
    rows = con.execute("SELECT change_id, outcome, error, result FROM changes").fetchall()
    return {cid: (outcome, error, json.loads(result) if result else None)
            for cid, outcome, error, result in rows}  # fmt: skip


def test_create_posts_a_forced_change_password_adds_the_group_then_links_in_emply():
    con, graph, emply = warehouse(CREATE, MEMBER), FakeGraph(), FakeEmply()
    counts = write_entra_changes(con, graph, emply, "t", "run-1")
    assert counts == {"applied": 2, "failed": 0, "skipped": 0}
    (_, body), member = graph.calls
    password = body["passwordProfile"]["password"]
    assert body["passwordProfile"]["forceChangePasswordNextSignIn"] is True
    assert body["accountEnabled"] is True and "jobTitle" not in body  # nulls are left out
    assert member == ("add_group_member", "g-hr", "oid-new")
    assert emply.calls == [("update_user", "u-nestor", {"external_id": "oid-new"})]
    assert outcomes(con)["c-create"] == ("applied", None, {"entra_object_id": "oid-new"})
    everything = str(con.execute("SELECT * FROM changes").fetchall())
    assert password not in everything


def test_a_failed_group_add_leaves_the_user_unlinked_with_its_new_id_in_the_ledger():
    con, graph, emply = warehouse(CREATE, MEMBER), FakeGraph(fail_members=True), FakeEmply()
    counts = write_entra_changes(con, graph, emply, "t", "run-1")
    assert counts == {"applied": 0, "failed": 2, "skipped": 0}
    assert emply.calls == []  # not linked: the next run resumes with oid-new
    outcome, error, result = outcomes(con)["c-create"]
    assert outcome == "failed" and "not linked" in error
    assert result == {"entra_object_id": "oid-new"}


EVENT = {
    "change_id": "c-event", "kind": "create_entra_event", "emply_user_id": "u-megan",
    "entra_object_id": "oid-megan",
    "after": {"event_id": "m-1", "calendar_id": "e-cal", "entra_calendar_id": "cal-1",
              "subject": "Appraisal", "start": "2031-05-01T09:00:00Z",
              "end": "2031-05-01T10:00:00Z", "transaction_id": "c-event"},
}  # fmt: skip


def test_an_emply_event_is_posted_in_utc_with_its_transaction_id_then_marked_pushed():
    con, graph, emply = warehouse(EVENT), FakeGraph(), FakeEmply()
    write_entra_changes(con, graph, emply, "t", "run-1")
    ((_, user, calendar, body),) = graph.calls
    assert (user, calendar, body["transactionId"]) == ("oid-megan", "cal-1", "c-event")
    assert body["start"] == {"dateTime": "2031-05-01T09:00:00", "timeZone": "UTC"}
    assert emply.calls == [("mark_event_pushed", "m-1", "ev-new")]


def test_an_event_created_by_an_earlier_run_is_only_marked_pushed():
    con, graph, emply = warehouse(EVENT), FakeGraph(), FakeEmply()
    con.execute(
        "INSERT INTO changes (run_id, change_id, kind, rule_id, subject, reason, outcome,"
        " result, decided_at) VALUES ('run-0', 'c-event', 'create_entra_event', 'R9', 's',"
        " 'given', 'failed', '{\"entra_event_id\": \"ev-old\"}', now() - INTERVAL 1 HOUR)"
    )
    write_entra_changes(con, graph, emply, "t", "run-1")
    assert graph.calls == []
    assert emply.calls == [("mark_event_pushed", "m-1", "ev-old")]
