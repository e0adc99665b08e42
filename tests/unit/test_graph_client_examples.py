"""Microsoft's documented Graph exchanges (shared/graph_examples) replayed through GraphClient."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from entrasync.connectors.graph import GraphClient, GraphDataError, GraphError, GraphReadError
from entrasync.connectors.graph.models import (
    entra_deleted_user_row,
    entra_group_row,
    entra_member_row,
    entra_user_row,
)

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "graph_examples"
USER_ID = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
GROUP_ID = "45b7d2e7-b882-4a80-ba97-10b7a63b8fa4"


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def example_response(record: dict[str, Any]) -> httpx.Response:
    # The docs' Content-length values do not match their shortened bodies: leave them out.
    headers = {k: v for k, v in record["response_headers"].items() if k.lower() != "content-length"}
    if record.get("response_text") is not None:
        return httpx.Response(record["status"], headers=headers, text=record["response_text"])
    if record["response_body"] is None:
        return httpx.Response(record["status"], headers=headers)
    return httpx.Response(record["status"], headers=headers, json=record["response_body"])


def path_pattern(example_url: str) -> re.Pattern[str]:
    """The example's path as a regex: host dropped, {placeholders} and /me stand for any id."""
    path = urlsplit(example_url.replace(" ", "%20")).path.removeprefix("/v1.0")
    path = re.sub(r"^/me(?=/|$)", "/users/{me}", path)
    parts = re.split(r"(\{[^}]*\})", path)
    regex = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"/v1\\.0{regex}", re.IGNORECASE)


def example_query(example_url: str) -> dict[str, str]:
    return dict(parse_qsl(example_url.partition("?")[2]))


class Recorder:
    """MockTransport handler serving responses in turn and keeping every request it saw."""

    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.responses.pop(0)


def replay(record: dict[str, Any], check_query: bool = False) -> Recorder:
    """A handler that checks method and path against the example, then answers like the doc."""
    recorder = Recorder()

    def handler(request: httpx.Request) -> httpx.Response:
        recorder.requests.append(request)
        assert request.method == record["method"]
        assert path_pattern(record["url"]).fullmatch(request.url.path), request.url.path
        if check_query:
            sent = dict(request.url.params)
            for key, value in example_query(record["url"]).items():
                assert sent.get(key) == value, (key, sent)
        if record["request_body"] is not None:
            assert json.loads(request.content) == record["request_body"]
        return example_response(record)

    recorder.handler = handler  # type: ignore[attr-defined]
    return recorder


def client_for(handler, sleeps: list[float] | None = None) -> GraphClient:
    sleep_log = sleeps if sleeps is not None else []
    return GraphClient(
        tenant_id="t1",
        client_id="app",
        client_secret="s3cret",
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        token_provider=lambda: "token-1",
        sleep=sleep_log.append,
    )


def chain(names: list[str], first_url: str) -> tuple[Recorder, list[dict[str, Any]]]:
    """Serve the examples in turn; each request after the first must be the last nextLink."""
    records = [example(name) for name in names]
    recorder = Recorder()
    expected = {"url": first_url}

    def handler(request: httpx.Request) -> httpx.Response:
        record = records[len(recorder.requests)]
        recorder.requests.append(request)
        assert str(request.url).endswith(
            expected["url"].removeprefix("https://graph.microsoft.com")
        )
        expected["url"] = record["response_body"].get("@odata.nextLink", "")
        return example_response(record)

    recorder.handler = handler  # type: ignore[attr-defined]
    return recorder, records


# ---- users ---------------------------------------------------------------------------------


def test_users_list_guest_user_maps_with_ext_upn_and_other_mails():
    record = example("users_list_01_all_guest")
    recorder = replay(record)
    users = list(client_for(recorder.handler).iter_users())
    params = recorder.requests[0].url.params
    assert params["$top"] == "999"
    assert "userPrincipalName" in params["$select"].split(",")
    assert users == record["response_body"]["value"]
    # The doc shortened the object (no id, no accountEnabled): a required field is refused.
    with pytest.raises(GraphDataError, match="'id' is missing"):
        entra_user_row(users[0])
    row = entra_user_row({**users[0], "id": USER_ID, "accountEnabled": True})
    assert row["user_principal_name"] == "contoso1_gmail.com#EXT#@microsoft.onmicrosoft.com"
    assert row["mail"] == "'contoso1@gmail.com"  # verbatim: staging trims, not the connector
    assert row["other_mails"] == ["contoso1@gmail.com"]
    assert row["user_type"] is None and row["account_enabled"] is True


def test_users_count_reads_text_plain_with_eventual_consistency():
    record = example("users_list_03_count_only")
    recorder = replay(record)
    assert client_for(recorder.handler).count_users() == 893
    assert recorder.requests[0].headers["ConsistencyLevel"] == "eventual"


def test_users_filter_top_count_exposes_odata_count():
    record = example("users_list_04_filter_top_count_guest")
    recorder = replay(record, check_query=True)
    client = client_for(recorder.handler)
    stream = client.iter_pages(
        "/users", example_query(record["url"]), {"ConsistencyLevel": "eventual"}
    )
    users = list(stream.items())
    assert stream.count == 1 and stream.pages_read == 1 and stream.delta_link is None
    assert users[0]["userPrincipalName"] == "a_contoso.com#EXT#@microsoft.onmicrosoft.com"


@pytest.mark.parametrize("name", ["users_post_01_create", "users_post_02_identities"])
def test_create_user_posts_body_and_returns_created_object(name):
    record = example(name)
    created = client_for(replay(record).handler).create_user(record["request_body"])
    assert created["id"] == record["response_body"]["id"]


def test_update_user_patches_and_accepts_204_without_body():
    record = example("users_update_01_me")
    recorder = replay(record)
    assert client_for(recorder.handler).update_user(USER_ID, record["request_body"]) is None
    assert recorder.requests[0].url.path == f"/v1.0/users/{USER_ID}"


def test_delete_user_accepts_204():
    record = example("users_delete")
    recorder = replay(record)
    client_for(recorder.handler).delete_user(USER_ID)
    assert recorder.requests[0].url.path == f"/v1.0/users/{USER_ID}"


# ---- delta pages ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["users_delta_api_01_default", "users_delta_api_03_minimal"])
def test_user_delta_first_page_keeps_next_link(name):
    record = example(name)
    client = client_for(replay(record, check_query=True).handler)
    stream = client.iter_pages("/users/delta", example_query(record["url"]) or None)
    first_page = next(iter(stream))
    assert first_page == record["response_body"]["value"]
    assert stream.next_link == record["response_body"]["@odata.nextLink"]
    assert stream.delta_link is None


def test_user_delta_round_trip_follows_next_links_to_the_delta_link():
    names = [
        "users_delta_round_1_initial",
        "users_delta_round_2_nextlink",
        "users_delta_round_3_final_deltalink",
    ]
    recorder, records = chain(
        names, "/v1.0/users/delta?%24select=displayName%2CgivenName%2Csurname"
    )
    client = client_for(recorder.handler)
    stream = client.iter_pages("/users/delta", {"$select": "displayName,givenName,surname"})
    pages = list(stream)
    assert [len(page) for page in pages] == [2, 2, 2]
    assert stream.delta_link == records[2]["response_body"]["@odata.deltaLink"]
    # Round 4/5: the delta link is read again, verbatim, as a full URL.
    for name, expected_ids in [
        ("users_delta_round_4_no_changes", []),
        (
            "users_delta_round_5_changes_removed",
            ["25dcffff-959e-4ece-9973-e5d9b800e8cc", "8ffff70c-1c63-4860-b963-e34ec660931d"],
        ),
    ]:
        record = example(name)
        recorder = replay(record)
        again = client_for(recorder.handler).iter_pages(stream.delta_link)
        changes = list(again.items())
        assert str(recorder.requests[0].url) == record["url"]
        assert [c["id"] for c in changes] == expected_ids
        assert again.delta_link == record["response_body"]["@odata.deltaLink"]
    assert changes[1]["@removed"] == {"reason": "changed"}


def test_group_delta_round_trip_follows_next_links_verbatim():
    names = [
        "groups_delta_round_1_initial_members_delta",
        "groups_delta_round_2_nextlink",
        "groups_delta_round_3_final_deltalink",
    ]
    recorder, records = chain(
        names, "/v1.0/groups/delta?%24select=displayName%2Cdescription%2Cmembers"
    )
    stream = client_for(recorder.handler).iter_pages(
        "/groups/delta", {"$select": "displayName,description,members"}
    )
    groups = list(stream.items())
    assert len(groups) == 6 and stream.pages_read == 3
    assert len(groups[0]["members@delta"]) == 2
    assert stream.delta_link == records[2]["response_body"]["@odata.deltaLink"]
    # The doc's third request has a different skiptoken from the second page's nextLink: the
    # client sent the nextLink it received, not the doc's URL.
    assert str(recorder.requests[2].url) == records[1]["response_body"]["@odata.nextLink"]


@pytest.mark.parametrize(
    "name", ["groups_delta_api_01_members_delta", "groups_delta_large_group_page1"]
)
def test_group_delta_first_page_members_delta(name):
    record = example(name)
    stream = client_for(replay(record).handler).iter_pages(record["url"])
    group = next(iter(stream))[0]
    assert all(m["@odata.type"] == "#microsoft.graph.user" for m in group["members@delta"])
    assert stream.next_link == record["response_body"]["@odata.nextLink"]


def test_group_delta_members_removed():
    record = example("groups_delta_round_4_members_removed")
    stream = client_for(replay(record).handler).iter_pages(record["url"])
    members = next(iter(stream))[0]["members@delta"]
    assert [m.get("@removed") for m in members] == [{"reason": "deleted"}, None]
    assert stream.delta_link == record["response_body"]["@odata.deltaLink"]


# ---- groups and members --------------------------------------------------------------------


def test_groups_list_maps_rows():
    recorder = replay(example("groups_list_01_all"))
    rows = [entra_group_row(g) for g in client_for(recorder.handler).iter_groups()]
    assert rows == [
        {"id": "45b7d2e7-b882-4a80-ba97-10b7a63b8fa4", "display_name": "Golf Assist"},
        {"id": "d7797254-3084-44d0-99c9-a3b5ab149538", "display_name": "Golf Discussion"},
    ]
    assert recorder.requests[0].url.params["$select"] == "id,displayName"


def test_groups_filter_count():
    record = example("groups_list_02_filter_count")
    client = client_for(replay(record, check_query=True).handler)
    stream = client.iter_pages(
        "/groups", example_query(record["url"]), {"ConsistencyLevel": "eventual"}
    )
    assert [g["displayName"] for g in stream.items()] == ["Contoso Group 1", "Contoso Group 2"]
    assert stream.count == 2


def test_members_without_odata_type_are_refused_not_dropped():
    record = example("groups_members_01_list")
    recorder = replay(record)
    members = list(client_for(recorder.handler).iter_group_members(GROUP_ID))
    assert recorder.requests[0].url.path == f"/v1.0/groups/{GROUP_ID}/members"
    # Real Graph types every directoryObject; the doc's shortened item is not, and a member
    # silently skipped would look like a leaver.
    with pytest.raises(GraphDataError, match="'@odata.type' is missing"):
        entra_member_row(GROUP_ID, members[0], transitive=False)


def test_members_user_cast_types_every_item():
    record = example("groups_members_04_search_user_cast")
    members = client_for(replay(record).handler).iter_group_members(GROUP_ID, cast="user")
    rows = [entra_member_row(GROUP_ID, m, transitive=False) for m in members]
    assert [(r["member_id"], r["member_type"]) for r in rows] == [
        ("11111111-2222-3333-4444-555555555555", "user"),
        ("66666666-7777-8888-9999-000000000000", "user"),
    ]


def test_transitive_members_are_marked_transitive():
    record = example("groups_transitivemembers_01_list")
    recorder = replay(record)
    members = client_for(recorder.handler).iter_group_members(GROUP_ID, transitive=True)
    rows = [entra_member_row(GROUP_ID, m, transitive=True) for m in members]
    assert rows == [
        {
            "group_id": GROUP_ID,
            "member_id": "11111111-2222-3333-4444-555555555555",
            "member_type": "user",
            "transitive": True,
        }
    ]


def test_transitive_group_cast_gives_nested_groups():
    record = example("groups_transitivemembers_03_group_cast")
    client = client_for(replay(record).handler)
    members = client.iter_group_members(GROUP_ID, transitive=True, cast="group")
    rows = [entra_member_row(GROUP_ID, m, transitive=True) for m in members]
    assert {r["member_type"] for r in rows} == {"group"}
    assert [r["member_id"] for r in rows] == [
        "4d0ef681-e88f-42a3-a2db-e6bf1e249e10",
        "d9fb0c47-c783-40a1-bce1-53b52ada51fc",
    ]


# ---- deleted items -------------------------------------------------------------------------


def test_deleted_items_group_cast_pages():
    record = example("deleteditems_list_groups")
    client = client_for(replay(record).handler)
    deleted = list(client.iter_pages("/directory/deletedItems/microsoft.graph.group").items())
    assert [d["displayName"] for d in deleted] == ["SampleGroup"]


def test_deleted_items_with_deleted_date_time_map_to_timestamps():
    record = example("deleteditems_list_groups_count_orderby")
    client = client_for(replay(record, check_query=True).handler)
    stream = client.iter_pages(
        "/directory/deletedItems/microsoft.graph.group",
        example_query(record["url"]),
        {"ConsistencyLevel": "eventual"},
    )
    rows = [entra_deleted_user_row(obj) for obj in stream.items()]
    assert stream.count == 2
    assert rows[0]["deleted_at"].isoformat() == "2021-10-26T16:56:36+00:00"
    assert rows[0]["user_principal_name"] is None


# ---- calendars, events, photo --------------------------------------------------------------


def test_list_calendars_reads_can_edit():
    record = example("calendars_list_me")
    recorder = replay(record)
    calendars = client_for(recorder.handler).list_calendars(USER_ID)
    assert [(c["name"], c["canEdit"]) for c in calendars] == [("Calendar", True)]
    assert "canEdit" in recorder.requests[0].url.params["$select"]


def test_default_calendar():
    record = example("calendar_get_default")
    calendar = client_for(replay(record).handler).get_default_calendar(USER_ID)
    assert calendar["canEdit"] is True and "isDefaultCalendar" in calendar


def test_calendar_view_sends_window_and_asks_for_utc():
    record = example("calendar_view_me")
    recorder = replay(record, check_query=True)
    events = client_for(recorder.handler).calendar_view(
        USER_ID, None, "2020-01-01T19:00:00-08:00", "2020-01-02T19:00:00-08:00"
    )
    assert events[0]["responseStatus"]["response"] == "accepted"
    assert recorder.requests[0].headers["Prefer"] == 'outlook.timezone="UTC"'


def test_calendar_events_list_pages():
    record = example("calendar_events_list")
    client = client_for(replay(record).handler)
    events = list(client.iter_pages(f"/users/{USER_ID}/calendar/events").items())
    assert events[0]["iCalUId"] == "iCalUId-value"


@pytest.mark.parametrize("name", ["events_create_01_timezone", "events_create_04_online_meeting"])
def test_create_event_in_default_calendar(name):
    record = example(name)
    event = client_for(replay(record).handler).create_event(USER_ID, None, record["request_body"])
    assert event["id"] == record["response_body"]["id"]


def test_photo_metadata():
    record = example("photo_get_metadata")
    meta = client_for(replay(record).handler).get_photo_meta(USER_ID)
    assert (meta["width"], meta["@odata.mediaContentType"]) == (240, "image/jpeg")


# ---- batch ---------------------------------------------------------------------------------


def test_batch_2021_out_of_order_and_null_bodies():
    record = example("batch_2021_mixed")
    requests = record["request_body"]["requests"]
    responses = client_for(replay(record).handler).batch(requests)
    assert [r["id"] for r in responses] == ["1", "2", "3", "4"]
    assert [r["status"] for r in responses] == [302, 200, 401, 204]
    assert responses[0]["headers"]["location"].startswith("https://b0mpua")
    assert responses[0]["body"] is None and responses[3]["body"] is None
    error = GraphError.from_body(401, responses[2]["body"], "GET", requests[2]["url"])
    assert (error.code, error.message) == ("Forbidden", "...")


def test_batch_2025_item_headers_and_errors():
    record = example("batch_2025_errors_headers")
    requests = record["request_body"]["requests"]
    recorder = replay(record)
    responses = client_for(recorder.handler).batch(requests)
    sent = json.loads(recorder.requests[0].content)["requests"]
    assert (
        sent[4]["url"]
        == "users?$select=id,displayName,userPrincipalName&$filter=city eq null&$count=true"
    )
    assert sent[4]["headers"] == {"ConsistencyLevel": "eventual"}
    assert responses[0]["headers"]["x-ms-resource-unit"] == "1"
    assert responses[0]["body"]["@odata.nextLink"].startswith("https://graph.microsoft.com/beta")
    assert responses[4]["body"]["@odata.count"] == 36
    forbidden = GraphError.from_body(403, responses[2]["body"], "DELETE", requests[2]["url"])
    assert forbidden.code == "Authorization_RequestDenied"
    assert forbidden.request_id == "93b6f17e-c05d-4f45-ad2a-6665c708d8a0"
    assert GraphError.from_body(403, responses[1]["body"], "GET", "/me/planner/tasks").code == ""
    assert responses[3]["status"] == 405


def test_batch_depends_on_failed_dependency_is_resent_with_its_dependency():
    record = example("batch_dependson_request_only")
    requests = record["request_body"]["requests"]
    first = {
        "responses": [
            {"id": "3", "status": 200, "body": {"value": []}},
            {"id": "1", "status": 429, "headers": {"Retry-After": "1.5"}, "body": None},
            {"id": "2", "status": 424, "body": None},
            {"id": "4", "status": 424, "body": None},
        ]
    }
    second = {"responses": [{"id": i, "status": 200, "body": {"n": i}} for i in ("4", "2", "1")]}
    recorder = Recorder(httpx.Response(200, json=first), httpx.Response(200, json=second))
    sleeps: list[float] = []
    responses = client_for(recorder, sleeps).batch(requests)
    assert [json.loads(r.content)["requests"] for r in recorder.requests][0] == requests
    resent = json.loads(recorder.requests[1].content)["requests"]
    assert [(r["id"], r.get("dependsOn")) for r in resent] == [
        ("1", None),
        ("2", ["1"]),
        ("4", ["2"]),
    ]
    assert sleeps == [1.5]
    assert [(r["id"], r["status"]) for r in responses] == [
        ("1", 200),
        ("2", 200),
        ("3", 200),
        ("4", 200),
    ]


# ---- errors --------------------------------------------------------------------------------


def test_throttling_429_honours_fractional_retry_after():
    record = example("throttling_429")
    recorder = Recorder(example_response(record), httpx.Response(200, json={"value": []}))
    sleeps: list[float] = []
    assert list(client_for(recorder, sleeps).iter_users()) == []
    assert sleeps == [2.128]
    assert len(recorder.requests) == 2


def test_throttling_429_forever_is_a_read_error():
    record = example("throttling_429")
    recorder = Recorder(*[example_response(record) for _ in range(7)])
    sleeps: list[float] = []
    with pytest.raises(GraphReadError, match="after 7 attempts: HTTP 429"):
        list(client_for(recorder, sleeps).iter_users())
    assert sleeps == [2.128] * 6


def test_error_response_shape_becomes_graph_error_fields():
    record = example("error_response_shape")
    recorder = Recorder(httpx.Response(416, json=record["response_body"]))
    with pytest.raises(GraphError) as caught:
        client_for(recorder).get_user(USER_ID)
    error = caught.value
    assert (error.status, error.code, error.request_id) == (416, "invalidRange", "request-id")
    assert error.message == "Uploaded fragment overlaps with existing data."
    assert (error.method, error.path) == ("GET", f"/users/{USER_ID}")


def test_every_example_file_is_exercised():
    source = Path(__file__).read_text()
    names = {p.stem for p in EXAMPLES.glob("*.json")}
    assert len(names) == 40
    assert sorted(name for name in names if f'"{name}"' not in source) == []


# ---- calendars and events as the mailbox extraction's rows (R9) ----------------------------


def test_calendars_list_maps_to_editable_calendar_rows():
    from entrasync.connectors.graph.mailbox_rows import entra_calendar_row

    calendars = client_for(replay(example("calendars_list_me")).handler).list_calendars(USER_ID)
    assert [entra_calendar_row(USER_ID, c) for c in calendars] == [
        {"entra_object_id": USER_ID, "calendar_id": "AAMkAGI2TGuLAAA=", "name": "Calendar",
         "can_edit": True, "is_default": False, "events_read": False}
    ]  # fmt: skip


@pytest.mark.parametrize("name", ["events_create_01_timezone", "events_create_04_online_meeting"])
def test_events_in_a_windows_time_zone_map_to_utc_rows(name):
    from entrasync.connectors.graph.mailbox_rows import entra_event_row

    record = example(name)
    event = client_for(replay(record).handler).create_event(USER_ID, None, record["request_body"])
    row = entra_event_row(USER_ID, "AAMkAGI2TGuLAAA=", event)
    # 11:00 and 12:00 Pacific daylight time on 15 April 2017
    assert (row["start_at"], row["end_at"]) == ("2017-04-15T18:00:00Z", "2017-04-15T19:00:00Z")
    assert row["subject"] == "Let's go brunch"


def test_a_shortened_calendar_view_item_is_refused_not_guessed():
    from entrasync.connectors.graph.mailbox_rows import entra_event_row

    record = example("calendar_view_me")
    events = client_for(replay(record).handler).calendar_view(
        USER_ID, None, "2020-01-01T19:00:00-08:00", "2020-01-02T19:00:00-08:00"
    )
    with pytest.raises(GraphDataError, match="has no id"):
        entra_event_row(USER_ID, "cal", events[0])
