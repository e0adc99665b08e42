"""Request counters of the Graph emulator, read by the control surface."""

from __future__ import annotations

import threading
from collections import Counter


class RequestStats:
    """Counts Graph requests by route, throttled answers and identity resource units.

    `requests` counts what Graph executes: each item of a $batch too. `batched` counts those
    items, so `requests - batched` is what crossed the network as HTTP requests.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests = 0
            self.by_path: Counter[str] = Counter()
            self.by_status: Counter[int] = Counter()
            self.resource_units = 0
            self.throttled = 0
            self.faulted = 0
            self.batched = 0

    def record(self, route: str, status: int, resource_units: int = 0) -> None:
        with self._lock:
            self.requests += 1
            self.by_path[route] += 1
            self.by_status[status] += 1
            self.resource_units += resource_units
            if status == 429:
                self.throttled += 1

    def record_batched(self, items: int) -> None:
        with self._lock:
            self.batched += items

    def record_fault(self) -> None:
        with self._lock:
            self.faulted += 1

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "requests": self.requests,
                "by_path": dict(self.by_path),
                "by_status": {str(status): n for status, n in self.by_status.items()},
                "resource_units": self.resource_units,
                "throttled": self.throttled,
                "faulted": self.faulted,
                "batched": self.batched,
                "http_requests": self.requests - self.batched,
            }
