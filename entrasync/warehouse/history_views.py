"""The analysts' views over the history's Parquet files: in `data/audit.duckdb` for any DuckDB
client, and built afresh in memory for each `entrasync query` (see query_sandbox)."""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import duckdb

from entrasync.errors import EntrasyncError
from entrasync.warehouse import paths
from entrasync.warehouse.db import connect_memory
from entrasync.warehouse.history import EXPORTS, audit_dir, sql_text, tables_with_files
from entrasync.warehouse.owner_only import private_file, private_folder

VIEWS_FILE = Path(__file__).with_name("history_views.sql")
PARQUET_OPTIONS = (
    "hive_partitioning = true, union_by_name = true, hive_types = {'tenant': VARCHAR, 'date': DATE}"
)
FOLDER_COLUMNS = [("tenant", "VARCHAR"), ("date", "DATE")]


def views_path() -> Path:
    return paths.views_file()


def export_columns(table: str) -> list[tuple[str, str]]:
    """The columns (name, type) an export of `table` writes, from an empty warehouse."""
    return every_export_columns()[table]


@functools.cache
def every_export_columns() -> dict[str, list[tuple[str, str]]]:
    """Each exported table's columns, from one empty warehouse (they are the code's, not data)."""
    found = {}
    with connect_memory() as con:
        for table, select in EXPORTS.items():
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE shape AS SELECT * FROM ({select}) LIMIT 0",
                {"run_id": ""},
            )
            found[table] = [(row[0], row[1]) for row in con.execute("DESCRIBE shape").fetchall()]
    return found


def base_view(table: str, location: str, has_files: bool) -> str:
    """`location` is where DuckDB finds the history: a folder, or a file system's `proto://`."""
    if has_files:
        separator = "" if location.endswith("/") else "/"
        files = sql_text(f"{location}{separator}{table}/tenant=*/date=*/*.parquet")
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


def create_views(con: duckdb.DuckDBPyConnection, root: Path, location: str) -> None:
    """Every view, in `con`, over the files under `root` as DuckDB reaches them at `location`."""
    with_files = set(tables_with_files(root))
    for table in EXPORTS:
        con.execute(base_view(table, location, table in with_files))
    con.execute(VIEWS_FILE.read_text())


def build_views(path: Path | None = None, root: Path | None = None) -> Path:
    """(Re)create every view in the analysts' file (owner-only); returns its path."""
    path, root = path or views_path(), root or audit_dir()
    private_folder(path.parent, path.parent)
    with duckdb.connect(str(path)) as con:
        private_file(path)
        create_views(con, root, str(root.resolve()))
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
    """`entrasync query`: the analyst's SQL over the history, read-only by construction."""
    from entrasync.warehouse.query_sandbox import history_connection, print_rows

    with history_connection() as con:
        print_rows(con, sql)
