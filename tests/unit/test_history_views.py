"""The analysts' views: present and typed before any file, rebuilt when files appear, live."""

from __future__ import annotations

from pathlib import Path

import duckdb
from test_history_export import given_platform, run

from entrasync.warehouse.history import EXPORTS, export_run
from entrasync.warehouse.history_views import build_views, ensure_views, open_views

VIEWS = [*EXPORTS, "findings", "emply_users_daily", "entra_users_daily"]


def column_types(con: duckdb.DuckDBPyConnection, view: str) -> dict[str, str]:
    return {row[0]: row[1] for row in con.execute(f"DESCRIBE {view}").fetchall()}


def test_every_view_exists_typed_and_empty_before_any_file(tmp_path: Path) -> None:
    views = build_views(tmp_path / "audit.duckdb", tmp_path / "audit")

    with duckdb.connect(str(views), read_only=True) as con:
        for view in VIEWS:
            assert con.execute(f"SELECT count(*) FROM {view}").fetchone() == (0,), view
        changes = column_types(con, "changes")
        assert changes["after"] == "JSON"
        assert changes["applied_at"] == "TIMESTAMP WITH TIME ZONE"
        assert (changes["tenant"], changes["date"]) == ("VARCHAR", "DATE")
        assert column_types(con, "emply_user_snapshots")["roles"] == "VARCHAR[]"
        assert list(column_types(con, "runs")).count("tenant") == 1


def test_views_are_rebuilt_when_a_table_gets_its_first_files(tmp_path: Path) -> None:
    views, root = tmp_path / "audit.duckdb", tmp_path / "audit"
    build_views(views, root)
    given = given_platform()
    export_run(given.con, run(given, "2024-05-01 10:00:00+00"), root)

    ensure_views(views, root)

    with duckdb.connect(str(views), read_only=True) as con:
        assert con.execute("SELECT tenant, date::VARCHAR, status FROM runs").fetchall() == [
            ("t", "2024-05-01", "completed")
        ]
        assert con.execute("SELECT count(*) FROM changes").fetchone() == (3,)
        assert con.execute("SELECT count(*) FROM review_queue").fetchone() == (0,)


def test_an_open_connection_sees_runs_exported_after_it_opened(tmp_path: Path) -> None:
    views, root = tmp_path / "audit.duckdb", tmp_path / "audit"
    given = given_platform()
    export_run(given.con, run(given, "2024-05-01 10:00:00+00"), root)

    with open_views(views, root) as analyst:
        assert analyst.execute("SELECT count(*) FROM runs").fetchone() == (1,)
        export_run(given.con, run(given, "2024-05-01 10:30:00+00"), root)
        assert analyst.execute("SELECT count(*) FROM runs").fetchone() == (2,)


def test_daily_views_hold_each_days_last_snapshot(tmp_path: Path) -> None:
    views, root = tmp_path / "audit.duckdb", tmp_path / "audit"
    given = given_platform()
    for started_at in ("2024-05-01 10:00:00+00", "2024-05-01 18:00:00+00"):
        export_run(given.con, run(given, started_at), root)

    with open_views(views, root) as con:
        assert con.execute(
            "SELECT date::VARCHAR, run_id, count(*) FROM emply_users_daily GROUP BY ALL"
        ).fetchall() == [("2024-05-01", "run-2", 4)]
        assert con.execute("SELECT count(*) FROM emply_user_snapshots").fetchone() == (8,)
        assert con.execute("SELECT count(DISTINCT run_id) FROM entra_users_daily").fetchone() == (
            1,
        )
