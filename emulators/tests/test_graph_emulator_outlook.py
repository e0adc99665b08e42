"""Graph emulator Outlook side: calendars, calendarView, events, photos, mailbox throttling."""

from __future__ import annotations

import asyncio
import hashlib
import time

import httpx
import pytest
from emulator_fixtures import access_token, graph_client, ops_for, reset_tenant, trusting
from emulator_fixtures import control as control
from emulator_fixtures import stack as stack

TENANT = "graph-outlook-t1"
MEGAN = "megan@contoso.com"
op = ops_for(TENANT)


@pytest.fixture
def megan_id(control):
    reset_tenant(control, TENANT)
    user_id = op(control, "add_user", upn=MEGAN, mail=MEGAN, displayName="Megan Bowen")["id"]
    yield user_id
    control.post(
        "/config",
        json={
            "latency_ms": 0,
            "mailbox_concurrency": 4,
            "mailbox_requests_per_window": 10_000,
            "mailbox_window_s": 600,
        },
    )


@pytest.fixture
def token(stack, megan_id):
    return access_token(stack, TENANT)


@pytest.fixture
def graph(stack, token):
    with graph_client(stack, token) as client:
        yield client


def _burst(stack, token, path, times=6):
    """`times` concurrent GETs of `path`, all in flight together."""

    async def gather():
        async with httpx.AsyncClient(
            base_url=stack.graph_url,
            headers={"Authorization": f"Bearer {token}"},
            verify=trusting(stack),
        ) as client:
            return await asyncio.gather(*(client.get(path) for _ in range(times)))

    return asyncio.run(gather())


def _calendars(graph, user=MEGAN):
    response = graph.get(f"/users/{user}/calendars")
    assert response.status_code == 200, response.text
    return {calendar["name"]: calendar for calendar in response.json()["value"]}


EVENT = {
    "subject": "Let's go for lunch",
    "body": {"contentType": "HTML", "content": "Does noon work for you?"},
    "start": {"dateTime": "2030-04-15T12:00:00", "timeZone": "Pacific Standard Time"},
    "end": {"dateTime": "2030-04-15T14:00:00", "timeZone": "Pacific Standard Time"},
    "location": {"displayName": "Harry's Bar"},
    "transactionId": "7E163156-7762-4BEB-A1C6-729EA81755A7",
}


# ---------------------------------------------------------------- calendars
def test_every_user_has_a_default_calendar_shaped_like_graphs(graph, megan_id, stack):
    body = graph.get(f"/users/{megan_id}/calendars").json()
    assert body["@odata.context"] == f"{stack.graph_url}/$metadata#users('{megan_id}')/calendars"
    (calendar,) = body["value"]
    assert calendar["name"] == "Calendar"
    assert calendar["isDefaultCalendar"] is True and calendar["canEdit"] is True
    assert calendar["owner"] == {"name": "Megan Bowen", "address": MEGAN}
    for key in ("id", "color", "canShare", "canViewPrivateItems", "isRemovable", "hexColor",
                "changeKey", "@odata.id"):  # fmt: skip
        assert key in calendar
    assert calendar["isRemovable"] is False


def test_added_calendars_show_can_edit_and_removal(graph, control):
    op(control, "add_calendar", user=MEGAN, name="Team", canEdit=False)
    op(control, "add_calendar", user=MEGAN, name="Projects")
    calendars = _calendars(graph)
    assert set(calendars) == {"Calendar", "Team", "Projects"}
    assert calendars["Team"]["canEdit"] is False
    assert calendars["Projects"]["canEdit"] is True
    assert calendars["Projects"]["isDefaultCalendar"] is False
    op(control, "remove_calendar", user=MEGAN, name="Team")
    assert set(_calendars(graph)) == {"Calendar", "Projects"}
    single = graph.get(f"/users/{MEGAN}/calendars/{calendars['Projects']['id']}").json()
    assert single["name"] == "Projects"


def test_calendars_of_unknown_user_or_calendar_are_404(graph):
    response = graph.get("/users/nobody@contoso.com/calendars")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "ErrorInvalidUser"
    missing = graph.get(f"/users/{MEGAN}/calendars/AAMkAGnope/events")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "ErrorItemNotFound"


def test_calendar_list_pages_by_ten(graph, control):
    for index in range(11):
        op(control, "add_calendar", user=MEGAN, name=f"Cal {index}")
    first = graph.get(f"/users/{MEGAN}/calendars").json()
    assert len(first["value"]) == 10
    second = graph.get(first["@odata.nextLink"]).json()
    assert len(second["value"]) == 2 and "@odata.nextLink" not in second


# ------------------------------------------------------------------- events
def test_post_event_returns_201_shaped_like_graphs(graph, megan_id, control):
    calendar = _calendars(graph)["Calendar"]
    response = graph.post(
        f"/users/{MEGAN}/calendars/{calendar['id']}/events",
        json=EVENT,
        headers={"Prefer": 'outlook.timezone="Pacific Standard Time"'},
    )
    assert response.status_code == 201, response.text
    event = response.json()
    assert event["@odata.context"].endswith(f"users('{megan_id}')/events/$entity")
    assert event["@odata.etag"].startswith('W/"')
    assert event["subject"] == "Let's go for lunch"
    assert event["start"] == {
        "dateTime": "2030-04-15T12:00:00.0000000",
        "timeZone": "Pacific Standard Time",
    }
    assert event["originalStartTimeZone"] == "Pacific Standard Time"
    assert event["organizer"]["emailAddress"]["address"] == MEGAN
    assert event["location"]["displayName"] == "Harry's Bar"
    assert event["transactionId"] == EVENT["transactionId"]
    for key in ("iCalUId", "webLink", "responseStatus", "isOrganizer", "showAs", "type"):
        assert key in event
    (created,) = control.get(f"/{TENANT}/users/{MEGAN}/events").json()
    assert created["id"] == event["id"] and created["calendar"] == "Calendar"
    assert created["start"]["timeZone"] == "UTC"
    assert created["start"]["dateTime"] == "2030-04-15T19:00:00.0000000"


def test_repeated_transaction_id_does_not_duplicate(graph, control):
    calendar_id = _calendars(graph)["Calendar"]["id"]
    first = graph.post(f"/users/{MEGAN}/calendars/{calendar_id}/events", json=EVENT).json()
    again = graph.post(f"/users/{MEGAN}/calendars/{calendar_id}/events", json=EVENT).json()
    assert first["id"] == again["id"]
    assert len(control.get(f"/{TENANT}/users/{MEGAN}/events").json()) == 1


def test_event_on_read_only_calendar_is_403(graph, control):
    op(control, "add_calendar", user=MEGAN, name="Shared", canEdit=False)
    calendar_id = _calendars(graph)["Shared"]["id"]
    response = graph.post(f"/users/{MEGAN}/calendars/{calendar_id}/events", json=EVENT)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "ErrorAccessDenied"


def test_event_without_times_is_400(graph):
    calendar_id = _calendars(graph)["Calendar"]["id"]
    response = graph.post(f"/users/{MEGAN}/calendars/{calendar_id}/events", json={"subject": "x"})
    assert response.status_code == 400


def test_calendar_view_needs_a_window_and_filters_by_it(graph, control):
    for day in (1, 2, 3, 20):
        op(
            control,
            "add_event",
            user=MEGAN,
            subject=f"day {day}",
            start=f"2030-01-{day:02d}T09:00:00",
            end=f"2030-01-{day:02d}T10:00:00",
        )
    calendar_id = _calendars(graph)["Calendar"]["id"]
    path = f"/users/{MEGAN}/calendars/{calendar_id}/calendarView"
    missing = graph.get(path, params={"startDateTime": "2030-01-01T00:00:00Z"})
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "ErrorInvalidParameter"
    body = graph.get(
        path,
        params={"startDateTime": "2030-01-02T00:00:00Z", "endDateTime": "2030-01-10T00:00:00Z"},
    ).json()
    assert [event["subject"] for event in body["value"]] == ["day 2", "day 3"]
    assert body["value"][0]["start"] == {
        "dateTime": "2030-01-02T09:00:00.0000000",
        "timeZone": "UTC",
    }
    # add_event events are not "created via the API"
    assert control.get(f"/{TENANT}/users/{MEGAN}/events").json() == []


def test_calendar_view_pages_and_keeps_the_window(graph, control):
    for hour in range(12):
        op(control, "add_event", user=MEGAN, subject=f"h{hour}",
           start=f"2030-02-01T{hour:02d}:00:00", end=f"2030-02-01T{hour:02d}:30:00")  # fmt: skip
    window = {"startDateTime": "2030-02-01T00:00:00Z", "endDateTime": "2030-02-02T00:00:00Z"}
    first = graph.get(f"/users/{MEGAN}/calendarView", params={**window, "$top": "5"}).json()
    subjects = [e["subject"] for e in first["value"]]
    link = first["@odata.nextLink"]
    while link:
        page = graph.get(link).json()
        subjects += [e["subject"] for e in page["value"]]
        link = page.get("@odata.nextLink")
    assert subjects == [f"h{hour}" for hour in range(12)]


def test_events_list_and_select(graph, control):
    op(control, "add_event", user=MEGAN, subject="standup",
       start="2030-03-01T09:00:00", end="2030-03-01T09:15:00")  # fmt: skip
    body = graph.get(f"/users/{MEGAN}/events", params={"$select": "subject,start"}).json()
    (event,) = body["value"]
    assert set(event) == {"@odata.etag", "subject", "start", "id"}


# ------------------------------------------------------------------- photos
def test_photo_metadata_and_bytes(graph, control, megan_id):
    missing = graph.get(f"/users/{MEGAN}/photo")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "ImageNotFound"
    assert graph.get(f"/users/{MEGAN}/photo/$value").status_code == 404
    op(control, "set_photo", user=MEGAN, content="pixels of megan")
    metadata = graph.get(f"/users/{MEGAN}/photo").json()
    assert metadata["@odata.mediaContentType"] == "image/jpeg"
    assert metadata["@odata.mediaEtag"].startswith('"')
    assert (metadata["id"], metadata["width"], metadata["height"]) == ("240X240", 240, 240)
    raw = graph.get(f"/users/{megan_id}/photo/$value")
    assert raw.status_code == 200
    assert raw.headers["content-type"] == "image/jpeg"
    assert raw.content == b"pixels of megan"
    state = control.get(f"/{TENANT}/users/{MEGAN}").json()
    assert state["photo_sha256"] == hashlib.sha256(b"pixels of megan").hexdigest()


# --------------------------------------------------------------- throttling
def test_more_than_four_concurrent_requests_per_mailbox_get_429(stack, token, control):
    control.post("/config", json={"latency_ms": 300}).raise_for_status()
    responses = _burst(stack, token, f"/users/{MEGAN}/calendars")
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 200, 200, 200, 429, 429]
    throttled = next(r for r in responses if r.status_code == 429)
    assert float(throttled.headers["retry-after"]) > 0
    assert throttled.json()["error"]["code"] == "ApplicationThrottled"


def test_directory_requests_are_not_mailbox_limited(stack, token, control):
    control.post("/config", json={"latency_ms": 200}).raise_for_status()
    responses = _burst(stack, token, f"/users/{MEGAN}")
    assert {response.status_code for response in responses} == {200}


def test_requests_per_window_per_mailbox(graph, control):
    control.post(
        "/config", json={"mailbox_requests_per_window": 3, "mailbox_window_s": 30}
    ).raise_for_status()
    statuses = [graph.get(f"/users/{MEGAN}/calendars").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = graph.get(f"/users/{MEGAN}/photo")
    assert response.status_code == 429
    assert 0 < float(response.headers["retry-after"]) <= 30
    control.post("/config", json={"mailbox_window_s": 0.2}).raise_for_status()
    time.sleep(0.25)
    assert graph.get(f"/users/{MEGAN}/calendars").status_code == 200
