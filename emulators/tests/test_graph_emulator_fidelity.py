"""The Graph emulator refuses what Graph refuses and answers what Graph answers (issue 14)."""

from __future__ import annotations

import pytest
from emulator_fixtures import access_token, graph_client, ops_for, reset_tenant
from emulator_fixtures import control as control
from emulator_fixtures import stack as stack

from entrasync.write.passwords import temporary_password

TENANT = "graph-fidelity-t1"
op = ops_for(TENANT)
NO_MAILBOX = "The mailbox is either inactive, soft-deleted, or is hosted on-premise."


@pytest.fixture
def ids(control):
    """megan and alex are members, lee a guest, ad synced from on-premises; two groups."""
    reset_tenant(control, TENANT)
    found = {
        "megan": op(control, "add_user", upn="megan@contoso.com", displayName="Megan Bowen")["id"],
        "alex": op(control, "add_user", upn="alex@contoso.com", displayName="alex Wilber")["id"],
        "guest": op(control, "add_user", mail="lee@fabrikam.com", userType="Guest")["id"],
        "ad": op(control, "add_user", upn="ad@contoso.com", onPremisesSyncEnabled=True)["id"],
        "Employee": op(control, "add_group", name="Employee")["id"],
        "HR": op(control, "add_group", name="HR")["id"],
    }
    for user in ("megan@contoso.com", "alex@contoso.com", "lee@fabrikam.com"):
        op(control, "add_member", group="Employee", user=user)
    op(control, "add_member", group="HR", user="megan@contoso.com")
    return found


@pytest.fixture
def graph(stack, ids):
    with graph_client(stack, access_token(stack, TENANT)) as client:
        yield client


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    return response.json()["error"]


# ------------------------------------------------------------ onPremisesSyncEnabled
def test_cloud_only_users_have_null_on_premises_sync_enabled(graph, ids):
    select = {"$select": "id,onPremisesSyncEnabled"}
    users = {u["id"]: u for u in graph.get("/users", params=select).json()["value"]}
    assert users[ids["megan"]]["onPremisesSyncEnabled"] is None
    assert users[ids["guest"]]["onPremisesSyncEnabled"] is None
    assert users[ids["ad"]]["onPremisesSyncEnabled"] is True


# ------------------------------------------------------------ guests have no mailbox
@pytest.mark.parametrize(
    "path",
    ["/calendars", "/calendar", "/calendar/events", "/events", "/photo", "/photo/$value",
     "/calendarView?startDateTime=2030-01-01T00:00:00Z&endDateTime=2030-01-02T00:00:00Z"],
)  # fmt: skip
def test_a_guest_has_no_mailbox_calendars_events_and_photo_are_404(graph, ids, path):
    error = _error(graph.get(f"/users/{ids['guest']}{path}"), 404)
    assert (error["code"], error["message"]) == ("MailboxNotEnabledForRESTAPI", NO_MAILBOX)


def test_a_member_still_has_its_mailbox(graph, ids):
    body = graph.get(f"/users/{ids['megan']}/calendars").json()
    assert [c["name"] for c in body["value"]] == ["Calendar"]


def test_mailbox_ops_on_a_guest_are_refused(control, ids):
    response = control.post(
        f"/{TENANT}/ops",
        json={"op": "add_calendar", "args": {"user": "lee@fabrikam.com", "name": "Team"}},
    )
    assert response.status_code == 400
    assert "has no mailbox" in response.json()["error"]
    state = control.get(f"/{TENANT}/users/lee@fabrikam.com").json()
    assert (state["mailbox"], state["calendars"], state["photo_sha256"]) == (False, {}, None)


def test_a_guest_in_a_batch_answers_404_inside_the_batch(graph, ids):
    body = {
        "requests": [
            {"id": "1", "method": "GET", "url": f"/users/{ids['guest']}/calendars"},
            {"id": "2", "method": "GET", "url": f"/users/{ids['megan']}/calendars"},
        ]
    }
    answers = {a["id"]: a for a in graph.post("/$batch", json=body).json()["responses"]}
    assert answers["1"]["status"] == 404
    assert answers["1"]["body"]["error"]["code"] == "MailboxNotEnabledForRESTAPI"
    assert answers["2"]["status"] == 200


# ------------------------------------------------------------ writes Graph refuses
def test_delete_of_an_on_premises_synced_user_is_400_and_keeps_it(graph, control, ids):
    error = _error(graph.delete(f"/users/{ids['ad']}"), 400)
    assert error["code"] == "Request_BadRequest"
    assert "on-premises mastered Directory Sync objects" in error["message"]
    assert control.get(f"/{TENANT}/users/ad@contoso.com").json()["exists"] is True


def _new_user(password: str) -> dict:
    return {"accountEnabled": True, "displayName": "Adele Vance", "mailNickname": "AdeleV",
            "userPrincipalName": "AdeleV@contoso.com",
            "passwordProfile": {"forceChangePasswordNextSignIn": True,
                                "password": password}}  # fmt: skip


@pytest.mark.parametrize("weak", ["short1A", "alllowercase", "lowerand123", "UPPER-ONLY"])
def test_post_user_with_a_weak_password_is_400(graph, weak):
    error = _error(graph.post("/users", json=_new_user(weak)), 400)
    assert error["code"] == "Request_BadRequest"
    assert error["message"] == (
        "The specified password does not comply with password complexity requirements. "
        "Please provide a different password."
    )


@pytest.mark.parametrize("attempt", range(20))
def test_our_temporary_passwords_pass_the_complexity_rule(graph, control, ids, attempt):
    body = _new_user(temporary_password())
    body["userPrincipalName"] = body["mailNickname"] = f"new{attempt}@contoso.com"
    body["mailNickname"] = f"new{attempt}"
    assert graph.post("/users", json=body).status_code == 201


# ------------------------------------------------------------ delta() function form
@pytest.mark.parametrize("collection", ["users", "groups"])
def test_delta_function_form_answers_like_the_plain_form(graph, collection):
    params = {"$select": "id,displayName"}
    plain = graph.get(f"/{collection}/delta", params=params)
    function = graph.get(f"/{collection}/delta()", params=params)
    assert plain.status_code == function.status_code == 200
    ids_of = lambda body: sorted(item["id"] for item in body["value"])  # noqa: E731
    assert ids_of(function.json()) == ids_of(plain.json()) != []
    assert "@odata.deltaLink" in function.json()
    delta_link = function.json()["@odata.deltaLink"]
    follow_up = graph.get(delta_link.split("/v1.0", 1)[1])
    assert follow_up.status_code == 200 and follow_up.json()["value"] == []


# ------------------------------------------------------------ query options
@pytest.mark.parametrize(
    ("path", "argument"),
    [("/users", "$foo"), ("/groups", "$foo"), ("/users/delta", "$foo"),
     ("/users", "select"), ("/users/{megan}", "$bar"), ("/groups/{Employee}/members", "$foo")],
)  # fmt: skip
def test_unknown_query_arguments_are_400_like_graph(graph, ids, path, argument):
    error = _error(graph.get(path.format(**ids), params={argument: "1"}), 400)
    assert error["code"] == "Request_BadRequest"
    assert error["message"] == f"Unrecognized query argument specified: '{argument}'."


def test_consistency_level_may_be_given_as_a_query_argument(graph):
    response = graph.get("/users", params={"ConsistencyLevel": "eventual", "$count": "true"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("orderby", "expected"),
    [("displayName", ["ad", "alex Wilber", "lee_fabrikam.com#EXT#", "Megan Bowen"]),
     ("displayName desc", ["Megan Bowen", "lee_fabrikam.com#EXT#", "alex Wilber", "ad"])],
)  # fmt: skip
def test_users_orderby_display_name_sorts_case_insensitively(graph, orderby, expected):
    body = graph.get("/users", params={"$orderby": orderby, "$select": "displayName"}).json()
    names = [u["displayName"] for u in body["value"]]
    assert [name.split("@")[0] for name in names] == expected


def test_orderby_pages_follow_the_order(graph):
    first = graph.get("/users", params={"$orderby": "userPrincipalName", "$top": "2"}).json()
    second = graph.get(first["@odata.nextLink"].split("/v1.0", 1)[1]).json()
    upns = [u["userPrincipalName"] for u in first["value"] + second["value"]]
    assert upns == sorted(upns, key=str.lower) and len(upns) == 4


def test_orderby_unknown_or_unsortable_property_is_400(graph):
    unknown = _error(graph.get("/users", params={"$orderby": "shoeSize"}), 400)
    assert (
        unknown["message"]
        == "Could not find a property named 'shoeSize' on type 'microsoft.graph.user'."
    )
    unsortable = _error(graph.get("/users", params={"$orderby": "jobTitle"}), 400)
    assert unsortable["code"] == "Request_UnsupportedQuery"


def test_groups_expand_members_lists_typed_members(graph, ids):
    params = {"$expand": "members($select=id,userPrincipalName)", "$orderby": "displayName"}
    body = graph.get("/groups", params=params).json()
    assert [g["displayName"] for g in body["value"]] == ["Employee", "HR"]
    employee = body["value"][0]
    assert {m["id"] for m in employee["members"]} == {ids["megan"], ids["alex"], ids["guest"]}
    assert all(m["@odata.type"] == "#microsoft.graph.user" for m in employee["members"])
    assert set(employee["members"][0]) == {"@odata.type", "id", "userPrincipalName"}


def test_user_expand_manager_and_member_of(graph, ids):
    megan = graph.get(f"/users/{ids['megan']}", params={"$expand": "manager"}).json()
    assert "manager" not in megan and megan["id"] == ids["megan"]  # no manager: left out
    body = graph.get("/users", params={"$expand": "memberOf($select=displayName)"}).json()
    member_of = {u["id"]: sorted(g["displayName"] for g in u["memberOf"]) for u in body["value"]}
    assert member_of[ids["megan"]] == ["Employee", "HR"] and member_of[ids["ad"]] == []


def test_expand_of_an_unknown_relation_is_400(graph):
    error = _error(graph.get("/groups", params={"$expand": "friends"}), 400)
    assert (
        error["message"]
        == "Could not find a property named 'friends' on type 'microsoft.graph.group'."
    )


# ------------------------------------------------------------ the client on these answers
def _client(stack):
    from emulator_fixtures import CLIENT_ID, SECRET

    from entrasync.connectors.graph import GraphClient

    return GraphClient(
        tenant_id=TENANT, client_id=CLIENT_ID, client_secret=SECRET,
        authority_host=stack.login_url, graph_url=stack.graph_url, ca_bundle=stack.ca_file,
    )  # fmt: skip


def test_the_client_maps_null_on_premises_sync_enabled_to_a_null_column(stack, ids):
    from entrasync.connectors.graph.models import entra_user_row

    with _client(stack) as client:
        rows = {row["id"]: row for row in map(entra_user_row, client.iter_users())}
    assert rows[ids["megan"]]["on_premises_sync_enabled"] is None
    assert rows[ids["ad"]]["on_premises_sync_enabled"] is True


def test_a_refused_delete_is_recorded_failed_with_graphs_error(stack, control, ids):
    """R7 never plans it (rules test); if a plan ever held it, Graph's 400 is the outcome."""
    import json

    from entrasync.warehouse.db import connect_memory
    from entrasync.write.entra import write_entra_changes

    con = connect_memory()
    con.execute(
        "INSERT INTO runs (run_id, tenant, started_at, status, dry_run, allow_deactivations)"
        " VALUES ('run-1', 't', now(), 'running', false, false)"
    )
    con.execute(
        "INSERT INTO changes (run_id, change_id, kind, rule_id, emply_user_id, entra_object_id,"
        " subject, after, reason, outcome, decided_at) VALUES ('run-1', 'd1',"
        " 'delete_entra_user', 'R7', 'u-ad', ?, 'ad@contoso.com', ?, 'given', 'planned', now())",
        [ids["ad"], json.dumps({"deleted": True})],
    )
    with _client(stack) as client:
        counts = write_entra_changes(con, client, None, "t", "run-1")
    assert counts == {"applied": 0, "failed": 1, "skipped": 0}
    outcome, error = con.execute("SELECT outcome, error FROM changes").fetchone()
    assert outcome == "failed" and "on-premises mastered Directory Sync objects" in error
    assert control.get(f"/{TENANT}/users/ad@contoso.com").json()["exists"] is True


def test_the_control_surface_lists_every_user_deleted_ones_too(control, ids):
    op(control, "delete_user", upn="alex@contoso.com")
    listed = {u["id"]: u for u in control.get(f"/{TENANT}/users").json()}
    assert set(listed) == {ids[name] for name in ("megan", "alex", "guest", "ad")}
    assert (listed[ids["alex"]]["exists"], listed[ids["alex"]]["deleted"]) == (False, True)
    assert listed[ids["megan"]]["groups"] == ["Employee", "HR"]
    assert listed[ids["megan"]]["calendars"]["Calendar"]["event_ids"] == []
