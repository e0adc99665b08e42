"""A real sync under umask 000 leaves only owner-only folders and files in the data folder."""

from __future__ import annotations

import os
import stat

import pytest
from demo_tenant import demo_tenant

from entrasync.warehouse.history_views import build_views
from flows.launch import run_sync


@pytest.mark.slow
def test_a_sync_under_umask_000_writes_owner_only(stack, tmp_path) -> None:
    before = os.umask(0)
    try:
        with demo_tenant(stack, tmp_path) as (tenants_file, env):
            summary = run_sync("demo", tenants_file=str(tenants_file))
            build_views()
    finally:
        os.umask(before)
    assert summary["status"] == "completed", summary
    data = tmp_path / "data"
    modes = {
        str(path.relative_to(data)): stat.S_IMODE(path.lstat().st_mode)
        for path in [data, *data.rglob("*")]
    }
    assert {"warehouse/demo.duckdb", "audit.duckdb", "audit/manifests/demo/00000001.json"} <= set(
        modes
    )
    loose = {name: f"{m:o}" for name, m in modes.items()
             if m != (0o700 if (data / name).is_dir() else 0o600)}  # fmt: skip
    assert loose == {}
