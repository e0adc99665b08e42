"""The emulators as a child process: their own `serve --json` command, then HTTPS only.

The product never imports the emulators (they come with the dev dependency group, not with
production): it runs `python -m entrasync_emulators serve --json` with this interpreter, reads
the one JSON line the command prints once every server accepts connections, and from then on
knows the emulators by their URLs and CA file alone. Closing the child's stdin stops it, so a
parent that dies takes its emulators with it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import queue
import subprocess
import sys
import threading
from types import TracebackType
from typing import IO

from entrasync.emulator_client.control import ControlSurface
from entrasync.errors import EntrasyncError

PACKAGE = "entrasync_emulators"
# Python's start, the servers' imports and a fresh CA: seconds, more on a busy 2-core machine.
STARTUP_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 15.0


class EmulatorStartError(EntrasyncError):
    """The emulators are not installed, or did not come up."""


class EmulatorProcess:
    """Login authority, Graph, Emply and the control surface, served by a child process."""

    def __init__(self, command: list[str] | None = None) -> None:
        # Another command only for the tests of this module (a child that fails to start).
        self.command = command or [sys.executable, "-m", PACKAGE, "serve", "--json"]
        self.process: subprocess.Popen[str] | None = None
        self.login_url = self.graph_url = self.emply_url = self.control_url = ""
        self.ca_file = ""
        self._env: dict[str, str] = {}

    def start(self) -> EmulatorProcess:
        """Start the child and wait for its endpoints; returns self."""
        if self.process is not None:
            return self
        if PACKAGE in self.command and importlib.util.find_spec(PACKAGE) is None:
            raise EmulatorStartError(
                f"the emulators ({PACKAGE}) are not installed: they come with the dev dependency "
                "group (`uv sync`), not with production installs"
            )
        self.process = subprocess.Popen(
            self.command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        started = self._endpoints(_first_line(self.process.stdout, STARTUP_TIMEOUT_S))
        self.login_url, self.graph_url = started["login_url"], started["graph_url"]
        self.emply_url, self.control_url = started["emply_url"], started["control_url"]
        self.ca_file, self._env = started["ca_file"], dict(started["env"])
        return self

    def _endpoints(self, line: str) -> dict:
        """The child's JSON line; EmulatorStartError (the child stopped) when there is none."""
        try:
            return json.loads(line)
        except ValueError:
            pass
        said = f"said {line.strip()[:80]!r}" if line else "said nothing in time"
        if not line and self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):  # the end of its output
                said = f"exited with code {self.process.wait(timeout=5)}"
        self.stop()
        raise EmulatorStartError(f"the emulators did not start: the child process {said}")

    def env(self) -> dict[str, str]:
        """The four ENTRASYNC_* variables that point the pipeline at these emulators."""
        return dict(self._env)

    def control(self, timeout_s: float = 60.0) -> ControlSurface:
        """A client of the control surface (close it, or use it in a `with`)."""
        return ControlSurface(self.control_url, self.ca_file, timeout_s)

    def stop(self) -> None:
        """Close the child's stdin (it stops its servers and exits); terminate it if it lingers."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _first_line(stream: IO[str] | None, timeout_s: float) -> str:
    """The stream's first line, or "" at its end or when none came within `timeout_s`."""
    if stream is None:
        return ""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout_s)
    except queue.Empty:
        return ""
