"""Rows for several warehouse tables, collected as pages arrive and inserted in batches."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import duckdb
import pandas as pd

from entrasync.warehouse.load import BATCH_ROWS, table_columns


class RowBatches:
    """Per-table buffers (rows as dicts, or whole frames): a table's rows go in once it holds
    `batch_rows`, and at `flush`."""

    def __init__(self, con: duckdb.DuckDBPyConnection, batch_rows: int = BATCH_ROWS) -> None:
        self._con = con
        self._batch_rows = batch_rows
        self._frames: dict[str, list[pd.DataFrame]] = {}
        self._sizes: dict[str, int] = {}
        self._columns: dict[str, list[str]] = {}
        self.inserted: dict[str, int] = {}

    def add(self, table: str, rows: Iterable[dict[str, Any] | None]) -> None:
        kept = [row for row in rows if row is not None]
        if kept:
            self.add_frame(table, pd.DataFrame.from_records(kept, columns=self._names(table)))

    def add_frame(self, table: str, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        self._frames.setdefault(table, []).append(frame)
        self._sizes[table] = self._sizes.get(table, 0) + len(frame)
        if self._sizes[table] >= self._batch_rows:
            self.flush(table)

    def flush(self, table: str | None = None) -> None:
        for name in [table] if table else list(self._frames):
            frames = self._frames.pop(name, [])
            self._sizes.pop(name, None)
            if frames:
                self._insert(name, pd.concat(frames, ignore_index=True))

    def _names(self, table: str) -> list[str]:
        if table not in self._columns:
            self._columns[table] = table_columns(self._con, table)
        return self._columns[table]

    def _insert(self, table: str, frame: pd.DataFrame) -> None:
        self._con.register("incoming_rows", frame)
        try:
            self._con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming_rows")
        finally:
            self._con.unregister("incoming_rows")
        self.inserted[table] = self.inserted.get(table, 0) + len(frame)
