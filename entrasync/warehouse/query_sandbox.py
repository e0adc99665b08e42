"""Analysts' SQL, read-only by construction: DuckDB reaches the history (or one warehouse) only.

DuckDB's own settings do the confining, not an inspection of the SQL:
- the history is served to DuckDB by `ReadOnlyFolder`, a file system that lists, stats and
  reads the history folder and refuses every write (COPY TO, EXPORT, ATTACH for writing);
- the local file system is disabled (`disabled_filesystems`), and external access is off with
  only that read-only file system allowed: no other file, no network, no extension to install
  or load (autoload and autoinstall are off too);
- nothing spills to a temporary folder (`temp_directory = ''`);
- the configuration is locked, so no SET/RESET/PRAGMA gives any of it back;
- the database the analyst is in is read-only: a scratch file holding the views (history) or
  the tenant's warehouse file (`--tenant`, locked with no other file allowed at all).
`allowed_directories` alone would not do: DuckDB lets a query write wherever it may read.
Building the views and opening the warehouse are our code, before the lock.
"""

from __future__ import annotations

import datetime
import itertools
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any

import duckdb
from fsspec.spec import AbstractFileSystem

from entrasync.errors import EntrasyncError
from entrasync.warehouse import paths

HISTORY_PROTOCOL = "entrasync-history"
HISTORY_LOCATION = f"{HISTORY_PROTOCOL}://"
WILDCARD = re.compile(r"[*?\[]")
# Given when the connection opens: these settings cannot change once a database is running.
OPEN_CONFIG = {
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
}


class ReadOnlyFolder(AbstractFileSystem):
    """One folder for DuckDB (`entrasync-history://<relative path>`): list, stat, read; no write.

    Writes are refused because this class has no way to make one: fsspec's base class raises
    for every write (its `_rm`, `cp_file`, ... are not implemented) and `_open` here opens
    for reading only. Every path must resolve inside the folder (no `..`, no link out).
    """

    protocol = HISTORY_PROTOCOL
    root_marker = ""
    cachable = False  # one instance per connection, each with its own folder

    def __init__(self, folder: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.folder = folder.resolve()

    def _local(self, path: str) -> Path:
        relative = self._strip_protocol(path).lstrip("/")
        local = (self.folder / relative).resolve()
        if not local.is_relative_to(self.folder):
            raise PermissionError(f"{path}: outside the history")
        return local

    def glob(self, path: str, maxdepth: int | None = None, **kwargs: Any) -> Any:
        """As fsspec's, but a pattern that leads out (`..`, a link) is refused, not empty."""
        segments = self._strip_protocol(path).split("/")
        if ".." in segments:
            raise PermissionError(f"{path}: outside the history")
        fixed = itertools.takewhile(lambda segment: not WILDCARD.search(segment), segments)
        self._local("/".join(fixed))  # raises when the fixed part resolves outside
        return super().glob(path, maxdepth=maxdepth, **kwargs)

    def _entry(self, path: str) -> dict[str, Any]:
        details = self._local(path).stat()
        kind = "directory" if stat.S_ISDIR(details.st_mode) else "file"
        return {"name": self._strip_protocol(path).strip("/"), "size": details.st_size,
                "type": kind, "mtime": details.st_mtime}  # fmt: skip

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        local = self._local(path)
        if local.is_dir():
            prefix = self._strip_protocol(path).strip("/")
            names = sorted(os.listdir(local))
            entries = [self._entry(f"{prefix}/{name}" if prefix else name) for name in names]
        else:
            entries = [self._entry(path)]
        return entries if detail else [entry["name"] for entry in entries]

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return self._entry(path)

    def modified(self, path: str) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self._entry(path)["mtime"], tz=datetime.UTC)

    def _open(self, path: str, mode: str = "rb", **kwargs: Any):
        if mode != "rb":
            raise PermissionError(f"{path}: the history is read-only here")
        return self._local(path).open("rb")

    def mkdir(self, path: str, *args: Any, **kwargs: Any) -> None:
        """Every change to the history is refused here, by name, not left to fsspec's defaults."""
        raise PermissionError(f"{path}: the history is read-only here")

    makedirs = rm_file = rm = rmdir = mv = cp_file = copy = put_file = mkdir


def lock_down(con: duckdb.DuckDBPyConnection, allowed_directories: list[str]) -> None:
    """External access off (but for `allowed_directories`), local files off, then the lock.

    The order matters: each setting refuses to change once the one after it is set."""
    allowed = "[" + ", ".join(f"'{location}'" for location in allowed_directories) + "]"
    for statement in (
        "SET temp_directory = ''",
        f"SET allowed_directories = {allowed}",
        "SET enable_external_access = false",
        "SET disabled_filesystems = 'LocalFileSystem'",
        "SET lock_configuration = true",
    ):
        con.execute(statement)


def history_connection(root: Path | None = None) -> duckdb.DuckDBPyConnection:
    """The analysts' views over the history in a read-only database, then locked.

    The views are built in a scratch file outside the data folder, which is opened read-only
    and removed at once (the open connection keeps reading it): CREATE, DROP, INSERT and
    ATTACH ':memory:' have no writable database to act on."""
    from entrasync.warehouse.history import audit_dir
    from entrasync.warehouse.history_views import create_views

    root = root or audit_dir()
    with tempfile.TemporaryDirectory(prefix="entrasync-query-") as scratch:
        views = Path(scratch) / "views.duckdb"
        with duckdb.connect(str(views), config=OPEN_CONFIG) as builder:
            builder.register_filesystem(ReadOnlyFolder(root))
            create_views(builder, root, HISTORY_LOCATION)
        con = duckdb.connect(str(views), read_only=True, config=OPEN_CONFIG)
    con.register_filesystem(ReadOnlyFolder(root))
    lock_down(con, [HISTORY_LOCATION])
    return con


def warehouse_connection(tenant: str) -> duckdb.DuckDBPyConnection:
    """The tenant's warehouse file, read-only, then locked with no other file reachable."""
    path = paths.warehouse_file(tenant)
    if not path.exists():
        raise EntrasyncError(f"no warehouse for tenant {tenant!r} at {path}; run a sync first")
    con = duckdb.connect(str(path), read_only=True, config=OPEN_CONFIG)
    lock_down(con, [])
    return con


def print_rows(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Run one analyst's SQL and show its rows; any refusal is one line."""
    try:
        con.sql(sql).show(max_width=200, max_rows=200)
    except duckdb.Error as exc:
        raise EntrasyncError(f"query failed: {one_line(exc)}") from exc


def one_line(exc: BaseException) -> str:
    """DuckDB's message on one line, without the SQL excerpt; a refusal raised in ReadOnlyFolder
    arrives as a Python traceback inside the message: its last line says why."""
    text = str(exc).split("\nLINE ", 1)[0]
    kind, traceback, trace = text.partition("Traceback (most recent call last):")
    if not traceback:
        return " ".join(line.strip() for line in text.splitlines() if line.strip())
    lines = [line.strip() for line in trace.splitlines() if line.strip()]
    why = next((line for line in reversed(lines) if not line.startswith("File ")), "")
    return " ".join(part for part in (kind.strip(), why) if part)
