"""`entrasync-emulators serve`: the stack until Ctrl-C, or (`--json`) until its parent lets go."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from entrasync_emulators.stack import EmulatorStack


def endpoints(stack: EmulatorStack) -> dict[str, Any]:
    """What a parent needs of a started stack: its URLs, CA file and the pipeline's variables."""
    return {
        "login_url": stack.login_url,
        "graph_url": stack.graph_url,
        "emply_url": stack.emply_url,
        "control_url": stack.control_url,
        "ca_file": stack.ca_file,
        "env": stack.env(),
    }


def _stop_on_signals(stopping: threading.Event) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())


def _stop_when_stdin_closes(stopping: threading.Event) -> None:
    # A parent that exits, or closes our stdin, stops us: no emulators are left behind.
    def watch() -> None:
        while sys.stdin.read(4096):
            pass
        stopping.set()

    threading.Thread(target=watch, name="entrasync-emulators-stdin", daemon=True).start()


def serve(
    as_json: bool = False,
    host: str = "127.0.0.1",
    ports: Mapping[str, int] | None = None,
    token_lifetime_s: int = 3600,
    latency_ms: float = 0,
    cert_dir: Path | str | None = None,
) -> None:
    """Start the stack, say where it is, and run until Ctrl-C or SIGTERM (and, with `as_json`,
    until stdin closes). With `as_json` the one line printed is the JSON of `endpoints`."""
    stopping = threading.Event()
    _stop_on_signals(stopping)
    stack = EmulatorStack(
        token_lifetime_s=token_lifetime_s,
        latency_ms=latency_ms,
        host=host,
        ports=ports,
        cert_dir=cert_dir,
    ).start()
    try:
        if as_json:
            print(json.dumps(endpoints(stack)), flush=True)
            _stop_when_stdin_closes(stopping)
        else:
            _print_for_people(stack)
        while not stopping.wait(0.5):
            pass
        if not as_json:
            print("stopping emulators", flush=True)
    finally:
        stack.stop()


def _print_for_people(stack: EmulatorStack) -> None:
    print("entrasync emulators running (Ctrl-C stops them):")
    print(f"  login    {stack.login_url}")
    print(f"  graph    {stack.graph_url}")
    print(f"  emply    {stack.emply_url}")
    print(f"  control  {stack.control_url}")
    print(f"  CA file  {stack.ca_file}")
    for name, value in stack.env().items():
        print(f"export {name}={value}")
    sys.stdout.flush()
