"""Debian's PostgreSQL for a Prefect server: a private cluster on a loopback port.

The `postgresql` package (installed by `make test`) brings initdb and pg_ctl under
/usr/lib/postgresql/<version>/bin. PostgreSQL refuses to run as root, so as root the cluster
belongs to the `postgres` user and its commands run through `runuser`.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from entrasync.errors import EntrasyncError
from entrasync.ops.local_prefect import free_port

DATABASE = "prefect"
ROLE = "prefect"


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version)
    if not found:
        raise EntrasyncError(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/pg_ctl): run `make test`,"
            " which installs Debian's `postgresql`"
        )
    return Path(found[-1]).parent


def _version(path: str) -> int:
    return int(Path(path).parts[4]) if Path(path).parts[4].isdigit() else 0


@dataclass
class LocalPostgres:
    """`start()` it; `url` is for Prefect (asyncpg); `stop()` ends and removes the cluster."""

    port: int = field(default_factory=free_port)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="entrasync-pg-")))

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://{ROLE}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def _run(self, *args: str) -> str:
        command = [str(arg) for arg in args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode:
            said = (done.stderr or done.stdout)[-800:]
            raise EntrasyncError(f"{Path(args[0]).name} exited {done.returncode}: {said}")
        return done.stdout

    def start(self) -> LocalPostgres:
        bin_dir = postgres_bin()
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run(bin_dir / "initdb", "-D", self.data, "-U", ROLE, "--auth=trust", "-E", "UTF8")
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(bin_dir / "pg_ctl", "-D", self.data, "-o", options,
                  "-l", self.directory / "server.log", "-w", "start")  # fmt: skip
        self._run(bin_dir / "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", ROLE,
                  DATABASE)  # fmt: skip
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(postgres_bin() / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
