"""Graph emulator reads: users, groups, members, deleted items, query options, errors, auth."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from emulator_fixtures import access_token, graph_client, ops_for, reset_tenant, trusting
from emulator_fixtures import control as control
from emulator_fixtures import stack as stack

TENANT = "graph-read-t1"
op = ops_for(TENANT)


@pytest.fixture
def directory(control):
    """A fresh tenant: 3 members, a guest, a disabled and a deleted user; nested groups."""
    reset_tenant(control, TENANT)
    ids = {
        "megan": op(
            control,
            "add_user",
            upn="megan@contoso.com",
            mail="megan@contoso.com",
            displayName="Megan Bowen",
            givenName="Megan",
            surname="Bowen",
            jobTitle="Marketing Manager",
        )["id"],
        "alex": op(control, "add_user", upn="alex@contoso.com", displayName="Alex Wilber")["id"],
        "off": op(control, "add_user", upn="off@contoso.com", accountEnabled=False)["id"],
        "gone": op(control, "add_user", upn="gone@contoso.com", mail="gone@contoso.com")["id"],
        "guest": op(control, "add_user", mail="lee@fabrikam.com", userType="Guest")["id"],
    }
    ids["Employee"] = op(control, "add_group", name="Employee")["id"]
    ids["HR"] = op(control, "add_group", name="HR")["id"]
    for user in ("megan@contoso.com", "off@contoso.com", "gone@contoso.com"):
        op(control, "add_member", group="Employee", user=user)
    op(control, "add_member", group="HR", user="alex@contoso.com")
    op(control, "add_member", group="HR", user="lee@fabrikam.com")
    op(control, "add_member", group="Employee", user="HR")  # nested group
    op(control, "delete_user", upn="gone@contoso.com")
    return ids


@pytest.fixture
def graph(stack, directory):
    with graph_client(stack, access_token(stack, TENANT)) as client:
        yield client


def _get(graph, url, **params):
    response = graph.get(url, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _upns(body):
    return {item.get("userPrincipalName") for item in body["value"]}


def test_users_default_property_set_is_graphs(graph, stack):
    body = _get(graph, "/users")
    assert body["@odata.context"] == f"{stack.graph_url}/$metadata#users"
    megan = next(u for u in body["value"] if u["userPrincipalName"] == "megan@contoso.com")
    assert list(megan) == [
        "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
        "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id",
    ]  # fmt: skip
    assert megan["jobTitle"] == "Marketing Manager"
    assert megan["businessPhones"] == []


def test_users_lists_disabled_but_not_deleted_users(graph, directory):
    upns = _upns(_get(graph, "/users"))
    assert "off@contoso.com" in upns
    assert "gone@contoso.com" not in upns
    assert len(upns) == 4


def test_guest_given_only_a_mail_gets_an_ext_upn(graph):
    body = _get(graph, "/users", **{"$select": "userPrincipalName,mail,userType,mailNickname"})
    guest = next(u for u in body["value"] if u["userType"] == "Guest")
    assert guest["userPrincipalName"] == "lee_fabrikam.com#EXT#@contoso.onmicrosoft.com"
    assert guest["mail"] == "lee@fabrikam.com"
    assert guest["mailNickname"] == "lee_fabrikam.com#EXT#"


def test_select_returns_only_selected_properties_and_id(graph, stack):
    body = _get(graph, "/users", **{"$select": "accountEnabled,onPremisesSyncEnabled,USERTYPE"})
    assert body["@odata.context"] == (
        f"{stack.graph_url}/$metadata#users(accountEnabled,onPremisesSyncEnabled,userType)"
    )
    for user in body["value"]:
        assert set(user) == {"accountEnabled", "onPremisesSyncEnabled", "userType", "id"}
    enabled = {u["id"]: u["accountEnabled"] for u in body["value"]}
    assert sorted(enabled.values()) == [False, True, True, True]


def test_every_documented_user_attribute_is_selectable(graph):
    names = (
        "id,userPrincipalName,mail,otherMails,displayName,givenName,surname,jobTitle,department,"
        "mobilePhone,accountEnabled,userType,onPremisesSyncEnabled,createdDateTime,mailNickname,"
        "businessPhones"
    )
    megan = _get(graph, "/users/megan@contoso.com", **{"$select": names})
    assert set(megan) - {"@odata.context"} == set(names.split(","))
    assert megan["otherMails"] == [] and megan["onPremisesSyncEnabled"] is None  # cloud-only
    assert megan["userType"] == "Member" and megan["createdDateTime"].endswith("Z")


def test_select_of_unknown_property_is_400(graph):
    response = graph.get("/users", params={"$select": "displayName,shoeSize"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "Request_BadRequest"
    assert "shoeSize" in error["message"]


@pytest.mark.parametrize("top", ["1000", "0", "abc"])
def test_top_outside_1_to_999_is_400(graph, top):
    response = graph.get("/users", params={"$top": top})
    assert response.status_code == 400
    assert response.json()["error"]["innerError"]["request-id"] == response.headers["request-id"]


def test_paging_keeps_query_options_and_adds_skiptoken(graph):
    first = _get(graph, "/users", **{"$top": "3", "$select": "displayName"})
    assert len(first["value"]) == 3
    link = first["@odata.nextLink"]
    query = parse_qs(urlsplit(link).query)
    assert query["$top"] == ["3"] and query["$select"] == ["displayName"]
    assert query["$skiptoken"][0]
    second = graph.get(link).json()
    assert "@odata.nextLink" not in second
    ids = [u["id"] for u in first["value"] + second["value"]]
    assert len(ids) == len(set(ids)) == 4
    assert all(set(u) == {"displayName", "id"} for u in second["value"])


def test_skiptoken_from_another_path_is_rejected(graph):
    link = _get(graph, "/users", **{"$top": "1"})["@odata.nextLink"]
    token = parse_qs(urlsplit(link).query)["$skiptoken"][0]
    response = graph.get("/groups", params={"$skiptoken": token})
    assert response.status_code == 400


def test_default_page_size_is_100(graph, control):
    users = [{"upn": f"bulk{i}@contoso.com"} for i in range(150)]
    control.post(f"/{TENANT}/seed", json={"users": users, "groups": []}).raise_for_status()
    first = _get(graph, "/users")
    assert len(first["value"]) == 100
    assert len(graph.get(first["@odata.nextLink"]).json()["value"]) == 54


def test_get_user_by_id_and_by_upn_case_insensitive(graph, directory):
    by_id = _get(graph, f"/users/{directory['megan']}")
    by_upn = _get(graph, "/users/MEGAN@contoso.com")
    assert by_id["id"] == by_upn["id"] == directory["megan"]
    assert by_id["@odata.context"].endswith("$metadata#users/$entity")


def test_get_guest_by_encoded_ext_upn(graph, directory):
    guest = _get(graph, "/users/lee_fabrikam.com%23EXT%23@contoso.onmicrosoft.com")
    assert guest["id"] == directory["guest"]


def test_unknown_user_is_404_with_graph_error_shape(graph):
    response = graph.get("/users/nobody@contoso.com", headers={"client-request-id": "abc-123"})
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "Request_ResourceNotFound"
    assert "nobody@contoso.com" in error["message"]
    assert error["innerError"]["client-request-id"] == "abc-123"
    assert error["innerError"]["request-id"] == response.headers["request-id"]
    assert response.headers["client-request-id"] == "abc-123"
    assert error["innerError"]["date"]


def test_deleted_user_is_not_found_by_id(graph, directory):
    assert graph.get(f"/users/{directory['gone']}").status_code == 404


def test_groups_are_shaped_like_graphs(graph, directory):
    body = _get(graph, "/groups")
    assert body["@odata.context"].endswith("$metadata#groups")
    names = {g["displayName"]: g for g in body["value"]}
    assert set(names) == {"Employee", "HR"}
    employee = names["Employee"]
    assert employee["id"] == directory["Employee"]
    assert employee["groupTypes"] == [] and employee["securityEnabled"] is True
    assert "onPremisesProvisioningErrors" in employee
    single = _get(graph, f"/groups/{directory['HR']}", **{"$select": "displayName"})
    assert {k for k in single if not k.startswith("@")} == {"displayName", "id"}


def test_unknown_group_is_404(graph):
    response = graph.get("/groups/00000000-0000-0000-0000-000000000000/members")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "Request_ResourceNotFound"


def test_members_carry_odata_type_and_skip_deleted_users(graph, directory):
    body = _get(graph, f"/groups/{directory['Employee']}/members")
    assert body["@odata.context"].endswith("$metadata#directoryObjects")
    types = {m["id"]: m["@odata.type"] for m in body["value"]}
    assert types == {
        directory["megan"]: "#microsoft.graph.user",
        directory["off"]: "#microsoft.graph.user",
        directory["HR"]: "#microsoft.graph.group",
    }


def test_members_select_keeps_odata_type(graph, directory):
    body = _get(graph, f"/groups/{directory['HR']}/members", **{"$select": "id,userPrincipalName"})
    assert all(set(m) == {"@odata.type", "id", "userPrincipalName"} for m in body["value"])


def test_transitive_members_include_nested_group_members(graph, directory):
    body = _get(graph, f"/groups/{directory['Employee']}/transitiveMembers")
    ids = {m["id"] for m in body["value"]}
    expected = {"megan", "off", "HR", "alex", "guest"}
    assert ids == {directory[name] for name in expected}


def test_member_type_cast_lists_only_users(graph, directory):
    body = _get(graph, f"/groups/{directory['Employee']}/transitiveMembers/microsoft.graph.user")
    assert {m["id"] for m in body["value"]} == {
        directory[name] for name in ("megan", "off", "alex", "guest")
    }
    assert body["@odata.context"].endswith("$metadata#users")


def test_members_page(graph, directory):
    first = _get(graph, f"/groups/{directory['Employee']}/transitiveMembers", **{"$top": "2"})
    second = graph.get(first["@odata.nextLink"]).json()
    third = graph.get(second["@odata.nextLink"]).json()
    assert [len(p["value"]) for p in (first, second, third)] == [2, 2, 1]


def test_deleted_users_are_listed_with_deleted_date(graph, directory):
    body = _get(graph, "/directory/deletedItems/microsoft.graph.user")
    (gone,) = body["value"]
    assert gone["id"] == directory["gone"]
    assert gone["deletedDateTime"].endswith("Z")
    assert gone["mail"] == "gone@contoso.com"
    # Entra prefixes a deleted user's UPN with its object id (no dashes).
    assert gone["userPrincipalName"] == directory["gone"].replace("-", "") + "gone@contoso.com"
    selected = _get(
        graph, "/directory/deletedItems/microsoft.graph.user", **{"$select": "deletedDateTime"}
    )
    assert set(selected["value"][0]) == {"deletedDateTime", "id"}


def test_deleted_items_cast_without_its_namespace_as_the_sdks_send_it(graph, directory):
    short = _get(graph, "/directory/deletedItems/graph.user")
    assert [user["id"] for user in short["value"]] == [directory["gone"]]
    assert _get(graph, "/directory/deletedItems/graph.group")["value"] == []


def test_responses_carry_request_id_headers(graph):
    response = graph.get("/users", headers={"client-request-id": "my-id"})
    assert response.headers["client-request-id"] == "my-id"
    assert len(response.headers["request-id"]) == 36
    assert response.headers["content-type"].startswith("application/json")


def test_unknown_segment_is_400_and_wrong_method_405(graph):
    unknown = graph.get("/nonsense")
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "BadRequest"
    assert graph.put("/users", json={}).status_code == 405


def test_unsupported_query_option_is_refused_not_ignored(graph):
    response = graph.get("/users", params={"$skip": "5"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "Request_UnsupportedQuery"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "Access token is empty."),
        ("Bearer not-a-jwt", "IDX14100"),
        ("Bearer a.b.c", "Invalid signature"),
        ("Basic abc", "Access token validation failure"),
    ],
)
def test_missing_or_invalid_token_is_401(stack, directory, header, message):
    headers = {"Authorization": header} if header else {}
    response = httpx.get(f"{stack.graph_url}/users", headers=headers, verify=trusting(stack))
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "InvalidAuthenticationToken"
    assert message in error["message"]
    assert {"date", "request-id", "client-request-id"} <= set(error["innerError"])
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_token_picks_the_tenant(stack, control, directory):
    reset_tenant(control, "graph-read-t2", domain="fabrikam.com", client_id="app-2")
    ops_for("graph-read-t2")(control, "add_user", upn="only@fabrikam.com")
    token = access_token(stack, "graph-read-t2", client_id="app-2")
    with graph_client(stack, token) as other_tenant:
        response = other_tenant.get("/users")
    assert _upns(response.json()) == {"only@fabrikam.com"}
