"""R5 given/expect, the finer cases: remap history, step 4 after a remap, new links, names."""

import json

from rule_fixtures import Given, emply_user, entra_user, tenant_settings

ROLES = ["Employee", "HR", "Manager", "New employee", "Sales"]
TWO_GROUPS = tenant_settings({"Employee": "Employee", "HR": "HR"})
REMAPPED = tenant_settings({"Employee": "New employee", "HR": "HR"})


def linked(username, **fields):
    return emply_user(username, entra_object_id=f"oid-{username}", **fields)


def role_changes(changes):
    return {
        c["subject"]: json.loads(c["after"])["roles"] for c in changes if c["kind"] == "set_roles"
    }


def complete_runs(given):
    given.con.execute("UPDATE runs SET status = 'completed' WHERE status = 'running'")


def megan_in(*groups):
    return Given().entra(
        [entra_user("m@contoso.com")], {g: ["m@contoso.com"] for g in ("Employee", "HR", *groups)}
    )


def test_remap_that_does_not_cover_every_mapped_role_resets_to_exactly_the_mapped_roles():
    """Step 2 swaps Employee → New employee, but HR (removed by hand) is still missing: step 4."""
    given = megan_in()
    given.emply([linked("m@contoso.com", roles=["Employee", "HR", "Manager"])], ROLES)
    assert given.plan(TWO_GROUPS) == []
    complete_runs(given)
    given.emply([linked("m@contoso.com", roles=["Employee", "Manager"])], ROLES)
    changes = given.plan(REMAPPED)
    assert role_changes(changes) == {"m@contoso.com": ["HR", "New employee"]}
    assert "roles set to exactly the mapped roles" in changes[0]["reason"]


def test_remap_is_read_from_the_last_completed_run_not_from_a_dry_or_blocked_one():
    given = megan_in()
    given.emply([linked("m@contoso.com", roles=["Employee", "HR", "Manager"])], ROLES)
    given.plan(TWO_GROUPS)
    complete_runs(given)
    given.plan(REMAPPED)  # a dry run: it saw the new mapping but wrote nothing
    given.con.execute("UPDATE runs SET status = 'planned' WHERE status = 'running'")
    changes = given.plan(REMAPPED)
    assert role_changes(changes) == {"m@contoso.com": ["HR", "Manager", "New employee"]}
    assert "replaced the roles of remapped groups, other roles kept" in changes[0]["reason"]


def test_remap_of_a_group_the_user_is_not_in_swaps_nothing():
    """Alex holds Employee only as an unmapped role (he is in HR): no swap, step 4 for HR."""
    given = Given().entra(
        [entra_user("m@contoso.com"), entra_user("a@contoso.com")],
        {"Employee": ["m@contoso.com"], "HR": ["a@contoso.com"]},
    )
    given.emply(
        [linked("m@contoso.com", roles=["Employee"]), linked("a@contoso.com", roles=["HR"])], ROLES
    )
    given.plan(TWO_GROUPS)
    complete_runs(given)
    given.emply(
        [linked("m@contoso.com", roles=["Employee"]),
         linked("a@contoso.com", roles=["Employee", "Manager"])],
        ROLES,
    )  # fmt: skip
    assert role_changes(given.plan(REMAPPED)) == {
        "a@contoso.com": ["HR"],
        "m@contoso.com": ["New employee"],
    }


def test_mapped_roles_already_held_need_no_remap():
    """Step 1 comes first: D ⊆ R, so the old role is not swapped even after a remap."""
    given = megan_in()
    given.emply([linked("m@contoso.com", roles=["Employee", "HR"])], ROLES)
    given.plan(TWO_GROUPS)
    complete_runs(given)
    given.emply([linked("m@contoso.com", roles=["Employee", "HR", "New employee"])], ROLES)
    assert given.plan(REMAPPED) == []


def test_user_linked_in_this_run_gets_its_roles_in_the_same_run():
    given = Given().entra([entra_user("m@contoso.com")], {"Employee": ["m@contoso.com"]})
    given.emply([emply_user("m@contoso.com", roles=["Manager"])], ROLES)
    changes = given.plan(TWO_GROUPS)
    assert [c["kind"] for c in changes] == ["link_user", "set_roles"]
    assert role_changes(changes) == {"m@contoso.com": ["Employee"]}
    assert changes[1]["emply_user_id"] == changes[0]["emply_user_id"] == "u-m@contoso.com"


def test_out_of_scope_user_is_deactivated_and_keeps_its_roles():
    given = Given().entra([entra_user("m@contoso.com")], {"Employee": []})
    given.emply([linked("m@contoso.com", roles=["Manager"])], ROLES)
    assert [c["kind"] for c in given.plan(TWO_GROUPS)] == ["deactivate_user"]


def test_administrator_role_kept_when_the_remap_suffices():
    given = megan_in()
    given.emply([linked("m@contoso.com", roles=["Admin", "Employee", "HR"])], ROLES, ["Admin"])
    given.plan(TWO_GROUPS)
    complete_runs(given)
    assert role_changes(given.plan(REMAPPED)) == {"m@contoso.com": ["Admin", "HR", "New employee"]}


def test_settings_role_names_resolve_to_the_emply_role_names():
    """A mapping that spells a role in another case means Emply's role: held, no churn."""
    given = Given().entra([entra_user("m@contoso.com")], {"Employee": ["m@contoso.com"]})
    given.emply([linked("m@contoso.com", roles=["Employee"])], ROLES)
    assert given.plan(tenant_settings({"Employee": " employee"})) == []
    given.emply([linked("m@contoso.com", roles=["Manager"])], ROLES)
    changes = given.plan(tenant_settings({"Employee": "EMPLOYEE"}))
    assert role_changes(changes) == {"m@contoso.com": ["Employee"]}


def test_created_user_gets_the_emply_role_names():
    given = Given().entra([entra_user("n@contoso.com")], {"Employee": ["n@contoso.com"]})
    given.emply([], ROLES)
    (created,) = given.plan(tenant_settings({"Employee": "employee"}))
    assert created["kind"] == "create_user"
    assert json.loads(created["after"])["roles"] == ["Employee"]
