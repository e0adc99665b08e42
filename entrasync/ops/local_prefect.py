"""A Prefect server on this machine with the work pool and this checkout's deployments.

What `entrasync stack up`, bench/fleet.py and the integration tests start: `prefect server
start` on loopback (SQLite in its home, or the PostgreSQL URL given), then the process work pool
and `prefect deploy --all` of prefect.yaml, then `entrasync worker`s.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from entrasync.errors import EntrasyncError
from entrasync.ops.children import spawn
from entrasync.prefect_env import set_prefect_defaults

CHECKOUT = Path(__file__).resolve().parents[2]
POOL = "entrasync-pool"
SQLITE_TIMEOUT_S = "60"  # Prefect's default 10 s gave "database is locked" 503s at 30 tenants
HEALTHY_TIMEOUT_S = 240.0  # a fresh database is migrated first; slow on a busy 2-core machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prefect_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "prefect", "--no-prompt", *args]


@dataclass
class LocalPrefect:
    """Where the server is, and the environment of any process that talks to it."""

    url: str  # the UI; the API is under /api
    home: Path
    database_url: str | None = None

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        set_prefect_defaults(environ=env)
        env |= {"PREFECT_API_URL": self.api_url, "PREFECT_HOME": str(self.home)}
        if self.database_url:
            env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = self.database_url
        else:  # SQLite has one writer: under a fleet's runs a write waits longer than 10 s
            env["PREFECT_SERVER_DATABASE_TIMEOUT"] = SQLITE_TIMEOUT_S
        return env | extra


def start_server(
    prefect: LocalPrefect, port: int, output: IO | None = None, scheduler: bool = False
) -> subprocess.Popen:
    """`prefect server start` on 127.0.0.1:`port`; returns once its API answers."""
    prefect.home.mkdir(parents=True, exist_ok=True)
    args = prefect_command("server", "start", "--host", "127.0.0.1", "--port", str(port))
    if not scheduler:
        args.append("--no-scheduler")
    process = spawn(args, prefect.env(PREFECT_UI_API_URL=prefect.api_url), output)
    wait_healthy(prefect, process)
    return process


def wait_healthy(prefect: LocalPrefect, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + HEALTHY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EntrasyncError(f"prefect server exited ({process.returncode}) before answering")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{prefect.api_url}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise EntrasyncError(f"prefect server not answering after {HEALTHY_TIMEOUT_S:.0f} s")


def run_prefect(prefect: LocalPrefect, args: list[str], output: IO | None = None) -> None:
    done = subprocess.run(
        args, env=prefect.env(), cwd=CHECKOUT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=600,
    )  # fmt: skip
    if output:
        output.write(done.stdout)
        output.flush()
    if done.returncode:
        raise EntrasyncError(
            f"{' '.join(args[2:])} exited {done.returncode}: {done.stdout[-2000:]}"
        )


def deploy(prefect: LocalPrefect, output: IO | None = None) -> None:
    """The process work pool, then every deployment of prefect.yaml."""
    create_pool = prefect_command("work-pool", "create", POOL, "--type", "process", "--overwrite")
    run_prefect(prefect, create_pool, output)
    run_prefect(prefect, prefect_command("deploy", "--all"), output)


def worker_command(name: str, limit: int, cold: bool = False) -> list[str]:
    """`entrasync worker` on the pool (warm unless `cold`)."""
    args = [sys.executable, "-m", "entrasync", "worker", "--pool", POOL, "--name", name,
            "--limit", str(limit)]  # fmt: skip
    return args + (["--cold"] if cold else [])
