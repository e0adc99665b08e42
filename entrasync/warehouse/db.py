"""Open a tenant's warehouse file and make sure its schema exists."""

from __future__ import annotations

from pathlib import Path

import duckdb

from entrasync.settings import data_dir

SCHEMA_FILE = Path(__file__).with_name("schema.sql")


def warehouse_path(tenant: str) -> Path:
    """The per-tenant DuckDB file: only this tenant's run writes it."""
    return data_dir() / "warehouse" / f"{tenant}.duckdb"


def connect(tenant: str, path: Path | None = None) -> duckdb.DuckDBPyConnection:
    target = path or warehouse_path(tenant)
    target.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(target))
    con.execute(SCHEMA_FILE.read_text())
    return con


def connect_memory() -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse with the same schema (rule tests)."""
    con = duckdb.connect()
    con.execute(SCHEMA_FILE.read_text())
    return con
