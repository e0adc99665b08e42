"""The launcher and the warm server, with a stand-in run: the run gets the launcher's output,
environment and directory; its exit code and signals go through; a killed launcher's run is
ended; a launcher without a server starts the run cold."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parents[1]


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait_until(condition, timeout_s: float = 20) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def server(tmp_path):
    path = tmp_path / "warm.sock"
    process = subprocess.Popen([sys.executable, str(HERE / "warm_fake_server.py"), str(path)],
                               cwd=CHECKOUT)  # fmt: skip
    assert wait_until(path.exists), "the warm server never listened"
    yield path
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    assert not path.exists()  # the server removes its socket when it stops


def launch(socket_path: Path | None, cwd: Path, **env: str) -> subprocess.Popen:
    full_env = os.environ | env
    full_env.pop("ENTRASYNC_WARM_SOCKET", None)
    if socket_path:
        full_env["ENTRASYNC_WARM_SOCKET"] = str(socket_path)
    return subprocess.Popen([sys.executable, "-m", "entrasync.warm.launch", "run-id-arg"],
                            cwd=cwd, env=full_env, stdout=subprocess.PIPE, text=True)  # fmt: skip


def test_the_run_speaks_through_the_launcher_and_its_exit_code_comes_back(server, tmp_path):
    launcher = launch(server, tmp_path, FAKE_MARKER="from-the-launcher", FAKE_EXIT="3")
    output, _ = launcher.communicate(timeout=30)
    assert launcher.returncode == 3
    assert f"cwd={tmp_path}" in output and "marker=from-the-launcher" in output
    assert "argv=['run-id-arg']" in output
    run_pid = int(re.search(r"run pid=(\d+)", output).group(1))
    assert run_pid != launcher.pid  # forked by the server, not the launcher itself


def test_a_signal_to_the_launcher_ends_the_run_the_same_way(server, tmp_path):
    launcher = launch(server, tmp_path, FAKE_RUN="sleep")
    run_pid = int(re.search(r"run pid=(\d+)", launcher.stdout.readline()).group(1))
    launcher.send_signal(signal.SIGTERM)  # the worker cancelling the flow run
    launcher.wait(timeout=30)
    assert launcher.returncode == -signal.SIGTERM
    assert wait_until(lambda: not running(run_pid))


def test_a_killed_launcher_takes_its_run_with_it(server, tmp_path):
    launcher = launch(server, tmp_path, FAKE_RUN="sleep")
    run_pid = int(re.search(r"run pid=(\d+)", launcher.stdout.readline()).group(1))
    launcher.kill()  # SIGKILL cannot be relayed: the server sees the launcher go
    launcher.wait(timeout=30)
    assert wait_until(lambda: not running(run_pid))


def test_without_a_server_the_run_starts_cold(tmp_path):
    """No warm server reachable: the launcher starts Prefect's engine in a fresh interpreter,
    which refuses a flow run id that is not one (nothing is running on the other side)."""
    launcher = launch(
        tmp_path / "nobody-listens.sock",
        tmp_path,
        PREFECT__FLOW_RUN_ID="not-a-uuid",
        PREFECT_API_URL="http://127.0.0.1:9/api",
    )
    output, _ = launcher.communicate(timeout=300)
    assert launcher.returncode == 1, output
