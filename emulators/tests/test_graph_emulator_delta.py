"""Graph emulator phase 3: users/groups delta, identity throttling, $filter and $count."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from emulator_fixtures import access_token, graph_client, ops_for, reset_tenant
from emulator_fixtures import control as control
from emulator_fixtures import stack as stack

TENANT = "graph-delta-t1"
op = ops_for(TENANT)


@pytest.fixture
def ids(control):
    reset_tenant(control, TENANT)
    found = {
        name: op(control, "add_user", upn=f"{name}@contoso.com", displayName=name.title())["id"]
        for name in ("ann", "bob", "cid")
    }
    found["Employee"] = op(control, "add_group", name="Employee")["id"]
    found["HR"] = op(control, "add_group", name="HR")["id"]
    op(control, "add_member", group="Employee", user="ann@contoso.com")
    op(control, "add_member", group="Employee", user="bob@contoso.com")
    control.delete("/stats")
    yield found
    control.post("/config", json={"identity_ru_per_window": None, "identity_window_s": 10})


@pytest.fixture
def graph(stack, ids):
    with graph_client(stack, access_token(stack, TENANT)) as client:
        yield client


def _round(graph, url, params=None, headers=None):
    """Follow nextLinks to the deltaLink: (pages, deltaLink)."""
    pages = []
    response = graph.get(url, params=params, headers=headers)
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body)
        if "@odata.deltaLink" in body:
            assert "@odata.nextLink" not in body
            return pages, body["@odata.deltaLink"]
        response = graph.get(body["@odata.nextLink"])


def _items(pages):
    return [item for page in pages for item in page["value"]]


# ------------------------------------------------------------- users delta
def test_users_delta_round_trip(graph, control, ids):
    pages, delta_link = _round(
        graph,
        "/users/delta",
        {"$select": "displayName,givenName"},
        {"Prefer": "odata.maxpagesize=2"},
    )
    assert len(pages) == 2 and "@odata.nextLink" in pages[0]
    assert pages[0]["@odata.context"].endswith("$metadata#users(displayName,givenName)")
    assert {item["id"] for item in _items(pages)} == {ids["ann"], ids["bob"], ids["cid"]}
    assert set(_items(pages)[0]) == {"displayName", "givenName", "id"}
    assert "$deltatoken=" in delta_link

    unchanged, delta_link = _round(graph, delta_link)
    assert _items(unchanged) == []

    op(control, "update_user", upn="ann@contoso.com", set={"displayName": "Ann Changed"})
    op(control, "delete_user", upn="bob@contoso.com")
    op(control, "add_user", upn="dan@contoso.com", displayName="Dan")
    changes, _ = _round(graph, delta_link)
    by_id = {item["id"]: item for item in _items(changes)}
    assert by_id[ids["ann"]] == {"displayName": "Ann Changed", "givenName": None, "id": ids["ann"]}
    assert by_id[ids["bob"]] == {"id": ids["bob"], "@removed": {"reason": "changed"}}
    assert len(by_id) == 3


def test_initial_delta_reports_soft_deleted_users_as_removed(graph, control, ids):
    op(control, "delete_user", upn="cid@contoso.com")
    pages, _ = _round(graph, "/users/delta")
    removed = [item for item in _items(pages) if "@removed" in item]
    assert removed == [{"id": ids["cid"], "@removed": {"reason": "changed"}}]
    present = next(item for item in _items(pages) if item["id"] == ids["ann"])
    assert "userPrincipalName" in present  # default property set


def test_deltatoken_latest_starts_from_now(graph, control):
    body = graph.get("/users/delta", params={"$deltatoken": "latest"}).json()
    assert body["value"] == []
    op(control, "add_user", upn="new@contoso.com")
    changes, _ = _round(graph, body["@odata.deltaLink"])
    assert [item.get("userPrincipalName") for item in _items(changes)] == ["new@contoso.com"]


@pytest.mark.parametrize("how", ["garbage", "expire_op", "tenant_reset", "lifetime"])
def test_stale_delta_token_is_410_with_location(graph, control, stack, how):
    _, delta_link = _round(graph, "/users/delta", {"$select": "displayName"})
    if how == "garbage":
        delta_link = f"{stack.graph_url}/users/delta?$deltatoken=nonsense"
    elif how == "expire_op":
        op(control, "expire_delta_tokens")
    elif how == "tenant_reset":
        reset_tenant(control, TENANT)
    else:
        control.post("/config", json={"delta_token_lifetime_s": 0})
    try:
        response = graph.get(delta_link)
    finally:
        control.post("/config", json={"delta_token_lifetime_s": 604800})
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "syncStateNotFound"
    assert response.headers["location"].startswith(f"{stack.graph_url}/users/delta")
    if how != "garbage":
        assert parse_qs(urlsplit(response.headers["location"]).query)["$select"] == ["displayName"]


# ------------------------------------------------------------ groups delta
def test_groups_delta_with_members(graph, control, ids):
    pages, delta_link = _round(graph, "/groups/delta", {"$select": "displayName,members"})
    groups = {item["displayName"]: item for item in _items(pages)}
    assert groups["Employee"]["members@delta"] == [
        {"@odata.type": "#microsoft.graph.user", "id": ids["ann"]},
        {"@odata.type": "#microsoft.graph.user", "id": ids["bob"]},
    ]
    assert "members@delta" not in groups["HR"]

    op(control, "remove_member", group="Employee", user="bob@contoso.com")
    op(control, "add_member", group="Employee", user="cid@contoso.com")
    changes, delta_link = _round(graph, delta_link)
    (employee,) = _items(changes)
    assert employee["id"] == ids["Employee"]
    assert employee["members@delta"] == [
        {
            "@odata.type": "#microsoft.graph.user",
            "id": ids["bob"],
            "@removed": {"reason": "deleted"},
        },
        {"@odata.type": "#microsoft.graph.user", "id": ids["cid"]},
    ]
    op(control, "delete_group", name="HR")
    (gone,) = _items(_round(graph, delta_link)[0])
    assert gone == {"id": ids["HR"], "@removed": {"reason": "deleted"}}


def test_groups_delta_without_members_selected_has_no_members_delta(graph):
    pages, _ = _round(graph, "/groups/delta", {"$select": "displayName"})
    assert all(set(item) == {"displayName", "id"} for item in _items(pages))


def test_large_group_members_split_across_pages(graph, control, ids):
    users = [{"upn": f"m{i}@contoso.com"} for i in range(25)]
    control.post(
        f"/{TENANT}/seed",
        json={"users": users, "groups": [{"name": "Big", "members": [u["upn"] for u in users]}]},
    ).raise_for_status()
    pages, _ = _round(
        graph,
        "/groups/delta",
        {"$select": "displayName,members"},
        {"Prefer": "odata.maxpagesize=10"},
    )
    big = [item for item in _items(pages) if item["displayName"] == "Big"]
    assert len(big) >= 3  # the group repeats with the next slice of its members
    members = [entry["id"] for item in big for entry in item["members@delta"]]
    assert len(members) == len(set(members)) == 25


def test_default_groups_delta_includes_members(graph, ids):
    pages, _ = _round(graph, "/groups/delta")
    employee = next(item for item in _items(pages) if item["id"] == ids["Employee"])
    assert len(employee["members@delta"]) == 2
    assert "securityEnabled" in employee


# -------------------------------------------------------- identity throttling
def test_identity_bucket_throttles_per_app_and_tenant(graph, control, ids):
    control.post(
        "/config", json={"identity_ru_per_window": 10, "identity_window_s": 100}
    ).raise_for_status()
    costs = []
    for url in (
        "/users",
        f"/groups/{ids['Employee']}/members",
        f"/groups/{ids['Employee']}/transitiveMembers",
    ):
        response = graph.get(url)
        assert response.status_code == 200
        costs.append(int(response.headers["x-ms-resource-unit"]))
    assert costs == [2, 3, 5]
    throttled = graph.get("/users", params={"$select": "id"})  # costs 1, bucket is empty
    assert throttled.status_code == 429
    assert float(throttled.headers["retry-after"]) > 0
    assert throttled.headers["x-ms-throttle-information"] == "ResourceUnitLimitExceeded"
    assert throttled.json()["error"]["code"] == "TooManyRequests"
    stats = control.get("/stats").json()
    assert stats["resource_units"] == 10 and stats["throttled"] == 1


def test_identity_bucket_refills(graph, control):
    control.post(
        "/config", json={"identity_ru_per_window": 2, "identity_window_s": 0.2}
    ).raise_for_status()
    assert graph.get("/users").status_code == 200
    response = graph.get("/users")
    assert response.status_code == 429
    time.sleep(float(response.headers["retry-after"]) + 0.05)
    assert graph.get("/users").status_code == 200


def test_select_lowers_cost_and_identity_limit_is_off_by_default(graph, control):
    assert control.get("/config").json()["identity_ru_per_window"] is None
    assert graph.get("/users", params={"$select": "id"}).headers["x-ms-resource-unit"] == "1"
    for _ in range(30):
        assert graph.get("/users").status_code == 200


# ---------------------------------------------------------- $filter, $count
def test_filter_startswith_upn(graph, control):
    op(control, "add_user", upn="annika@contoso.com")
    body = graph.get("/users", params={"$filter": "startswith(userPrincipalName,'ANN')"}).json()
    assert sorted(u["userPrincipalName"] for u in body["value"]) == [
        "ann@contoso.com",
        "annika@contoso.com",
    ]


def test_filter_eq_in_and(graph, ids):
    eq = graph.get("/groups", params={"$filter": "displayName eq 'hr'"}).json()["value"]
    assert [g["id"] for g in eq] == [ids["HR"]]
    both = graph.get("/groups", params={"$filter": "displayName in ('HR','Employee')"}).json()
    assert len(both["value"]) == 2
    combined = graph.get(
        "/users", params={"$filter": "accountEnabled eq true and startswith(displayName,'b')"}
    ).json()
    assert [u["id"] for u in combined["value"]] == [ids["bob"]]


def test_unsupported_filter_is_400(graph):
    response = graph.get("/users", params={"$filter": "endswith(mail,'.com')"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "Request_UnsupportedQuery"


def test_count_needs_consistency_level(graph):
    assert graph.get("/users/$count").status_code == 400
    response = graph.get("/users/$count", headers={"ConsistencyLevel": "eventual"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "3"
