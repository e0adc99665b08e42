"""EmplyClient requests, responses, retries and error types (MockTransport, no network)."""

from __future__ import annotations

import json
import pickle

import httpx
import pytest
from scripted_transport import Script

from entrasync.connectors.emply import (
    EmplyClient,
    EmplyConflict,
    EmplyError,
    EmplyExportError,
    EmplyUnavailable,
)

BASE = "https://api.emply.com/v1"
KEY = "k-123"

USER_ROW = {
    "userId": "u-1",
    "username": "megan@contoso.com",
    "email": "megan@contoso.com",
    "firstName": "Megan",
    "lastName": "Jordan",
    "active": True,
    "roles": ["Employee"],
    "employeeId": None,
    "externalId": "oid-1",
    "calendarSyncEnabled": True,
    "photoSha256": None,
}


def make_client(script, sleeps=None, **options):
    return EmplyClient(
        customer="demo",
        api_key=KEY,
        http=httpx.Client(transport=httpx.MockTransport(script)),
        sleep=(sleeps if sleeps is not None else []).append,
        **options,
    )


def package(rows, export_id="users"):
    return httpx.Response(200, json={"exportId": export_id, "name": export_id, "data": rows})


def emply_error(status, code, message):
    return httpx.Response(status, json={"error": {"code": code, "message": message}})


def test_read_export_sends_key_and_window_as_query():
    script = Script(package([USER_ROW]))
    rows = make_client(script).read_export("users", from_="2024-01-01", to="2024-02-01")
    assert rows == [USER_ROW]
    request = script.requests[0]
    assert request.url.path == "/v1/demo/exports/users"
    assert dict(request.url.params) == {"from": "2024-01-01", "to": "2024-02-01", "apiKey": KEY}


def test_read_users_maps_to_warehouse_rows():
    script = Script(package([USER_ROW]))
    [row] = make_client(script).read_users("users-export")
    assert script.requests[0].url.path == "/v1/demo/exports/users-export"
    assert row == {
        "user_id": "u-1",
        "username": "megan@contoso.com",
        "email": "megan@contoso.com",
        "first_name": "Megan",
        "last_name": "Jordan",
        "active": True,
        "roles": ["Employee"],
        "employee_id": None,
        "entra_object_id": "oid-1",
        "calendar_sync_enabled": True,
        "photo_sha256": None,
    }


def test_read_employees_roles_and_calendars():
    employee = {
        "employeeId": "e-1",
        "email": "a@contoso.com",
        "firstName": "A",
        "lastName": "B",
        "jobTitle": "CTO",
        "department": "IT",
        "mobilePhone": None,
        "userId": "u-1",
        "status": "archived",
    }
    role = {"roleId": "r-1", "name": "Administrator", "isAdministrator": True}
    calendar = {
        "userId": "u-1",
        "calendarId": "c-1",
        "name": "Calendar",
        "enabled": True,
        "canDisable": False,
        "entraCalendarId": "AAMk=",
    }
    script = Script(package([employee]), package([role]), package([calendar]))
    client = make_client(script)
    assert client.read_employees()[0]["archived"] is True
    assert client.read_roles() == [{"role_id": "r-1", "name": "Administrator", "is_admin": True}]
    assert client.read_calendars()[0] == {
        "user_id": "u-1",
        "calendar_id": "c-1",
        "name": "Calendar",
        "enabled": True,
        "can_disable": False,
        "entra_calendar_id": "AAMk=",
    }
    paths = [r.url.path for r in script.requests]
    assert paths == [
        "/v1/demo/exports/employees",
        "/v1/demo/exports/roles",
        "/v1/demo/exports/calendars",
    ]


def test_create_user_posts_the_documented_body():
    script = Script(httpx.Response(201, json=USER_ROW))
    created = make_client(script).create_user(
        username="megan@contoso.com",
        email="megan@contoso.com",
        first_name="Megan",
        last_name="Jordan",
        roles=["Employee"],
        external_id="oid-1",
    )
    assert created["userId"] == "u-1"
    request = script.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v1/demo/users")
    assert json.loads(request.content) == {
        "username": "megan@contoso.com",
        "email": "megan@contoso.com",
        "firstName": "Megan",
        "lastName": "Jordan",
        "roles": ["Employee"],
        "employeeId": None,
        "externalId": "oid-1",
    }


def test_create_user_conflict():
    script = Script(emply_error(409, "conflict", "username exists"))
    with pytest.raises(EmplyConflict) as caught:
        make_client(script).create_user(
            username="x", email="x@contoso.com", first_name=None, last_name=None, roles=[]
        )
    assert (caught.value.status, caught.value.code, caught.value.path) == (409, "conflict", "users")
    assert isinstance(caught.value, EmplyError)


def test_update_user_patches_only_the_given_fields():
    script = Script(httpx.Response(200, json={**USER_ROW, "active": False}))
    updated = make_client(script).update_user("u-1", active=False, external_id=None)
    assert updated["active"] is False
    request = script.requests[0]
    assert (request.method, request.url.path) == ("PATCH", "/v1/demo/users/u-1")
    assert json.loads(request.content) == {"active": False, "externalId": None}


def test_update_user_rejects_unknown_fields():
    with pytest.raises(TypeError, match="username"):
        make_client(Script()).update_user("u-1", username="x")


def test_update_unknown_user_is_an_error():
    script = Script(emply_error(404, "not_found", "no user u-9"))
    with pytest.raises(EmplyError, match="PATCH users/u-9 failed with 404 not_found: no user u-9"):
        make_client(script).update_user("u-9", active=True)


def test_find_employees_by_email_accepts_a_list_or_a_package():
    script = Script(httpx.Response(200, json=[{"employeeId": "e-1"}]), package([]))
    client = make_client(script)
    assert client.find_employees_by_email("a@contoso.com") == [{"employeeId": "e-1"}]
    assert client.find_employees_by_email("b@contoso.com") == []
    assert script.requests[0].url.path == "/v1/demo/employees/find-by-name"
    assert script.requests[0].url.params["email"] == "a@contoso.com"


def test_list_roles():
    script = Script(
        httpx.Response(200, json=[{"roleId": "r", "name": "HR", "isAdministrator": False}])
    )
    assert make_client(script).list_roles() == [{"role_id": "r", "name": "HR", "is_admin": False}]


def test_calendar_event_and_photo_endpoints():
    outbox_row = {
        "eventId": "ev-1",
        "userId": "u-1",
        "calendarId": "c-1",
        "subject": "Lunch",
        "start": "2024-05-01T12:00:00Z",
        "end": "2024-05-01T13:00:00Z",
    }
    script = Script(
        httpx.Response(201, json={"calendarId": "c-1"}),
        httpx.Response(204),
        httpx.Response(204),
        httpx.Response(200, json=[outbox_row]),
        httpx.Response(204),
        httpx.Response(204),
        httpx.Response(200, content=b"\x89PNG"),
        httpx.Response(404),
    )
    client = make_client(script)
    added = client.add_calendar(
        "u-1", name="Calendar", entra_calendar_id="AAMk=", enabled=True, can_disable=False
    )
    assert added == {"calendarId": "c-1"}
    client.remove_calendar("u-1", "c-2")
    events = [{"entraEventId": "e1", "subject": "s", "start": "a", "end": "b"}]
    client.set_events("u-1", "c-1", from_="2024-05-01", to="2024-06-01", events=events)
    assert client.read_event_outbox()[0]["event_id"] == "ev-1"
    client.mark_event_pushed("ev-1", "AAMkEvent=")
    client.set_photo("u-1", b"\x89PNG", "image/png")
    assert client.get_photo("u-1") == b"\x89PNG"
    assert client.get_photo("u-2") is None
    sent = [(r.method, r.url.path) for r in script.requests]
    assert sent == [
        ("POST", "/v1/demo/users/u-1/calendars"),
        ("DELETE", "/v1/demo/users/u-1/calendars/c-2"),
        ("PUT", "/v1/demo/users/u-1/calendars/c-1/events"),
        ("GET", "/v1/demo/events/outbox"),
        ("POST", "/v1/demo/events/ev-1/pushed"),
        ("PUT", "/v1/demo/users/u-1/photo"),
        ("GET", "/v1/demo/users/u-1/photo"),
        ("GET", "/v1/demo/users/u-2/photo"),
    ]
    bodies = [
        json.loads(r.content)
        if r.method in ("POST", "PUT") and r.content[:1] == b"{"
        else r.content
        for r in script.requests
    ]
    assert bodies[0] == {
        "name": "Calendar",
        "entraCalendarId": "AAMk=",
        "enabled": True,
        "canDisable": False,
    }
    assert bodies[2] == {"from": "2024-05-01", "to": "2024-06-01", "events": events}
    assert bodies[4] == {"entraEventId": "AAMkEvent="}
    assert bodies[5] == b"\x89PNG"
    assert script.requests[5].headers["Content-Type"] == "image/png"


# ---- retries -------------------------------------------------------------------------------


def test_429_and_5xx_are_retried_with_retry_after_or_backoff():
    script = Script(
        httpx.Response(429, headers={"Retry-After": "2"}),
        httpx.Response(503),
        package([]),
    )
    sleeps: list[float] = []
    assert make_client(script, sleeps).read_export("users") == []
    assert sleeps[0] == 2.0 and 0.5 <= sleeps[1] <= 1.0  # second backoff: 2 x 0.5 s


def test_retries_run_out_into_emply_unavailable():
    script = Script(*[emply_error(500, "internal", "boom") for _ in range(5)])
    sleeps: list[float] = []
    with pytest.raises(EmplyUnavailable) as caught:
        make_client(script, sleeps).read_users()
    assert caught.value.status == 500 and len(script.requests) == 5 and len(sleeps) == 4
    assert "after 5 attempts" in str(caught.value)


def test_connection_error_on_a_create_is_not_resent_after_it_may_have_arrived():
    script = Script(httpx.ReadTimeout("slow"))
    with pytest.raises(EmplyUnavailable, match="ReadTimeout"):
        make_client(script).create_user(
            username="x", email="x@contoso.com", first_name=None, last_name=None, roles=[]
        )
    assert len(script.requests) == 1


def test_connect_error_is_retried():
    script = Script(httpx.ConnectError("refused"), package([]))
    assert make_client(script).read_export("users") == []


def test_unauthorized_is_not_retried():
    script = Script(emply_error(401, "unauthorized", "unknown apiKey"))
    with pytest.raises(EmplyError) as caught:
        make_client(script).read_export("users")
    assert caught.value.status == 401 and len(script.requests) == 1


def test_export_that_is_not_json_or_has_no_data():
    for answer, message in [
        (httpx.Response(200, text="<html>"), "export 'users': Emply sent not JSON"),
        (httpx.Response(200, json={"rows": []}), "without a 'data' list"),
        (httpx.Response(200, json=[]), "without a 'data' list"),
    ]:
        with pytest.raises(EmplyExportError, match=message):
            make_client(Script(answer)).read_users()


def test_errors_survive_pickling():
    error = EmplyConflict(409, "conflict", "exists", "POST", "users")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is EmplyConflict and str(copy) == str(error)
