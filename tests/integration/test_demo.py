"""The README's first command: the demo syncs twice and the second sync changes nothing."""

import os
import re
import subprocess
import sys

import duckdb
import pytest

from entrasync.warehouse.paths import warehouse_file


@pytest.mark.slow
def test_demo_syncs_twice_and_second_sync_plans_zero_changes(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "entrasync", "demo"],
        env=os.environ
        | {"ENTRASYNC_DATA_DIR": str(tmp_path), "PREFECT_HOME": str(tmp_path / "prefect")},
        capture_output=True, text=True, timeout=300, start_new_session=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = dict(
        (m.group(1), (int(m.group(2)), int(m.group(3))))
        for m in re.finditer(r"^(\w+)\s+(\d+)\s+(\d+)$", done.stdout, re.MULTILINE)
    )
    assert rows["create_user"][0] > 100 and rows["link_user"][0] > 50
    assert all(second == 0 for _first, second in rows.values()), rows
    assert re.search(r"run status\s+completed\s+completed", done.stdout)
    warehouse = warehouse_file("demo", tmp_path)
    assert str(warehouse) in done.stdout
    with duckdb.connect(str(warehouse), read_only=True) as con:
        applied = con.execute("SELECT count(*) FROM changes WHERE outcome = 'applied'").fetchone()
        runs = con.execute("SELECT status FROM runs ORDER BY started_at").fetchall()
    assert applied[0] == sum(first for first, _second in rows.values())
    assert runs == [("completed",), ("completed",)]
