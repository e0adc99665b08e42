"""Graph emulator writes and $batch: POST/PATCH/DELETE users, members/$ref, batching rules."""

from __future__ import annotations

import pytest
from emulator_fixtures import access_token, graph_client, ops_for, reset_tenant
from emulator_fixtures import control as control
from emulator_fixtures import stack as stack

TENANT = "graph-writes-t1"
op = ops_for(TENANT)


@pytest.fixture
def ids(control):
    reset_tenant(control, TENANT)
    found = {
        "megan": op(control, "add_user", upn="megan@contoso.com", mail="megan@contoso.com")["id"],
        "synced": op(control, "add_user", upn="ad@contoso.com", onPremisesSyncEnabled=True)["id"],
        "Employee": op(control, "add_group", name="Employee")["id"],
    }
    yield found
    control.post("/config", json={"mailbox_concurrency": 4})


@pytest.fixture
def graph(stack, ids):
    with graph_client(stack, access_token(stack, TENANT)) as client:
        yield client


NEW_USER = {
    "accountEnabled": True,
    "displayName": "Adele Vance",
    "mailNickname": "AdeleV",
    "userPrincipalName": "AdeleV@contoso.com",
    "givenName": "Adele",
    "surname": "Vance",
    "passwordProfile": {"forceChangePasswordNextSignIn": True, "password": "xWwvJ]6NMw+bWH-d"},
}


# -------------------------------------------------------------- POST /users
def test_create_user_is_201_shaped_like_graphs(graph, control, stack):
    response = graph.post("/users", json=NEW_USER)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["@odata.context"] == f"{stack.graph_url}/$metadata#users/$entity"
    assert list(body)[1] == "id"
    assert body["userPrincipalName"] == "AdeleV@contoso.com"
    assert body["givenName"] == "Adele" and body["businessPhones"] == []
    assert "passwordProfile" not in body
    state = control.get(f"/{TENANT}/users/adelev@contoso.com").json()
    assert state["exists"] is True and state["id"] == body["id"]
    assert state["onPremisesSyncEnabled"] is None  # created in the cloud
    # no licence is assigned through Graph, so there is no mailbox (no calendar, no photo)
    assert state["mailbox"] is False and state["calendars"] == {}


@pytest.mark.parametrize(
    "missing",
    ["accountEnabled", "displayName", "mailNickname", "userPrincipalName", "passwordProfile"],
)
def test_create_user_requires_the_documented_properties(graph, missing):
    body = {key: value for key, value in NEW_USER.items() if key != missing}
    response = graph.post("/users", json=body)
    assert response.status_code == 400
    assert missing in response.json()["error"]["message"]


def test_create_user_on_unverified_domain_or_taken_upn_is_400(graph):
    other = graph.post("/users", json={**NEW_USER, "userPrincipalName": "a@fabrikam.com"})
    assert other.status_code == 400
    assert "verified domain" in other.json()["error"]["message"]
    initial = graph.post(
        "/users", json={**NEW_USER, "userPrincipalName": "a@contoso.onmicrosoft.com"}
    )
    assert initial.status_code == 201
    taken = graph.post("/users", json={**NEW_USER, "userPrincipalName": "MEGAN@contoso.com"})
    assert taken.status_code == 400
    assert "already exists" in taken.json()["error"]["message"]


def test_upn_of_a_soft_deleted_user_stays_taken(graph, control):
    op(control, "delete_user", upn="megan@contoso.com")
    response = graph.post("/users", json={**NEW_USER, "userPrincipalName": "megan@contoso.com"})
    assert response.status_code == 400


# ------------------------------------------------------------- PATCH/DELETE
def test_patch_user_is_204_and_changes_state(graph, control, ids):
    response = graph.patch(
        f"/users/{ids['megan']}", json={"jobTitle": "CEO", "department": "Board"}
    )
    assert response.status_code == 204 and response.content == b""
    state = control.get(f"/{TENANT}/users/megan@contoso.com").json()
    assert (state["jobTitle"], state["department"]) == ("CEO", "Board")


def test_patch_of_mastered_attribute_on_synced_user_is_400(graph, control, ids):
    response = graph.patch(f"/users/{ids['synced']}", json={"givenName": "X"})
    assert response.status_code == 400
    assert "on-premises mastered" in response.json()["error"]["message"]
    assert control.get(f"/{TENANT}/users/ad@contoso.com").json()["givenName"] is None
    assert (
        graph.patch(f"/users/{ids['synced']}", json={"preferredLanguage": "da-DK"}).status_code
        == 204
    )


def test_patch_unknown_property_or_user(graph, ids):
    assert graph.patch(f"/users/{ids['megan']}", json={"shoeSize": 42}).status_code == 400
    assert graph.patch("/users/nobody@contoso.com", json={"jobTitle": "x"}).status_code == 404


def test_delete_user_soft_deletes(graph, control, ids):
    assert graph.delete("/users/megan@contoso.com").status_code == 204
    state = control.get(f"/{TENANT}/users/megan@contoso.com").json()
    assert state["deleted"] is True and state["exists"] is False
    deleted = graph.get("/directory/deletedItems/microsoft.graph.user").json()["value"]
    assert [user["id"] for user in deleted] == [ids["megan"]]
    assert graph.delete(f"/users/{ids['megan']}").status_code == 404


# -------------------------------------------------------------- members/$ref
def test_add_member_by_ref(graph, control, ids, stack):
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{ids['megan']}"}
    response = graph.post(f"/groups/{ids['Employee']}/members/$ref", json=ref)
    assert response.status_code == 204
    assert control.get(f"/{TENANT}/users/megan@contoso.com").json()["groups"] == ["Employee"]
    again = graph.post(f"/groups/{ids['Employee']}/members/$ref", json=ref)
    assert again.status_code == 400
    assert "already exist" in again.json()["error"]["message"]
    unknown = {
        "@odata.id": f"{stack.graph_url}/directoryObjects/00000000-0000-0000-0000-000000000000"
    }
    assert graph.post(f"/groups/{ids['Employee']}/members/$ref", json=unknown).status_code == 404
    assert graph.post(f"/groups/{ids['Employee']}/members/$ref", json={"x": 1}).status_code == 400
    removed = graph.delete(f"/groups/{ids['Employee']}/members/{ids['megan']}/$ref")
    assert removed.status_code == 204
    assert control.get(f"/{TENANT}/users/megan@contoso.com").json()["groups"] == []


# -------------------------------------------------------------------- $batch
def _batch(graph, requests):
    response = graph.post("/$batch", json={"requests": requests})
    assert response.status_code == 200, response.text
    return {item["id"]: item for item in response.json()["responses"]}


def test_batch_answers_each_request(graph, ids):
    answers = _batch(
        graph,
        [
            {"id": "1", "method": "GET", "url": "/users?$select=id"},
            {"id": "2", "method": "GET", "url": "users/nobody@contoso.com"},
            {"id": "3", "method": "PATCH", "url": f"/users/{ids['megan']}",
             "body": {"jobTitle": "Boss"}, "headers": {"Content-Type": "application/json"}},
        ],
    )  # fmt: skip
    assert answers["1"]["status"] == 200
    assert {"id"} == set(answers["1"]["body"]["value"][0])
    assert answers["1"]["headers"]["Content-Type"].startswith("application/json")
    assert answers["2"]["status"] == 404
    assert answers["2"]["body"]["error"]["code"] == "Request_ResourceNotFound"
    assert answers["3"]["status"] == 204 and answers["3"]["body"] is None


def test_batch_depends_on_and_failed_dependency(graph, ids):
    answers = _batch(
        graph,
        [
            {"id": "a", "method": "GET", "url": "/users/nobody@contoso.com"},
            {"id": "b", "method": "GET", "url": "/users", "dependsOn": ["a"]},
            {"id": "c", "method": "GET", "url": "/groups", "dependsOn": ["b"]},
            {"id": "d", "method": "GET", "url": f"/users/{ids['megan']}"},
            {"id": "e", "method": "GET", "url": "/groups", "dependsOn": ["d"]},
        ],
    )
    assert [answers[key]["status"] for key in "abcde"] == [404, 424, 424, 200, 200]


@pytest.mark.parametrize(
    ("requests", "phrase"),
    [
        ([{"id": str(i), "method": "GET", "url": "/users"} for i in range(21)], "20"),
        ([{"id": "1", "method": "GET", "url": "/users"}] * 2, "unique"),
        ([{"id": "1", "method": "GET"}], "url"),
        ([{"id": "1", "method": "GET", "url": "/users", "dependsOn": ["9"]}], "depends"),
    ],
)
def test_malformed_batches_are_400(graph, requests, phrase):
    response = graph.post("/$batch", json={"requests": requests})
    assert response.status_code == 400
    assert phrase in response.json()["error"]["message"]


def test_batch_body_needs_content_type(graph, ids):
    answers = _batch(
        graph,
        [
            {
                "id": "1",
                "method": "PATCH",
                "url": f"/users/{ids['megan']}",
                "body": {"jobTitle": "x"},
            }
        ],
    )
    assert answers["1"]["status"] == 400


def test_batch_items_hit_the_mailbox_concurrency_limit(graph):
    requests = [
        {"id": str(i), "method": "GET", "url": "/users/megan@contoso.com/calendars"}
        for i in range(6)
    ]
    answers = _batch(graph, requests)
    statuses = sorted(item["status"] for item in answers.values())
    assert statuses == [200, 200, 200, 200, 429, 429]
    throttled = next(item for item in answers.values() if item["status"] == 429)
    assert float(throttled["headers"]["Retry-After"]) > 0


def test_batch_items_see_faults_and_photo_bytes_are_base64(graph, control):
    op(control, "fault", path="/groups", status=503, times=1, retry_after=2)
    op(control, "set_photo", user="megan@contoso.com", content="abc")
    answers = _batch(
        graph,
        [
            {"id": "1", "method": "GET", "url": "/groups"},
            {"id": "2", "method": "GET", "url": "/users/megan@contoso.com/photo/$value"},
        ],
    )
    assert answers["1"]["status"] == 503 and answers["1"]["headers"]["Retry-After"] == "2"
    assert answers["2"]["status"] == 200 and answers["2"]["body"] == "YWJj"
