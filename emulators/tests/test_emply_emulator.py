"""Emply emulator phase 1: exports, users API, auth, faults, counters and the control surface."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from emulator_fixtures import asgi_client

from entrasync_emulators.emply import EmplyEmulator

KEY = "k-secret-123"
ROLES = ["Employee", "HR", "Manager", {"name": "Administrator", "admin": True}]


class Emply:
    """Both apps of one emulator, driven over HTTP as the stack and the pipeline would."""

    def __init__(self) -> None:
        self.emulator = EmplyEmulator()
        self.control = asgi_client(self.emulator.control_app)
        self.api = asgi_client(self.emulator.api_app)

    def reset(self, customer: str = "acme", **body: object) -> None:
        response = self.control.put(f"/{customer}", json={"api_key": KEY, "roles": ROLES, **body})
        assert response.status_code == 200, response.text

    def op(self, op: str, customer: str = "acme", **args: object):
        return self.control.post(f"/{customer}/ops", json={"op": op, "args": args})

    def ok_op(self, op: str, **args: object) -> dict:
        response = self.op(op, **args)
        assert response.status_code == 200, response.text
        return response.json()

    def call(self, method: str, path: str, key: str | None = KEY, customer: str = "acme", **kw):
        params = {**kw.pop("params", {}), **({"apiKey": key} if key is not None else {})}
        return self.api.request(method, f"/v1/{customer}{path}", params=params, **kw)

    def export(self, export_id: str) -> list[dict]:
        response = self.call("GET", f"/exports/{export_id}")
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def user(self, username: str) -> dict:
        return self.control.get(f"/acme/users/{username}").json()


@pytest.fixture
def emply() -> Emply:
    world = Emply()
    world.reset()
    return world


def by(rows: list[dict], key: str) -> dict[str, dict]:
    return {row[key]: row for row in rows}


# exports


def test_users_export_rows_have_the_designed_shape(emply: Emply) -> None:
    emply.ok_op(
        "add_user",
        username="megan@contoso.com",
        email="Megan@contoso.com",
        roles=["Employee", "HR"],
    )
    window = {"from": "2024-01-01", "to": "2024-02-01"}
    response = emply.call("GET", "/exports/users", params=window)
    package = response.json()
    assert set(package) == {"exportId", "name", "from", "to", "generated", "data"}
    assert (package["exportId"], package["from"], package["to"]) == (
        "users",
        "2024-01-01",
        "2024-02-01",
    )
    [row] = package["data"]
    assert row == {
        "userId": row["userId"],
        "username": "megan@contoso.com",
        "email": "Megan@contoso.com",
        "firstName": None,
        "lastName": None,
        "active": True,
        "roles": ["Employee", "HR"],
        "employeeId": None,
        "externalId": None,
        "calendarSyncEnabled": True,
        "photoSha256": None,
    }


def test_employees_and_roles_exports(emply: Emply) -> None:
    emply.ok_op("add_user", username="megan@contoso.com", email="megan@contoso.com")
    emply.ok_op(
        "add_employee",
        email="megan@contoso.com",
        first_name="Megan",
        last_name="Jordan",
        job_title="Engineer",
        department="R&D",
        mobile="+45 1234",
        user="MEGAN@contoso.com",
    )
    [user] = emply.export("users")
    [employee] = emply.export("employees")
    assert employee == {
        "employeeId": user["employeeId"],
        "email": "megan@contoso.com",
        "firstName": "Megan",
        "lastName": "Jordan",
        "jobTitle": "Engineer",
        "department": "R&D",
        "mobilePhone": "+45 1234",
        "userId": user["userId"],
        "status": "active",
    }
    roles = by(emply.export("roles"), "name")
    assert list(roles) == ["Employee", "HR", "Manager", "Administrator"]
    assert roles["Administrator"]["isAdministrator"] is True
    assert roles["HR"]["isAdministrator"] is False
    assert set(roles["HR"]) == {"roleId", "name", "isAdministrator"}


def test_export_ids_are_configurable_per_customer(emply: Emply) -> None:
    emply.reset(exports={"users": "exp-users-17", "roles": "exp-roles"})
    assert emply.call("GET", "/exports/exp-users-17").json()["name"] == "Users"
    assert emply.call("GET", "/exports/employees").status_code == 200
    missing = emply.call("GET", "/exports/users")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NotFound"
    bad = emply.control.put("/acme", json={"api_key": KEY, "exports": {"people": "x"}})
    assert bad.status_code == 400 and "people" in bad.json()["error"]


def test_deleted_users_are_absent_from_the_users_export(emply: Emply) -> None:
    emply.ok_op("add_user", username="a@x.com", email="a@x.com")
    emply.ok_op("add_user", username="b@x.com", email="b@x.com")
    emply.ok_op("delete_user", user="a@x.com")
    assert [row["username"] for row in emply.export("users")] == ["b@x.com"]
    assert emply.user("a@x.com") == {"exists": False, "deleted": True}


def test_bad_export_window_is_a_400(emply: Emply) -> None:
    response = emply.call("GET", "/exports/users", params={"from": "yesterday"})
    assert response.status_code == 400
    assert "from" in response.json()["error"]["message"]


# lookups


def test_find_by_name_matches_email_case_insensitively(emply: Emply) -> None:
    emply.ok_op("add_employee", email="Megan@Contoso.com", first_name="Megan")
    found = emply.call("GET", "/employees/find-by-name", params={"email": " megan@contoso.COM"})
    assert [row["firstName"] for row in found.json()] == ["Megan"]
    none = emply.call("GET", "/employees/find-by-name", params={"email": "nobody@contoso.com"})
    assert none.json() == []
    assert emply.call("GET", "/employees/find-by-name").status_code == 400


def test_get_roles_lists_role_rows(emply: Emply) -> None:
    roles = emply.call("GET", "/roles").json()
    assert [role["name"] for role in roles] == ["Employee", "HR", "Manager", "Administrator"]


# POST users / PATCH users


def test_post_users_creates_a_user(emply: Emply) -> None:
    response = emply.call(
        "POST",
        "/users",
        json={
            "username": "megan@contoso.com",
            "email": "megan@contoso.com",
            "firstName": "Megan",
            "lastName": "Jordan",
            "roles": ["Employee"],
            "externalId": "oid-1",
        },
    )
    assert response.status_code == 201
    row = response.json()
    assert (row["username"], row["externalId"], row["roles"], row["active"]) == (
        "megan@contoso.com",
        "oid-1",
        ["Employee"],
        True,
    )
    assert emply.user("Megan@Contoso.com")["entra_object_id"] == "oid-1"


def test_post_users_for_an_employee_connects_both_sides(emply: Emply) -> None:
    employee = emply.ok_op("add_employee", email="megan@contoso.com")
    row = emply.call(
        "POST",
        "/users",
        json={
            "username": "megan@contoso.com",
            "email": "megan@contoso.com",
            "employeeId": employee["employeeId"],
        },
    ).json()
    assert row["employeeId"] == employee["employeeId"]
    assert emply.export("employees")[0]["userId"] == row["userId"]
    assert emply.user("megan@contoso.com")["employee"] is True
    again = emply.call(
        "POST",
        "/users",
        json={
            "username": "other@contoso.com",
            "email": "megan@contoso.com",
            "employeeId": employee["employeeId"],
        },
    )
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("body", "status", "named"),
    [
        ({"email": "a@x.com"}, 400, "username"),
        ({"username": "a@x.com"}, 400, "email"),
        ({"username": "a@x.com", "email": "a@x.com", "roles": ["Pilot"]}, 400, "Pilot"),
        ({"username": "a@x.com", "email": "a@x.com", "employeeId": "nope"}, 400, "employeeId"),
        ({"username": "a@x.com", "email": "a@x.com", "displayName": "A"}, 400, "displayName"),
        ({"username": "TAKEN@x.com", "email": "a@x.com"}, 409, "username"),
        ({"username": "a@x.com", "email": "a@x.com", "externalId": "OID-TAKEN"}, 409, "externalId"),
    ],
)
def test_post_users_refuses(emply: Emply, body: dict, status: int, named: str) -> None:
    emply.ok_op("add_user", username="taken@x.com", email="t@x.com", external_id="oid-taken")
    response = emply.call("POST", "/users", json=body)
    assert response.status_code == status
    error = response.json()["error"]
    assert named in error["message"]
    assert error["code"] == {400: "BadRequest", 409: "Conflict"}[status]
    assert len(emply.export("users")) == 1


def test_patch_users_changes_active_roles_and_external_id(emply: Emply) -> None:
    user_id = emply.ok_op("add_user", username="a@x.com", email="a@x.com", roles=["Employee"])[
        "userId"
    ]
    response = emply.call(
        "PATCH",
        f"/users/{user_id}",
        json={"active": False, "roles": ["HR", "Manager"], "externalId": "oid"},
    )
    assert response.status_code == 200
    row = response.json()
    assert (row["active"], row["roles"], row["externalId"]) == (False, ["HR", "Manager"], "oid")
    unlinked = emply.call("PATCH", f"/users/{user_id}", json={"externalId": None}).json()
    assert unlinked["externalId"] is None and unlinked["roles"] == ["HR", "Manager"]


def test_patch_users_refuses(emply: Emply) -> None:
    user_id = emply.ok_op("add_user", username="a@x.com", email="a@x.com")["userId"]
    emply.ok_op("add_user", username="b@x.com", email="b@x.com", external_id="oid-b")
    assert emply.call("PATCH", "/users/nope", json={"active": False}).status_code == 404
    bad_role = emply.call("PATCH", f"/users/{user_id}", json={"roles": ["Pilot"], "active": False})
    assert bad_role.status_code == 400 and "Pilot" in bad_role.json()["error"]["message"]
    taken = emply.call("PATCH", f"/users/{user_id}", json={"externalId": "oid-b"})
    assert taken.status_code == 409
    assert emply.user("a@x.com")["active"] is True  # a refused PATCH changes nothing
    assert emply.call("PATCH", f"/users/{user_id}", json={"username": "z"}).status_code == 400


# auth, errors, faults, counters


@pytest.mark.parametrize("key", [None, "", "wrong-key"])
def test_missing_or_wrong_api_key_is_401_without_echo(emply: Emply, key: str | None) -> None:
    response = emply.call("GET", "/exports/users", key=key)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "Unauthorized"
    assert KEY not in response.text and "wrong-key" not in response.text


def test_unknown_customer_and_route_use_the_error_shape(emply: Emply) -> None:
    unknown = emply.call("GET", "/exports/users", customer="nobody")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "NotFound"
    no_route = emply.call("GET", "/nothing/here")
    assert no_route.status_code == 404 and set(no_route.json()["error"]) == {"code", "message"}
    not_json = emply.call("POST", "/users", content=b"{nope")
    assert not_json.status_code == 400 and "JSON" in not_json.json()["error"]["message"]


def test_fault_hits_the_next_requests_under_its_path(emply: Emply) -> None:
    emply.ok_op("fault", path="/users", status=503, times=2)
    emply.ok_op("fault", path="/exports", status=429, retry_after=7)
    body = {"username": "a@x.com", "email": "a@x.com"}
    assert emply.call("GET", "/roles").status_code == 200
    assert [emply.call("POST", "/users", json=body).status_code for _ in range(3)] == [
        503,
        503,
        201,
    ]
    throttled = emply.call("GET", "/exports/users")
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "7"
    assert throttled.json()["error"]["code"] == "TooManyRequests"
    assert emply.call("GET", "/exports/users").status_code == 200


def test_bad_export_row_spoils_the_next_reads_of_that_export_only(emply: Emply) -> None:
    for name in ("a@x.com", "b@x.com"):
        emply.ok_op("add_user", username=name, email=name)
    emply.ok_op("bad_export_row", export="users", row=1, set={"active": "yes"}, times=2)
    for _ in range(2):
        rows = emply.export("users")
        assert [row["active"] for row in rows] == [True, "yes"]
        assert rows[1]["username"] == "b@x.com"  # the rest of the row is kept
    assert [row["active"] for row in emply.export("users")] == [True, True]


def test_stats_count_requests_and_writes(emply: Emply) -> None:
    emply.call("GET", "/exports/users")
    emply.call("POST", "/users", json={"username": "a@x.com", "email": "a@x.com"})
    emply.call("POST", "/users", json={"username": "a@x.com", "email": "a@x.com"})  # 409
    emply.call("GET", "/roles", key="bad")
    assert emply.control.get("/acme/stats").json() == {"requests": 4, "writes": 1}
    assert emply.control.get("/stats").json()["customers"]["acme"]["requests"] == 4


def test_concurrent_creates_are_all_kept(emply: Emply) -> None:
    def create(n: int) -> int:
        body = {"username": f"u{n}@x.com", "email": f"u{n}@x.com"}
        return emply.call("POST", "/users", json=body).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(create, range(80)))
    assert statuses == [201] * 80
    assert len({row["userId"] for row in emply.export("users")}) == 80


# control surface


def test_seed_loads_many_users(emply: Emply) -> None:
    users = [
        {"username": f"user{n}@contoso.com", "email": f"user{n}@contoso.com", "roles": ["Employee"]}
        for n in range(100_000)
    ]
    employees = [
        {"email": f"user{n}@contoso.com", "user": f"user{n}@contoso.com"}
        for n in range(0, 100_000, 10)
    ]
    response = emply.control.post(
        "/acme/seed", json={"roles": ["Contractor"], "users": users, "employees": employees}
    )
    assert response.json() == {"roles": 1, "users": 100_000, "employees": 10_000}
    assert emply.user("user10@contoso.com")["employee"] is True
    assert emply.user("user11@contoso.com")["employee"] is False


def test_seed_error_names_the_row(emply: Emply) -> None:
    response = emply.control.post(
        "/acme/seed",
        json={"users": [{"username": "a@x.com", "email": "a@x.com"}, {"username": "b@x.com"}]},
    )
    assert response.status_code == 400
    assert "users[1]" in response.json()["error"] and "email" in response.json()["error"]


def test_describe_user(emply: Emply) -> None:
    emply.ok_op(
        "add_user",
        username="Megan@Contoso.com",
        email="megan@contoso.com",
        roles=["Employee", "HR"],
    )
    emply.ok_op("add_employee", email="MEGAN@contoso.com", user="megan@contoso.com")
    state = emply.user("megan@CONTOSO.com")
    assert {
        key: state[key]
        for key in (
            "exists",
            "active",
            "roles",
            "employee",
            "entra_object_id",
            "calendars",
            "photo_sha256",
        )
    } == {
        "exists": True,
        "active": True,
        "roles": ["Employee", "HR"],
        "employee": True,
        "entra_object_id": None,
        "calendars": {},
        "photo_sha256": None,
    }
    assert emply.user("nobody@contoso.com") == {"exists": False, "deleted": False}


def test_employee_profile_needs_the_same_email(emply: Emply) -> None:
    emply.ok_op("add_user", username="megan@contoso.com", email="megan@contoso.com")
    emply.ok_op("add_employee", email="megan@contoso.com", user="megan@contoso.com")
    emply.ok_op("update_employee", email="megan@contoso.com", set={"email": "mj@contoso.com"})
    assert emply.user("megan@contoso.com")["employee"] is False
    emply.ok_op(
        "update_employee",
        email="mj@contoso.com",
        set={"email": "megan@contoso.com", "job_title": "CTO"},
    )
    assert emply.user("megan@contoso.com")["employee"] is True
    assert emply.export("employees")[0]["jobTitle"] == "CTO"


def test_user_ops_change_the_user(emply: Emply) -> None:
    emply.ok_op("add_user", username="a@x.com", email="a@x.com", roles=["Employee"], active=False)
    assert emply.user("a@x.com")["active"] is False
    emply.ok_op("set_roles", user="A@x.com", roles=["HR", "Administrator"])
    emply.ok_op("disable_calendar_sync", user="a@x.com")
    emply.ok_op("add_role", name="Pilot", admin=True)
    [row] = emply.export("users")
    assert (row["roles"], row["calendarSyncEnabled"]) == (["HR", "Administrator"], False)
    assert by(emply.export("roles"), "name")["Pilot"]["isAdministrator"] is True
    emply.ok_op("add_user", username="b@x.com", email="b@x.com")
    emply.ok_op("deactivate_user", user="b@x.com")
    assert emply.user("b@x.com")["active"] is False


def test_archive_employee(emply: Emply) -> None:
    emply.ok_op("add_employee", email="a@x.com")
    emply.ok_op("archive_employee", email="A@X.com")
    assert emply.export("employees")[0]["status"] == "archived"


def test_deleted_username_can_be_used_again(emply: Emply) -> None:
    emply.ok_op("add_user", username="a@x.com", email="a@x.com", external_id="oid-a")
    emply.ok_op("add_employee", email="a@x.com", user="a@x.com")
    emply.ok_op("delete_user", user="a@x.com")
    assert emply.export("employees")[0]["userId"] is None
    created = emply.call(
        "POST", "/users", json={"username": "a@x.com", "email": "a@x.com", "externalId": "oid-a"}
    )
    assert created.status_code == 201
    assert emply.user("a@x.com")["exists"] is True


@pytest.mark.parametrize(
    ("op", "args", "status", "named"),
    [
        ("teleport_user", {}, 400, "teleport_user"),
        ("add_user", {"email": "a@x.com"}, 400, "username"),
        ("add_user", {"username": "a@x.com", "email": "a@x.com", "roles": ["Pilot"]}, 400, "Pilot"),
        ("add_user", {"username": "a@x.com", "email": "a@x.com", "colour": "red"}, 400, "colour"),
        ("add_user", {"username": "EXISTS@x.com", "email": "e@x.com"}, 409, "EXISTS@x.com"),
        ("set_roles", {"user": "ghost@x.com", "roles": []}, 404, "ghost@x.com"),
        ("set_roles", {"user": "exists@x.com"}, 400, "roles"),
        ("deactivate_user", {"user": "ghost@x.com"}, 404, "ghost@x.com"),
        ("delete_user", {}, 400, "user"),
        ("add_employee", {"email": "e@x.com", "user": "ghost@x.com"}, 404, "ghost@x.com"),
        ("add_employee", {"first_name": "E"}, 400, "email"),
        ("update_employee", {"email": "ghost@x.com", "set": {}}, 404, "ghost@x.com"),
        ("update_employee", {"email": "e@x.com", "set": {"shoe": 4}}, 400, "shoe"),
        ("archive_employee", {"email": "ghost@x.com"}, 404, "ghost@x.com"),
        ("disable_calendar_sync", {"user": "ghost@x.com"}, 404, "ghost@x.com"),
        ("add_role", {"name": "HR"}, 409, "HR"),
        ("add_role", {"admin": True}, 400, "name"),
        ("fault", {"path": "/users"}, 400, "status"),
        ("fault", {"path": "/users", "status": 200}, 400, "status"),
        ("bad_export_row", {"export": "users", "row": 0, "set": "x"}, 400, "set"),
        ("bad_export_row", {"export": "users", "row": -1, "set": {}}, 400, "row"),
    ],
)
def test_ops_refuse(emply: Emply, op: str, args: dict, status: int, named: str) -> None:
    emply.ok_op("add_user", username="exists@x.com", email="e@x.com")
    emply.ok_op("add_employee", email="e@x.com")
    response = emply.op(op, **args)
    assert response.status_code == status, response.text
    assert named in response.json()["error"]


def test_control_refuses_unknown_customer_and_bad_bodies(emply: Emply) -> None:
    assert emply.op("add_role", customer="nobody", name="X").status_code == 404
    assert emply.control.get("/nobody/users/a@x.com").status_code == 404
    assert emply.control.put("/acme", json={"roles": []}).status_code == 400  # no api_key
    assert emply.control.post("/acme/ops", content=b"{").status_code == 400
    assert emply.control.get("/acme/nothing").status_code == 404


def test_reset_empties_the_customer(emply: Emply) -> None:
    emply.ok_op("add_user", username="a@x.com", email="a@x.com")
    emply.call("GET", "/roles")
    emply.reset(roles=["Only"])
    assert emply.export("users") == []
    assert [role["name"] for role in emply.call("GET", "/roles").json()] == ["Only"]
    assert emply.control.get("/acme/stats").json() == {"requests": 2, "writes": 0}
