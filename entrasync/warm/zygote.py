"""The warm server: imports the flows once, then forks one child per flow run it is asked for.

`python -m entrasync.warm.zygote SOCKET` (started by `entrasync worker` beside the Prefect
worker). Single-threaded on purpose: forking a process with threads alive can leave a lock
held forever in the child, so the server checks that none runs after its imports and waits
on its sockets and its children's pidfds with one selector. Each child is a separate process
(one tenant's crash ends only its own run); it is killed when its launcher goes away (the
worker killed the launcher), and every child is ended when the server stops.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass

from entrasync.warm.engine_child import cpu_s, preload, run_forked
from entrasync.warm.launch import receive_message, record, send_message

STOP_GRACE_S = 20.0
REQUEST_TIMEOUT_S = 10.0


@dataclass
class Child:
    pid: int
    pidfd: int
    conn: socket.socket


class WarmServer:
    def __init__(self, path: str) -> None:
        self.path = path
        self.selector = selectors.DefaultSelector()
        self.children: dict[int, Child] = {}  # by pid
        self.stopping = False
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)

    def listen(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self.listener.bind(self.path)
        os.chmod(self.path, 0o600)  # only this user's launchers
        self.listener.listen(64)
        self.selector.register(self.listener, selectors.EVENT_READ, self._accept)

    def serve(self) -> None:
        while not (self.stopping and not self.children):
            for key, _ in self.selector.select(timeout=1.0):
                key.data(key.fileobj)

    def _accept(self, listener: socket.socket) -> None:
        conn, _ = listener.accept()
        if self.stopping:
            conn.close()
            return
        conn.settimeout(REQUEST_TIMEOUT_S)
        fds: list[int] = []
        try:
            request, fds = receive_message(conn, max_fds=3)
            if request is None or len(fds) != 3:
                raise OSError(f"incomplete request ({len(fds)} descriptors)")
            pid = self._fork(request, fds)
            send_message(conn, {"pid": pid})
        except OSError as error:
            print(f"warm server: a launch failed: {error}", file=sys.stderr, flush=True)
            conn.close()
            return
        finally:
            for fd in fds:  # the child has its copies; ours would keep the worker's pipes open
                os.close(fd)
        conn.settimeout(None)
        child = Child(pid, os.pidfd_open(pid), conn)
        self.children[pid] = child
        self.selector.register(child.pidfd, selectors.EVENT_READ, lambda _: self._reap(child))
        self.selector.register(conn, selectors.EVENT_READ, lambda _: self._launcher_gone(child))

    def _fork(self, request: dict, fds: list[int]) -> int:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            return pid
        code = 1  # the child: never returns into the server's loop
        try:
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM, signal.SIGCHLD):
                signal.signal(signum, signal.SIG_DFL)  # the server's handlers are not the run's
            self.selector.close()
            self.listener.close()
            for child in self.children.values():
                child.conn.close()
                os.close(child.pidfd)
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
                os.close(fd)
            code = run_forked(request["argv"], request["cwd"], request["env"])
        except BaseException:
            traceback.print_exc()
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)

    def _reap(self, child: Child) -> None:
        if child.pid not in self.children:  # both its events came in one select
            return
        _, status, usage = os.wait4(child.pid, 0)
        cpu = {"user_s": usage.ru_utime, "system_s": usage.ru_stime,
               "max_rss_mib": usage.ru_maxrss / 1024}  # fmt: skip
        with contextlib.suppress(OSError):
            send_message(child.conn, {"status": status, "cpu": cpu})
        self._forget(child)

    def _launcher_gone(self, child: Child) -> None:
        """The launcher never writes after its request: readable means it closed (was killed)."""
        if child.pid not in self.children:  # reaped in the same select: nothing left to end
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, signal.SIGKILL)
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(child.conn)

    def _forget(self, child: Child) -> None:
        self.selector.unregister(child.pidfd)
        os.close(child.pidfd)
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(child.conn)
        child.conn.close()
        del self.children[child.pid]

    def stop(self, signum: int, frame: object) -> None:
        """Stop taking runs; end the running ones (SIGTERM, then SIGKILL after a grace)."""
        if self.stopping:
            return
        self.stopping = True
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(self.listener)
        self.listener.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        for child in self.children.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGTERM)
        signal.signal(signal.SIGALRM, self._kill_all)
        signal.alarm(int(STOP_GRACE_S))

    def _kill_all(self, signum: int, frame: object) -> None:
        for child in self.children.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGKILL)


def threads_alive() -> list[str]:
    main = threading.main_thread()
    return [thread.name for thread in threading.enumerate() if thread is not main]


def main() -> None:
    path = sys.argv[1]
    started = time.perf_counter()
    preload()
    alive = threads_alive()
    if alive:  # a fork would copy their locks in whatever state they are
        raise SystemExit(f"warm server: threads alive after the imports, cannot fork: {alive}")
    server = WarmServer(path)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, server.stop)
    server.listen()
    record("server", {"preload_cpu_s": cpu_s(), "preload_wall_s": time.perf_counter() - started})
    print(f"warm server: flows imported in {cpu_s():.1f} s CPU; forking runs from {path}",
          flush=True)  # fmt: skip
    server.serve()


if __name__ == "__main__":
    main()
