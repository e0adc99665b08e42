"""Settings checked against what was extracted: a wrong name never becomes mass deactivation."""

from __future__ import annotations

import duckdb

from entrasync.errors import InputError
from entrasync.settings import TenantSettings


def check_settings_against_inputs(
    con: duckdb.DuckDBPyConnection, settings: TenantSettings
) -> list[str]:
    """Raise InputError for a role that Emply lacks or a group Entra never had.

    Returns the connected groups that existed in an earlier run and are gone now (deleted in
    Entra): their members go out of scope (R3) and the run says so.
    """
    roles = {row[0].lower() for row in con.execute("SELECT name FROM emply_roles").fetchall()}
    groups = {
        row[0].strip().lower()
        for row in con.execute("SELECT display_name FROM entra_groups").fetchall()
    }
    seen_before = {
        row[0].strip().lower()
        for row in con.execute(
            "SELECT DISTINCT group_name FROM group_role_history WHERE group_id IS NOT NULL"
        ).fetchall()
    }
    deleted = []
    for index, mapping in enumerate(settings.groups):
        key = f"{settings.source}: {settings.name}.groups[{index}]"
        if mapping.role.lower() not in roles:
            raise InputError(
                f"{key}.role: role {mapping.role!r} does not exist in Emply "
                f"(known roles: {', '.join(sorted(roles)) or 'none'})"
            )
        if mapping.group.strip().lower() not in groups:
            if mapping.group.strip().lower() in seen_before:
                deleted.append(mapping.group)
            else:
                raise InputError(
                    f"{key}.group: group {mapping.group!r} does not exist in Entra tenant "
                    f"{settings.tenant_id}"
                )
    return deleted
