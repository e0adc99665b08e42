"""What one Entra directory read received, and the fewest pages that data needs."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from typing import Any

import duckdb

PAGE_SIZE = 999


class ReadStats:
    """Objects per collection and pages read; a collection is a key like ("members", group id)."""

    def __init__(self, mode: str, reason: str | None) -> None:
        self.mode = mode
        self.reason = reason
        self.objects: dict[Hashable, int] = {}
        self.pages = 0
        self.phases: dict[str, float] = {}  # seconds per step of the read
        self._started = time.perf_counter()

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + time.perf_counter() - started

    def add(self, collection: Hashable, objects: int) -> None:
        self.pages += 1
        self.objects[collection] = self.objects.get(collection, 0) + objects

    @property
    def minimum_pages(self) -> int:
        """Sum of ceil(objects / 999) per collection, at least one page each."""
        return sum(max(1, math.ceil(n / PAGE_SIZE)) for n in self.objects.values())

    def summary(self) -> dict[str, Any]:
        totals: dict[str, int] = {}
        for collection, count in self.objects.items():
            name = collection[0] if isinstance(collection, tuple) else str(collection)
            totals[name] = totals.get(name, 0) + count
        phases = {name: round(seconds, 3) for name, seconds in self.phases.items()}
        return {"mode": self.mode, "reason": self.reason, "objects": totals,
                "pages": self.pages, "minimum_pages": self.minimum_pages,
                "phases": phases}  # fmt: skip

    def record(self, con: duckdb.DuckDBPyConnection) -> None:
        summary = self.summary()
        con.execute(
            "INSERT INTO entra_directory_reads VALUES (now(), ?, ?, ?, ?, ?, ?)",
            [self.mode, self.reason, json.dumps(summary["objects"]), self.minimum_pages,
             self.pages, time.perf_counter() - self._started],
        )  # fmt: skip
