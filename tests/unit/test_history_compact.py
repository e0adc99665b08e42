"""Compaction merges each partition into one file, keeps every row, and is safe to rerun."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
from test_history_export import given_platform, run

from entrasync.warehouse.history import EXPORTS, export_run, tables_with_files
from entrasync.warehouse.history_compact import JOURNAL, compact, compact_partition

DAYS = ("2024-05-01 08:00:00+00", "2024-05-01 08:30:00+00", "2024-05-01 09:00:00+00",
        "2024-05-02 08:00:00+00", "2024-05-02 08:30:00+00")  # fmt: skip


def history(root: Path, starts: tuple[str, ...] = DAYS) -> None:
    given = given_platform()
    for started_at in starts:
        export_run(given.con, run(given, started_at), root)


def every_row(root: Path) -> dict[str, list[tuple]]:
    found = {}
    for table in tables_with_files(root):
        source = f"read_parquet('{root}/{table}/*/*/*.parquet', hive_partitioning = true)"
        found[table] = duckdb.sql(f"SELECT * FROM {source} ORDER BY ALL").fetchall()
    return found


def parquet_files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.glob("*.parquet"))


def test_compaction_keeps_every_row_in_one_file_per_partition(tmp_path: Path) -> None:
    history(tmp_path)
    before = every_row(tmp_path)

    merged = compact(tmp_path, before=date(2024, 5, 3))

    assert every_row(tmp_path) == before
    assert len(merged) == 2 * len(EXPORTS) - 2  # review_queue has no files
    for folder in tmp_path.glob("*/tenant=t/date=*"):
        [name] = parquet_files(folder)
        assert name.startswith("compacted-")
    assert not list(tmp_path.rglob(".*"))


def test_only_days_before_the_cutoff_are_compacted(tmp_path: Path) -> None:
    history(tmp_path)

    compact(tmp_path, before=date(2024, 5, 2))

    assert len(parquet_files(tmp_path / "changes/tenant=t/date=2024-05-01")) == 1
    assert len(parquet_files(tmp_path / "changes/tenant=t/date=2024-05-02")) == 2


def test_today_is_left_alone_by_default(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    history(tmp_path, (f"{now:%Y-%m-%d} 00:00:00+00", f"{now:%Y-%m-%d} 00:00:01+00"))

    assert compact(tmp_path) == []
    assert len(parquet_files(tmp_path / f"runs/tenant=t/date={now:%Y-%m-%d}")) == 2


def test_compacting_again_changes_nothing(tmp_path: Path) -> None:
    history(tmp_path)
    compact(tmp_path, before=date(2024, 5, 3))
    files = {path: path.read_bytes() for path in tmp_path.rglob("*.parquet")}

    assert compact(tmp_path, before=date(2024, 5, 3)) == []
    assert {path: path.read_bytes() for path in tmp_path.rglob("*.parquet")} == files


def test_an_interrupted_compaction_is_finished_by_the_next(tmp_path: Path) -> None:
    history(tmp_path)
    folder = tmp_path / "runs/tenant=t/date=2024-05-01"
    before = every_row(tmp_path)
    inputs = parquet_files(folder)
    # Killed after the merged file landed, before the inputs were removed.
    merged = compact_partition(folder)
    for name in inputs:
        duckdb.sql(f"COPY (SELECT * FROM '{merged}' WHERE false) TO '{folder / name}'")
    (folder / JOURNAL).write_text(json.dumps({"output": merged.name, "inputs": inputs}))

    compact(tmp_path, before=date(2024, 5, 3))

    assert parquet_files(folder) == [merged.name]
    assert every_row(tmp_path) == before


def test_a_compaction_killed_before_its_file_landed_is_forgotten(tmp_path: Path) -> None:
    history(tmp_path)
    folder = tmp_path / "runs/tenant=t/date=2024-05-01"
    before = every_row(tmp_path)
    (folder / ".compacted-x.parquet.tmp").write_bytes(b"half a file")
    (folder / JOURNAL).write_text(
        json.dumps({"output": "compacted-x.parquet", "inputs": parquet_files(folder)})
    )

    compact(tmp_path, before=date(2024, 5, 3))

    assert len(parquet_files(folder)) == 1
    assert not list(folder.glob(".*"))
    assert every_row(tmp_path) == before


def test_rerunning_the_export_of_a_compacted_run_replaces_its_rows(tmp_path: Path) -> None:
    given = given_platform()
    for started_at in DAYS[:3]:
        export_run(given.con, run(given, started_at), tmp_path)
    compact(tmp_path, before=date(2024, 5, 3))

    given.con.execute("UPDATE runs SET error = 'checked by hand' WHERE run_id = 'run-2'")
    export_run(given.con, "run-2", tmp_path)

    runs = duckdb.sql(
        f"SELECT run_id, error FROM '{tmp_path}/runs/*/*/*.parquet' ORDER BY run_id"
    ).fetchall()
    assert runs == [("run-1", None), ("run-2", "checked by hand"), ("run-3", None)]
    changes = duckdb.sql(
        f"SELECT run_id, count(*) FROM '{tmp_path}/changes/*/*/*.parquet' GROUP BY ALL ORDER BY 1"
    ).fetchall()
    assert changes == [("run-1", 3), ("run-2", 3), ("run-3", 3)]
