"""Load an Emply export package into its warehouse table: parsed, checked and mapped in DuckDB.

A bad package or row raises EmplyExportError before the table is touched, naming the export,
row, id and field exactly as the connector's Python mapping does (it words the message).
"""

from __future__ import annotations

import contextlib

import duckdb
import orjson

from entrasync.connectors.emply import export_sql
from entrasync.connectors.emply.errors import EmplyExportError
from entrasync.connectors.emply.models import (
    ROW_KINDS,
    RowReader,
    duplicate_error,
    export_shape_error,
    map_row,
)


def load_export(
    con: duckdb.DuckDBPyConnection, table: str, kind_name: str, export_id: str, body: bytes
) -> int:
    """Replace `table` with the rows of the package `body`; returns how many."""
    kind = ROW_KINDS[kind_name]
    try:
        try:
            con.execute(export_sql.STAGE_PACKAGE_SQL, [body.decode("utf-8")])
        except (UnicodeDecodeError, duckdb.InvalidInputException):
            raise export_shape_error(export_id, is_json=False) from None
        if not con.execute(export_sql.HAS_DATA_LIST_SQL).fetchone()[0]:
            raise export_shape_error(export_id, is_json=True)
        con.execute(export_sql.stage_rows_sql(kind))
        first_bad, repeated, first_index = con.execute(
            export_sql.first_failures_sql(kind)
        ).fetchone()
        if first_bad is not None or repeated is not None:
            raise _first_error(con, kind_name, export_id, first_bad, repeated, first_index)
        con.execute(f"DELETE FROM {table}")
        con.execute(export_sql.insert_sql(kind, table))
        return con.execute("SELECT count(*) FROM export_rows").fetchone()[0]
    finally:  # in a caller's transaction that a parse error aborted, its rollback drops them
        with contextlib.suppress(duckdb.TransactionException):
            con.execute("DROP TABLE IF EXISTS export_rows")
            con.execute("DROP TABLE IF EXISTS export_package")


def _first_error(
    con: duckdb.DuckDBPyConnection,
    kind_name: str,
    export_id: str,
    first_bad: int | None,
    repeated: int | None,
    first_index: int | None,
) -> EmplyExportError:
    """The error the Python mapping raises at the first row that stops it."""
    kind = ROW_KINDS[kind_name]
    index = min(i for i in (first_bad, repeated) if i is not None)
    text = con.execute("SELECT r::VARCHAR FROM export_rows WHERE idx = ?", [index]).fetchone()[0]
    row = None if text is None else orjson.loads(text)  # a JSON null row arrives as SQL NULL
    try:
        reader = RowReader(f"export '{export_id}'", index, row, kind.id_field)
        mapped = map_row(kind, reader)
    except EmplyExportError as error:
        return error
    if index == repeated and kind.unique is not None:
        return duplicate_error(reader, mapped[kind.unique], first_index)
    return EmplyExportError(f"export '{export_id}' row {index}: not a valid {kind_name} row")
