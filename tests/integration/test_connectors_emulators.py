"""Both connectors against the emulator stack: real msal tokens, HTTPS with the stack's CA."""

from __future__ import annotations

import logging
import ssl

import httpx
import pytest

from entrasync.connectors.emply import EmplyClient, EmplyConflict, EmplyError, EmplyUnavailable
from entrasync.connectors.graph import GraphAuthError, GraphClient, GraphError, GraphReadError
from entrasync.connectors.graph.models import (
    entra_deleted_user_row,
    entra_group_row,
    entra_member_row,
    entra_user_row,
)
from entrasync.emulator_client import EmulatorProcess

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT_ID = "app-connectors"
SECRET = "graph-secret-for-tests"
CUSTOMER = "connectors"
API_KEY = "emply-key-for-tests"
USER_COUNT = 1001  # more than one 999-item page


@pytest.fixture(scope="module")
def stack():
    running = EmulatorProcess().start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def control(stack):
    with stack.control() as client:
        yield client


@pytest.fixture(scope="module")
def directory(control):
    control.reset_graph(TENANT, ["contoso.com"], CLIENT_ID, SECRET)
    users = [
        {"upn": f"user{i:04d}@contoso.com", "mail": f"user{i:04d}@contoso.com",
         "displayName": f"User {i:04d}"}
        for i in range(USER_COUNT)
    ]  # fmt: skip
    users.append(
        {"upn": "guest_fabrikam.com#EXT#@contoso.onmicrosoft.com", "mail": None,
         "displayName": "Guest", "userType": "Guest", "otherMails": ["guest@fabrikam.com"]}
    )  # fmt: skip
    groups = [
        {"name": "Employee", "members": [f"user{i:04d}@contoso.com" for i in range(10)]},
        {"name": "HR", "members": ["user0001@contoso.com"]},
    ]
    control.seed_graph(TENANT, users, groups)
    control.graph_op(TENANT, "delete_user", {"upn": "user1000@contoso.com"})
    return control


def graph_client(stack, secret: str = SECRET, **options) -> GraphClient:
    return GraphClient(
        tenant_id=TENANT,
        client_id=CLIENT_ID,
        client_secret=secret,
        authority_host=stack.login_url,
        graph_url=stack.graph_url,
        ca_bundle=stack.ca_file,
        **options,
    )


def test_users_are_paged_and_mapped(stack, directory):
    with graph_client(stack) as client:
        stream = client.iter_pages("/users", {"$select": "id,userPrincipalName", "$top": 999})
        ids = [user["id"] for user in stream.items()]
        users = [entra_user_row(user) for user in client.iter_users()]
    assert stream.pages_read == 2
    assert len(ids) == len(set(ids)) == USER_COUNT  # one deleted, one guest added
    by_upn = {user["user_principal_name"]: user for user in users}
    guest = by_upn["guest_fabrikam.com#EXT#@contoso.onmicrosoft.com"]
    assert guest["other_mails"] == ["guest@fabrikam.com"] and guest["user_type"] == "Guest"
    assert by_upn["user0001@contoso.com"]["account_enabled"] is True


def test_small_pages_follow_next_links(stack, directory):
    with graph_client(stack, page_size=400) as client:
        stream = client.iter_pages("/users", {"$select": "id", "$top": 400})
        assert sum(len(page) for page in stream) == USER_COUNT
        assert stream.pages_read == 3
        assert len(list(client.iter_users())) == USER_COUNT


def test_groups_and_members(stack, directory):
    with graph_client(stack) as client:
        groups = {g["display_name"]: g["id"] for g in map(entra_group_row, client.iter_groups())}
        members = [
            entra_member_row(groups["Employee"], member, transitive=False)
            for member in client.iter_group_members(groups["Employee"])
        ]
        transitive = list(client.iter_group_members(groups["HR"], transitive=True))
        user_id = client.get_user("user0001@contoso.com")["id"]
    assert {"Employee", "HR"} <= set(groups)
    assert len(members) == 10 and {m["member_type"] for m in members} == {"user"}
    assert [m["id"] for m in transitive] == [user_id]


def test_deleted_users(stack, directory):
    with graph_client(stack) as client:
        deleted = [entra_deleted_user_row(obj) for obj in client.iter_deleted_users()]
    assert len(deleted) == 1
    assert deleted[0]["deleted_at"] is not None
    assert "user1000@contoso.com" in (deleted[0]["user_principal_name"] or "")


def test_wrong_secret_is_an_auth_error(stack, directory):
    with graph_client(stack, secret="wrong") as client, pytest.raises(GraphAuthError) as caught:
        client.get_user("user0001@contoso.com")
    assert caught.value.error == "invalid_client" and "wrong" not in str(caught.value)


def test_injected_503_is_retried(stack, directory):
    fault = {"path": "/users", "status": 503, "times": 2, "retry_after": 0.01}
    directory.graph_op(TENANT, "fault", fault)
    sleeps: list[float] = []
    with graph_client(stack, sleep=sleeps.append) as client:
        assert len(list(client.iter_users())) == USER_COUNT
    assert sleeps == [0.01, 0.01]


def test_injected_503_beyond_the_retries_fails_the_read(stack, directory):
    fault = {"path": "/groups", "status": 503, "times": 3}
    directory.graph_op(TENANT, "fault", fault)
    with graph_client(stack, max_retries=2, sleep=lambda s: None) as client:
        with pytest.raises(GraphReadError, match="after 3 attempts"):
            list(client.iter_groups())
        assert len(list(client.iter_groups())) >= 2  # the fault is used up


def test_rejected_token_is_renewed_once_through_msal(stack, directory):
    fault = {"path": "/groups", "status": 401, "times": 1}
    directory.graph_op(TENANT, "fault", fault)
    tokens: list[str] = []
    http = httpx.Client(
        verify=ssl.create_default_context(cafile=stack.ca_file),
        event_hooks={"request": [lambda request: tokens.append(request.headers["Authorization"])]},
    )
    with graph_client(stack, http=http) as client:
        assert len(list(client.iter_groups())) >= 2
    http.close()
    assert len(tokens) == 2 and tokens[0] != tokens[1]


def test_batch_reads_in_calls_of_twenty_with_a_throttled_item_retried(stack, directory):
    fault = {"path": "/users/user0003@contoso.com", "status": 429, "times": 1, "retry_after": 0.02}
    directory.graph_op(TENANT, "fault", fault)
    requests = [
        {"id": str(i), "method": "GET", "url": f"/users/user{i:04d}@contoso.com?$select=id,mail"}
        for i in range(25)
    ]
    requests.append({"id": "missing", "method": "GET", "url": "/users/nobody@contoso.com"})
    sleeps: list[float] = []
    with graph_client(stack, sleep=sleeps.append) as client:
        responses = client.batch(requests)
    assert [r["id"] for r in responses] == [r["id"] for r in requests]
    assert [r["status"] for r in responses] == [200] * 25 + [404]
    assert responses[3]["body"]["mail"] == "user0003@contoso.com"
    assert sleeps == [0.02]


def test_unknown_user_is_a_graph_error(stack, directory):
    with graph_client(stack) as client, pytest.raises(GraphError) as caught:
        client.get_user("nobody@contoso.com")
    assert caught.value.status == 404 and caught.value.request_id


# ---- Emply ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emply(control):
    control.reset_emply(
        CUSTOMER, API_KEY, ["Employee", "HR", {"name": "Administrator", "admin": True}]
    )
    seed = {
        "users": [{"username": "ext@partner.com", "email": "ext@partner.com", "roles": ["HR"]}],
        "employees": [
            {"email": "megan@contoso.com", "first_name": "Megan", "last_name": "Jordan",
             "job_title": "Engineer", "department": "R&D", "mobile": "+45 1234"}
        ],
    }  # fmt: skip
    control.seed_emply(CUSTOMER, seed["users"], seed["employees"])
    return control


def emply_client(stack, api_key: str = API_KEY, **options) -> EmplyClient:
    return EmplyClient(
        base_url=stack.emply_url,
        customer=CUSTOMER,
        api_key=api_key,
        ca_bundle=stack.ca_file,
        **options,
    )


def test_emply_exports_read_as_warehouse_rows(stack, emply):
    with emply_client(stack) as client:
        users = client.read_users("users")
        employees = client.read_employees("employees")
        roles = client.read_roles("roles")
        found = client.find_employees_by_email("MEGAN@contoso.com")
    assert [u["username"] for u in users] == ["ext@partner.com"]
    assert users[0]["roles"] == ["HR"] and users[0]["entra_object_id"] is None
    assert employees[0]["email"] == "megan@contoso.com" and employees[0]["archived"] is False
    assert {r["name"]: r["is_admin"] for r in roles} == {
        "Employee": False,
        "HR": False,
        "Administrator": True,
    }
    assert [e["employeeId"] for e in found] == [employees[0]["employee_id"]]


def test_emply_create_and_patch_user(stack, emply):
    with emply_client(stack) as client:
        [employee] = client.find_employees_by_email("megan@contoso.com")
        created = client.create_user(
            username="megan@contoso.com",
            email="megan@contoso.com",
            first_name="Megan",
            last_name="Jordan",
            roles=["Employee"],
            employee_id=employee["employeeId"],
            external_id="oid-megan",
        )
        with pytest.raises(EmplyConflict):
            client.create_user(
                username="megan@contoso.com",
                email="megan@contoso.com",
                first_name=None,
                last_name=None,
                roles=[],
            )
        client.update_user(created["userId"], active=False, roles=["Employee", "HR"])
    seen = emply.emply_user(CUSTOMER, "megan@contoso.com")
    assert seen["active"] is False and set(seen["roles"]) == {"Employee", "HR"}
    assert seen["entra_object_id"] == "oid-megan" and seen["employee"] is True


def test_emply_key_stays_out_of_errors_and_logs(stack, emply, caplog):
    client = emply_client(stack, api_key="not-the-key")
    with caplog.at_level(logging.DEBUG), client, pytest.raises(EmplyError) as caught:
        client.read_users()
    assert caught.value.status == 401
    assert "not-the-key" not in str(caught.value) and "not-the-key" not in caplog.text
    assert "apiKey=***" in caplog.text


def test_emply_injected_fault_is_retried_then_given_up(stack, emply):
    fault = {"path": "/exports", "status": 503, "times": 2}
    emply.emply_op(CUSTOMER, "fault", fault)
    sleeps: list[float] = []
    with emply_client(stack, sleep=sleeps.append) as client:
        assert len(client.read_roles()) == 3
    assert len(sleeps) == 2
    emply.emply_op(CUSTOMER, "fault", {**fault, "times": 5})
    client = emply_client(stack, max_retries=1, sleep=lambda s: None)
    with client, pytest.raises(EmplyUnavailable):
        client.read_roles()


def test_emply_calendars_events_and_photos(stack, emply):
    with emply_client(stack) as client:
        users = {u["username"]: u for u in client.read_users()}
        user_id = users["ext@partner.com"]["user_id"]
        calendar = client.add_calendar(
            user_id, name="Calendar", entra_calendar_id="AAMk=", enabled=True, can_disable=False
        )
        [listed] = [c for c in client.read_calendars("calendars") if c["user_id"] == user_id]
        assert listed["calendar_id"] == calendar["calendarId"] and listed["can_disable"] is False
        synced = [
            {"entraEventId": "ev-1", "subject": "Standup",
             "start": "2024-05-01T09:00:00Z", "end": "2024-05-01T09:15:00Z"}
        ]  # fmt: skip
        client.set_events(
            user_id,
            listed["calendar_id"],
            from_="2024-05-01T00:00:00Z",
            to="2024-06-01T00:00:00Z",
            events=synced,
        )
        event = {"user": "ext@partner.com", "calendar": "Calendar", "subject": "Lunch",
                 "start": "2024-05-02T12:00:00Z", "end": "2024-05-02T13:00:00Z"}  # fmt: skip
        emply.emply_op(CUSTOMER, "add_event", event)
        [outgoing] = client.read_event_outbox()
        assert (outgoing["subject"], outgoing["entra_calendar_id"]) == ("Lunch", "AAMk=")
        client.mark_event_pushed(outgoing["event_id"], "entra-ev-9")
        assert client.read_event_outbox() == []
        assert client.get_photo(user_id) is None
        stored = client.set_photo(user_id, b"picture-bytes", "image/png")
        assert client.get_photo(user_id) == b"picture-bytes"
        [user] = [u for u in client.read_users() if u["user_id"] == user_id]
        assert user["photo_sha256"] == stored["photoSha256"]
        client.remove_calendar(user_id, listed["calendar_id"])
        assert client.read_calendars("calendars") == []
    seen = emply.emply_user(CUSTOMER, "ext@partner.com")
    assert seen["calendars"] == {} and seen["photo_sha256"] == stored["photoSha256"]
