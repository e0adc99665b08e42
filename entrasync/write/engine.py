"""The write engine's record: each change's outcome, and which changes an earlier run applied.

Both writers (Emply on a thread pool, Entra one change at a time) record through an
OutcomeLog, so idempotency ("already applied") and outcomes are kept one way.
"""

from __future__ import annotations

import time
from typing import Any

import duckdb

from entrasync.warehouse.outcomes import Outcome, applied_earlier, record_outcomes

FLUSH_EVERY = 200
FLUSH_AFTER_S = 0.5


class OutcomeLog:
    """Outcomes collected in the caller's thread, written to DuckDB in batches of
    `flush_every` (1: each as it happens, for a writer that reads its own records back)."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        tenant: str,
        run_id: str,
        flush_every: int = FLUSH_EVERY,
    ) -> None:
        self._con = con
        self._tenant = tenant
        self._run_id = run_id
        self._flush_every = flush_every
        self._pending: list[Outcome] = []
        self._flushed_at = time.monotonic()
        self.counts = {"applied": 0, "failed": 0, "skipped": 0}

    def applied_earlier(self, changes: list[dict[str, Any]]) -> dict[str, str]:
        """change id -> the run that already applied it since the last completed run."""
        return applied_earlier(
            self._con, self._tenant, self._run_id, [c["change_id"] for c in changes]
        )

    def skip_applied_earlier(self, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Record the changes an earlier run applied as skipped; returns the others."""
        earlier = self.applied_earlier(changes)
        for change_id, run_id in earlier.items():
            self.add(Outcome(change_id, "skipped", f"already applied in run {run_id}"))
        self.flush()
        return [c for c in changes if c["change_id"] not in earlier]

    def add(self, outcome: Outcome) -> None:
        self._pending.append(outcome)
        self.counts[outcome.outcome] += 1
        if (
            len(self._pending) >= self._flush_every
            or time.monotonic() - self._flushed_at > FLUSH_AFTER_S
        ):
            self.flush()

    def flush(self) -> None:
        record_outcomes(self._con, self._run_id, self._pending)
        self._pending = []
        self._flushed_at = time.monotonic()
