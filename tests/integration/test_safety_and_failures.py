"""Disputes, bad inputs, bad settings, gates and dry runs, end to end against the emulators.

Each test plays a small SPEC scenario (tests/integration/played_scenario.py) and then looks at
what the runs left behind: the warehouse, the CLI's output and the Emply emulator.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
import yaml
from played_scenario import played

from entrasync.cli import main
from entrasync.ops.failed_tenants import tenants_to_rerun
from entrasync.run import deadline as deadline_module
from entrasync.scenario import run_scenario
from entrasync.tenants_file import read_tenants_file
from flows.launch import run_sync

SCENARIOS = Path(__file__).parent.parent / "scenarios"

TWO_USERS = """\
settings:
  tenant_id: {tenant}
  domains: [contoso.com]
  groups: [{{group: Employee, role: Employee}}]
entra:
  users:
    - {{upn: megan@contoso.com, mail: megan@contoso.com, displayName: Megan Jordan}}
    - {{upn: alex@contoso.com, mail: alex@contoso.com, displayName: Alex Wilber}}
  groups: [{{name: Employee, members: [megan@contoso.com, alex@contoso.com]}}]
emply:
  roles: [Employee]
  users:
    - {{username: megan@contoso.com, email: megan@contoso.com, roles: [Employee]}}
    - {{username: alex@contoso.com, email: alex@contoso.com, roles: [Employee]}}
"""


FIRST_SYNC = "  - sync: {}\n  - expect: {run: {status: completed, changes: {link_user: 2}}}\n"
MEGAN_LEAVES = "  - entra: [{remove_member: {group: Employee, user: megan@contoso.com}}]\n"


def two_users(tenant: str, steps: str) -> str:
    return f"name: {tenant}\n" + TWO_USERS.format(tenant=tenant) + "steps:\n" + steps


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as ended:
        main(list(argv))
    captured = capsys.readouterr()
    return ended.value.code, captured.out, captured.err


DISPUTES = """\
name: disputes on both sides
settings:
  tenant_id: disputes
  domains: [contoso.com]
  groups: [{group: Employee, role: Employee}]
entra:
  users:
    - {upn: megan.jordan@contoso.com, mail: megan@contoso.com}
    - {upn: lee@contoso.com, mail: lee@contoso.com}
    - {upn: lee.gu@contoso.com, mail: lee.gu@contoso.com, otherMails: [lee@contoso.com]}
    - {upn: alex@contoso.com, mail: alex@contoso.com}
  groups:
    - name: Employee
      members: [megan.jordan@contoso.com, lee@contoso.com, lee.gu@contoso.com, alex@contoso.com]
emply:
  roles: [Employee]
  users:
    - {username: mjordan, email: megan@contoso.com, roles: [Employee]}
    - {username: megan.j, email: Megan@Contoso.com, roles: [Employee]}
    - {username: lee, email: lee@contoso.com, roles: [Employee]}
    - {username: alex@contoso.com, email: alex@contoso.com, roles: [Employee]}
steps:
  - sync: {}
  - expect:
      run: {status: completed, changes: {link_user: 1, create_user: 0, finding: 2}}
  - sync: {}
  - expect:
      run: {status: completed, changes: {link_user: 0, create_user: 0, finding: 2}}
"""


@pytest.mark.slow
def test_disputes_wait_in_the_review_queue_with_candidates_and_are_reported(stack, tmp_path):
    with played(stack, DISPUTES, tmp_path) as scenario, scenario.warehouse() as con:
        runs = [
            row[0] for row in con.execute("SELECT run_id FROM runs ORDER BY started_at").fetchall()
        ]
        queue = con.execute(
            "SELECT run_id, subject, side, candidates, why FROM review_queue ORDER BY ALL"
        ).fetchall()
        findings = con.execute(
            "SELECT run_id, rule_id, subject, outcome, after FROM changes"
            " WHERE kind = 'finding' ORDER BY ALL"
        ).fetchall()
        linked = con.execute("SELECT username FROM links ORDER BY ALL").fetchall()
        assert not scenario.emply_user("lee")["entra_object_id"]
        assert not scenario.emply_user("mjordan")["entra_object_id"]
    for run_id in runs:  # every run reports them again until someone resolves them
        assert (run_id, "lee", "emply", ["lee.gu@contoso.com", "lee@contoso.com"],
                "Emply user lee matches 2 Entra users") in queue  # fmt: skip
        assert (run_id, "megan.jordan@contoso.com", "entra", ["megan.j", "mjordan"],
                "Entra user megan.jordan@contoso.com matches 2 Emply users") in queue  # fmt: skip
    assert len(queue) == 4
    assert [(f[0], f[1], f[2], f[3]) for f in findings] == sorted(
        (run_id, "R1", subject, "recorded")
        for run_id in runs
        for subject in ("lee", "megan.jordan@contoso.com")
    )
    assert json.loads(findings[0][4]) == {"candidates": ["lee.gu@contoso.com", "lee@contoso.com"]}
    assert linked == [("alex@contoso.com",)]


@pytest.mark.slow
def test_a_malformed_emply_export_fails_the_run_before_planning(stack, tmp_path):
    steps = FIRST_SYNC + MEGAN_LEAVES
    with played(stack, two_users("bad-export", steps), tmp_path) as scenario:
        writes_before = scenario.emply_writes()
        bad_row = {"export": "users", "row": 1, "set": {"active": "yes"}}
        scenario.control.emply_op(scenario.run.customer, "bad_export_row", bad_row)
        summary = run_sync(scenario.tenant, tenants_file=scenario.tenants_file)

        assert summary["status"] == "failed"
        assert summary["error"].startswith("EmplyExportError: export 'users' row 1 (userId ")
        assert summary["error"].endswith("field 'active': expected true/false, got \"yes\"")
        assert summary["changes"] == {}
        assert scenario.emply_writes() == writes_before
        assert scenario.emply_user("megan@contoso.com")["active"] is True

        # the export is sound again: the leaver is deactivated now
        rerun = run_sync(scenario.tenant, tenants_file=scenario.tenants_file)
        assert (rerun["status"], rerun["changes"]) == ("completed", {"deactivate_user": 1})


@pytest.mark.slow
def test_a_settings_error_found_in_the_inputs_fails_the_run_naming_the_key(stack, tmp_path):
    scenario_text = (SCENARIOS / "settings_role_missing_in_emply_fails_run.yaml").read_text()
    with played(stack, scenario_text, tmp_path) as scenario, scenario.warehouse() as con:
        failed = con.execute(
            "SELECT run_id, error, planned FROM runs WHERE status = 'failed'"
        ).fetchall()
        assert len(failed) == 1
        run_id, error, planned = failed[0]
        assert error == (
            f"InputError: {scenario.tenants_file}: {scenario.tenant}.groups[1].role: role "
            "'Seller' does not exist in Emply (known roles: Employee, Sales); fix the tenants "
            "file or add the role in Emply"
        )
        assert planned == 0
        assert (
            con.execute("SELECT count(*) FROM changes WHERE run_id = ?", [run_id]).fetchone()[0]
            == 0
        )


def rewrite_settings(tenants_file: str, **changes) -> None:
    path = Path(tenants_file)
    tenants = yaml.safe_load(path.read_text())
    tenants["tenants"][0].update(changes)
    path.write_text(yaml.safe_dump(tenants))


@pytest.mark.slow
def test_bad_settings_stop_the_sync_command_with_one_line(stack, tmp_path, capsys):
    with played(stack, two_users("bad-settings", FIRST_SYNC), tmp_path) as scenario:
        writes_before = scenario.emply_writes()
        rewrite_settings(scenario.tenants_file, hybrid=True, write={"update": True})
        code, out, err = cli(
            capsys, "sync", "--tenant", scenario.tenant, "--tenants-file", scenario.tenants_file
        )
        assert (code, out) == (2, "")
        assert err == (
            f"entrasync: {scenario.tenants_file}: tenants[0].hybrid: hybrid tenants are "
            "mastered on-premises, so write.update must be false\n"
        )

        # a second Entra tenant for the same Emply platform
        tenants = yaml.safe_load(Path(scenario.tenants_file).read_text())
        first = {**tenants["tenants"][0], "hybrid": False, "write": {"update": False}}
        second = {**first, "name": "other", "tenant_id": "another-entra-tenant"}
        Path(scenario.tenants_file).write_text(yaml.safe_dump({"tenants": [first, second]}))
        code, out, err = cli(
            capsys, "sync", "--tenant", scenario.tenant, "--tenants-file", scenario.tenants_file
        )
        assert (code, out) == (2, "")
        assert err.count("\n") == 1  # both entries fail, each naming the other
        assert err.startswith(f"entrasync: {scenario.tenants_file}: tenants[0].tenant_id: ")
        assert "is also synced by tenants[1] (Entra tenant 'another-entra-tenant')" in err
        assert "one platform has exactly one Entra tenant" in err
        assert scenario.emply_writes() == writes_before
        with scenario.warehouse() as con:
            assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 1


GATES = """\
  - sync: {}
  - entra: [{remove_member: {group: Employee, user: megan@contoso.com}}]
  - sync: {}
  - expect:
      run: {status: blocked, changes: {deactivate_user: 1}}
      emply: {users: {megan@contoso.com: {active: true}}}
  - emply: [{add_user: {username: ext, email: ext at partner.com}}]
  - sync: {}
  - expect:
      run: {status: failed, changes: {deactivate_user: 0}}
      emply: {users: {megan@contoso.com: {active: true}}}
"""


@pytest.mark.slow
def test_failed_expectations_are_stored_with_the_run_and_shown_by_the_cli(stack, tmp_path, capsys):
    scenario_text = two_users("gates", GATES).replace(
        "  domains: [contoso.com]\n", "  domains: [contoso.com]\n  max_deactivations: 0\n"
    )
    with played(stack, scenario_text, tmp_path) as scenario:
        with scenario.warehouse() as con:
            runs = [
                r[0] for r in con.execute("SELECT run_id FROM runs ORDER BY started_at").fetchall()
            ]
        code, latest, _ = cli(capsys, "validation", "--tenant", scenario.tenant)
        assert code == 0
        lines = latest.splitlines()
        assert lines[0].startswith(f"run {runs[2]} (failed): ValidationFailed: validation of the")
        assert lines[1] == (
            "  FAILED inputs: emply_users.email is a well-formed e-mail address where present "
            "(trimmed, any case) — 1 of 3 rows break it; e.g. user_id="
            + scenario.emply_user("ext")["user_id"]
            + ", email=ext at partner.com"
        )
        assert lines[-1].startswith("  1 of ") and lines[-1].endswith("(suites: inputs)")

        code, blocked, _ = cli(
            capsys, "validation", "--tenant", scenario.tenant, "--run", runs[1][:8]
        )
        lines = blocked.splitlines()
        blocked = f"run {runs[1]} (blocked): R4: the plan deactivates or deletes 1 users"
        assert lines[0].startswith(blocked)
        assert lines[1].startswith(
            "  FAILED plan: R4: planned_changes has at most 0 deactivate_user changes"
        )
        assert "subject=megan@contoso.com" in lines[1]
        assert lines[-1].endswith("(suites: inputs, plan)")

        code, passed, _ = cli(capsys, "validation", "--tenant", scenario.tenant, "--run", runs[0])
        assert "  0 of " in passed and "FAILED" not in passed


@pytest.mark.slow
def test_the_dry_run_command_prints_the_plan_and_writes_nothing(stack, tmp_path, capsys):
    steps = FIRST_SYNC + MEGAN_LEAVES
    with played(stack, two_users("dry-run-cli", steps), tmp_path) as scenario:
        writes_before = scenario.emply_writes()
        code, out, _ = cli(
            capsys, "sync", "--tenant", scenario.tenant, "--dry-run",
            "--tenants-file", scenario.tenants_file,
        )  # fmt: skip
        assert code == 0
        lines = out.splitlines()
        assert lines[0].startswith(f"tenant {scenario.tenant} run ")
        assert lines[0].endswith(": planned")
        assert lines[1:] == [f"  {'deactivate_user':<22}{1:>6}"]
        assert scenario.emply_writes() == writes_before
        assert scenario.emply_user("megan@contoso.com")["active"] is True
        with scenario.warehouse() as con:
            latest = con.execute(
                "SELECT r.status, r.dry_run, c.kind, c.outcome, c.reason FROM runs r"
                " JOIN changes c USING (run_id) ORDER BY r.started_at DESC LIMIT 1"
            ).fetchone()
        assert latest[:4] == ("planned", True, "deactivate_user", "skipped")
        assert latest[4].startswith("R3: not in any connected group since run ")


@pytest.mark.slow
def test_a_failed_write_is_recorded_the_rest_go_on_and_the_rerun_applies_only_it(stack, tmp_path):
    steps = FIRST_SYNC + (
        """\
  - entra:
      - remove_member: {group: Employee, user: megan@contoso.com}
      - remove_member: {group: Employee, user: alex@contoso.com}
  # one of the two writes (writes run in parallel: either) is refused; the other goes through
  - emply: [{fault: {path: /users, status: 400, times: 1}}]
  - sync: {}
  - expect:
      run: {status: failed, changes: {deactivate_user: 2}}
  - sync: {}
  - expect:
      run: {status: completed, changes: {deactivate_user: 1}}
      emply: {users: {alex@contoso.com: {active: false}, megan@contoso.com: {active: false}}}
"""
    )
    with (
        played(stack, two_users("failed-write", steps), tmp_path) as scenario,
        scenario.warehouse() as con,
    ):
        runs = con.execute("SELECT run_id, status, error FROM runs ORDER BY started_at").fetchall()
        outcomes = con.execute(
            "SELECT run_id, subject, outcome, error FROM changes"
            " WHERE kind = 'deactivate_user' ORDER BY run_id, subject"
        ).fetchall()
    assert [(status, error) for _, status, error in runs] == [
        ("completed", None),
        ("failed", "some writes failed; rerun the tenant"),
        ("completed", None),
    ]
    failed_run, rerun = runs[1][0], runs[2][0]
    by_run = {(run_id, subject): (outcome, error) for run_id, subject, outcome, error in outcomes}
    in_failed_run = {s: by_run[(failed_run, s)] for s in ("alex@contoso.com", "megan@contoso.com")}
    refused = [s for s, (outcome, _error) in in_failed_run.items() if outcome == "failed"]
    assert len(refused) == 1 and "failed with 400" in in_failed_run[refused[0]][1]
    (went_through,) = set(in_failed_run) - set(refused)
    assert in_failed_run[went_through] == ("applied", None)
    assert by_run[(rerun, refused[0])] == ("applied", None)
    assert (rerun, went_through) not in by_run


@pytest.mark.slow
def test_one_broken_entry_fails_alone_and_reruns_once_fixed(stack, tmp_path, capsys):
    with played(stack, two_users("fleet-edges", FIRST_SYNC), tmp_path) as scenario:
        path = Path(scenario.tenants_file)
        good = yaml.safe_load(path.read_text())["tenants"][0]
        broken = {**good, "name": "broken", "hybrid": True, "write": {"update": True}}
        nameless = {"tenant_id": "nobody"}
        path.write_text(yaml.safe_dump({"tenants": [broken, good, nameless]}))
        writes_before = scenario.emply_writes()

        # the good tenant runs, by the CLI too, whatever the other entries hold
        code, out, _ = cli(capsys, "sync", "--tenant", scenario.tenant, "--tenants-file", str(path))
        assert code == 0 and out.splitlines()[0].endswith(": completed")

        # the broken one is a failed run of its own, with the reason, and writes nothing
        summary = run_sync("broken", tenants_file=str(path))
        reason = (
            f"SettingsError: {path}: tenants[0].hybrid: hybrid tenants are mastered "
            "on-premises, so write.update must be false"
        )
        assert (summary["status"], summary["error"], summary["changes"]) == (
            "failed", reason, {})  # fmt: skip
        assert scenario.emply_writes() == writes_before
        broken_warehouse = scenario.workdir / "warehouse" / "broken.duckdb"
        with duckdb.connect(str(broken_warehouse), read_only=True) as con:
            assert con.execute("SELECT status, error FROM runs").fetchall() == [("failed", reason)]
        history = list((scenario.workdir / "audit" / "runs" / "tenant=broken").rglob("*.parquet"))
        assert len(history) == 1  # the analysts' history has it too

        # a name that does not exist is no warehouse of anyone's
        unknown = run_sync("nobody-at-all", tenants_file=str(path))
        assert (
            unknown["status"] == "failed" and "no tenant named 'nobody-at-all'" in unknown["error"]
        )
        assert not (scenario.workdir / "warehouse" / "nobody-at-all.duckdb").exists()

        # rerun-failed sees it; once fixed its rerun completes
        read = read_tenants_file(path)
        named = [*read.tenants, *(entry for entry in read.invalid if entry.name)]
        assert [t.tenant for t in tenants_to_rerun(named, hours=1)] == ["broken"]
        fixed = {**broken, "hybrid": False, "write": {"update": False}}
        path.write_text(yaml.safe_dump({"tenants": [fixed, good]}))
        assert run_sync("broken", tenants_file=str(path))["status"] == "completed"


@pytest.mark.slow
def test_past_its_deadline_a_run_stops_before_planning_and_is_recorded_failed(
    stack, tmp_path, monkeypatch
):
    steps = FIRST_SYNC + MEGAN_LEAVES
    with played(stack, two_users("deadline", steps), tmp_path) as scenario:
        writes_before = scenario.emply_writes()
        started = []

        def clock() -> float:  # the run starts now; the next look at the clock is a day later
            started.append(True)
            return 0.0 if len(started) == 1 else 86400.0

        monkeypatch.setattr(deadline_module, "clock", clock)
        summary = run_sync(scenario.tenant, tenants_file=scenario.tenants_file)
        monkeypatch.undo()
        assert summary["status"] == "failed" and summary["changes"] == {}
        assert summary["error"] == (
            "RunDeadlinePassed: the run passed its deadline of 25 minutes (run_deadline_minutes) "
            "before planning; rerun the tenant: what was applied is not applied again"
        )
        assert scenario.emply_writes() == writes_before
        assert scenario.emply_user("megan@contoso.com")["active"] is True
        # the slot is free and nothing is left half done: the next run goes through
        rerun = run_sync(scenario.tenant, tenants_file=scenario.tenants_file)
        assert (rerun["status"], rerun["changes"]) == ("completed", {"deactivate_user": 1})


@pytest.mark.slow
def test_a_scenario_meeting_a_settings_error_records_a_failed_run_without_traceback(stack, capfd):
    path = SCENARIOS / "settings_invalid_entry_fails_run_then_runs_once_fixed.yaml"
    result = run_scenario(path, stack)
    assert result.passed, "\n".join(result.lines())
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
