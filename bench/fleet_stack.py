"""The bench's Prefect side: server (SQLite or PostgreSQL), pool, deployments, K workers."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from prefect.client.orchestration import SyncPrefectClient

from entrasync.ops.children import spawn, stop
from entrasync.ops.local_postgres import LocalPostgres
from entrasync.ops.local_prefect import (
    CHECKOUT,
    POOL,
    LocalPrefect,
    deploy,
    free_port,
    start_server,
    worker_command,
)

WORKERS_ONLINE_TIMEOUT_S = 600.0  # each warm server imports the flows first


@dataclass
class FleetStack:
    prefect: LocalPrefect
    server: subprocess.Popen
    postgres: LocalPostgres | None
    logs: Path
    workers: list[subprocess.Popen] = field(default_factory=list)

    def start_workers(
        self, client: SyncPrefectClient, count: int, limit: int, cold: bool, env: dict[str, str]
    ) -> None:
        names = [f"worker-{index + 1}" for index in range(count)]
        for name in names:
            log = (self.logs / f"{name}.log").open("w")
            self.workers.append(spawn(worker_command(name, limit, cold), env, log, str(CHECKOUT)))
        deadline = time.monotonic() + WORKERS_ONLINE_TIMEOUT_S
        while {w.name for w in client.read_workers_for_work_pool(POOL)} < set(names):
            for worker in self.workers:
                if worker.poll() is not None:
                    raise RuntimeError(f"a worker exited; see {self.logs}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers not online after {WORKERS_ONLINE_TIMEOUT_S:.0f} s")
            time.sleep(1)

    def roots(self) -> dict[str, list[int]]:
        roots = {"prefect server": [self.server.pid], "workers": [w.pid for w in self.workers]}
        if self.postgres:
            from bench.fleet_cpu import postmaster_pid

            roots["postgresql"] = [pid for pid in [postmaster_pid(self.postgres.data)] if pid]
        return roots


@contextlib.contextmanager
def fleet_stack(work_dir: Path, database: str) -> Iterator[FleetStack]:
    logs = work_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    postgres = LocalPostgres().start() if database == "postgres" else None
    port = free_port()
    prefect = LocalPrefect(f"http://127.0.0.1:{port}", work_dir / "prefect-home",
                           postgres.url if postgres else None)  # fmt: skip
    server = None
    try:
        server = start_server(prefect, port, (logs / "server.log").open("w"))
        with (logs / "deploy.log").open("w") as log:
            deploy(prefect, log)
        stack = FleetStack(prefect, server, postgres, logs)
        try:
            yield stack
        finally:
            for worker in stack.workers:
                stop(worker, grace_s=60)
    finally:
        if server is not None:
            stop(server)
        if postgres:
            postgres.stop()
