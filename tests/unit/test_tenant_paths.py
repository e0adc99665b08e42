"""Every path made from a tenant name stays in its place, even when the settings are bypassed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_history_export import given_platform, run

from entrasync.errors import EntrasyncError, PathError, SettingsError
from entrasync.warehouse import paths
from entrasync.warehouse.db import connect, connect_read_only, warehouse_path
from entrasync.warehouse.history import export_run
from entrasync.warehouse.history_chain import append_link
from entrasync.warehouse.history_compact import compact

NOT_NAMES = ["../warehouse/other", "../../x", "/etc/passwd", "a/b", "..", ".", "", "Nordic_EU",
             "nordic eu", "-a", "a-", "a" * 64, "a\0b", "tenant=a"]  # fmt: skip


def everything_under(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("ENTRASYNC_DATA_DIR", str(data))
    return data


@pytest.mark.parametrize("name", NOT_NAMES)
def test_no_path_is_made_from_a_name_that_is_not_a_dns_label(data: Path, name: str) -> None:
    root = paths.history_root()
    for make in (
        lambda: paths.warehouse_file(name),
        lambda: warehouse_path(name),
        lambda: connect(name),
        lambda: paths.history_partition(root, "runs", name, "2024-05-01"),
        lambda: paths.tenant_history(root, "runs", name),
        lambda: paths.manifest_folder(root, name),
        lambda: append_link(root, name, "export", {}),
    ):
        with pytest.raises(SettingsError, match="not a valid tenant name"):
            make()
    with pytest.raises(SettingsError), connect_read_only(name):
        pass
    assert everything_under(data.parent) == {"data"}


def test_a_tenant_name_is_its_file_name(data: Path) -> None:
    assert paths.warehouse_file("nordic-eu") == data / "warehouse" / "nordic-eu.duckdb"
    partition = paths.history_partition(data / "audit", "runs", "nordic-eu", "2024-05-01")
    assert partition == data / "audit" / "runs" / "tenant=nordic-eu" / "date=2024-05-01"
    assert paths.manifest_folder(data / "audit", "a") == data / "audit" / "manifests" / "a"


def test_a_history_row_naming_another_place_writes_nothing(data: Path) -> None:
    """The tenant of an export comes from the warehouse's `runs`: a forged row goes nowhere."""
    given = given_platform()
    run_id = run(given, "2024-05-01 10:00:00+00")
    for forged in ("../../x", "../warehouse", "a/b"):
        given.con.execute("UPDATE runs SET tenant = ?", [forged])
        with pytest.raises(SettingsError, match="not a valid tenant name"):
            export_run(given.con, run_id, paths.history_root())
    assert everything_under(data.parent) == {"data"}


def test_other_path_parts_are_checked_too(data: Path) -> None:
    root = paths.history_root()
    with pytest.raises(PathError):
        paths.history_partition(root, "../runs", "t", "2024-05-01")
    with pytest.raises(PathError):
        paths.history_partition(root, "runs", "t", "../../x")
    folder = paths.history_partition(root, "runs", "t", "2024-05-01")
    for name in ("../x.parquet", "/etc/passwd", "a/b.parquet", ".."):
        with pytest.raises(PathError):
            paths.history_file(folder, name)


def test_a_link_from_the_warehouse_folder_to_elsewhere_is_refused(data: Path) -> None:
    elsewhere = data.parent / "elsewhere"
    elsewhere.mkdir()
    (data / "warehouse").symlink_to(elsewhere)
    with pytest.raises(PathError, match="link leads out"):
        paths.warehouse_file("a")
    with pytest.raises(PathError):
        connect("a")
    assert not list(elsewhere.iterdir())


def test_a_tenants_file_linked_to_another_tenants_file_is_refused(data: Path) -> None:
    with connect("other"):
        pass
    (data / "warehouse" / "mine.duckdb").symlink_to(data / "warehouse" / "other.duckdb")
    with pytest.raises(PathError, match="link leads out"):
        connect("mine")
    with pytest.raises(PathError), connect_read_only("mine"):
        pass


def test_a_tenant_partition_linked_to_another_tenant_is_refused(data: Path) -> None:
    given = given_platform()
    root = paths.history_root()
    export_run(given.con, run(given, "2024-05-01 10:00:00+00"), root)
    (root / "runs" / "tenant=u").symlink_to(root / "runs" / "tenant=t")
    (root / "changes" / "tenant=u").symlink_to(root / "changes" / "tenant=t")
    before = everything_under(data)

    with pytest.raises(PathError):
        paths.history_partition(root, "runs", "u", "2024-05-01")
    with pytest.raises(PathError):
        compact(root)  # finds the linked folder and refuses it
    assert everything_under(data) == before


def test_a_history_folder_linked_elsewhere_is_refused(data: Path) -> None:
    elsewhere = data.parent / "elsewhere"
    elsewhere.mkdir()
    (data / "audit").symlink_to(elsewhere)
    with pytest.raises(PathError):
        paths.history_root()


def test_a_data_folder_reached_through_a_link_is_fine(tmp_path: Path, monkeypatch) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "alias").symlink_to(real)
    monkeypatch.setenv("ENTRASYNC_DATA_DIR", str(tmp_path / "alias"))
    with connect("a"):
        pass
    assert (real / "warehouse" / "a.duckdb").exists()
    assert paths.warehouse_file("a") == real / "warehouse" / "a.duckdb"


def test_bad_names_are_one_line_errors_of_our_own(data: Path) -> None:
    with pytest.raises(EntrasyncError) as caught:
        paths.warehouse_file("../x")
    assert "\n" not in str(caught.value) and "DNS label" in str(caught.value)
    assert not os.path.exists(data / "x.duckdb")
