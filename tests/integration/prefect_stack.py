"""A real Prefect server (SQLite, loopback), the project's deployments and a process worker."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

CHECKOUT = Path(__file__).resolve().parents[2]
POOL = "entrasync-pool"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PrefectServer:
    url: str  # the UI's address; the API is under /api
    home: Path
    logs: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a Prefect process talking to this server, never to the network."""
        return os.environ | {
            "PREFECT_API_URL": self.api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_TO_API_ENABLED": "true",
            "PREFECT_HOME": str(self.home),
        } | extra  # fmt: skip

    def start(self, name: str, args: list[str], env: dict[str, str], **popen) -> subprocess.Popen:
        """A Prefect or entrasync subprocess in its own process group, logged to `name`.log."""
        log = (self.logs / f"{name}.log").open("w")
        process = subprocess.Popen(
            args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **popen
        )
        self.processes.append(process)
        return process

    def run(self, name: str, args: list[str], env: dict[str, str], **popen) -> str:
        """Run to the end; its output, or AssertionError with the output when it failed."""
        done = subprocess.run(
            args, env=env, capture_output=True, text=True, timeout=180, cwd=CHECKOUT, **popen
        )
        (self.logs / f"{name}.log").write_text(done.stdout + done.stderr)
        assert done.returncode == 0, f"{name} exited {done.returncode}:\n{done.stdout}{done.stderr}"
        return done.stdout

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        for process in reversed(self.processes):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def prefect(*args: str) -> list[str]:
    return [sys.executable, "-m", "prefect", "--no-prompt", *args]


@contextlib.contextmanager
def prefect_server(tmp_path: Path) -> Iterator[PrefectServer]:
    """`prefect server start` on a free loopback port, with no scheduler: tests trigger runs."""
    port = free_port()
    logs = tmp_path / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    server = PrefectServer(f"http://127.0.0.1:{port}", tmp_path / "prefect-home", logs)
    server.home.mkdir(exist_ok=True)
    args = prefect("server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-scheduler")
    process = server.start("server", args, server.env(PREFECT_UI_API_URL=server.api_url))
    try:
        _wait_healthy(server, process)
        yield server
    finally:
        server.stop()


def _wait_healthy(server: PrefectServer, process: subprocess.Popen, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, f"prefect server exited:\n{server.log('server')}"
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.api_url}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise AssertionError(f"prefect server not healthy after {timeout_s} s:\n{server.log('server')}")


def deploy_project(server: PrefectServer) -> str:
    """The process work pool, then every deployment of the project's prefect.yaml."""
    env = server.env()
    server.run("work-pool", prefect("work-pool", "create", POOL, "--type", "process"), env)
    return server.run("deploy", prefect("deploy", "--all"), env)


def start_worker(server: PrefectServer, env: dict[str, str]) -> subprocess.Popen:
    """A process worker on the pool, running the flows of this checkout with `env`."""
    worker_env = server.env(
        ENTRASYNC_CHECKOUT=str(CHECKOUT),
        PREFECT_WORKER_QUERY_SECONDS="1",
        PREFECT_WORKER_PREFETCH_SECONDS="5",
        PREFECT_LOGGING_LEVEL="INFO",
        **env,
    )
    args = prefect("worker", "start", "--pool", POOL, "--type", "process", "--limit", "8")
    return server.start("worker", args, worker_env, cwd=CHECKOUT)
