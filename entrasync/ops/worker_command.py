"""`entrasync worker`: a Prefect process worker whose flow runs are forked warm.

It starts the warm server (`entrasync.warm.zygote`: the flows imported once), waits until it
listens, then `prefect worker start --type process` with `ENTRASYNC_WARM_SOCKET` in its
environment, which every flow run's launcher (prefect.yaml's `command`) inherits. Ctrl-C or
SIGTERM stops the worker first (it ends its running flow runs), then the warm server.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from entrasync.errors import EntrasyncError
from entrasync.ops.children import spawn, stop
from entrasync.warm.launch import SOCKET_ENV, WORKER_ENV

SERVER_START_TIMEOUT_S = 300.0  # the imports take ~12 s of CPU; on a busy machine much longer


def add_worker_command(commands: argparse._SubParsersAction) -> None:
    worker = commands.add_parser(
        "worker", help="a Prefect process worker whose flow runs start warm (forked)"
    )
    worker.add_argument("--pool", default="entrasync-pool")
    worker.add_argument("--name", help="the worker's name in Prefect (default: Prefect's)")
    worker.add_argument("--limit", type=int, help="flow runs at once on this worker")
    worker.add_argument(
        "--cold", action="store_true", help="no warm server: each run imports everything itself"
    )
    worker.set_defaults(handler=run_worker)


def start_warm_server(
    socket_path: Path, env: dict[str, str], stopping: list[int] | None = None
) -> subprocess.Popen | None:
    """The warm server, once it listens on `socket_path` (None if asked to stop meanwhile)."""
    server = spawn([sys.executable, "-m", "entrasync.warm.zygote", str(socket_path)], env)
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while not socket_path.exists():
        if stopping:
            stop(server)
            return None
        if server.poll() is not None:
            raise EntrasyncError(f"the warm server exited ({server.returncode}) before listening")
        if time.monotonic() > deadline:
            stop(server)
            raise EntrasyncError(
                f"the warm server did not listen within {SERVER_START_TIMEOUT_S:.0f} s"
            )
        time.sleep(0.2)
    return server


def worker_args(pool: str, name: str | None, limit: int | None) -> list[str]:
    args = [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool, "--type", "process"]
    if name:
        args += ["--name", name]
    if limit:
        args += ["--limit", str(limit)]
    return args


def run_worker(args: argparse.Namespace) -> int:
    stopping: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda signum, frame: stopping.append(signum))
    with tempfile.TemporaryDirectory(prefix="entrasync-warm-") as scratch:
        socket_path = Path(scratch) / "server.sock"
        env = dict(os.environ) | ({WORKER_ENV: args.name} if args.name else {})
        server = None
        if not args.cold:
            server = start_warm_server(socket_path, env, stopping)
            if server is None:
                return 0
            env[SOCKET_ENV] = str(socket_path)
        worker = spawn(worker_args(args.pool, args.name, args.limit), env)
        try:
            while not stopping and worker.poll() is None:
                if server is not None and server.poll() is not None:
                    print(f"entrasync worker: the warm server exited ({server.returncode})",
                          file=sys.stderr)  # fmt: skip
                    break
                time.sleep(0.5)
        finally:
            code = stop(worker)
            if server is not None:
                stop(server)
    return 0 if stopping else code
