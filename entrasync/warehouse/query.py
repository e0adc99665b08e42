"""Analysts' read-only SQL against a tenant's warehouse."""

from __future__ import annotations

import duckdb

from entrasync.errors import EntrasyncError
from entrasync.warehouse.db import connect_read_only


def print_query(tenant: str, sql: str) -> None:
    with connect_read_only(tenant) as con:
        try:
            con.sql(sql).show(max_width=200, max_rows=200)
        except duckdb.Error as exc:
            raise EntrasyncError(f"query failed: {exc}") from exc
