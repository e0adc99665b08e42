"""Extract both sides into the tenant's warehouse; a failed or partial read raises (R4)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import duckdb

from entrasync.connectors.emply.client import EmplyClient
from entrasync.settings import TenantSettings
from entrasync.sync.extract_directory import extract_entra  # the Entra side (delta or full)
from entrasync.warehouse.load import replace_rows

__all__ = ["extract_emply", "extract_entra"]


def extract_emply(
    con: duckdb.DuckDBPyConnection, client: EmplyClient, settings: TenantSettings
) -> dict[str, int]:
    """Users, employees and roles from the tenant's Emply exports (a bad export raises)."""
    exports = settings.emply.exports
    # Emply renders one export while this process decodes and checks the one before it.
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="emply-export") as pool:
        reads = [
            pool.submit(client.read_users, exports["users"]),
            pool.submit(client.read_employees, exports["employees"]),
            pool.submit(client.read_roles, exports["roles"]),
        ]
        users, employees, roles = (read.result() for read in reads)
    return {
        "emply_users": replace_rows(con, "emply_users", users),
        "emply_employees": replace_rows(con, "emply_employees", employees),
        "emply_roles": replace_rows(con, "emply_roles", roles),
    }
