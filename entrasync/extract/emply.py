"""Extract the Emply side: users, employees and roles from the tenant's exports."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import duckdb

from entrasync.connectors.emply.client import EmplyClient
from entrasync.connectors.emply.export_load import load_export
from entrasync.settings import TenantSettings

# warehouse table -> the kind of export that fills it (settings name the export ids by kind)
EXPORT_TABLES = {"emply_users": "users", "emply_employees": "employees", "emply_roles": "roles"}


def extract_emply(
    con: duckdb.DuckDBPyConnection, client: EmplyClient, settings: TenantSettings
) -> dict[str, int]:
    """Users, employees and roles from the tenant's Emply exports (a bad export raises before
    any table is replaced)."""
    exports = {table: settings.emply.exports[kind] for table, kind in EXPORT_TABLES.items()}
    # Emply renders the exports side by side; DuckDB then parses and checks each one.
    with ThreadPoolExecutor(max_workers=len(exports), thread_name_prefix="emply-export") as pool:
        bodies = {table: pool.submit(client.read_export_body, e) for table, e in exports.items()}
        packages = {table: body.result() for table, body in bodies.items()}
    con.execute("BEGIN TRANSACTION")
    try:
        counts = {
            table: load_export(con, table, EXPORT_TABLES[table], exports[table], package)
            for table, package in packages.items()
        }
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return counts
