"""Replace a raw extract table with the rows a connector produced, batch by batch."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import duckdb
import pandas as pd

BATCH_ROWS = 50_000


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()]


def _batches(rows: Iterable[dict], size: int) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: Iterable[dict]) -> int:
    """Append rows (dicts keyed by column name) to `table`; returns how many."""
    columns = table_columns(con, table)
    count = 0
    for batch in _batches(rows, BATCH_ROWS):
        frame = pd.DataFrame.from_records(batch, columns=columns)
        con.register("incoming_rows", frame)
        try:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming_rows")
        finally:
            con.unregister("incoming_rows")
        count += len(batch)
    return count


def replace_rows(con: duckdb.DuckDBPyConnection, table: str, rows: Iterable[dict]) -> int:
    """Delete what the table held, then insert: a rerun of a load is safe."""
    con.execute(f"DELETE FROM {table}")
    return insert_rows(con, table, rows)
