"""Extract both sides into the tenant's warehouse; a failed or partial read raises (R4)."""

from __future__ import annotations

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
    users = client.read_users(exports["users"])
    employees = client.read_employees(exports["employees"])
    roles = client.read_roles(exports["roles"])
    return {
        "emply_users": replace_rows(con, "emply_users", users),
        "emply_employees": replace_rows(con, "emply_employees", employees),
        "emply_roles": replace_rows(con, "emply_roles", roles),
    }
