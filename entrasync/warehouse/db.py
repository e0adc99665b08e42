"""Open a tenant's warehouse file and make sure its schema exists."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from entrasync.errors import EntrasyncError
from entrasync.tenant_names import check_tenant_name
from entrasync.warehouse import paths
from entrasync.warehouse.owner_only import private_file, private_folder

SCHEMA_FILE = Path(__file__).with_name("schema.sql")


def warehouse_path(tenant: str) -> Path:
    """The per-tenant DuckDB file: only this tenant's run writes it (made by `paths`)."""
    return paths.warehouse_file(tenant)


# Files this process has brought to the schema: a run's tasks open the file about ten times,
# and the schema script is a tenth of a small tenant's run CPU. A file that is gone and made
# again gets the schema again.
_schema_done: set[str] = set()


def connect(tenant: str, path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """The tenant's warehouse, created owner-only; `path` places it elsewhere (tests, bench)."""
    check_tenant_name(tenant)
    if path is None:
        target = warehouse_path(tenant)
        private_folder(target.parent, paths.data_root())
    else:
        target = path
        private_folder(target.parent, target.parent)
    key, existed = str(target.resolve()), target.exists()
    con = duckdb.connect(str(target))
    for created in (target, target.with_name(target.name + ".wal")):
        private_file(created)
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
