"""R3 reasons given/expect: a deactivation names the groups left since the last completed run."""

from rule_fixtures import Given, emply_user, entra_user, tenant_settings

BOTH = tenant_settings({"Employee": "Employee", "Sales": "Sales"})
ROLES = ["Employee", "Sales"]


def megan(groups: dict[str, list[str]]) -> Given:
    given = Given().entra([entra_user("m@contoso.com"), entra_user("a@contoso.com")], groups)
    given.emply(
        [
            emply_user(name, entra_object_id=f"oid-{name}")
            for name in ("m@contoso.com", "a@contoso.com")
        ],
        ROLES,
    )
    return given


def completed_run(given: Given, settings=BOTH) -> str:
    given.plan(settings)
    run_id = f"run-{given.run_number}"
    given.con.execute("UPDATE runs SET status = 'completed' WHERE run_id = ?", [run_id])
    return run_id


def deactivation_reason(changes) -> str:
    (change,) = [c for c in changes if c["kind"] == "deactivate_user"]
    assert change["subject"] == "m@contoso.com"
    return change["reason"]


def test_reason_names_only_the_groups_left_since_the_last_completed_run():
    given = megan({"Employee": ["m@contoso.com", "a@contoso.com"], "Sales": ["m@contoso.com"]})
    completed_run(given)
    given.entra(
        [entra_user("m@contoso.com"), entra_user("a@contoso.com")],
        {"Employee": ["m@contoso.com", "a@contoso.com"], "Sales": []},
    )
    second = completed_run(given)
    given.entra(
        [entra_user("m@contoso.com"), entra_user("a@contoso.com")],
        {"Employee": ["a@contoso.com"], "Sales": []},
    )
    assert deactivation_reason(given.plan(BOTH)) == (
        f"R3: not in any connected group since run {second}: removed from Employee; "
        "deactivated, not deleted"
    )


def test_reason_says_when_a_group_was_taken_out_of_the_settings():
    given = megan({"Employee": ["a@contoso.com"], "Sales": ["m@contoso.com"]})
    first = completed_run(given)
    reason = deactivation_reason(given.plan(tenant_settings({"Employee": "Employee"})))
    assert reason == (
        f"R3: not in any connected group since run {first}: removed from Sales (taken out of "
        "the settings); deactivated, not deleted"
    )


def test_reason_says_when_a_group_was_deleted_in_entra():
    given = megan({"Employee": ["a@contoso.com"], "Sales": ["m@contoso.com"]})
    first = completed_run(given)
    given.entra(
        [entra_user("m@contoso.com"), entra_user("a@contoso.com")], {"Employee": ["a@contoso.com"]}
    )
    assert deactivation_reason(given.plan(BOTH)) == (
        f"R3: not in any connected group since run {first}: removed from Sales (deleted in "
        "Entra); deactivated, not deleted"
    )


def test_without_a_completed_run_the_reason_names_no_run():
    given = megan({"Employee": ["a@contoso.com"], "Sales": []})
    assert deactivation_reason(given.plan(BOTH)) == (
        "R3: not in any connected group; deactivated, not deleted"
    )
