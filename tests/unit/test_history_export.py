"""A run's rows land as Parquet in tenant/date partitions; append-only; reruns replace their own."""

from __future__ import annotations

from pathlib import Path

import duckdb
from rule_fixtures import Given, emply_user, entra_user, tenant_settings

from entrasync.warehouse import audit
from entrasync.warehouse.history import export_missing_runs, export_run

SETTINGS = tenant_settings({"Employee": "Employee", "HR": "HR"})


def given_platform() -> Given:
    """a: in Employee + HR, no Emply user (created); b: linked, in no group (deactivated);
    c: linked, disabled in Entra but still in HR (deactivated); x: an external Emply user."""
    given = Given().entra(
        [entra_user("a@contoso.com"), entra_user("b@contoso.com"),
         entra_user("c@contoso.com", account_enabled=False)],
        {"Employee": ["a@contoso.com"], "HR": ["a@contoso.com", "c@contoso.com"]},
    )  # fmt: skip
    return given.emply(
        [emply_user("b@contoso.com", entra_object_id="oid-b@contoso.com", roles=["Employee"]),
         emply_user("c@contoso.com", entra_object_id="oid-c@contoso.com", roles=["HR"]),
         emply_user("x@partner.com", roles=["Employee"])],
        roles=["Employee", "HR"],
    )  # fmt: skip


def run(given: Given, started_at: str, apply: bool = True) -> str:
    """Plan, write (every change applied, or none) and close one run started at `started_at`."""
    given.plan(SETTINGS)
    con, run_id = given.con, f"run-{given.run_number}"
    con.execute("UPDATE runs SET started_at = ? WHERE run_id = ?", [started_at, run_id])
    audit.record_plan(con, run_id)
    con.execute(
        "INSERT INTO validation_results VALUES (?, 'inputs', 'users have ids', 'not_null',"
        " true, 3, 0, NULL)",
        [run_id],
    )
    for change in audit.pending_changes(con, run_id) if apply else []:
        created = (
            {"user_id": f"new-{change['subject']}"} if change["kind"] == "create_user" else None
        )
        audit.record_outcome(con, run_id, change["change_id"], "applied", result=created)
    audit.finish_run(con, run_id, "completed" if apply else "blocked")
    return run_id


def files(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


def rows(root: Path, table: str, where: str = "true") -> list[tuple]:
    source = f"read_parquet('{root}/{table}/*/*/*.parquet', hive_partitioning = true)"
    return duckdb.sql(
        f"SELECT * EXCLUDE (date) FROM {source} WHERE {where} ORDER BY ALL"
    ).fetchall()


def test_each_table_lands_in_its_tenant_and_day_partition(tmp_path: Path) -> None:
    given = given_platform()
    run_id = run(given, "2024-05-01 23:30:00+00")

    written = export_run(given.con, run_id, tmp_path)

    day = "tenant=t/date=2024-05-01"
    assert files(tmp_path) == {
        f"{table}/{day}/run-1.parquet"
        for table in ("runs", "changes", "validation_results", "entra_user_snapshots",
                      "emply_user_snapshots")
    } | {"manifests/t/00000001.json"}  # fmt: skip
    assert written == {"changes": 3, "review_queue": 0, "validation_results": 1,
                       "entra_user_snapshots": 3, "emply_user_snapshots": 4, "runs": 1}  # fmt: skip
    [(tenant, status, applied)] = duckdb.sql(
        f"SELECT tenant, status, applied FROM '{tmp_path}/runs/{day}/run-1.parquet'"
    ).fetchall()
    assert (tenant, status, applied) == ("t", "completed", 3)


def test_the_day_is_the_utc_day_the_run_started(tmp_path: Path) -> None:
    given = given_platform()
    run_id = run(given, "2024-05-02 01:30:00+02")  # 23:30 UTC the day before

    export_run(given.con, run_id, tmp_path)

    assert (tmp_path / "runs/tenant=t/date=2024-05-01/run-1.parquet").exists()


def test_a_second_run_adds_files_and_leaves_the_first_alone(tmp_path: Path) -> None:
    given = given_platform()
    export_run(given.con, run(given, "2024-05-01 10:00:00+00"), tmp_path)
    first = {path: path.read_bytes() for path in tmp_path.rglob("*.parquet")}

    export_run(given.con, run(given, "2024-05-01 10:30:00+00"), tmp_path)

    assert {path: path.read_bytes() for path in first} == first
    assert "runs/tenant=t/date=2024-05-01/run-2.parquet" in files(tmp_path)
    assert len(rows(tmp_path, "runs")) == 2


def test_rerunning_an_export_replaces_that_runs_files_only(tmp_path: Path) -> None:
    given = given_platform()
    first = run(given, "2024-05-01 10:00:00+00")
    export_run(given.con, first, tmp_path)
    second = run(given, "2024-05-01 10:30:00+00")
    export_run(given.con, second, tmp_path)
    second_files = {p: p.read_bytes() for p in tmp_path.rglob(f"{second}.parquet")}

    given.con.execute("UPDATE changes SET error = 'looked at again' WHERE run_id = ?", [first])
    export_run(given.con, first, tmp_path)
    export_run(given.con, first, tmp_path)

    assert {p: p.read_bytes() for p in second_files} == second_files
    changes = rows(tmp_path, "changes", f"run_id = '{first}'")
    assert len(changes) == 3
    assert {change[11] for change in changes} == {"looked at again"}
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_rerun_that_now_has_no_rows_removes_its_file(tmp_path: Path) -> None:
    given = given_platform()
    run_id = run(given, "2024-05-01 10:00:00+00")
    export_run(given.con, run_id, tmp_path)

    given.con.execute("DELETE FROM validation_results WHERE run_id = ?", [run_id])
    export_run(given.con, run_id, tmp_path)

    assert not (tmp_path / "validation_results/tenant=t/date=2024-05-01/run-1.parquet").exists()


def test_emply_snapshot_is_the_state_the_run_left(tmp_path: Path) -> None:
    given = given_platform()
    export_run(given.con, run(given, "2024-05-01 10:00:00+00"), tmp_path)

    users = duckdb.sql(
        f"SELECT username, user_id, active, roles, entra_object_id, changed_by_run"
        f" FROM '{tmp_path}/emply_user_snapshots/*/*/*.parquet' ORDER BY username"
    ).fetchall()
    assert users == [
        ("a@contoso.com", "new-a@contoso.com", True, ["Employee", "HR"], "oid-a@contoso.com", True),
        ("b@contoso.com", "u-b@contoso.com", False, ["Employee"], "oid-b@contoso.com", True),
        ("c@contoso.com", "u-c@contoso.com", False, ["HR"], "oid-c@contoso.com", True),
        ("x@partner.com", "u-x@partner.com", True, ["Employee"], None, False),
    ]


def test_a_blocked_run_snapshots_emply_as_it_read_it(tmp_path: Path) -> None:
    given = given_platform()
    export_run(given.con, run(given, "2024-05-01 10:00:00+00", apply=False), tmp_path)

    users = duckdb.sql(
        f"SELECT username, active FROM '{tmp_path}/emply_user_snapshots/*/*/*.parquet'"
        " ORDER BY username"
    ).fetchall()
    assert users == [("b@contoso.com", True), ("c@contoso.com", True), ("x@partner.com", True)]


def test_entra_snapshot_has_scope_and_connected_groups(tmp_path: Path) -> None:
    given = given_platform()
    export_run(given.con, run(given, "2024-05-01 10:00:00+00"), tmp_path)

    users = duckdb.sql(
        f"SELECT user_principal_name, account_enabled, connected_groups, in_scope"
        f" FROM '{tmp_path}/entra_user_snapshots/*/*/*.parquet' ORDER BY ALL"
    ).fetchall()
    assert users == [
        ("a@contoso.com", True, ["Employee", "HR"], True),
        ("b@contoso.com", True, [], False),
        ("c@contoso.com", False, ["HR"], False),
    ]


def test_snapshots_only_while_the_raw_tables_are_the_runs_own(tmp_path: Path) -> None:
    given = given_platform()
    first = run(given, "2024-05-01 10:00:00+00")
    run(given, "2024-05-01 10:30:00+00")

    written = export_run(given.con, first, tmp_path)

    assert "emply_user_snapshots" not in written and "entra_user_snapshots" not in written
    assert not list(tmp_path.glob("*_snapshots"))
    assert written["runs"] == 1


def test_export_missing_runs_writes_only_what_the_history_lacks(tmp_path: Path) -> None:
    given = given_platform()
    first = run(given, "2024-05-01 10:00:00+00")
    export_run(given.con, first, tmp_path)
    before = (tmp_path / "runs/tenant=t/date=2024-05-01/run-1.parquet").read_bytes()
    second = run(given, "2024-05-02 10:00:00+00")

    assert export_missing_runs(given.con, "t", tmp_path) == [second]
    assert export_missing_runs(given.con, "t", tmp_path) == []
    assert (tmp_path / "runs/tenant=t/date=2024-05-01/run-1.parquet").read_bytes() == before
