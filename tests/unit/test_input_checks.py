"""Settings against the extracted inputs: one-line errors naming the key, deleted groups allowed."""

import dataclasses

import pytest
from rule_fixtures import Given, entra_user, tenant_settings

from entrasync.errors import InputError
from entrasync.gate.settings_check import check_settings_against_inputs


def given(groups: dict[str, list[str]], roles=("Employee", "Sales")) -> Given:
    users = [entra_user("m@contoso.com")]
    return Given().entra(users, groups).emply([], list(roles))


def settings(groups: dict[str, str]):
    return dataclasses.replace(tenant_settings(groups), source="tenants.yaml")


def error_of(con, mapping: dict[str, str]) -> str:
    with pytest.raises(InputError) as raised:
        check_settings_against_inputs(con, settings(mapping))
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_known_groups_and_roles_pass_in_any_case_and_spacing():
    con = given({"Employee": ["m@contoso.com"], "Sales": []}).con
    assert (
        check_settings_against_inputs(con, settings({" employee": "EMPLOYEE ", "Sales": "sales"}))
        == []
    )


def test_role_missing_in_emply_names_the_key_and_the_known_roles():
    con = given({"Employee": [], "Sales": []}).con
    message = error_of(con, {"Employee": "Employee", "Sales": "Seller"})
    assert message == (
        "tenants.yaml: t.groups[1].role: role 'Seller' does not exist in Emply "
        "(known roles: Employee, Sales); fix the tenants file or add the role in Emply"
    )


def test_group_never_seen_in_entra_names_the_key_and_the_tenant():
    con = given({"Employee": []}).con
    message = error_of(con, {"Employee": "Employee", "Sales": "Sales"})
    assert message == (
        "tenants.yaml: t.groups[1].group: group 'Sales' does not exist in Entra tenant tid; "
        "fix the tenants file or make the group in Entra"
    )


def test_group_seen_in_an_earlier_run_and_deleted_since_is_not_an_error():
    rules = given({"Employee": ["m@contoso.com"], "Sales": ["m@contoso.com"]})
    rules.plan(settings({"Employee": "Employee", "Sales": "Sales"}))  # records the mapping
    rules.entra([entra_user("m@contoso.com")], {"Employee": ["m@contoso.com"]})
    deleted = check_settings_against_inputs(
        rules.con, settings({"Employee": "Employee", "Sales": "Sales"})
    )
    assert deleted == ["Sales"]


def test_group_whose_mapping_was_only_ever_unresolved_is_still_an_error():
    """A run that planned while the group was missing does not make the name 'seen before'."""
    rules = given({"Employee": ["m@contoso.com"]})
    rules.con.execute(
        "INSERT INTO group_role_history VALUES ('run-0', 'Sales', NULL, 'Sales', now())"
    )
    assert "group 'Sales' does not exist in Entra" in error_of(
        rules.con, {"Employee": "Employee", "Sales": "Sales"}
    )


def test_a_name_shared_by_two_entra_groups_is_an_error():
    rules = given({"Employee": ["m@contoso.com"]})
    rules.con.execute("INSERT INTO entra_groups VALUES ('g-other', 'employee ')")
    message = error_of(rules.con, {"Employee": "Employee"})
    assert message == (
        "tenants.yaml: t.groups[0].group: 2 Entra groups are named 'Employee' "
        "(ids g-Employee, g-other); rename all but one in Entra"
    )
