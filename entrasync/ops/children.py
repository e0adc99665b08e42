"""Child processes of the long-running commands (`entrasync worker`, `entrasync stack up`).

Each child runs in its own session, so a Ctrl-C in the terminal reaches only the command,
which then stops its children in order; and each is told to stop (SIGTERM) by the kernel if
the command dies without doing so (PR_SET_PDEATHSIG), so nothing is left running.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
from collections.abc import Sequence
from typing import IO

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(
    args: Sequence[str], env: dict[str, str], output: IO | int | None = None, cwd: str | None = None
) -> subprocess.Popen:
    """Start a child in a session of its own that ends when this process ends."""
    return subprocess.Popen(
        list(args), env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT if output else None,
        start_new_session=True, preexec_fn=_die_with_parent,
    )  # fmt: skip


def stop(process: subprocess.Popen, grace_s: float = 30.0) -> int:
    """SIGTERM to the child's process group, SIGKILL after the grace; its exit code."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):  # anything left in its group
        os.killpg(process.pid, signal.SIGKILL)
    return process.returncode
