"""The plan suite: each expectation fails on a plan that breaks it; the rules' plans pass."""

from __future__ import annotations

import json

import duckdb
import pytest
from rule_fixtures import Given, emply_user, entra_user, tenant_settings

from entrasync.gate import SuiteOutcome, validate_plan
from entrasync.gate.r4 import deactivation_limit
from entrasync.warehouse.db import connect_memory
from entrasync.warehouse.load import insert_rows

RUN = "run-1"
SETTINGS = tenant_settings({"Employee": "Employee"})


def warehouse(linked: int = 3) -> duckdb.DuckDBPyConnection:
    """`linked` linked Emply users u0..., one unlinked external user, an administrator role."""
    con = connect_memory()
    users = [
        emply_user(f"u{i}", user_id=f"u{i}", entra_object_id=f"oid-{i}") for i in range(linked)
    ]
    insert_rows(con, "emply_users", [*users, emply_user("ext", user_id="ext")])
    insert_rows(
        con,
        "emply_roles",
        [{"role_id": name, "name": name, "is_admin": name == "Administrator"}
         for name in ("Employee", "HR", "Administrator")],
    )  # fmt: skip
    return con


def plan(con: duckdb.DuckDBPyConnection, *changes: dict) -> None:
    insert_rows(con, "planned_changes", list(changes))


def change(kind: str, subject: str, **fields) -> dict:
    before, after = fields.pop("before", None), fields.pop("after", None)
    return {
        "change_id": f"{kind}:{subject}:{len(fields)}:{json.dumps(after)}",
        "kind": kind,
        "rule_id": "R0",
        "emply_user_id": fields.pop("emply_user_id", subject),
        "subject": subject,
        "before": json.dumps(before) if before is not None else None,
        "after": json.dumps(after) if after is not None else None,
        "reason": "given",
        **fields,
    }


def stored(con: duckdb.DuckDBPyConnection, key_words: str) -> dict:
    rows = con.execute(
        "SELECT expectation, element_count, unexpected_count, sample FROM validation_results"
        " WHERE run_id = ? AND suite = 'plan' AND NOT success AND contains(expectation, ?)",
        [RUN, key_words],
    ).fetchall()
    assert len(rows) == 1, f"one failed row naming {key_words!r}, got {rows}"
    expectation, elements, unexpected, sample = rows[0]
    return {"expectation": expectation, "element_count": elements,
            "unexpected_count": unexpected, "sample": json.loads(sample)}  # fmt: skip


def assert_fails_only(outcome: SuiteOutcome, expectation: str) -> None:
    assert not outcome.success
    assert len(outcome.failures) == 1, outcome.failures
    assert outcome.failures[0].startswith(f"plan: {expectation} — ")


def test_plans_of_the_real_rules_pass():
    given = Given().entra(
        [entra_user("new@contoso.com"), entra_user("match@contoso.com"),
         entra_user("boss@contoso.com"), entra_user("leaver@contoso.com")],
        {"Employee": ["new@contoso.com", "match@contoso.com", "boss@contoso.com"]},
    )  # fmt: skip
    given.emply(
        [emply_user("match@contoso.com"),
         emply_user("boss@contoso.com", entra_object_id="oid-boss@contoso.com",
                    roles=["Administrator", "HR"]),
         emply_user("leaver@contoso.com", entra_object_id="oid-leaver@contoso.com"),
         emply_user("consultant@partner.com")],
        ["Employee", "HR"], admin=["Administrator"],
    )  # fmt: skip
    kinds = sorted(c["kind"] for c in given.plan(SETTINGS))
    assert kinds == ["create_user", "deactivate_user", "link_user", "set_roles", "set_roles"]
    outcome = validate_plan(given.con, "run-1", SETTINGS, allow_deactivations=False)
    assert outcome.success, outcome.failures
    assert not outcome.blocked
    stored_rows = given.con.execute("SELECT count(*) FROM validation_results WHERE success")
    assert stored_rows.fetchone()[0] == len(outcome.results) == 4


def test_two_changes_of_one_kind_for_one_object_fail():
    con = warehouse()
    plan(
        con,
        change("set_roles", "u0", after={"roles": ["Employee"]}),
        change("set_roles", "u0", after={"roles": ["HR"]}),
        change("finding", "u0", after={"a": 1}),
        change("finding", "u0", after={"b": 2}),  # findings may repeat
        change("activate_user", "u0"),  # another kind for the same user
    )
    outcome = validate_plan(con, RUN, SETTINGS, allow_deactivations=False)
    words = "planned_changes has at most one change per object and kind"
    assert_fails_only(outcome, words + " (object: emply_user_id, else entra_object_id, "
                      "else subject; findings aside)")  # fmt: skip
    result = stored(con, words)
    assert (result["element_count"], result["unexpected_count"]) == (3, 2)
    assert result["sample"] == [{"kind_and_object": "set_roles of u0", "subject": "u0"}]


def test_set_roles_dropping_an_administrator_role_fails():
    con = warehouse()
    plan(
        con,
        change("set_roles", "u0", before={"roles": ["Administrator", "HR"]},
               after={"roles": ["Employee"]}),
        change("set_roles", "u1", before={"roles": ["Administrator", "HR"]},
               after={"roles": ["Administrator", "Employee"]}),
        change("set_roles", "u2", before={"roles": ["HR"]}, after={"roles": ["Employee"]}),
    )  # fmt: skip
    outcome = validate_plan(con, RUN, SETTINGS, allow_deactivations=False)
    words = ("R5: every set_roles change in planned_changes keeps the administrator roles "
             "(emply_roles.is_admin) of before.roles in after.roles")  # fmt: skip
    assert_fails_only(outcome, words)
    result = stored(con, "administrator roles")
    assert (result["element_count"], result["unexpected_count"]) == (3, 1)
    assert result["sample"] == [{"subject": "u0", "admin_roles_dropped": "Administrator"}]
    assert "subject=u0, admin_roles_dropped=Administrator" in outcome.failures[0]


def test_change_to_an_unlinked_emply_user_fails_unless_it_links_it():
    con = warehouse()
    insert_rows(con, "emply_users", [emply_user("new", user_id="new"),
                                     emply_user("cloud", user_id="cloud")])  # fmt: skip
    insert_rows(con, "links", [{"emply_user_id": "gone", "entra_object_id": "oid-gone",
                                "how": "created"}])  # fmt: skip
    plan(
        con,
        change("set_roles", "ext", after={"roles": ["Employee"]}),  # an external user: never
        change("link_user", "new", entra_object_id="oid-new"),
        change("set_roles", "new", after={"roles": ["Employee"]}),  # linked by this plan
        change("create_entra_user", "cloud"),  # R7 write.create links by itself
        change("add_entra_group_member", "cloud"),
        change("delete_entra_user", "gone"),  # a linked Emply user deleted since (R7)
        change("finding", "ext"),
        change("create_user", "fresh@contoso.com", emply_user_id=None),
    )
    outcome = validate_plan(con, RUN, SETTINGS, allow_deactivations=False)
    words = "planned_changes.emply_user_id is a linked Emply user"
    assert_fails_only(outcome, words + " (emply_users.entra_object_id set, or linked by this "
                      "plan) for every change but link_user and findings")  # fmt: skip
    result = stored(con, words)
    assert (result["element_count"], result["unexpected_count"]) == (5, 1)
    assert result["sample"] == [{"kind": "set_roles", "subject": "ext", "emply_user_id": "ext"}]


def test_write_to_entra_fails_for_a_hybrid_tenant_only():
    con = warehouse()
    plan(con, change("update_entra_user", "u0"), change("create_entra_event", "u1"),
         change("activate_user", "u2"))  # fmt: skip
    hybrid = tenant_settings({"Employee": "Employee"}, hybrid=True)
    outcome = validate_plan(con, RUN, hybrid, allow_deactivations=False)
    words = "R7: planned_changes.kind is never a write to Entra"
    assert_fails_only(outcome, words + " (update_entra_user, create_entra_user, "
                      "add_entra_group_member, delete_entra_user, create_entra_event), as the "
                      "tenant is hybrid")  # fmt: skip
    result = stored(con, words)
    assert (result["element_count"], result["unexpected_count"]) == (3, 2)
    assert result["sample"] == [{"kind": "update_entra_user", "subject": "u0"},
                                {"kind": "create_entra_event", "subject": "u1"}]  # fmt: skip
    assert validate_plan(con, RUN, SETTINGS, allow_deactivations=False).success


def deactivate(count: int) -> list[dict]:
    return [change("deactivate_user", f"u{i}") for i in range(count)]


def test_deactivations_over_the_percentage_block_unless_allowed():
    con = warehouse(linked=50)
    plan(con, *deactivate(11))  # 22 % of 50 linked users, and more than 10
    outcome = validate_plan(con, RUN, SETTINGS, allow_deactivations=False)
    words = ("R4: planned_changes has at most 10 deactivate_user changes (max_deactivations 500; "
             "more than 10 only within 20% of the 50 linked Emply users); rerun with "
             "allow_deactivations=true after checking the plan")  # fmt: skip
    assert_fails_only(outcome, words)
    assert outcome.blocked
    assert outcome.failures[0].startswith(f"plan: {words} — found 11 rows; e.g. subject=u0")
    result = stored(con, "R4: ")
    assert (result["element_count"], result["unexpected_count"]) == (11, None)
    first = sorted(f"u{i}" for i in range(11))[:5]  # by subject
    assert result["sample"] == [{"subject": u, "emply_user_id": u} for u in first]
    allowed = validate_plan(con, RUN, SETTINGS, allow_deactivations=True)
    assert allowed.success
    assert not any(r.key.endswith("deactivations_within_threshold") for r in allowed.results)
    assert con.execute("SELECT count(*) FROM validation_results WHERE NOT success").fetchone() == (
        0,
    )


def test_deactivations_over_max_deactivations_block():
    con = warehouse(linked=50)
    plan(con, *deactivate(3))
    capped = tenant_settings({"Employee": "Employee"}, max_deactivations=2)
    outcome = validate_plan(con, RUN, capped, allow_deactivations=False)
    assert outcome.blocked
    assert "at most 2 deactivate_user changes" in outcome.failures[0]
    assert validate_plan(con, RUN, SETTINGS, allow_deactivations=False).success


def r4_blocks(deactivations: int, max_deactivations: int, percent: float, linked: int) -> bool:
    """SPEC R4 in its own words."""
    share = 100.0 * deactivations / linked if linked else 100.0
    return deactivations > max_deactivations or (deactivations > 10 and share > percent)


@pytest.mark.parametrize("max_deactivations", [0, 5, 10, 12, 500])
@pytest.mark.parametrize("percent", [0, 7.5, 20, 100])
@pytest.mark.parametrize("linked", [0, 9, 50, 51, 1000])
def test_deactivation_limit_is_the_largest_count_r4_allows(max_deactivations, percent, linked):
    limit = deactivation_limit(max_deactivations, percent, linked)
    assert not r4_blocks(limit, max_deactivations, percent, linked)
    assert r4_blocks(limit + 1, max_deactivations, percent, linked)
