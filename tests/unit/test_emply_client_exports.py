"""Malformed Emply exports: each raises EmplyExportError naming export, row, id and field."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from types import SimpleNamespace

import httpx
import orjson
import pytest

from entrasync.connectors.emply import EmplyClient, EmplyExportError
from entrasync.connectors.emply.export_load import load_export
from entrasync.extract.emply import extract_emply
from entrasync.warehouse.db import connect_memory

SCHEMA = Path(__file__).resolve().parents[2] / "entrasync" / "warehouse" / "schema.sql"

USER = {
    "userId": "u-0",
    "username": "a@contoso.com",
    "email": "a@contoso.com",
    "firstName": "A",
    "lastName": "B",
    "active": True,
    "roles": ["Employee"],
    "employeeId": None,
    "externalId": None,
    "calendarSyncEnabled": False,
}
EMPLOYEE = {
    "employeeId": "e-0",
    "email": "a@contoso.com",
    "firstName": "A",
    "lastName": "B",
    "jobTitle": None,
    "department": None,
    "mobilePhone": None,
    "userId": None,
    "status": "active",
}
ROLE = {"roleId": "r-0", "name": "Employee", "isAdministrator": False}
CALENDAR = {"userId": "u-1", "calendarId": "c-1", "name": "Cal", "enabled": True,
            "canDisable": True}  # fmt: skip
GOOD_ROWS = {"users": USER, "employees": EMPLOYEE, "roles": ROLE, "calendars": CALENDAR}


TABLES = {"users": "emply_users", "employees": "emply_employees", "roles": "emply_roles",
          "calendars": "emply_calendars"}  # fmt: skip
LOADER = "python"


@pytest.fixture(autouse=True, params=["python", "duckdb"])
def loader(request, monkeypatch):
    """Every test runs on both readings of an export: the client's Python mapping, and the bulk
    loader that checks and maps it in DuckDB; both accept and refuse the same rows in the same
    words."""
    monkeypatch.setattr(sys.modules[__name__], "LOADER", request.param)


def read(kind: str, rows: list) -> list[dict]:
    def handler(request):
        return httpx.Response(200, json={"exportId": kind, "data": rows})

    client = EmplyClient(
        customer="demo", api_key="k", http=httpx.Client(transport=httpx.MockTransport(handler))
    )
    if LOADER == "python":
        return getattr(client, f"read_{kind}")(kind)
    con = connect_memory()
    table = TABLES[kind]
    kept = orjson.dumps({"data": [GOOD_ROWS[kind]]})
    assert load_export(con, table, kind, "earlier", kept) == 1
    try:
        assert load_export(con, table, kind, kind, client.read_export_body(kind)) == len(rows)
    except EmplyExportError:  # the earlier rows were not replaced
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 1
        raise
    cursor = con.execute(f"SELECT * FROM {table}")
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def error_of(kind: str, rows: list) -> str:
    with pytest.raises(EmplyExportError) as caught:
        read(kind, rows)
    return str(caught.value)


def users_with(index: int, **changes) -> list[dict]:
    rows = [{**USER, "userId": f"u-{i}", "username": f"user{i}@contoso.com"} for i in range(20)]
    rows[index] = {**rows[index], **changes}
    return rows


def schema_columns(table: str) -> list[str]:
    body = re.search(rf"CREATE TABLE IF NOT EXISTS {table} \((.*?)\n\);", SCHEMA.read_text(), re.S)
    return [line.split()[0] for line in body.group(1).splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("kind", "row", "table"),
    [
        ("users", USER, "emply_users"),
        ("employees", EMPLOYEE, "emply_employees"),
        ("roles", ROLE, "emply_roles"),
    ],
)
def test_rows_have_exactly_the_schema_columns(kind, row, table):
    [mapped] = read(kind, [row])
    assert list(mapped) == schema_columns(table)


def test_photo_sha256_is_optional_and_read_when_present():
    assert read("users", [USER])[0]["photo_sha256"] is None
    assert read("users", [{**USER, "photoSha256": "ab" * 32}])[0]["photo_sha256"] == "ab" * 32


def test_active_not_a_boolean_names_export_row_id_and_field():
    with pytest.raises(EmplyExportError) as caught:
        read("users", users_with(17, active="yes"))
    assert str(caught.value) == (
        "export 'users' row 17 (userId u-17): field 'active': expected true/false, got \"yes\""
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"roles": "Employee"}, "field 'roles': expected a list of text, got \"Employee\""),
        (
            {"roles": ["Employee", 3]},
            "field 'roles': expected a list of text, got [\"Employee\", 3]",
        ),
        ({"roles": None}, "field 'roles': missing"),
        ({"username": 42}, "field 'username': expected text, got 42"),
        ({"calendarSyncEnabled": None}, "field 'calendarSyncEnabled': missing"),
        ({"externalId": {"id": 1}}, "field 'externalId': expected text, got {\"id\": 1}"),
    ],
)
def test_wrong_user_fields(changes, message):
    with pytest.raises(
        EmplyExportError, match=re.escape(f"export 'users' row 3 (userId u-3): {message}")
    ):
        read("users", users_with(3, **changes))


def test_missing_required_field():
    row = {k: v for k, v in USER.items() if k != "active"}
    with pytest.raises(EmplyExportError, match=r"row 0 \(userId u-0\): field 'active': missing"):
        read("users", [row])


def test_row_without_its_id_is_named_by_index_only():
    row = {k: v for k, v in USER.items() if k != "userId"}
    with pytest.raises(EmplyExportError, match=r"^export 'users' row 0: field 'userId': missing$"):
        read("users", [row])


def test_row_that_is_not_an_object():
    with pytest.raises(
        EmplyExportError, match=r"export 'users' row 1: expected an object, got \[1, 2\]"
    ):
        read("users", [USER, [1, 2]])


def test_duplicate_user_id():
    rows = [USER, {**USER, "username": "other@contoso.com"}]
    assert error_of("users", rows) == (
        "export 'users' row 1 (userId u-0): field 'userId': "
        'expected a value not used before (row 0 has it), got "u-0"'
    )


def test_employee_status_must_be_known():
    assert error_of("employees", [{**EMPLOYEE, "status": "gone"}]) == (
        "export 'employees' row 0 (employeeId e-0): field 'status': "
        'expected "active" or "pending" or "archived", got "gone"'
    )
    assert read("employees", [{**EMPLOYEE, "status": "pending"}])[0]["archived"] is False


def test_role_admin_flag_must_be_boolean():
    assert error_of("roles", [{**ROLE, "isAdministrator": "no"}]) == (
        "export 'roles' row 0 (name Employee): field 'isAdministrator': "
        'expected true/false, got "no"'
    )


def test_calendar_flags_must_be_boolean():
    assert error_of("calendars", [{**CALENDAR, "enabled": 1}]) == (
        "export 'calendars' row 0 (calendarId c-1): field 'enabled': expected true/false, got 1"
    )


def test_text_keeps_quotes_escapes_and_non_ascii_and_lists_may_be_empty():
    name = 'Ærø "Ø\'Brien" \\ ☃ \u00e9'
    [row] = read("users", [{**USER, "firstName": name, "roles": [], "employeeId": "e-9"}])
    assert (row["first_name"], row["roles"], row["employee_id"]) == (name, [], "e-9")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>", "export 'users': Emply sent not JSON"),
        (b"\xff\xfe", "export 'users': Emply sent not JSON"),
        (b'{"rows": []}', "export 'users': Emply sent a package without a 'data' list"),
        (b"[]", "export 'users': Emply sent a package without a 'data' list"),
    ],
)
def test_a_package_that_is_no_export_is_refused_by_the_bulk_loader(body, message):
    con = connect_memory()
    with pytest.raises(EmplyExportError) as caught:
        load_export(con, "emply_users", "users", "users", body)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"status": ["active"]}, 'expected "active" or "pending" or "archived", got ["active"]'),
        ({"status": None}, "missing"),
        ({"email": 7}, "expected text, got 7"),
    ],
)
def test_wrong_employee_fields(changes, message):
    rows = [EMPLOYEE, {**EMPLOYEE, "employeeId": "e-1", **changes}]
    assert error_of("employees", rows) == (
        f"export 'employees' row 1 (employeeId e-1): field '{list(changes)[0]}': {message}"
    )


def test_the_first_bad_row_is_named_when_a_later_row_repeats_a_key():
    rows = [USER, {**USER, "userId": "u-1", "active": 0}, USER]
    assert "row 1 (userId u-1): field 'active'" in error_of("users", rows)
    rows = [USER, USER, {**USER, "userId": "u-2", "active": 0}]
    assert "row 1 (userId u-0): field 'userId': expected a value not used before" in error_of(
        "users", rows
    )


class _Exports:
    """An Emply client whose exports are fixed packages."""

    def __init__(self, bodies: dict[str, bytes]) -> None:
        self.bodies = bodies

    def read_export_body(self, export_id: str) -> bytes:
        return self.bodies[export_id]


@pytest.mark.parametrize("users", [b"<html>", orjson.dumps({"data": [USER, {**USER}]})])
def test_a_bad_export_leaves_every_emply_table_as_it_was(users):
    """The three exports load in one transaction: one bad package replaces none of them."""
    con = connect_memory()
    rows = {"users": USER, "employees": EMPLOYEE, "roles": ROLE}
    good = {kind: orjson.dumps({"data": [row]}) for kind, row in rows.items()}
    settings = SimpleNamespace(emply=SimpleNamespace(exports={k: k for k in good}))
    assert extract_emply(con, _Exports(good), settings) == {
        "emply_users": 1, "emply_employees": 1, "emply_roles": 1}  # fmt: skip
    with pytest.raises(EmplyExportError, match="export 'users'"):
        extract_emply(con, _Exports({**good, "users": users}), settings)
    tables = ("emply_users", "emply_employees", "emply_roles")
    assert [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables] == [1, 1, 1]
    assert con.execute("SELECT user_id FROM emply_users").fetchall() == [("u-0",)]
