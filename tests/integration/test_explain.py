"""`entrasync explain` after real runs: link, scope, every change with rule and reason, findings."""

from __future__ import annotations

import pytest
from played_scenario import played

from entrasync.cli import main

LEAVER = """\
name: explain a leaver
settings:
  tenant_id: explain-leaver
  domains: [contoso.com]
  groups: [{group: Employee, role: Employee}, {group: Sales, role: Sales}]
entra:
  users:
    - {upn: megan@contoso.com, mail: megan@contoso.com, displayName: Megan Jordan}
    - {upn: alex@contoso.com, mail: alex@contoso.com, displayName: Alex Wilber}
  groups:
    - {name: Employee, members: [megan@contoso.com, alex@contoso.com]}
    - {name: Sales, members: [megan@contoso.com]}
emply:
  roles: [Employee, Sales]
  users:
    - {username: mjordan, email: megan@contoso.com, roles: [Employee, Sales]}
    - {username: alex@contoso.com, email: alex@contoso.com, roles: [Employee]}
steps:
  - sync: {}
  - entra: [{remove_member: {group: Sales, user: megan@contoso.com}}]
  - sync: {}
  - entra: [{remove_member: {group: Employee, user: megan@contoso.com}}]
  - sync: {}
  - expect:
      run: {status: completed, changes: {deactivate_user: 1}}
      emply: {users: {mjordan: {active: false}}}
  # the latest run fails before planning: it must not make anyone look out of scope
  - entra: [{fault: {path: /groups, status: 503, times: 50, retry_after: 0}}]
  - sync: {}
  - expect: {run: {status: failed}}
"""

DISPUTE = """\
name: explain a dispute
settings:
  tenant_id: explain-dispute
  domains: [contoso.com]
  groups: [{group: Employee, role: Employee}]
entra:
  users:
    - {upn: megan.jordan@contoso.com, mail: megan@contoso.com, displayName: Megan Jordan}
    - {upn: alex@contoso.com, mail: alex@contoso.com, displayName: Alex Wilber}
  groups: [{name: Employee, members: [megan.jordan@contoso.com, alex@contoso.com]}]
emply:
  roles: [Employee]
  users:
    - {username: mjordan, email: megan@contoso.com, roles: [Employee]}
    - {username: megan.j, email: megan@contoso.com, roles: [Employee]}
    - {username: alex@contoso.com, email: alex@contoso.com, roles: [Employee]}
steps:
  - sync: {}
  - expect: {run: {status: completed, changes: {link_user: 1, finding: 1}}}
"""


def explain(capsys, tenant: str, user: str) -> list[str]:
    with pytest.raises(SystemExit) as ended:
        main(["explain", "--tenant", tenant, "--user", user])
    out = capsys.readouterr().out
    assert ended.value.code == 0, out
    return out.splitlines()


def line_with(lines: list[str], *parts: str) -> str:
    found = [line for line in lines if all(part in line for part in parts)]
    assert len(found) == 1, f"{parts} in:\n" + "\n".join(lines)
    return found[0]


@pytest.mark.slow
def test_explain_a_leaver_by_email_username_or_upn(stack, tmp_path, capsys):
    with played(stack, LEAVER, tmp_path) as scenario:
        with scenario.warehouse() as con:
            runs = [
                r[0] for r in con.execute("SELECT run_id FROM runs ORDER BY started_at").fetchall()
            ]
        assert len(runs) == 4
        lines = explain(capsys, scenario.tenant, "MEGAN@contoso.com")
        by_username = explain(capsys, scenario.tenant, "mjordan")
        assert by_username[1:] == lines[1:], "\n".join([*lines, "---", *by_username])

        line_with(lines, "link: mjordan ↔ megan@contoso.com, by mail, in run " + runs[0])
        assert line_with(lines, "scope:") == (
            f"scope: out of scope; last in scope in run {runs[1]} through Employee"
        )
        link = line_with(lines, "link_user", "R1", "applied")
        assert "Emply e-mail megan@contoso.com equals Entra mail of megan@contoso.com" in link
        leave = line_with(lines, "deactivate_user", "R3", "applied")
        # the group she left since the last run, not Sales, which she left a run earlier
        assert (
            f"R3: not in any connected group since run {runs[1]}: removed from Employee; "
            "deactivated, not deleted"
        ) in leave
        assert "Sales" not in leave
        assert not [line for line in lines if "set_roles" in line]  # leaving removes no role

        alex = explain(capsys, scenario.tenant, "alex@contoso.com")
        assert line_with(alex, "scope:") == (
            f"scope: in scope through Employee (latest planned run {runs[2]})"
        )


@pytest.mark.slow
def test_explain_shows_the_review_queue_of_a_disputed_user(stack, tmp_path, capsys):
    with played(stack, DISPUTE, tmp_path) as scenario:
        by_upn = explain(capsys, scenario.tenant, "megan.jordan@contoso.com")
        by_username = explain(capsys, scenario.tenant, "mjordan")
    expected_queue = "Entra user megan.jordan@contoso.com matches 2 Emply users: megan.j, mjordan"
    for lines in (by_upn, by_username):
        assert expected_queue in line_with(lines, "review queue (run")
        finding = line_with(lines, "finding", "R1", "recorded")
        assert "not linked, nothing created, waiting in the review queue" in finding
        assert line_with(lines, "link:") == "link: none (not integration-managed)"


RELEASED = """\
name: explain a released run
settings:
  tenant_id: explain-released
  domains: [contoso.com]
  max_deactivations: 0
  groups: [{group: Employee, role: Employee}]
entra:
  users:
    - {upn: megan@contoso.com, mail: megan@contoso.com, displayName: Megan Jordan}
    - {upn: alex@contoso.com, mail: alex@contoso.com, displayName: Alex Wilber}
  groups: [{name: Employee, members: [megan@contoso.com, alex@contoso.com]}]
emply:
  roles: [Employee]
  users:
    - {username: megan@contoso.com, email: megan@contoso.com, roles: [Employee]}
    - {username: alex@contoso.com, email: alex@contoso.com, roles: [Employee]}
steps:
  - sync: {}
  - entra: [{remove_member: {group: Employee, user: megan@contoso.com}}]
  - sync: {}
  - expect: {run: {status: blocked}}
  - sync: {allow_deactivations: true}
  - expect: {run: {status: completed, changes: {deactivate_user: 1}}}
"""


@pytest.mark.slow
def test_the_release_is_in_the_audit_row_the_history_explain_and_the_outcome(
    stack, tmp_path, capsys
):
    import duckdb

    from entrasync.ops.run_report import RELEASED as RELEASED_WORDS
    from entrasync.ops.run_report import outcome_markdown

    with played(stack, RELEASED, tmp_path) as scenario:
        with scenario.warehouse() as con:
            runs = con.execute(
                "SELECT run_id, status, allow_deactivations, error FROM runs ORDER BY started_at"
            ).fetchall()
            assert [(status, allowed) for _, status, allowed, _ in runs] == [
                ("completed", False), ("blocked", False), ("completed", True)]  # fmt: skip
            assert runs[1][3].endswith("rerun with allow_deactivations=true")
            released_words = outcome_markdown(con, scenario.last_run)
        assert RELEASED_WORDS in released_words
        history = duckdb.sql(
            "SELECT status, allow_deactivations FROM read_parquet(?) ORDER BY started_at",
            params=[str(tmp_path / "audit" / "runs" / "**" / "*.parquet")],
        ).fetchall()
        assert history == [("completed", False), ("blocked", False), ("completed", True)]
        lines = explain(capsys, scenario.tenant, "megan@contoso.com")
        applied = line_with(lines, "deactivate_user", "applied")
        assert f"run {runs[2][0][:8]} [allow_deactivations]" in applied
        assert line_with(lines, "latest run:").startswith(
            f"latest run: {runs[2][0]} completed [allow_deactivations]"
        )
