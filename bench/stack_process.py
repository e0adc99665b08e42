"""The emulators for the benchmarks: a process of their own (the pipeline measured keeps its
core), at Graph's pace, with one client of their control surface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from entrasync.emulator_client import ControlSurface, EmulatorProcess

# Graph's documented identity limit for a large tenant, and the benchmarks' network latency.
RU_PER_WINDOW = 8_000
RU_WINDOW_S = 10.0
LATENCY_MS = 30.0
SEED_TIMEOUT_S = 600  # a 100k-user seed is one request


@dataclass
class StackProcess:
    """A running stack: its environment variables (docs/DESIGN.md) and its control surface."""

    emulators: EmulatorProcess
    control: ControlSurface

    @property
    def env(self) -> dict[str, str]:
        return self.emulators.env()

    @property
    def ca_file(self) -> str:
        return self.emulators.ca_file

    def graph_stats(self, reset: bool = False) -> dict[str, Any]:
        """Request and RU counters since the last reset (a reset also refills the RU bucket)."""
        return self.control.graph_stats(reset=reset)

    def stop(self) -> None:
        self.control.close()
        self.emulators.stop()


def start_stack(
    latency_ms: float = LATENCY_MS, ru_per_window: int | None = RU_PER_WINDOW
) -> StackProcess:
    emulators = EmulatorProcess().start()
    stack = StackProcess(emulators, emulators.control(timeout_s=SEED_TIMEOUT_S))
    stack.control.configure_graph(
        latency_ms=latency_ms, identity_ru_per_window=ru_per_window, identity_window_s=RU_WINDOW_S
    )
    return stack
