"""Test-session settings: a private Prefect home, quiet logs, no telemetry, no network; tests
that start real Prefect servers run one at a time across the xdist workers."""

import fcntl
import os
import tempfile
import time
from pathlib import Path

import pytest

from entrasync.prefect_env import set_prefect_defaults

# Before anything imports Prefect: a private home (its temporary server's SQLite file) so test
# runs never share state with a developer's Prefect or with each other. An xdist worker inherits
# the controller's environment, so each worker makes its own (one SQLite file per server).
if os.environ.get("PYTEST_XDIST_WORKER") or "PREFECT_HOME" not in os.environ:
    os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="entrasync-prefect-")
set_prefect_defaults(quiet=True)
os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")

# A test module marked `real_prefect_servers` starts Prefect servers, workers and runs of its
# own: on two cores two of them at once starve each other, so they take turns (their
# `timeout` marks say func_only: the turn's wait is bounded here, not by the test's timeout).
REAL_SERVERS_TURN_WAIT_S = 45 * 60


@pytest.fixture(scope="module", autouse=True)
def _real_prefect_servers_take_turns(request, tmp_path_factory):
    if request.node.get_closest_marker("real_prefect_servers") is None:
        yield
        return
    # the parent of the basetemp is shared by the xdist workers of one session only
    lock_file = Path(tmp_path_factory.getbasetemp()).parent / "real-prefect-servers.lock"
    with lock_file.open("a") as lock:
        deadline = time.monotonic() + REAL_SERVERS_TURN_WAIT_S
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"no turn for real Prefect servers in {REAL_SERVERS_TURN_WAIT_S} s")
                time.sleep(1)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
