"""R3 and R5 given/expect: status and role decisions of the SQL rules."""

import json

from rule_fixtures import Given, emply_user, entra_user, tenant_settings

TWO_GROUPS = tenant_settings({"Employee": "Employee", "HR": "HR"})


def linked(username, **fields):
    return emply_user(username, entra_object_id=f"oid-{username}", **fields)


def by_kind(changes):
    return {(c["kind"], c["subject"]): c for c in changes}


def test_out_of_scope_linked_user_is_deactivated_with_reason():
    given = Given().entra([entra_user("leaver@contoso.com")], {"Employee": []})
    given.emply([linked("leaver@contoso.com", roles=["Employee"])], ["Employee", "HR"])
    change = by_kind(given.plan(TWO_GROUPS))[("deactivate_user", "leaver@contoso.com")]
    assert change["rule_id"] == "R3"
    assert "not in any connected group" in change["reason"]


def test_disabled_and_deleted_entra_users_are_deactivated():
    given = Given().entra(
        [entra_user("off@contoso.com", account_enabled=False)], {"Employee": ["off@contoso.com"]}
    )
    given.emply([linked("off@contoso.com"), linked("gone@contoso.com")], ["Employee", "HR"])
    changes = by_kind(given.plan(TWO_GROUPS))
    assert "disabled" in changes[("deactivate_user", "off@contoso.com")]["reason"]
    assert "not in tenant" in changes[("deactivate_user", "gone@contoso.com")]["reason"]


def test_hand_deactivated_user_is_not_reactivated_but_sync_deactivated_is():
    given = Given().entra(
        [entra_user("a@contoso.com"), entra_user("b@contoso.com")],
        {"Employee": ["a@contoso.com", "b@contoso.com"]},
    )
    given.emply(
        [linked("a@contoso.com", active=False, roles=["Employee"]),
         linked("b@contoso.com", active=False, roles=["Employee"])],
        ["Employee", "HR"],
    )  # fmt: skip
    given.con.execute("INSERT INTO sync_deactivated VALUES ('u-b@contoso.com', 'run-0')")
    changes = by_kind(given.plan(TWO_GROUPS))
    assert list(changes) == [("activate_user", "b@contoso.com")]


def test_roles_no_change_when_mapped_roles_held():
    given = Given().entra(
        [entra_user("m@contoso.com")], {"Employee": ["m@contoso.com"], "HR": ["m@contoso.com"]}
    )
    given.emply([linked("m@contoso.com", roles=["Employee", "HR", "Manager"])], ["Employee", "HR"])
    assert given.plan(TWO_GROUPS) == []


def test_roles_reset_to_exactly_mapped_but_admin_kept():
    given = Given().entra([entra_user("m@contoso.com")], {"Employee": ["m@contoso.com"]})
    given.emply(
        [linked("m@contoso.com", roles=["Manager", "Administrator"])],
        ["Employee", "HR", "Manager"],
        admin=["Administrator"],
    )
    change = by_kind(given.plan(TWO_GROUPS))[("set_roles", "m@contoso.com")]
    assert json.loads(change["after"]) == {"roles": ["Administrator", "Employee"]}


def test_remapped_group_swaps_old_role_and_keeps_unmapped():
    given = Given().entra(
        [entra_user("m@contoso.com")], {"Employee": ["m@contoso.com"], "HR": ["m@contoso.com"]}
    )
    given.emply(
        [linked("m@contoso.com", roles=["Employee", "HR", "Manager"])],
        ["Employee", "HR", "Manager", "New employee"],
    )
    assert given.plan(TWO_GROUPS) == []
    given.con.execute("UPDATE runs SET status = 'completed'")
    remapped = tenant_settings({"Employee": "New employee", "HR": "HR"})
    change = by_kind(given.plan(remapped))[("set_roles", "m@contoso.com")]
    assert json.loads(change["after"]) == {"roles": ["HR", "Manager", "New employee"]}


def test_user_with_employee_profile_gets_no_role_change():
    given = Given().entra([entra_user("p@contoso.com")], {"Employee": ["p@contoso.com"]})
    given.emply([linked("p@contoso.com", roles=["Manager"])], ["Employee", "HR", "Manager"])
    given.employees(
        [
            {
                "employee_id": "e1",
                "email": "p@contoso.com",
                "user_id": "u-p@contoso.com",
                "archived": False,
            }
        ]
    )
    assert given.plan(TWO_GROUPS) == []


def test_sync_roles_off_changes_no_roles():
    given = Given().entra([entra_user("m@contoso.com")], {"Employee": ["m@contoso.com"]})
    given.emply([linked("m@contoso.com", roles=["Manager"])], ["Employee", "HR", "Manager"])
    off = tenant_settings({"Employee": "Employee"}, sync_roles=False)
    assert given.plan(off) == []
