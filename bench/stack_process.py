"""The emulator stack in its own process, so the pipeline being measured has a core to itself."""

from __future__ import annotations

import contextlib
import multiprocessing
import ssl
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import httpx

# Graph's documented identity limit for a large tenant, and the benchmarks' network latency.
RU_PER_WINDOW = 8_000
RU_WINDOW_S = 10.0
LATENCY_MS = 30.0


def _serve(conn: Connection) -> None:
    from entrasync.emulators.stack import EmulatorStack

    with EmulatorStack() as stack:
        conn.send({"env": stack.env(), "control_url": stack.control_url, "ca_file": stack.ca_file})
        conn.recv()  # blocks until the parent says stop (or goes away)


@dataclass
class StackProcess:
    """A running stack: its environment variables (docs/DESIGN.md) and its control surface."""

    process: multiprocessing.Process
    conn: Connection
    env: dict[str, str]
    control_url: str
    ca_file: str

    def control(self) -> httpx.Client:
        verify = ssl.create_default_context(cafile=self.ca_file)
        return httpx.Client(base_url=self.control_url, verify=verify, timeout=600)

    def configure(self, **config: Any) -> dict[str, Any]:
        with self.control() as control:
            response = control.post("/graph/config", json=config)
            response.raise_for_status()
            return response.json()

    def graph_stats(self, reset: bool = False) -> dict[str, Any]:
        """Request and RU counters since the last reset (a reset also refills the RU bucket)."""
        with self.control() as control:
            response = control.delete("/graph/stats") if reset else control.get("/graph/stats")
            response.raise_for_status()
            return response.json()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send("stop")
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.terminate()


def start_stack(
    latency_ms: float = LATENCY_MS, ru_per_window: int | None = RU_PER_WINDOW
) -> StackProcess:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_serve, args=(child,), name="bench-emulators", daemon=True)
    process.start()
    if not parent.poll(60):
        process.terminate()
        raise RuntimeError("the emulator stack did not start within 60 s")
    started = parent.recv()
    stack = StackProcess(
        process, parent, started["env"], started["control_url"], started["ca_file"]
    )
    stack.configure(
        latency_ms=latency_ms, identity_ru_per_window=ru_per_window, identity_window_s=RU_WINDOW_S
    )
    return stack
