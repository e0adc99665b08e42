"""Every query of README "Questions analysts ask", run on the history of real demo syncs.

The demo tenant is synced six times with changes in between, so each question has an answer:
a leaver, a disabled and a deleted user (blocked by R4 at first, then one write fails), roles
reset by hand twice, a group remapped, a dispute, a manual deactivation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
import yaml
from demo_tenant import demo_tenant

from entrasync.emulator_client import ControlSurface
from entrasync.warehouse.history_views import open_views
from flows.launch import run_sync

README = Path(__file__).resolve().parents[2] / "README.md"
TENANT_ID = "6c1f9a2e-0d4b-4c53-9a35-demo00000001"


def readme_questions() -> dict[str, str]:
    """README's "Questions analysts ask": each `### question` and the SQL block under it."""
    text = README.read_text()
    section = text.split("\n## Questions analysts ask\n", 1)[1].split("\n## ", 1)[0]
    found = re.findall(r"^### (.+?)\n.*?```sql\n(.*?)```", section, flags=re.M | re.S)
    return {title.strip(): sql for title, sql in found}


def tenants_file_with(tenants_file: Path, **settings) -> None:
    raw = yaml.safe_load(tenants_file.read_text())
    raw["tenants"][0].update(settings)
    tenants_file.write_text(yaml.safe_dump(raw))


def sync(tenants_file: Path, expected: str, **options) -> dict:
    summary = run_sync("demo", tenants_file=str(tenants_file), **options)
    assert summary["status"] == expected, summary
    return summary


@pytest.fixture(scope="module")
def history(stack, tmp_path_factory) -> duckdb.DuckDBPyConnection:
    """Six real syncs of the demo tenant; yields a read-only connection to the history views."""
    tmp_path = tmp_path_factory.mktemp("analyst-history")
    with (
        demo_tenant(stack, tmp_path) as (tenants_file, _),
        ControlSurface(stack.control_url, stack.ca_file) as control,
    ):

        def entra(op: str, **args) -> None:
            control.graph_op(TENANT_ID, op, args)

        def emply(op: str, **args) -> None:
            control.emply_op("demo", op, args)

        tenants_file_with(tenants_file, max_deactivations=2)
        sync(tenants_file, "completed")  # 1: links, creations, roles

        entra("remove_member", group="Employees", user="patti.bowen13@contoso.com")
        entra("disable_user", upn="joni.wilber47@contoso.com")
        entra("delete_user", upn="megan.bowen0@contoso.com")  # her employee is active: R10
        sync(tenants_file, "blocked")  # 2: three deactivations > max_deactivations 2

        joni = control.emply_user("demo", "joni.wilber47@contoso.com")["user_id"]
        emply("fault", path=f"/users/{joni}", status=400, times=1)  # only joni's write
        sync(tenants_file, "failed", allow_deactivations=True)  # 3: joni's write fails
        sync(tenants_file, "completed")  # 4: joni deactivated

        emply("set_roles", user="alex.bowen2@contoso.com", roles=[])
        emply("deactivate_user", user="adele.wilber41@contoso.com")  # by hand: it sticks (R3)
        emply("add_user", username="pat.doe", email="pat.doe@contoso.com", roles=[])
        entra("add_user", upn="pat.doe.a@contoso.com", mail="pat.doe@contoso.com",
              displayName="Pat Doe")  # fmt: skip
        entra("add_user", upn="pat.doe.b@contoso.com", mail="pat.b@contoso.com",
              otherMails=["pat.doe@contoso.com"], displayName="Pat Doe (B)")  # fmt: skip
        for upn in ("pat.doe.a@contoso.com", "pat.doe.b@contoso.com"):
            entra("add_member", group="Employees", user=upn)
        groups = yaml.safe_load(tenants_file.read_text())["tenants"][0]["groups"]
        remapped = [{**g, "role": "Contractor"} if g["group"] == "Sales" else g for g in groups]
        tenants_file_with(tenants_file, groups=remapped)
        sync(tenants_file, "completed")  # 5: roles restored, Sales → Contractor, a dispute

        emply("set_roles", user="alex.bowen2@contoso.com", roles=[])
        sync(tenants_file, "completed")  # 6: roles restored again

        with open_views() as con:
            yield con


def rows_of(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def deactivations_per_week(rows: list[dict]) -> None:
    assert [(r["tenant"], r["deactivations"]) for r in rows] == [("demo", 3)]


def roles_changed_twice(rows: list[dict]) -> None:
    by_user = {r["username"]: r for r in rows}
    assert by_user["alex.bowen2@contoso.com"]["role_changes"] == 2
    assert by_user["henrietta.bowen15"]["role_changes"] == 2  # R5 in sync 1, remap in sync 5
    assert "allan.bowen19@contoso.com" not in by_user  # created with Sales, remapped once
    assert all(r["role_changes"] >= 2 for r in rows)


def runs_blocked(rows: list[dict]) -> None:
    [blocked] = rows
    assert blocked["tenant"] == "demo" and blocked["error"].startswith("R4")
    assert blocked["deactivations_held_back"] == 3
    assert blocked["let_through_by"] is not None


def failed_writes(rows: list[dict]) -> None:
    [failed] = rows
    assert failed["kind"] == "deactivate_user" and failed["failed_writes"] == 1
    assert "400" in failed["error"] and "<id>" in failed["error"]
    assert failed["users"] == ["joni.wilber47@contoso.com"]
    assert failed["applied_since"] == 1


def entra_to_emply(rows: list[dict]) -> None:
    deactivations = {r["subject"]: r for r in rows if r["kind"] == "deactivate_user"}
    assert {u: r["runs_planned"] for u, r in deactivations.items()} == {
        "joni.wilber47@contoso.com": 3,  # blocked, failed, applied
        "megan.bowen0@contoso.com": 2,  # blocked, applied
        "patti.bowen13@contoso.com": 2,
    }
    for row in deactivations.values():
        assert timedelta(0) < row["at_least"] <= row["at_most"]
    # The second reset of alex's roles is its own episode, not one long wait since sync 5.
    alex = [r["runs_planned"] for r in rows if r["kind"] == "set_roles"
            and r["subject"] == "alex.bowen2@contoso.com"]  # fmt: skip
    assert alex == [1, 1]
    assert rows[0]["subject"] == "joni.wilber47@contoso.com"  # the longest wait comes first
    first_run = min(r["first_seen_at"] for r in rows)  # no run before it: no upper bound
    assert all((r["at_most"] is None) == (r["first_seen_at"] == first_run) for r in rows)


def roles_on_date(rows: list[dict]) -> None:
    roles: dict[str, set[str]] = {}
    for row in rows:
        roles.setdefault(row["username"], set()).add(row["role"])
    assert roles["alex.bowen2@contoso.com"] == {"Employee", "Engineer"}
    assert roles["allan.bowen19@contoso.com"] == {"Contractor"}
    assert roles["henrietta.bowen15"] == {"Contractor", "Employee"}
    assert "patti.bowen13@contoso.com" not in roles  # deactivated by the sync
    assert "adele.wilber41@contoso.com" not in roles  # deactivated by hand
    # 86 seeded + 141 created + pat.doe, less 4 inactive users, less pat.doe who holds no role
    assert len(roles) == 86 + 141 + 1 - 4 - 1


def creations_per_rule(rows: list[dict]) -> None:
    assert [(r["rule_id"], r["kind"], r["created"]) for r in rows] == [("R2", "create_user", 141)]


def open_review_items(rows: list[dict]) -> None:
    [item] = rows
    assert (item["subject"], item["side"]) == ("pat.doe", "emply")
    assert item["candidates"] == ["pat.doe.a@contoso.com", "pat.doe.b@contoso.com"]
    assert item["runs_seen"] == 2


def findings_by_rule(rows: list[dict]) -> None:
    found = {r["rule_id"]: (r["users"], r["times_recorded"]) for r in rows}
    assert found == {"R1": (1, 2), "R10": (1, 5)}


def in_scope_but_inactive(rows: list[dict]) -> None:
    assert [(r["username"], r["connected_groups"]) for r in rows] == [
        ("adele.wilber41@contoso.com", ["Employees"])
    ]


CHECKS: dict[str, Callable[[list[dict]], None]] = {
    "Deactivations per tenant per week": deactivations_per_week,
    "Users whose roles changed twice or more in a month": roles_changed_twice,
    "Runs blocked by the safety gate, and the run that let them through": runs_blocked,
    "Failed writes by error": failed_writes,
    "Time from an Entra change to the Emply change": entra_to_emply,
    "Who had which role on date D": roles_on_date,
    "Creations per rule per day": creations_per_rule,
    "Review-queue items still open": open_review_items,
    "Findings by rule": findings_by_rule,
    "In scope in Entra but inactive in Emply on date D": in_scope_but_inactive,
}


def test_every_readme_question_is_checked() -> None:
    assert set(readme_questions()) == set(CHECKS)


@pytest.mark.slow
@pytest.mark.parametrize("question", list(CHECKS))
def test_readme_question_answers_from_the_demo_history(history, question: str) -> None:
    CHECKS[question](rows_of(history, readme_questions()[question]))
