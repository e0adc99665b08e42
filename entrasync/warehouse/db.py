"""Open a tenant's warehouse file and make sure its schema exists."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from entrasync.errors import EntrasyncError
from entrasync.settings import data_dir

SCHEMA_FILE = Path(__file__).with_name("schema.sql")


def warehouse_path(tenant: str) -> Path:
    """The per-tenant DuckDB file: only this tenant's run writes it."""
    return data_dir() / "warehouse" / f"{tenant}.duckdb"


# Files this process has brought to the schema: a run's tasks open the file about ten times,
# and the schema script is a tenth of a small tenant's run CPU. A file that is gone and made
# again gets the schema again.
_schema_done: set[str] = set()


def connect(tenant: str, path: Path | None = None) -> duckdb.DuckDBPyConnection:
    target = path or warehouse_path(tenant)
    target.parent.mkdir(parents=True, exist_ok=True)
    key, existed = str(target.resolve()), target.exists()
    con = duckdb.connect(str(target))
    if not (existed and key in _schema_done):
        con.execute(SCHEMA_FILE.read_text())
        _schema_done.add(key)
    return con


def connect_memory() -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse with the same schema (rule tests)."""
    con = duckdb.connect()
    con.execute(SCHEMA_FILE.read_text())
    return con


@contextmanager
def connect_read_only(tenant: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A tenant's warehouse for reading (explain, validation, exports); a clear error if none."""
    path = warehouse_path(tenant)
    if not path.exists():
        raise EntrasyncError(f"no warehouse for tenant {tenant!r} at {path}; run a sync first")
    with duckdb.connect(str(path), read_only=True) as con:
        yield con
