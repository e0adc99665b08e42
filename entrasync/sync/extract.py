"""Extract both sides into the tenant's warehouse; a failed or partial read raises (R4)."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb

from entrasync.connectors.emply.client import EmplyClient
from entrasync.connectors.graph import models as graph_models
from entrasync.connectors.graph.client import GraphClient
from entrasync.settings import TenantSettings
from entrasync.warehouse.load import replace_rows

PAGE_SIZE = 999


def _rows(client: GraphClient, path: str, select: tuple[str, ...], to_row) -> Iterator[dict]:
    params = {"$select": ",".join(select), "$top": str(PAGE_SIZE)}
    for page in client.iter_pages(path, params):
        for obj in page:
            row = to_row(obj)
            if row is not None:
                yield row


def connected_group_ids(
    con: duckdb.DuckDBPyConnection, settings: TenantSettings
) -> list[tuple[str, str]]:
    names = [mapping.group.strip().lower() for mapping in settings.groups]
    return con.execute(
        "SELECT id, display_name FROM entra_groups"
        " WHERE list_contains(?, lower(trim(display_name))) ORDER BY display_name",
        [names],
    ).fetchall()


def _member_rows(
    client: GraphClient, groups: list[tuple[str, str]], transitive: bool
) -> Iterator[dict]:
    relation = "transitiveMembers" if transitive else "members"
    for group_id, _name in groups:
        yield from _rows(
            client,
            f"/groups/{group_id}/{relation}",
            graph_models.MEMBER_SELECT,
            lambda obj, gid=group_id: graph_models.entra_member_row(gid, obj, transitive),
        )


def extract_entra(
    con: duckdb.DuckDBPyConnection, client: GraphClient, settings: TenantSettings
) -> dict[str, int]:
    """Users, groups, the members of the connected groups and soft-deleted users."""
    counts = {
        "entra_users": replace_rows(
            con, "entra_users", _rows(client, "/users", graph_models.USER_SELECT,
                                      graph_models.entra_user_row)),
        "entra_groups": replace_rows(
            con, "entra_groups", _rows(client, "/groups", graph_models.GROUP_SELECT,
                                       graph_models.entra_group_row)),
    }  # fmt: skip
    groups = connected_group_ids(con, settings)
    counts["entra_group_members"] = replace_rows(
        con, "entra_group_members", _member_rows(client, groups, settings.transitive_groups)
    )
    counts["entra_deleted_users"] = replace_rows(
        con,
        "entra_deleted_users",
        _rows(
            client,
            "/directory/deletedItems/microsoft.graph.user",
            graph_models.DELETED_USER_SELECT,
            graph_models.entra_deleted_user_row,
        ),
    )
    return counts


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
