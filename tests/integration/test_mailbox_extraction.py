"""Calendars, events and photos read through Graph $batch, and R9 events end to end."""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from entrasync import extract
from entrasync.connectors.emply.client import EmplyClient
from entrasync.connectors.graph.client import GraphClient
from entrasync.emulator_client import ControlSurface
from entrasync.extract.mailboxes import extract_mailboxes
from entrasync.extract.photos import extract_photos
from entrasync.scenario.runner import patched_environ
from entrasync.scenario.tenants_file import (
    EMPLY_KEY_ENV,
    SECRET_ENV,
    tenant_entry,
    write_tenants_file,
)
from entrasync.settings import load_tenant
from entrasync.warehouse.db import connect_memory
from entrasync.warehouse.paths import warehouse_file
from flows.launch import run_sync

SECRET, EMPLY_KEY, CLIENT_ID = "s3cret-mailboxes", "emply-key-mailboxes", "app-mailboxes"


def object_id(index: int) -> str:
    return f"00000000-0000-4000-8000-{index:012d}"


class Platform:
    """One Entra tenant and Emply customer on the stack, with a tenants file for the flow."""

    def __init__(self, stack, tmp_path: Path, name: str, **settings) -> None:
        self.stack, self.name = stack, name
        self.control = ControlSurface(stack.control_url, stack.ca_file)
        self.settings = {
            "tenant_id": name, "domains": ["contoso.com"], "sync_calendars": True,
            "groups": [{"group": "Employee", "role": "Employee"}], **settings,
        }  # fmt: skip
        self.tenants_file = tmp_path / "tenants.yaml"
        write_tenants_file(self.tenants_file, tenant_entry(name, name, CLIENT_ID, self.settings))
        self.env = stack.env() | {
            SECRET_ENV: SECRET,
            EMPLY_KEY_ENV: EMPLY_KEY,
            "ENTRASYNC_DATA_DIR": str(tmp_path / "data"),
            "ENTRASYNC_TENANTS_FILE": str(self.tenants_file),
        }
        self.control.reset_graph(name, ["contoso.com"], CLIENT_ID, SECRET)
        self.control.reset_emply(name, EMPLY_KEY, ["Employee"])

    def seed(self, count: int, linked: bool = True) -> list[str]:
        upns = [f"user{i:04d}@contoso.com" for i in range(count)]
        users = [{"upn": upn, "mail": upn, "id": object_id(i)} for i, upn in enumerate(upns)]
        self.control.seed_graph(self.name, users, [{"name": "Employee", "members": upns}])
        emply_users = [
            {"username": upn, "email": upn, "roles": ["Employee"],
             **({"external_id": object_id(i)} if linked else {})}
            for i, upn in enumerate(upns)
        ]  # fmt: skip
        self.control.seed_emply(self.name, emply_users, [])
        return upns

    def tenant(self):
        with patched_environ(self.env):
            return load_tenant(self.tenants_file, self.name)

    def clients(self, sleeps: list[float]) -> tuple[GraphClient, EmplyClient]:
        graph = GraphClient(
            tenant_id=self.name, client_id=CLIENT_ID, client_secret=SECRET,
            authority_host=self.stack.login_url, graph_url=self.stack.graph_url,
            ca_bundle=self.stack.ca_file, sleep=sleeps.append,
        )  # fmt: skip
        emply = EmplyClient(
            base_url=self.stack.emply_url, customer=self.name, api_key=EMPLY_KEY,
            ca_bundle=self.stack.ca_file,
        )  # fmt: skip
        return graph, emply

    def sync(self) -> dict:
        with patched_environ(self.env):
            return run_sync(self.name, tenants_file=str(self.tenants_file))

    def warehouse(self) -> duckdb.DuckDBPyConnection:
        data_dir = Path(self.env["ENTRASYNC_DATA_DIR"])
        return duckdb.connect(str(warehouse_file(self.name, data_dir)))

    def graph_events(self, upn: str) -> list[dict]:
        return self.control._call("GET", f"/graph/{self.name}/users/{upn}/events")

    def emply_events(self, upn: str) -> list[dict]:
        return self.control._call("GET", f"/emply/{self.name}/users/{upn}/events")


def read_mailboxes(platform: Platform, sleeps: list[float]) -> duckdb.DuckDBPyConnection:
    settings = platform.tenant()
    graph, emply = platform.clients(sleeps)
    con = connect_memory()
    with graph, emply:
        extract.extract_entra(con, graph, settings)
        extract.extract_emply(con, emply, settings)
        platform.control._call("DELETE", "/graph/stats")
        extract_mailboxes(con, graph, emply, settings, "run-1")
    return con


def test_calendars_and_photos_come_through_batches_of_twenty(stack, tmp_path):
    platform = Platform(stack, tmp_path, "mailbox-batches")
    upns = platform.seed(45)
    for upn in upns[:10]:
        platform.control.graph_op(platform.name, "add_calendar", {"user": upn, "name": "Team"})
        platform.control.graph_op(platform.name, "set_photo", {"user": upn, "content": upn})
    platform.control.graph_op(
        platform.name, "add_calendar", {"user": upns[0], "name": "Shared", "canEdit": False}
    )
    con = read_mailboxes(platform, sleeps=[])
    stats = platform.control._call("GET", "/graph/stats")
    # calendars (45), calendarView of the 45 new default calendars, photo metadata (45) and the
    # 10 photos' bytes: one $batch round trip per 20 of them (the emulator counts both).
    assert stats["by_path"] == {
        "POST /$batch": 3 + 3 + 3 + 1,
        "GET /users/{user}/calendars": 45,
        "GET /users/{user}/calendars/{calendar}/calendarView": 45,
        "GET /users/{user}/photo": 45,
        "GET /users/{user}/photo/$value": 10,
    }
    assert con.execute("SELECT count(*) FROM entra_calendars").fetchone()[0] == 45 + 10 + 1
    assert (
        con.execute("SELECT count(*) FROM entra_calendars WHERE events_read").fetchone()[0] == 45
    )  # only the (new) default calendars: the others arrive disabled
    photos = dict(con.execute(
        "SELECT entra_object_id, sha256 FROM entra_photos WHERE sha256 IS NOT NULL"
    ).fetchall())  # fmt: skip
    assert photos == {object_id(i): hashlib.sha256(upns[i].encode()).hexdigest() for i in range(10)}
    content = con.execute("SELECT content FROM entra_photo_content WHERE entra_object_id = ?",
                          [object_id(3)]).fetchone()[0]  # fmt: skip
    assert bytes(content) == upns[3].encode()


def test_unchanged_photos_are_not_downloaded_again(stack, tmp_path):
    platform = Platform(stack, tmp_path, "mailbox-photo-etag", sync_calendars=False)
    upns = platform.seed(25)
    for upn in upns:
        platform.control.graph_op(platform.name, "set_photo", {"user": upn, "content": upn})
    con = read_mailboxes(platform, sleeps=[])
    # Emply now holds what Entra has: the next read needs metadata only.
    con.execute(
        "UPDATE emply_users SET photo_sha256 = (SELECT sha256 FROM entra_photos p"
        " WHERE p.entra_object_id = emply_users.entra_object_id)"
    )
    platform.control._call("DELETE", "/graph/stats")
    settings = platform.tenant()
    graph, emply = platform.clients([])
    with graph, emply:
        extract_photos(con, graph, "run-2")
    stats = platform.control._call("GET", "/graph/stats")
    assert stats["by_path"] == {"POST /$batch": math.ceil(25 / 20), "GET /users/{user}/photo": 25}
    assert con.execute("SELECT count(*) FROM entra_photo_content").fetchone()[0] == 0
    assert settings.sync_calendars is False


@pytest.mark.slow
def test_photo_checks_per_run_reads_the_stalest_in_turn_and_picks_up_a_change(stack, tmp_path):
    platform = Platform(
        stack, tmp_path, "mailbox-photo-budget", sync_calendars=False, photo_checks_per_run=2
    )
    upns = platform.seed(5)
    for upn in upns:
        platform.control.graph_op(platform.name, "set_photo", {"user": upn, "content": upn})

    def sync() -> tuple[int, int, set[str]]:
        platform.control._call("DELETE", "/graph/stats")
        summary = platform.sync()
        assert summary["status"] == "completed"
        by_path = platform.control._call("GET", "/graph/stats")["by_path"]
        with platform.warehouse() as con:
            checked = con.execute(
                "SELECT entra_object_id FROM entra_photo_checks WHERE run_id = ?",
                [summary["run_id"]],
            ).fetchall()
        return (
            by_path.get("GET /users/{user}/photo", 0),
            summary["changes"].get("set_photo", 0),
            {row[0] for row in checked},
        )

    assert sync() == (5, 5, {object_id(i) for i in range(5)})  # never checked: all of them
    for index in (0, 4):
        platform.control.graph_op(
            platform.name, "set_photo", {"user": upns[index], "content": f"{upns[index]} v2"}
        )
    assert sync() == (2, 1, {object_id(0), object_id(1)})  # the two stalest; 0 changed
    assert sync() == (2, 0, {object_id(2), object_id(3)})
    assert sync() == (2, 1, {object_id(4), object_id(0)})  # 4's turn: its change arrives
    emply = platform.control.emply_user(platform.name, upns[4])
    assert emply["photo_sha256"] == hashlib.sha256(f"{upns[4]} v2".encode()).hexdigest()


def test_throttled_items_are_sent_again_alone_after_retry_after(stack, tmp_path):
    platform = Platform(stack, tmp_path, "mailbox-throttled")
    platform.seed(30)
    platform.control.graph_op(
        platform.name,
        "fault",
        {"path": f"/users/{object_id(7)}/calendars", "status": 429, "times": 2, "retry_after": 3},
    )
    sleeps: list[float] = []
    con = read_mailboxes(platform, sleeps)
    assert sleeps == [3, 3]
    assert (
        con.execute(
            "SELECT count(*) FROM entra_calendars WHERE entra_object_id = ?", [object_id(7)]
        ).fetchone()[0]
        == 1
    )
    assert con.execute("SELECT count(*) FROM mailbox_reads WHERE status = 200").fetchone()[0] == 30


def test_a_failed_calendar_read_stops_the_run_instead_of_removing_calendars(stack, tmp_path):
    platform = Platform(stack, tmp_path, "mailbox-failed-read")
    platform.seed(3)
    assert platform.sync()["changes"].get("add_calendar") == 3
    platform.control.graph_op(
        platform.name, "fault", {"path": f"/users/{object_id(1)}/calendars", "status": 503,
                                 "times": 20, "retry_after": 0},
    )  # fmt: skip
    summary = platform.sync()
    assert summary["status"] == "failed"
    assert "calendars" in summary["error"]
    assert platform.control.emply_user(platform.name, "user0001@contoso.com")["calendars"]


@pytest.mark.slow
def test_events_in_the_window_are_refreshed_and_then_left_alone(stack, tmp_path):
    platform = Platform(stack, tmp_path, "mailbox-events")
    (upn,) = platform.seed(1)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0, tzinfo=None)
    far = tomorrow + timedelta(days=90)  # outside the 30-day window
    for subject, start in (("Standup", tomorrow), ("Next quarter", far)):
        platform.control.graph_op(platform.name, "add_event", {
            "user": upn, "subject": subject, "start": start.isoformat(),
            "end": (start + timedelta(minutes=30)).isoformat()})  # fmt: skip
    first = platform.sync()
    assert first["changes"].get("add_calendar") == 1 and first["changes"].get("set_events") == 1
    assert [e["subject"] for e in platform.emply_events(upn)] == ["Standup"]
    assert platform.sync()["changes"].get("set_events", 0) == 0
    later = tomorrow + timedelta(hours=3)
    platform.control.graph_op(platform.name, "add_event", {
        "user": upn, "subject": "Review", "start": later.isoformat(),
        "end": (later + timedelta(hours=1)).isoformat()})  # fmt: skip
    assert platform.sync()["changes"].get("set_events") == 1
    assert [e["subject"] for e in platform.emply_events(upn)] == ["Standup", "Review"]


def test_a_user_created_in_a_run_gets_its_calendars_and_their_events_in_that_run(stack, tmp_path):
    """No Emply user yet: create_user, add_calendar and set_events land in the same run."""
    platform = Platform(stack, tmp_path, "mailbox-created")
    upns = [f"new{i}@contoso.com" for i in range(2)]
    platform.control.seed_graph(
        platform.name,
        [{"upn": upn, "mail": upn} for upn in upns],
        [{"name": "Employee", "members": upns}],
    )
    platform.control.seed_emply(platform.name, [], [])
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0, tzinfo=None)
    platform.control.graph_op(platform.name, "add_calendar", {"user": upns[0], "name": "Team"})
    platform.control.graph_op(platform.name, "add_event", {
        "user": upns[0], "subject": "Standup", "start": tomorrow.isoformat(),
        "end": (tomorrow + timedelta(minutes=15)).isoformat()})  # fmt: skip
    first = platform.sync()
    assert first["status"] == "completed", first["error"]
    assert {kind: first["changes"].get(kind) for kind in
            ("create_user", "add_calendar", "set_events")} == {
        "create_user": 2, "add_calendar": 3, "set_events": 1}  # fmt: skip
    assert first["outcomes"]["set_events"] == {"applied": 1}
    assert [e["subject"] for e in platform.emply_events(upns[0])] == ["Standup"]
    calendars = platform.control.emply_user(platform.name, upns[0])["calendars"]
    assert {name: c["enabled"] for name, c in calendars.items()} == {
        "Calendar": True, "Team": False}  # fmt: skip
    second = platform.sync()
    assert sum(second["changes"].values()) == 0, second["changes"]


@pytest.mark.slow
def test_an_emply_event_is_created_once_when_a_run_dies_between_create_and_mark(stack, tmp_path):
    platform = Platform(stack, tmp_path, "mailbox-push-once")
    (upn,) = platform.seed(1)
    assert platform.sync()["status"] == "completed"  # adds the default calendar
    event = platform.control.emply_op(platform.name, "add_event", {
        "user": upn, "calendar": "Calendar", "subject": "Appraisal",
        "start": "2031-05-01T09:00:00Z", "end": "2031-05-01T10:00:00Z"})  # fmt: skip
    # Emply refuses the "pushed" mark: the Entra event exists, Emply does not know it yet.
    platform.control.emply_op(platform.name, "fault", {
        "path": f"/events/{event['eventId']}/pushed", "status": 500, "times": 5})  # fmt: skip
    failed = platform.sync()
    assert failed["status"] == "failed" and failed["changes"]["create_entra_event"] == 1
    assert len(platform.graph_events(upn)) == 1
    # As if the process had died before it could note the new event id in the ledger.
    with platform.warehouse() as con:
        con.execute("UPDATE changes SET result = NULL WHERE kind = 'create_entra_event'")
    rerun = platform.sync()
    assert rerun["status"] == "completed" and rerun["changes"]["create_entra_event"] == 1
    assert [e["subject"] for e in platform.graph_events(upn)] == ["Appraisal"]  # still one
    pushed = [e for e in platform.emply_events(upn) if e["subject"] == "Appraisal"]
    assert len(pushed) == 1 and pushed[0]["entraEventId"] == platform.graph_events(upn)[0]["id"]
    assert platform.sync()["changes"].get("create_entra_event", 0) == 0


def test_a_guest_without_a_mailbox_is_read_as_no_calendars_and_no_photo(stack, tmp_path):
    """Graph answers a guest's calendars and photo with 404 MailboxNotEnabledForRESTAPI."""
    platform = Platform(stack, tmp_path, "mailbox-guest")
    platform.seed(2)
    guest = platform.control.graph_op(
        platform.name, "add_user", {"mail": "lee@fabrikam.com", "userType": "Guest"}
    )["id"]
    platform.control.graph_op(platform.name, "add_member", {"group": "Employee", "user": guest})
    platform.control.emply_op(
        platform.name, "add_user",
        {"username": "lee@fabrikam.com", "email": "lee@fabrikam.com", "roles": ["Employee"]},
    )  # fmt: skip
    con = read_mailboxes(platform, sleeps=[])
    reads = con.execute(
        "SELECT status, error FROM mailbox_reads WHERE entra_object_id = ?", [guest]
    ).fetchall()
    assert reads == [
        (404, "The mailbox is either inactive, soft-deleted, or is hosted on-premise.")
    ]
    assert con.execute(
        "SELECT count(*) FROM entra_calendars WHERE entra_object_id = ?", [guest]
    ).fetchone() == (0,)
    assert con.execute(
        "SELECT sha256 FROM entra_photos WHERE entra_object_id = ?", [guest]
    ).fetchall() == [(None,)]
    members = con.execute("SELECT count(DISTINCT entra_object_id) FROM entra_calendars").fetchone()[
        0
    ]
    assert members == 2  # the members' mailboxes were read as usual
