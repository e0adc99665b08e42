"""Analysts' read-only SQL against a tenant's warehouse (`entrasync query --tenant`)."""

from __future__ import annotations

from entrasync.warehouse.query_sandbox import print_rows, warehouse_connection


def print_query(tenant: str, sql: str) -> None:
    with warehouse_connection(tenant) as con:
        print_rows(con, sql)
