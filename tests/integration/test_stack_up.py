"""`entrasync stack up` as an operator runs it: the UI shows the first cycle, its tenant runs
and the failing tenant's outcome; Ctrl-C stops every process the command started."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect_stack import CHECKOUT, free_port
from processes import alive, command_line, descendants
from test_prefect_server import tenant_runs, wait_for
from test_prefect_ui import CHROMIUM, SHOTS, page_text

from entrasync.ops.stack_up import DEMO_TENANTS, FAILING_TENANT, MISSING_GROUP

STARTUP_TIMEOUT_S = 300
CYCLE_TIMEOUT_S = 400


def read_until(process: subprocess.Popen, pattern: str, seen: list[str]) -> re.Match:
    """Lines of the command's output until one matches (all kept in `seen`)."""
    for line in process.stdout:
        seen.append(line)
        if match := re.search(pattern, line):
            return match
    raise AssertionError(f"stack up ended before printing {pattern!r}:\n{''.join(seen)}")


@pytest.mark.slow
def test_stack_up_shows_the_cycle_in_the_ui_and_stops_on_ctrl_c(tmp_path):
    assert Path(CHROMIUM).exists(), f"no {CHROMIUM}: run `make test`, which installs Chromium"
    SHOTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = os.environ | {"PYTHONUNBUFFERED": "1", "PREFECT_HOME": str(tmp_path / "outer-home")}
    env.pop("PREFECT_API_URL", None)
    up = subprocess.Popen(
        [sys.executable, "-m", "entrasync", "stack", "up", "--port", str(port),
         "--state-dir", str(tmp_path / "stack")],
        cwd=CHECKOUT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,  # SIGINT below reaches the command alone, as Ctrl-C would
    )  # fmt: skip
    seen: list[str] = []
    try:
        ui = read_until(up, r"Prefect UI: (\S+)", seen).group(1)
        cycle_id = read_until(up, r"first cycle: \S+ \S+/runs/flow-run/(\S+)", seen).group(1)
        assert ui == f"http://127.0.0.1:{port}"
        read_until(up, r"cycle cycle-\S+: Failed", seen)  # the failing tenant fails the cycle

        with (
            temporary_settings({PREFECT_API_URL: f"{ui}/api"}),
            get_client(sync_client=True) as client,
        ):
            runs = tenant_runs(client)
            states = {name: [run.state.name for run in found] for name, found in runs.items()}
            assert states == {f"sync-{t}": ["Completed"] for t in DEMO_TENANTS} | {
                f"sync-{FAILING_TENANT}": ["Failed"]}  # fmt: skip
            failed_run = runs[f"sync-{FAILING_TENANT}"][0]
            keys = ["sync-all-tenants", f"sync-{FAILING_TENANT}-outcome"]
            artifacts = {a.key: a for a in client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=keys)))}  # fmt: skip
        cycle_rows = json.loads(artifacts["sync-all-tenants"].data)
        assert {row["tenant"]: row["state"] for row in cycle_rows}[FAILING_TENANT] == "Failed"

        profile = tmp_path / "chromium-profile"
        cycle_page = page_text(f"{ui}/runs/flow-run/{cycle_id}", profile,
                               SHOTS / "stack-cycle.png")  # fmt: skip
        assert "cycle-" in cycle_page and "Failed" in cycle_page, cycle_page[:2000]
        table_page = page_text(f"{ui}/artifacts/artifact/{artifacts['sync-all-tenants'].id}",
                               profile, SHOTS / "stack-cycle-table.png")  # fmt: skip
        for tenant in (*DEMO_TENANTS, FAILING_TENANT):
            assert f"sync-{tenant}" in table_page, table_page[:2000]
        failed_page = page_text(f"{ui}/runs/flow-run/{failed_run.id}", profile,
                                SHOTS / "stack-failed-run.png")  # fmt: skip
        assert f"sync-{FAILING_TENANT}" in failed_page and "Failed" in failed_page
        outcome_id = artifacts[f"sync-{FAILING_TENANT}-outcome"].id
        outcome_page = page_text(f"{ui}/artifacts/artifact/{outcome_id}", profile,
                                 SHOTS / "stack-failed-outcome.png")  # fmt: skip
        assert f"Tenant {FAILING_TENANT}: failed" in outcome_page, outcome_page[:2000]
        assert MISSING_GROUP in outcome_page, outcome_page[:2000]

        # Ctrl-C: every process the command started ends, and so does the command
        started = descendants(up.pid)
        assert any("prefect" in command_line(pid) and "server" in command_line(pid)
                   for pid in started)  # fmt: skip
        assert any("entrasync.warm.zygote" in command_line(pid) for pid in started)
        os.kill(up.pid, signal.SIGINT)
        output, _ = up.communicate(timeout=120)
        seen.append(output)
        assert up.returncode == 0, "".join(seen)
        assert "stopped" in output
        assert wait_for(lambda: not alive(started), 30), {
            pid: command_line(pid) for pid in alive(started)}  # fmt: skip
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
            up.wait()


# starts real servers: one such test at a time across the xdist workers (tests/conftest.py)
pytestmark = [
    pytest.mark.timeout(STARTUP_TIMEOUT_S + CYCLE_TIMEOUT_S + 300, func_only=True),
    pytest.mark.real_prefect_servers,
]
