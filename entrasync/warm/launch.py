"""The deployments' command: one flow run, forked by the worker's warm server when it has one.

`python -m entrasync.warm.launch` is what a process worker starts for each flow run (the
`command` job variable in prefect.yaml). It imports nothing but the standard library, so it
costs a few hundredths of a second of CPU. With `ENTRASYNC_WARM_SOCKET` set (`entrasync
worker` sets it) it hands its environment, working directory and stdin/stdout/stderr to the
warm server, which forks a preloaded child that runs the Prefect engine for the flow run;
without it (a plain `prefect worker start`), or when the server cannot be reached, it starts
the same child cold. Either way it stands in for that child: signals it receives (the
worker's cancellation) go to the child, and it exits as the child did (same code, same
signal), so the worker sees what it would have seen of `python -m prefect.engine`.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import socket
import struct
import sys
import time
from typing import Any

SOCKET_ENV = "ENTRASYNC_WARM_SOCKET"
STATS_ENV = "ENTRASYNC_WARM_STATS"  # a JSON-lines file: per-run figures for bench/fleet.py
WORKER_ENV = "ENTRASYNC_WORKER_NAME"  # `entrasync worker --name`, named in those figures
RELAYED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1)
HEADER = struct.Struct("!I")
CONNECT_TIMEOUT_S = 5.0


def send_message(sock: socket.socket, message: dict[str, Any], fds: list[int] = ()) -> None:
    """A length-prefixed JSON message; `fds` travel with its header (SCM_RIGHTS)."""
    body = json.dumps(message).encode()
    if fds:
        socket.send_fds(sock, [HEADER.pack(len(body))], list(fds))
    else:
        sock.sendall(HEADER.pack(len(body)))
    sock.sendall(body)


def receive_message(sock: socket.socket, max_fds: int = 0) -> tuple[dict[str, Any] | None, list]:
    """(message, fds), or (None, []) when the peer closed the connection."""
    if max_fds:
        header, fds, _, _ = socket.recv_fds(sock, HEADER.size, max_fds)
    else:
        header, fds = sock.recv(HEADER.size, socket.MSG_WAITALL), []
    if len(header) < HEADER.size:
        return None, fds
    (length,) = HEADER.unpack(header)
    body = sock.recv(length, socket.MSG_WAITALL) if length else b""
    if len(body) < length:
        return None, fds
    return json.loads(body), fds


def record(source: str, figures: dict[str, Any]) -> None:
    """Append one line to the stats file, when the bench asked for one (one write: atomic)."""
    path = os.environ.get(STATS_ENV)
    if not path:
        return
    line = json.dumps({"source": source, "flow_run_id": os.environ.get("PREFECT__FLOW_RUN_ID"),
                       "worker": os.environ.get(WORKER_ENV), **figures})  # fmt: skip
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


class Launch:
    """The child's stand-in: relays signals to it and ends as it ended."""

    def __init__(self) -> None:
        self.child_pid: int | None = None
        self.pending: list[int] = []  # signals that arrived before the child existed
        for signum in RELAYED:
            signal.signal(signum, self._relay)

    def _relay(self, signum: int, frame: object) -> None:
        if self.child_pid is None:
            self.pending.append(signum)
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.child_pid, signum)

    def started(self, pid: int) -> None:
        self.child_pid = pid
        for signum in self.pending:
            self._relay(signum, None)

    def warm(self, path: str) -> tuple[int, dict[str, Any]] | None:
        """(wait status, child's CPU) from the warm server; None when it cannot be reached."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(CONNECT_TIMEOUT_S)
        try:
            sock.connect(path)
            request = {"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}
            send_message(sock, request, [0, 1, 2])
            answer, _ = receive_message(sock)
        except OSError as error:
            print(f"entrasync: warm server {path} not reached ({error}); starting cold",
                  file=sys.stderr)  # fmt: skip
            sock.close()
            return None
        if answer is None or "pid" not in answer:
            print(f"entrasync: warm server refused the run ({answer}); starting cold",
                  file=sys.stderr)  # fmt: skip
            sock.close()
            return None
        sock.settimeout(None)  # the run takes as long as it takes
        self.started(answer["pid"])
        ended, _ = receive_message(sock)
        if ended is None:  # the server died: its child must not run on unsupervised
            self._relay(signal.SIGKILL, None)
            print("entrasync: the warm server went away during the run", file=sys.stderr)
            return 1 << 8, {}
        return ended["status"], ended["cpu"]

    def cold(self) -> tuple[int, dict[str, Any]]:
        """A fresh interpreter runs the child: it pays every import itself."""
        argv = [sys.executable, "-m", "entrasync.warm.engine_child", *sys.argv[1:]]
        pid = os.fork()
        if pid == 0:
            try:
                for signum in RELAYED:
                    signal.signal(signum, signal.SIG_DFL)
                os.execv(sys.executable, argv)
            finally:
                os._exit(127)
        self.started(pid)
        _, status, usage = os.wait4(pid, 0)
        return status, {"user_s": usage.ru_utime, "system_s": usage.ru_stime,
                        "max_rss_mib": usage.ru_maxrss / 1024}  # fmt: skip


def main() -> None:
    started = time.time()
    launch = Launch()
    path = os.environ.get(SOCKET_ENV)
    outcome = launch.warm(path) if path else None
    mode = "warm" if outcome else "cold"
    status, child_cpu = outcome or launch.cold()
    own = resource.getrusage(resource.RUSAGE_SELF)
    record("launch", {"mode": mode, "started_at": started, "ended_at": time.time(),
                      "launch_cpu_s": own.ru_utime + own.ru_stime, "child_cpu": child_cpu,
                      "status": status})  # fmt: skip
    sys.stdout.flush()
    sys.stderr.flush()
    if os.WIFSIGNALED(status):  # end as the child did, so the worker reports the same crash
        signum = os.WTERMSIG(status)
        if signum != signal.SIGKILL:
            signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


if __name__ == "__main__":
    main()
