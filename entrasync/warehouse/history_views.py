"""The analysts' DuckDB file (`data/audit.duckdb`): views over the history's Parquet files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb

from entrasync.errors import EntrasyncError
from entrasync.settings import data_dir
from entrasync.warehouse.db import connect_memory
from entrasync.warehouse.history import EXPORTS, audit_dir, sql_text, tables_with_files

VIEWS_FILE = Path(__file__).with_name("history_views.sql")
PARQUET_OPTIONS = (
    "hive_partitioning = true, union_by_name = true, hive_types = {'tenant': VARCHAR, 'date': DATE}"
)
FOLDER_COLUMNS = [("tenant", "VARCHAR"), ("date", "DATE")]


def views_path() -> Path:
    return data_dir() / "audit.duckdb"


def export_columns(table: str) -> list[tuple[str, str]]:
    """The columns (name, type) an export of `table` writes, from an empty warehouse."""
    with connect_memory() as con:
        con.execute(
            f"CREATE TEMP TABLE shape AS SELECT * FROM ({EXPORTS[table]}) LIMIT 0", {"run_id": ""}
        )
        return [(row[0], row[1]) for row in con.execute("DESCRIBE shape").fetchall()]


def base_view(table: str, root: Path, has_files: bool) -> str:
    if has_files:
        files = sql_text(root / table / "tenant=*" / "date=*" / "*.parquet")
        source = f"read_parquet({files}, {PARQUET_OPTIONS})"
        return f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM {source}"
    columns = export_columns(table)
    columns += [c for c in FOLDER_COLUMNS if c[0] not in {name for name, _ in columns}]
    typed_nulls = ", ".join(f'CAST(NULL AS {kind}) AS "{name}"' for name, kind in columns)
    return f"CREATE OR REPLACE VIEW {table} AS SELECT {typed_nulls} WHERE false"


def fingerprint(root: Path) -> str:
    """What the views depend on: where the files are, which tables have any, the view code."""
    here = Path(__file__).parent
    sources = (VIEWS_FILE, Path(__file__), here / "history.py", here / "snapshots.py")
    code = b"".join(path.read_bytes() for path in sources)
    return json.dumps({
        "root": str(root.resolve()),
        "tables_with_files": tables_with_files(root),
        "code": hashlib.sha256(code).hexdigest(),
    })  # fmt: skip


def build_views(path: Path | None = None, root: Path | None = None) -> Path:
    """(Re)create every view in the analysts' file; returns its path."""
    path, root = path or views_path(), root or audit_dir()
    path.parent.mkdir(parents=True, exist_ok=True)
    with_files = set(tables_with_files(root))
    with duckdb.connect(str(path)) as con:
        for table in EXPORTS:
            con.execute(base_view(table, root, table in with_files))
        con.execute(VIEWS_FILE.read_text())
        # What these views were built from: a later check rebuilds them when it changed.
        con.execute(
            "CREATE OR REPLACE TABLE views_built (fingerprint VARCHAR, built_at TIMESTAMPTZ)"
        )
        con.execute("INSERT INTO views_built VALUES (?, now())", [fingerprint(root)])
    return path


def views_current(path: Path, root: Path) -> bool:
    if not path.exists():
        return False
    with duckdb.connect(str(path), read_only=True) as con:
        try:
            built = con.execute("SELECT fingerprint FROM views_built").fetchone()
        except duckdb.CatalogException:
            return False
    return bool(built) and built[0] == fingerprint(root)


def ensure_views(path: Path | None = None, root: Path | None = None) -> Path:
    """Rebuild the views when a table got its first files, the files moved, or the code changed."""
    path, root = path or views_path(), root or audit_dir()
    if not views_current(path, root):
        build_views(path, root)
    return path


def open_views(path: Path | None = None, root: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the views, brought up to date first."""
    path = path or views_path()
    try:
        ensure_views(path, root)
    except duckdb.IOException as exc:  # another process holds the file: use the views as they are
        if not path.exists():
            raise EntrasyncError(f"cannot create the history views at {path}: {exc}") from exc
    return duckdb.connect(str(path), read_only=True)


def print_history_query(sql: str) -> None:
    with open_views() as con:
        try:
            con.sql(sql).show(max_width=200, max_rows=200)
        except duckdb.Error as exc:
            raise EntrasyncError(f"query failed: {exc}") from exc
