"""Every Graph answer the emulator gives conforms to Microsoft's v1.0 CSDL, and every path and
function the client or msgraph-sdk requests is in the CSDL and answers in the emulator.

The CSDL is read from shared/graph_metadata (never the network); each path below is resolved
through it (entity sets, navigation properties, casts, bound functions) to the type its answer
must have, then the emulator's answer is checked property by property: names declared on the
type or inherited through BaseType, JSON types, and nulls only where the CSDL allows them.
"""

from __future__ import annotations

from typing import Any

import pytest
from csdl import Csdl, check_object, load, short
from emulator_fixtures import access_token, graph_client, ops_for, reset_tenant
from emulator_fixtures import control as control
from emulator_fixtures import stack as stack

from entrasync.connectors.graph.models import (
    CALENDAR_SELECT,
    DELETED_USER_SELECT,
    GROUP_SELECT,
    USER_SELECT,
)
from entrasync.write.passwords import temporary_password
from entrasync_emulators.graph.calendars_api import CALENDAR_PROPERTIES
from entrasync_emulators.graph.schema import (
    GROUP_DEFAULT_PROPERTIES,
    USER_NULL_PROPERTIES,
    USER_STORED_PROPERTIES,
)

TENANT = "graph-csdl-t1"
op = ops_for(TENANT)
WINDOW = "startDateTime=2030-01-01T00:00:00Z&endDateTime=2030-02-01T00:00:00Z"

# What the client (connectors/graph, sync/) and msgraph-sdk's request builders ask for.
# msgraph-sdk's URL templates call delta as a function: `{+baseurl}/users/delta()`.
READS = [
    f"/users?$select={','.join(USER_SELECT)}",
    "/users",
    f"/users?$select={','.join((*USER_STORED_PROPERTIES, *USER_NULL_PROPERTIES))}",
    "/users/{megan}",
    "/users/{megan}?$expand=memberOf",
    "/users?$expand=manager&$orderby=displayName",
    "/users/{guest}",
    "/users/{synced}",
    f"/groups?$select={','.join(GROUP_SELECT)}",
    "/groups",
    "/groups?$expand=members",
    "/groups/{Employee}",
    "/groups/{Employee}/members?$select=id",
    "/groups/{Employee}/members",
    "/groups/{Employee}/transitiveMembers",
    "/groups/{Employee}/members/microsoft.graph.user",
    "/groups/{Employee}/transitiveMembers/microsoft.graph.group",
    f"/directory/deletedItems/microsoft.graph.user?$select={','.join(DELETED_USER_SELECT)}",
    "/directory/deletedItems/microsoft.graph.user",
    "/directory/deletedItems/{gone}",
    f"/users/delta?$select={','.join(USER_SELECT)}",
    "/users/delta()",
    "/groups/delta?$select=id,displayName,members",
    "/groups/delta()",
    f"/users/{{megan}}/calendars?$select={','.join(CALENDAR_SELECT)}",
    "/users/{megan}/calendars",
    "/users/{megan}/calendar",
    "/users/{megan}/calendars/{team}",
    f"/users/{{megan}}/calendars/{{team}}/calendarView?{WINDOW}&$select=id,subject,start,end",
    f"/users/{{megan}}/calendar/calendarView?{WINDOW}",
    "/users/{megan}/calendar/events",
    "/users/{megan}/events",
    "/users/{megan}/photo",
]
# Bound functions called, as (path, function, binding parameter type in the CSDL).
FUNCTIONS = [
    ("/users/delta()", "delta", "Collection(graph.user)"),
    ("/groups/delta()", "delta", "Collection(graph.group)"),
]


@pytest.fixture(scope="module")
def csdl() -> Csdl:
    return load()


@pytest.fixture(scope="module")
def ids(control) -> dict[str, str]:
    """Members with every attribute, a guest, an on-premises user, a deleted one; nested groups;
    a calendar with an event; a photo."""
    reset_tenant(control, TENANT)
    found = {
        "megan": op(control, "add_user", upn="megan@contoso.com", mail="megan@contoso.com",
                    displayName="Megan Bowen", givenName="Megan", surname="Bowen",
                    jobTitle="Manager", department="Sales", mobilePhone="+45 1234",
                    otherMails=["m@outlook.com"])["id"],
        "guest": op(control, "add_user", mail="lee@fabrikam.com", userType="Guest")["id"],
        "synced": op(control, "add_user", upn="ad@contoso.com", onPremisesSyncEnabled=True)["id"],
        "gone": op(control, "add_user", upn="gone@contoso.com")["id"],
        "Employee": op(control, "add_group", name="Employee")["id"],
        "HR": op(control, "add_group", name="HR")["id"],
    }  # fmt: skip
    for member in ("megan@contoso.com", "lee@fabrikam.com", "ad@contoso.com", "HR"):
        op(control, "add_member", group="Employee", user=member)
    op(control, "add_member", group="HR", user="megan@contoso.com")
    op(control, "delete_user", upn="gone@contoso.com")
    found["team"] = op(control, "add_calendar", user="megan@contoso.com", name="Team")["id"]
    op(control, "add_event", user="megan@contoso.com", calendar="Team", subject="Review",
       start="2030-01-10T09:00:00", end="2030-01-10T10:00:00")  # fmt: skip
    op(control, "add_event", user="megan@contoso.com", subject="Standup",
       start="2030-01-11T09:00:00", end="2030-01-11T09:15:00")  # fmt: skip
    op(control, "set_photo", user="megan@contoso.com", content="megan")
    return found


@pytest.fixture(scope="module")
def graph(stack, ids):
    with graph_client(stack, access_token(stack, TENANT)) as client:
        yield client


def resolve(csdl: Csdl, path: str) -> tuple[str, bool]:
    """The type a Graph path answers with, and whether it is a collection, through the CSDL."""
    first, *rest = path.split("?")[0].strip("/").split("/")
    assert first in csdl.entity_sets, f"{path}: no entity set or singleton '{first}' in the CSDL"
    type_name, many = csdl.entity_sets[first], first != "directory"
    for segment in rest:
        if many and segment.removesuffix("()") == "delta":
            binding = f"Collection(graph.{type_name})"
            assert csdl.bound("delta", binding), f"{path}: delta() is not bound to {binding}"
        elif many and segment.startswith("microsoft.graph."):
            cast = short(segment)
            assert derives(csdl, cast, type_name), f"{path}: {cast} is not a {type_name}"
            type_name = cast
        elif many:
            many = False  # a key: one entity of the collection
        else:
            prop = csdl.properties(type_name).get(segment)
            assert prop is not None and prop.navigation, f"{path}: {type_name} has no '{segment}'"
            many = prop.type.startswith("Collection(")
            type_name = short(prop.type.removeprefix("Collection(").removesuffix(")"))
    return type_name, many


def derives(csdl: Csdl, sub: str, base: str) -> bool:
    current: str | None = sub
    while current is not None:
        if current == base:
            return True
        declared = csdl.types[current].base
        current = short(declared) if declared else None
    return False


def answer_problems(csdl: Csdl, type_name: str, many: bool, body: Any, where: str) -> list[str]:
    if not many:
        return check_object(csdl, type_name, body, where)
    problems = []
    for index, item in enumerate(body["value"]):
        item_where = f"{where}.value[{index}]"
        problems += check_object(csdl, type_name, item, item_where)
        for member_index, member in enumerate(item.get("members@delta", [])):
            problems += check_object(
                csdl, "directoryObject", member, f"{item_where}.members@delta[{member_index}]"
            )
    return problems


@pytest.mark.parametrize("path", READS)
def test_every_answer_conforms_to_the_csdl(csdl, graph, ids, path):
    type_name, many = resolve(csdl, path)
    response = graph.get(path.format(**ids), headers={"Prefer": 'outlook.timezone="UTC"'})
    assert response.status_code == 200, response.text
    body = response.json()
    if many:
        assert body["value"], f"{path}: an empty answer would check nothing"
    assert answer_problems(csdl, type_name, many, body, path) == []


@pytest.mark.parametrize(("path", "function", "binding"), FUNCTIONS)
def test_each_function_called_is_bound_in_the_csdl_and_answers(
    csdl, graph, path, function, binding
):
    assert csdl.bound(function, binding)
    response = graph.get(path)
    assert response.status_code == 200, response.text
    assert "@odata.deltaLink" in response.json() or "@odata.nextLink" in response.json()


def test_created_objects_conform_to_the_csdl(csdl, graph, ids):
    user = graph.post("/users", json={
        "accountEnabled": True, "displayName": "Adele Vance", "mailNickname": "AdeleV",
        "userPrincipalName": "AdeleV@contoso.com",
        "passwordProfile": {"forceChangePasswordNextSignIn": True,
                            "password": temporary_password()},
    })  # fmt: skip
    assert user.status_code == 201, user.text
    event = graph.post(
        f"/users/{ids['megan']}/calendars/{ids['team']}/events",
        json={"subject": "Made in Emply", "transactionId": "t-1",
              "start": {"dateTime": "2030-01-12T09:00:00", "timeZone": "UTC"},
              "end": {"dateTime": "2030-01-12T10:00:00", "timeZone": "UTC"}},
    )  # fmt: skip
    assert event.status_code == 201, event.text
    assert check_object(csdl, "user", user.json(), "POST /users") == []
    assert check_object(csdl, "event", event.json(), "POST events") == []


@pytest.mark.parametrize(
    ("type_name", "names"),
    [("user", (*USER_STORED_PROPERTIES, *USER_NULL_PROPERTIES)),
     ("group", GROUP_DEFAULT_PROPERTIES),
     ("calendar", CALENDAR_PROPERTIES)],
)  # fmt: skip
def test_every_property_the_emulator_knows_is_declared_in_the_csdl(csdl, type_name, names):
    assert sorted(set(names) - set(csdl.properties(type_name))) == []


def test_inherited_properties_come_through_base_type(csdl):
    user = csdl.properties("user")
    assert user["id"].nullable is False  # entity
    assert user["deletedDateTime"].type == "Edm.DateTimeOffset"  # directoryObject
    assert user["onPremisesSyncEnabled"].nullable is True
    assert user["otherMails"].nullable is False  # a collection, never null


def test_the_checker_finds_what_graph_would_not_send(csdl):
    bad_user = {"id": "x", "onPremisesSyncEnabled": "no", "otherMails": None, "shoeSize": 44}
    assert check_object(csdl, "user", bad_user, "u") == [
        "u.onPremisesSyncEnabled: 'no' is not Edm.Boolean",
        "u.otherMails: null, but Collection(Edm.String) is not nullable",
        "u.shoeSize: no property 'shoeSize' on user",
    ]
    calendar = {"id": "c", "color": "mauve", "owner": {"name": "M", "address": 3}}
    assert check_object(csdl, "calendar", calendar, "c") == [
        "c.color: 'mauve' is not a member of enum calendarColor",
        "c.owner.address: 3 is not Edm.String",
    ]
