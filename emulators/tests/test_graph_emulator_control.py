"""Graph emulator control surface: tenants, ops and their validation, seed, state, faults, stats."""

from __future__ import annotations

import time

import pytest
from emulator_fixtures import access_token, graph_client, ops_for, reset_tenant
from emulator_fixtures import control as control
from emulator_fixtures import stack as stack

from entrasync_emulators.graph.directory import TenantDirectory
from entrasync_emulators.graph.seed import seed

TENANT = "graph-ctl-t1"
op = ops_for(TENANT)


@pytest.fixture
def tenant(control):
    reset_tenant(control, TENANT)
    control.delete("/stats")
    yield TENANT
    control.post("/config", json={"latency_ms": 0})


@pytest.fixture
def graph(stack, tenant):
    with graph_client(stack, access_token(stack, tenant)) as client:
        yield client


# ------------------------------------------------------------------ tenants
def test_put_tenant_resets_the_directory(control, tenant):
    op(control, "add_user", upn="a@contoso.com")
    response = control.put(
        f"/{tenant}", json={"domains": ["contoso.com"], "client_id": "x", "client_secret": "y"}
    )
    assert response.json() == {"tenant_id": tenant}
    assert control.get(f"/{tenant}/users/a@contoso.com").json() == {
        "exists": False,
        "deleted": False,
    }


def test_put_tenant_requires_credentials(control):
    response = control.put("/bad-tenant", json={"domains": ["x.com"], "client_id": "x"})
    assert response.status_code == 400
    assert "client_secret" in response.json()["error"]


def test_ops_on_unknown_tenant_are_404(control):
    response = control.post("/never-made/ops", json={"op": "add_group", "args": {"name": "G"}})
    assert response.status_code == 404


# ---------------------------------------------------------------------- ops
def test_add_user_defaults_follow_the_spec(control, tenant):
    op(control, "add_user", upn="megan@contoso.com", displayName="Megan Bowen")
    state = control.get(f"/{tenant}/users/megan@contoso.com").json()
    assert state["exists"] is True and state["deleted"] is False
    assert state["accountEnabled"] is True
    assert state["userType"] == "Member"
    assert state["otherMails"] == []
    assert state["onPremisesSyncEnabled"] is None  # Graph's value for a cloud-only user
    assert state["mail"] is None
    assert state["groups"] == []
    assert state["calendars"] == {
        "Calendar": {
            "id": state["calendars"]["Calendar"]["id"],
            "canEdit": True,
            "isDefaultCalendar": True,
            "events": 0,
            "event_ids": [],
        }
    }
    assert state["photo_sha256"] is None and state["mailbox"] is True


def test_unknown_op_is_400_naming_it(control, tenant):
    response = control.post(f"/{tenant}/ops", json={"op": "explode", "args": {}})
    assert response.status_code == 400
    assert "explode" in response.json()["error"]


@pytest.mark.parametrize(
    ("name", "args", "named"),
    [
        ("add_user", {"displayName": "No UPN"}, "upn"),
        ("add_user", {"upn": "x@contoso.com", "shoeSize": 42}, "shoeSize"),
        ("add_user", {"upn": "x@contoso.com", "accountEnabled": "yes"}, "accountEnabled"),
        ("update_user", {"upn": "x@contoso.com"}, "set"),
        ("add_group", {}, "name"),
        ("add_member", {"group": "G"}, "user"),
        ("add_calendar", {"user": "x@contoso.com"}, "name"),
        ("set_photo", {"user": "x@contoso.com"}, "content"),
        ("fault", {"path": "/users"}, "status"),
        ("fault", {"path": "/users", "status": 200}, "status"),
    ],
)
def test_bad_op_args_are_400_naming_the_arg(control, tenant, name, args, named):
    response = control.post(f"/{tenant}/ops", json={"op": name, "args": args})
    assert response.status_code == 400
    assert named in response.json()["error"]
    assert name in response.json()["error"] or "unknown" in response.json()["error"]


def test_ops_on_unknown_user_or_group_are_404(control, tenant):
    op(control, "add_group", name="G")
    assert op(control, "disable_user", expect=404, upn="nobody@contoso.com")["error"]
    assert op(control, "add_member", expect=404, group="G", user="nobody@contoso.com")
    assert op(control, "delete_group", expect=404, name="Nope")


def test_duplicate_upn_and_duplicate_membership_are_400(control, tenant):
    op(control, "add_user", upn="a@contoso.com")
    op(control, "add_user", expect=400, upn="A@contoso.com")
    op(control, "add_group", name="G")
    op(control, "add_member", group="G", user="a@contoso.com")
    op(control, "add_member", expect=400, group="G", user="a@contoso.com")


def test_update_disable_delete_user_show_in_state(control, tenant):
    user_id = op(control, "add_user", upn="a@contoso.com")["id"]
    op(control, "add_group", name="Employee")
    op(control, "add_member", group="Employee", user="a@contoso.com")
    op(
        control,
        "update_user",
        upn="a@contoso.com",
        set={"upn": "a.new@contoso.com", "jobTitle": "CTO"},
    )
    state = control.get(f"/{tenant}/users/a.new@contoso.com").json()
    assert state["id"] == user_id and state["jobTitle"] == "CTO"
    assert state["groups"] == ["Employee"]
    assert control.get(f"/{tenant}/users/a@contoso.com").json()["exists"] is False
    op(control, "disable_user", upn="a.new@contoso.com")
    assert control.get(f"/{tenant}/users/a.new@contoso.com").json()["accountEnabled"] is False
    op(control, "delete_user", upn="a.new@contoso.com")
    deleted = control.get(f"/{tenant}/users/a.new@contoso.com").json()
    assert deleted["exists"] is False and deleted["deleted"] is True
    assert deleted["id"] == user_id and deleted["deletedDateTime"]


def test_groups_state_lists_member_upns(control, tenant):
    op(control, "add_user", upn="a@contoso.com")
    op(control, "add_user", upn="b@contoso.com")
    op(control, "add_group", name="G")
    op(control, "add_member", group="G", user="a@contoso.com")
    op(control, "add_member", group="G", user="b@contoso.com")
    op(control, "remove_member", group="G", user="b@contoso.com")
    (group,) = control.get(f"/{tenant}/groups").json()
    assert group["name"] == "G" and group["members"] == ["a@contoso.com"]
    op(control, "delete_group", name="G")
    assert control.get(f"/{tenant}/groups").json() == []
    assert control.get(f"/{tenant}/users/a@contoso.com").json()["groups"] == []


def test_calendar_and_photo_ops_are_stored(control, tenant):
    op(control, "add_user", upn="a@contoso.com")
    op(control, "add_calendar", user="a@contoso.com", name="Team", canEdit=False)
    op(control, "add_calendar", user="a@contoso.com", name="Team", expect=400)
    op(control, "set_photo", user="a@contoso.com", content="hello")
    state = control.get(f"/{tenant}/users/a@contoso.com").json()
    assert state["calendars"]["Team"]["canEdit"] is False
    assert state["calendars"]["Team"]["isDefaultCalendar"] is False
    assert state["photo_sha256"] == (
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    )
    op(control, "remove_calendar", user="a@contoso.com", name="Team")
    op(control, "remove_calendar", user="a@contoso.com", name="Calendar", expect=400)
    assert set(control.get(f"/{tenant}/users/a@contoso.com").json()["calendars"]) == {"Calendar"}


# --------------------------------------------------------------------- seed
def test_seed_loads_users_and_groups(control, tenant, graph):
    users = [{"upn": f"u{i}@contoso.com", "displayName": f"User {i}"} for i in range(50)]
    users.append({"mail": "g@fabrikam.com", "userType": "Guest"})
    groups = [
        {"name": "All", "members": [u["upn"] for u in users[:50]] + ["g@fabrikam.com"]},
        {"name": "Outer", "members": ["All"]},
    ]
    response = control.post(f"/{tenant}/seed", json={"users": users, "groups": groups})
    assert response.json() == {"users": 51, "groups": 2}
    assert len(control.get(f"/{tenant}/groups").json()[0]["members"]) == 51
    assert control.get(f"/{tenant}/users/u7@contoso.com").json()["groups"] == ["All"]


def test_seed_rejects_unknown_members(control, tenant):
    response = control.post(
        f"/{tenant}/seed", json={"users": [], "groups": [{"name": "G", "members": ["x@y.z"]}]}
    )
    assert response.status_code == 404
    assert "x@y.z" in response.json()["error"]


def test_seed_loads_a_fifth_of_the_benchmark_size():
    # 1/5 of the benchmark size (100k users, 500k memberships); its speed is bench/'s to measure.
    directory = TenantDirectory("bench", ["contoso.com"], "app", "secret")
    users = [{"upn": f"user{i}@contoso.com", "displayName": f"User {i}"} for i in range(20_000)]
    groups = [
        {"name": f"G{g}", "members": [f"user{i}@contoso.com" for i in range(g % 2, 20_000, 2)]}
        for g in range(10)
    ]
    assert seed(directory, users, groups) == {"users": 20_000, "groups": 10}
    assert sum(len(members) for members in directory.members.values()) == 100_000


# ------------------------------------------------------------------- faults
def test_fault_429_carries_retry_after_and_throttling_body(control, graph):
    op(control, "fault", path="/groups", status=429, times=2, retry_after=3)
    for _ in range(2):
        response = graph.get("/groups")
        assert response.status_code == 429
        assert response.headers["retry-after"] == "3"
        error = response.json()["error"]
        assert error["code"] == "TooManyRequests"
        assert error["innerError"]["code"] == "429" and error["innerError"]["status"] == "429"
        assert error["innerError"]["request-id"] == response.headers["request-id"]
    assert graph.get("/groups").status_code == 200


def test_fault_matches_by_prefix_and_accepts_v1_prefix(control, graph):
    op(control, "add_group", name="G")
    group_id = control.get(f"/{TENANT}/groups").json()[0]["id"]
    op(control, "fault", path="/v1.0/groups", status=503, times=1, retry_after=1.5)
    assert graph.get("/users").status_code == 200  # other paths are not affected
    response = graph.get(f"/groups/{group_id}/members")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1.500"
    assert response.json()["error"]["code"] == "ServiceUnavailable"
    assert graph.get(f"/groups/{group_id}/members").status_code == 200


def test_fault_without_retry_after_has_no_header(control, graph):
    op(control, "fault", path="users", status=500)
    response = graph.get("/users")
    assert response.status_code == 500
    assert "retry-after" not in response.headers


# ------------------------------------------------------------ stats, config
def test_stats_count_requests_by_route(control, graph):
    op(control, "add_group", name="G")
    group_id = control.get(f"/{TENANT}/groups").json()[0]["id"]
    graph.get("/users")
    graph.get("/users")
    graph.get(f"/groups/{group_id}/members")
    op(control, "fault", path="/groups", status=429, retry_after=1)
    graph.get("/groups")
    stats = control.get("/stats").json()
    assert stats["requests"] == 4
    assert stats["by_path"]["GET /users"] == 2
    assert stats["by_path"]["GET /groups/{id}/members"] == 1
    assert stats["throttled"] == 1
    assert stats["resource_units"] == 2 + 2 + 3


def test_stats_tell_batch_items_from_http_requests(control, graph):
    batch = {"requests": [{"id": str(n), "method": "GET", "url": "/users"} for n in range(3)]}
    assert graph.post("/$batch", json=batch).status_code == 200
    graph.get("/users")
    stats = control.get("/stats").json()
    assert (stats["requests"], stats["batched"], stats["http_requests"]) == (5, 3, 2)
    assert stats["by_path"]["GET /users"] == 4 and stats["by_path"]["POST /$batch"] == 1


def test_latency_delays_every_graph_request(control, graph):
    control.post("/config", json={"latency_ms": 150}).raise_for_status()
    started = time.perf_counter()
    assert graph.get("/users").status_code == 200
    assert time.perf_counter() - started >= 0.15


def test_config_rejects_unknown_keys(control):
    response = control.post("/config", json={"latency": 5})
    assert response.status_code == 400
    assert "latency" in response.json()["error"]
    assert control.get("/config").json()["token_lifetime_s"] == 3600
