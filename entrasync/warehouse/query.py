"""Analysts' read-only SQL against a tenant's warehouse."""

from __future__ import annotations

import duckdb

from entrasync.errors import EntrasyncError
from entrasync.warehouse.db import warehouse_path


def print_query(tenant: str, sql: str) -> None:
    path = warehouse_path(tenant)
    if not path.exists():
        raise EntrasyncError(f"no warehouse for tenant {tenant!r} at {path}; run a sync first")
    with duckdb.connect(str(path), read_only=True) as con:
        try:
            con.sql(sql).show(max_width=200, max_rows=200)
        except duckdb.Error as exc:
            raise EntrasyncError(f"query failed: {exc}") from exc
