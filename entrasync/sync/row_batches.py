"""Rows for several warehouse tables, collected as pages arrive and inserted in batches."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import duckdb

from entrasync.warehouse.load import BATCH_ROWS, insert_rows


class RowBatches:
    """Per-table buffers: a table's rows go in once it holds `batch_rows` (and at `flush`)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, batch_rows: int = BATCH_ROWS) -> None:
        self._con = con
        self._batch_rows = batch_rows
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self.inserted: dict[str, int] = {}

    def add(self, table: str, rows: Iterable[dict[str, Any] | None]) -> None:
        pending = self._pending.setdefault(table, [])
        pending.extend(row for row in rows if row is not None)
        if len(pending) >= self._batch_rows:
            self.flush(table)

    def flush(self, table: str | None = None) -> None:
        for name in [table] if table else list(self._pending):
            rows = self._pending.pop(name, [])
            if rows:
                self.inserted[name] = self.inserted.get(name, 0) + insert_rows(
                    self._con, name, rows
                )
