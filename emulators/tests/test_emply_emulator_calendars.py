"""Emply emulator phase 2: calendars, synced and Emply-made events, the outbox, photos."""

import hashlib

import httpx
import pytest
from emulator_fixtures import asgi_client

from entrasync_emulators.emply import EmplyEmulator

KEY = "k-secret-123"
USER = "megan@contoso.com"
PNG = {"content-type": "image/png"}
WINDOW = {"from": "2024-05-01T00:00:00Z", "to": "2024-06-01T00:00:00Z"}


class Emply:
    """One customer `acme` with user megan@contoso.com, driven over HTTP."""

    def __init__(self) -> None:
        emulator = EmplyEmulator()
        self.control = asgi_client(emulator.control_app)
        self.api = asgi_client(
            emulator.api_app, base_url="https://emply.test/v1/acme", params={"apiKey": KEY}
        )
        assert self.control.put("/acme", json={"api_key": KEY}).status_code == 200
        self.user_id = self.ok_op("add_user", username=USER, email=USER)["userId"]

    def op(self, op: str, **args: object) -> httpx.Response:
        return self.control.post("/acme/ops", json={"op": op, "args": args})

    def ok_op(self, op: str, **args: object) -> dict:
        response = self.op(op, **args)
        assert response.status_code == 200, response.text
        return response.json()

    def add_calendar(self, name: str, entra_id: str, **flags: bool) -> str:
        body = {"name": name, "entraCalendarId": entra_id, **flags}
        response = self.api.post(f"/users/{self.user_id}/calendars", json=body)
        assert response.status_code == 201, response.text
        return response.json()["calendarId"]

    def add_event(self, calendar: str, subject: str, start: str, end: str) -> dict:
        """An event made in Emply (the add_event op), not one synced from Entra."""
        return self.ok_op(
            "add_event", user=USER, calendar=calendar, subject=subject, start=start, end=end
        )

    def put_events(self, calendar_id: str, events: list[dict], **window: str) -> httpx.Response:
        body = {**WINDOW, **window, "events": events}
        return self.api.put(f"/users/{self.user_id}/calendars/{calendar_id}/events", json=body)

    def events(self) -> list[tuple[str, str, str | None]]:
        rows = self.control.get(f"/acme/users/{USER}/events").json()
        return sorted((row["subject"], row["source"], row["entraEventId"]) for row in rows)

    def export(self, export_id: str) -> list[dict]:
        return self.api.get(f"/exports/{export_id}").json()["data"]

    def user(self) -> dict:
        return self.control.get(f"/acme/users/{USER}").json()


@pytest.fixture
def emply() -> Emply:
    return Emply()


def synced(entra_id: str, subject: str, day: int, hours: int = 1) -> dict:
    start = f"2024-05-{day:02d}T09:00:00Z"
    end = f"2024-05-{day:02d}T{9 + hours:02d}:00:00Z"
    return {"entraEventId": entra_id, "subject": subject, "start": start, "end": end}


# calendars


def test_added_calendars_show_in_export_and_control(emply: Emply) -> None:
    default_id = emply.add_calendar("Calendar", "AAA-default", enabled=True, canDisable=False)
    emply.add_calendar("Team", "AAA-team")
    rows = {row["name"]: row for row in emply.export("calendars")}
    assert rows["Calendar"] == {
        "userId": emply.user_id,
        "calendarId": default_id,
        "name": "Calendar",
        "enabled": True,
        "canDisable": False,
        "entraCalendarId": "AAA-default",
    }
    assert (rows["Team"]["enabled"], rows["Team"]["canDisable"]) == (False, True)
    shown = emply.user()["calendars"]
    assert {name: (c["enabled"], c["can_disable"], c["entra_calendar_id"], c["events"])
            for name, c in shown.items()} == {
        "Calendar": (True, False, "AAA-default", []),
        "Team": (False, True, "AAA-team", []),
    }  # fmt: skip
    assert shown["Team"]["id"] == rows["Team"]["calendarId"]


def test_add_calendar_refuses(emply: Emply) -> None:
    emply.add_calendar("Calendar", "AAA-1")
    path = f"/users/{emply.user_id}/calendars"
    same_name = emply.api.post(path, json={"name": "calendar", "entraCalendarId": "x"})
    same_source = emply.api.post(path, json={"name": "Other", "entraCalendarId": "AAA-1"})
    assert (same_name.status_code, same_source.status_code) == (409, 409)
    missing = emply.api.post(path, json={"name": "Other"})
    assert missing.status_code == 400 and "entraCalendarId" in missing.json()["error"]["message"]
    unknown = emply.api.post("/users/nope/calendars", json={"name": "X", "entraCalendarId": "y"})
    assert unknown.status_code == 404


def test_set_calendar_enabled_keeps_the_users_choice(emply: Emply) -> None:
    emply.add_calendar("Calendar", "AAA-default", enabled=True, canDisable=False)
    emply.add_calendar("Team", "AAA-team")
    emply.ok_op("set_calendar_enabled", user=USER, calendar="Team", enabled=True)
    assert emply.user()["calendars"]["Team"]["enabled"] is True
    refused = emply.op("set_calendar_enabled", user=USER, calendar="Calendar", enabled=False)
    assert refused.status_code == 400 and "Calendar" in refused.json()["error"]
    unknown = emply.op("set_calendar_enabled", user=USER, calendar="Holidays", enabled=True)
    assert unknown.status_code == 404 and "Holidays" in unknown.json()["error"]
    missing = emply.op("set_calendar_enabled", user=USER, calendar="Team")
    assert missing.status_code == 400 and "enabled" in missing.json()["error"]


def test_delete_calendar_removes_it_and_its_events(emply: Emply) -> None:
    team_id = emply.add_calendar("Team", "AAA-team")
    emply.put_events(team_id, [synced("E1", "Standup", 2)])
    emply.add_event("Team", "Offsite", "2024-05-10T09:00:00Z", "2024-05-10T17:00:00Z")
    response = emply.api.delete(f"/users/{emply.user_id}/calendars/{team_id}")
    assert response.status_code == 204
    assert emply.export("calendars") == [] and emply.events() == []
    assert emply.api.get("/events/outbox").json() == []
    assert emply.api.delete(f"/users/{emply.user_id}/calendars/{team_id}").status_code == 404


def test_calendar_sync_switch_is_in_the_users_export(emply: Emply) -> None:
    emply.ok_op("disable_calendar_sync", user=USER)
    assert emply.export("users")[0]["calendarSyncEnabled"] is False


# synced events


def test_put_events_replaces_synced_events_in_the_window(emply: Emply) -> None:
    calendar_id = emply.add_calendar("Calendar", "AAA", enabled=True, canDisable=False)
    first = emply.put_events(calendar_id, [synced("E1", "Standup", 2), synced("E2", "Review", 3)])
    assert first.json() == {"calendarId": calendar_id, "removed": 0, "added": 2}
    april = {
        "entraEventId": "E0",
        "subject": "April",
        "start": "2024-04-02T09:00:00Z",
        "end": "2024-04-02T10:00:00Z",
    }
    emply.put_events(
        calendar_id, [april], **{"from": "2024-04-01T00:00:00Z", "to": "2024-05-01T00:00:00Z"}
    )
    emply.add_event("Calendar", "Dentist", "2024-05-04T08:00:00Z", "2024-05-04T09:00:00Z")
    second = emply.put_events(calendar_id, [synced("E2", "Review (moved)", 5)])
    assert second.json() == {"calendarId": calendar_id, "removed": 2, "added": 1}
    assert emply.events() == [
        ("April", "entra", "E0"),
        ("Dentist", "emply", None),
        ("Review (moved)", "entra", "E2"),
    ]


def test_put_events_does_not_duplicate_pushed_emply_events(emply: Emply) -> None:
    calendar_id = emply.add_calendar("Calendar", "AAA", enabled=True, canDisable=False)
    made = emply.add_event("Calendar", "Dentist", "2024-05-04T08:00:00", "2024-05-04T09:00:00")
    emply.api.post(f"/events/{made['eventId']}/pushed", json={"entraEventId": "E-dentist"})
    response = emply.put_events(
        calendar_id, [synced("E-dentist", "Dentist", 4), synced("E9", "Lunch", 4)]
    )
    assert response.json()["added"] == 1
    assert emply.events() == [("Dentist", "emply", "E-dentist"), ("Lunch", "entra", "E9")]


@pytest.mark.parametrize(
    ("events", "window", "named"),
    [
        (
            [{"subject": "x", "start": "2024-05-02T09:00:00Z", "end": "2024-05-02T10:00:00Z"}],
            {},
            "events[0]: missing 'entraEventId'",
        ),
        (
            [synced("E1", "a", 2), {**synced("E2", "b", 2), "end": "2024-05-01T00:00:00Z"}],
            {},
            "events[1]: 'end' is before 'start'",
        ),
        (
            [synced("E1", "a", 2), {**synced("E2", "b", 2), "start": "soon"}],
            {},
            "events[1]: 'start'",
        ),
        ([synced("E1", "a", 2), synced("E1", "b", 3)], {}, "twice"),
        ([], {"to": "2024-04-01T00:00:00Z"}, "'to' is before 'from'"),
    ],
)
def test_put_events_refuses(emply: Emply, events: list, window: dict, named: str) -> None:
    calendar_id = emply.add_calendar("Calendar", "AAA")
    emply.put_events(calendar_id, [synced("E0", "Keep", 1)])
    response = emply.put_events(calendar_id, events, **window)
    assert response.status_code == 400
    assert named in response.json()["error"]["message"]
    assert emply.events() == [("Keep", "entra", "E0")]


# outbox


def test_outbox_holds_emply_made_events_until_pushed(emply: Emply) -> None:
    calendar_id = emply.add_calendar("Calendar", "AAA", enabled=True, canDisable=False)
    made = emply.add_event("calendar", "Offsite", "2024-05-10T09:00:00Z", "2024-05-10T17:00:00Z")
    [row] = emply.api.get("/events/outbox").json()
    assert row == {
        "eventId": made["eventId"],
        "userId": emply.user_id,
        "calendarId": calendar_id,
        "entraCalendarId": "AAA",
        "subject": "Offsite",
        "start": "2024-05-10T09:00:00Z",
        "end": "2024-05-10T17:00:00Z",
    }
    pushed = emply.api.post(f"/events/{made['eventId']}/pushed", json={"entraEventId": "E7"})
    assert pushed.status_code == 200 and pushed.json()["entraEventId"] == "E7"
    again = emply.api.post(f"/events/{made['eventId']}/pushed", json={"entraEventId": "E7"})
    assert again.status_code == 200
    assert emply.api.get("/events/outbox").json() == []
    other = emply.api.post(f"/events/{made['eventId']}/pushed", json={"entraEventId": "E8"})
    assert other.status_code == 409
    assert emply.api.post("/events/nope/pushed", json={"entraEventId": "E"}).status_code == 404


def test_add_event_refuses(emply: Emply) -> None:
    emply.add_calendar("Calendar", "AAA")
    times = {"start": "2024-05-10T09:00:00Z", "end": "2024-05-10T10:00:00Z"}
    no_calendar = emply.op("add_event", user=USER, calendar="Team", subject="x", **times)
    assert no_calendar.status_code == 404 and "Team" in no_calendar.json()["error"]
    no_subject = emply.op("add_event", user=USER, calendar="Calendar", **times)
    assert no_subject.status_code == 400 and "subject" in no_subject.json()["error"]
    backwards = emply.op(
        "add_event",
        user=USER,
        calendar="Calendar",
        subject="x",
        start=times["end"],
        end=times["start"],
    )
    assert backwards.status_code == 400


def test_deleted_users_calendars_and_outbox_rows_are_gone(emply: Emply) -> None:
    emply.add_calendar("Calendar", "AAA")
    emply.add_event("Calendar", "x", "2024-05-10T09:00:00Z", "2024-05-10T10:00:00Z")
    emply.ok_op("delete_user", user=USER)
    assert emply.export("calendars") == []
    assert emply.api.get("/events/outbox").json() == []


# photos


def test_photo_round_trip_and_hash(emply: Emply) -> None:
    path = f"/users/{emply.user_id}/photo"
    assert emply.api.get(path).status_code == 404
    content = b"\x89PNG fake photo bytes"
    response = emply.api.put(path, content=content, headers=PNG)
    digest = hashlib.sha256(content).hexdigest()
    assert response.json() == {"userId": emply.user_id, "photoSha256": digest}
    fetched = emply.api.get(path)
    assert (fetched.content, fetched.headers["content-type"]) == (content, "image/png")
    assert emply.export("users")[0]["photoSha256"] == digest
    assert emply.user()["photo_sha256"] == digest


def test_photo_refuses_non_images_and_unknown_users(emply: Emply) -> None:
    path = f"/users/{emply.user_id}/photo"
    wrong_type = emply.api.put(path, content=b"{}", headers={"content-type": "application/json"})
    assert wrong_type.status_code == 415
    assert wrong_type.json()["error"]["code"] == "UnsupportedMediaType"
    empty = emply.api.put(path, content=b"", headers={"content-type": "image/jpeg"})
    assert empty.status_code == 400
    unknown = emply.api.put("/users/nope/photo", content=b"x", headers=PNG)
    assert unknown.status_code == 404
    assert emply.user()["photo_sha256"] is None


def test_calendar_and_photo_writes_are_counted(emply: Emply) -> None:
    calendar_id = emply.add_calendar("Calendar", "AAA")
    emply.put_events(calendar_id, [])
    emply.api.put(f"/users/{emply.user_id}/photo", content=b"x", headers=PNG)
    emply.api.get("/events/outbox")
    assert emply.control.get("/acme/stats").json() == {"requests": 4, "writes": 3}
