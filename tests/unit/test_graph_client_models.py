"""Graph JSON to warehouse rows: columns exactly as schema.sql, required fields enforced."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from entrasync.connectors.graph import GraphDataError
from entrasync.connectors.graph.models import (
    USER_SELECT,
    entra_deleted_user_row,
    entra_group_row,
    entra_member_row,
    entra_user_row,
)

SCHEMA = Path(__file__).resolve().parents[2] / "entrasync" / "warehouse" / "schema.sql"

FULL_USER = {
    "id": "u1",
    "userPrincipalName": "megan@contoso.com",
    "mail": "megan@contoso.com",
    "otherMails": ["m@private.example"],
    "displayName": "Megan Jordan",
    "givenName": "Megan",
    "surname": "Jordan",
    "jobTitle": "Engineer",
    "department": "R&D",
    "mobilePhone": "+45 1234",
    "accountEnabled": False,
    "userType": "Member",
    "onPremisesSyncEnabled": None,
}


def schema_columns(table: str) -> list[str]:
    body = re.search(rf"CREATE TABLE IF NOT EXISTS {table} \((.*?)\n\);", SCHEMA.read_text(), re.S)
    return [line.split()[0] for line in body.group(1).splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("table", "row"),
    [
        ("entra_users", entra_user_row(FULL_USER)),
        ("entra_groups", entra_group_row({"id": "g1", "displayName": "HR"})),
        (
            "entra_group_members",
            entra_member_row("g1", {"@odata.type": "#microsoft.graph.user", "id": "u1"}, False),
        ),
        ("entra_deleted_users", entra_deleted_user_row({"id": "u1"})),
    ],
)
def test_rows_have_exactly_the_schema_columns(table, row):
    assert list(row) == schema_columns(table)


def test_user_row_values():
    row = entra_user_row(FULL_USER)
    assert row["account_enabled"] is False and row["on_premises_sync_enabled"] is None
    assert row["other_mails"] == ["m@private.example"] and row["department"] == "R&D"


def test_user_select_covers_every_mapped_field():
    assert set(FULL_USER) == set(USER_SELECT)


def test_missing_optional_fields_are_none_and_other_mails_empty():
    row = entra_user_row({"id": "u1", "userPrincipalName": "a@b.c", "accountEnabled": True})
    assert row["mail"] is None and row["other_mails"] == [] and row["user_type"] is None
    assert entra_user_row({**FULL_USER, "otherMails": None})["other_mails"] == []


@pytest.mark.parametrize("field", ["id", "userPrincipalName", "accountEnabled"])
def test_missing_required_user_field_names_object_and_field(field):
    obj = {k: v for k, v in FULL_USER.items() if k != field}
    with pytest.raises(GraphDataError, match=rf"field '{field}' is missing") as caught:
        entra_user_row(obj)
    if field != "id":
        assert "'u1'" in str(caught.value)


def test_wrong_types_are_named():
    with pytest.raises(GraphDataError, match=r"'u1': field 'accountEnabled': expected true/false"):
        entra_user_row({**FULL_USER, "accountEnabled": "yes"})
    with pytest.raises(GraphDataError, match="'otherMails': expected a list of text"):
        entra_user_row({**FULL_USER, "otherMails": "m@x"})


def test_member_types():
    group = entra_member_row("g1", {"@odata.type": "#microsoft.graph.group", "id": "g2"}, True)
    assert group == {
        "group_id": "g1",
        "member_id": "g2",
        "member_type": "group",
        "transitive": True,
    }
    device = {"@odata.type": "#microsoft.graph.device", "id": "d1"}
    assert entra_member_row("g1", device, False) is None
    principal = {"@odata.type": "#microsoft.graph.servicePrincipal", "id": "s1"}
    assert entra_member_row("g1", principal, False) is None


def test_deleted_user_timestamp_with_seven_fraction_digits():
    row = entra_deleted_user_row(
        {"id": "u1", "userPrincipalName": "x", "deletedDateTime": "2017-04-15T03:00:50.7579581Z"}
    )
    assert row["deleted_at"] == datetime(2017, 4, 15, 3, 0, 50, 757958, tzinfo=UTC)
    with pytest.raises(GraphDataError, match="ISO 8601"):
        entra_deleted_user_row({"id": "u1", "deletedDateTime": "datetime-value"})
