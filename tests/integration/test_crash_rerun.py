"""Exactly-once writes: a sync killed mid-write, then rerun, applies each change once."""

import contextlib
import os
import signal
import subprocess
import sys

import pytest
from demo_tenant import demo_tenant

from flows.launch import run_sync


@pytest.mark.slow
def test_killed_sync_then_rerun_applies_each_change_exactly_once(stack, tmp_path):
    with demo_tenant(stack, tmp_path) as (tenants_file, env):
        control = stack.control()
        log = tmp_path / "killed-sync.log"
        with log.open("w") as output:
            # its own session: the orphaned helpers of the killed process (Prefect's temporary
            # server) are ended with it
            killed = subprocess.Popen(
                [sys.executable, "-m", "entrasync", "sync", "--tenant", "demo",
                 "--tenants-file", str(tenants_file)],
                env=os.environ | env | {
                    "ENTRASYNC_CRASH_AFTER_WRITES": "25",
                    # its own Prefect home: two temporary servers on one SQLite file lock up
                    "PREFECT_HOME": str(tmp_path / "prefect-killed"),
                },
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            try:
                returncode = killed.wait(timeout=240)
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(killed.pid, signal.SIGKILL)
        assert returncode == 86, log.read_text()[-3000:]
        writes_before_kill = control.emply_stats("demo")["writes"]
        assert writes_before_kill == 25

        rerun = run_sync("demo", tenants_file=str(tenants_file))
        assert rerun["status"] == "completed", rerun["error"]
        planned_after_kill = sum(n for k, n in rerun["changes"].items() if k != "finding")

        # A clean reference: the same platform synced once without a crash.
        reference_dir = tmp_path / "reference"
        reference_dir.mkdir()
        with demo_tenant(stack, reference_dir) as (reference_file, _):
            reference = run_sync("demo", tenants_file=str(reference_file))
        expected_writes = sum(n for k, n in reference["changes"].items() if k != "finding")

        # Every change of the crashed run was applied once: 25 before the kill, the rest after.
        assert writes_before_kill + planned_after_kill == expected_writes
        users = control.emply_user("demo", "megan.bowen0@contoso.com")
        assert users["exists"] and users["entra_object_id"]
        again = run_sync("demo", tenants_file=str(tenants_file))
        assert {k: n for k, n in again["changes"].items() if k != "finding"} == {}
