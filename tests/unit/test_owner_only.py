"""The data folder is its owner's alone (0700 folders, 0600 files), even under umask 000."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from test_history_export import given_platform, run

from entrasync.warehouse.db import connect
from entrasync.warehouse.history import export_run
from entrasync.warehouse.history_compact import compact
from entrasync.warehouse.history_views import build_views
from entrasync.warehouse.paths import history_root, views_file, warehouse_file


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes_under(folder: Path) -> dict[str, int]:
    return {str(path.relative_to(folder)): mode(path) for path in folder.rglob("*")}


@pytest.fixture
def wide_open_umask() -> Iterator[None]:
    """umask 000 for the test: without care every file would be 0666 and folder 0777."""
    before = os.umask(0)
    try:
        yield
    finally:
        os.umask(before)


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wide_open_umask) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("ENTRASYNC_DATA_DIR", str(data))
    return data


def test_a_warehouse_and_its_wal_are_owner_only(data: Path) -> None:
    with connect("t") as con:
        con.execute("CREATE TABLE scratch AS SELECT range AS n FROM range(1000)")
        wal = warehouse_file("t").with_name("t.duckdb.wal")
        assert wal.exists()  # still open: the write sits in the WAL
        assert mode(wal) == 0o600
    assert mode(data) == 0o700 and mode(data / "warehouse") == 0o700
    assert mode(warehouse_file("t")) == 0o600


def test_a_warehouse_left_readable_by_an_older_version_is_closed(data: Path) -> None:
    with connect("t"):
        pass
    os.chmod(warehouse_file("t"), 0o644)
    os.chmod(data / "warehouse", 0o755)
    with connect("t"):
        pass
    assert mode(warehouse_file("t")) == 0o600 and mode(data / "warehouse") == 0o700


def test_history_manifests_views_and_compacted_files_are_owner_only(data: Path) -> None:
    root = history_root()
    given = given_platform()
    for started_at in ("2024-05-01 08:00:00+00", "2024-05-01 09:00:00+00"):
        export_run(given.con, run(given, started_at), root)
    compact(root, before=date(2024, 5, 2))
    build_views()

    found = modes_under(data)
    assert any(name.startswith("audit/manifests/t/") for name in found)
    assert any("compacted-" in name for name in found)
    assert {name: m for name, m in found.items() if m != (0o700 if (data / name).is_dir()
                                                        else 0o600)} == {}  # fmt: skip
    assert mode(views_file()) == 0o600 and mode(data) == 0o700


def test_the_umask_is_only_ever_tightened(data: Path) -> None:
    os.umask(0o027)
    with connect("t"):
        pass
    assert os.umask(0o027) == 0o077
    os.umask(0o277)  # stricter than needed: kept
    with connect("t"):
        pass
    assert os.umask(0) == 0o277
