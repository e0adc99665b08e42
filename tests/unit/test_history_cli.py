"""The history commands: export a tenant's runs, query the views, compact, and the old query."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_history_export import given_platform, run

from entrasync.cli import main
from entrasync.warehouse.paths import warehouse_file


def entrasync(*argv: str) -> int:
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    return exit_.value.code


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir whose tenant `t` has a warehouse file with two runs on two days."""
    monkeypatch.setenv("ENTRASYNC_DATA_DIR", str(tmp_path))
    given = given_platform()
    run(given, "2024-05-01 10:00:00+00")
    run(given, "2024-05-02 10:00:00+00")
    warehouse = warehouse_file("t", tmp_path)
    warehouse.parent.mkdir()
    given.con.execute(f"ATTACH '{warehouse}' AS saved")
    given.con.execute("COPY FROM DATABASE memory TO saved")
    given.con.execute("DETACH saved")
    return tmp_path


def test_export_then_query_the_history(data: Path, capsys: pytest.CaptureFixture) -> None:
    assert entrasync("history", "export", "--tenant", "t") == 0
    assert "2 runs written" in capsys.readouterr().out

    assert entrasync("query", "SELECT string_agg(run_id, '+' ORDER BY run_id) FROM runs") == 0
    assert "run-1+run-2" in capsys.readouterr().out
    assert not (data / "audit.duckdb").exists()  # its views are built in memory, each time


def test_query_with_a_tenant_still_reads_its_warehouse(data: Path, capsys) -> None:
    assert entrasync("query", "--tenant", "t", "SELECT 'wh-' || count(*) FROM runs") == 0
    assert "wh-2" in capsys.readouterr().out
    assert not (data / "audit.duckdb").exists()


def test_compact_keeps_what_the_views_show(data: Path, capsys) -> None:
    entrasync("history", "export", "--tenant", "t")
    entrasync("history", "export", "--tenant", "t", "--run-id", "run-1")  # a rerun: no duplicate

    assert entrasync("history", "compact", "--before", "2024-05-02") == 0
    assert "compacted 0 partitions" in capsys.readouterr().out  # one file per day already

    assert entrasync("query", "SELECT 'n=' || count(*) FROM changes") == 0
    assert "n=6" in capsys.readouterr().out


def test_a_bad_query_is_one_line_without_traceback(data: Path, capsys) -> None:
    assert entrasync("query", "SELECT * FROM no_such_view") == 2
    assert capsys.readouterr().err.startswith("entrasync: query failed:")
