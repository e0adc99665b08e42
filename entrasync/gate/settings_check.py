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
    roles = {
        row[0].strip().lower(): row[0]
        for row in con.execute("SELECT name FROM emply_roles WHERE name IS NOT NULL").fetchall()
    }
    # Entra does not keep display names unique: a name that means two groups is not a mapping.
    groups = dict(
        con.execute(
            "SELECT lower(trim(display_name)), list_sort(list(id)) FROM entra_groups"
            " WHERE display_name IS NOT NULL GROUP BY ALL"
        ).fetchall()
    )
    seen_before = {
        row[0].strip().lower()
        for row in con.execute(
            "SELECT DISTINCT group_name FROM group_role_history WHERE group_id IS NOT NULL"
        ).fetchall()
    }
    deleted = []
    for index, mapping in enumerate(settings.groups):
        key = f"{settings.source}: {settings.name}.groups[{index}]"
        if mapping.role.strip().lower() not in roles:
            raise InputError(
                f"{key}.role: role {mapping.role!r} does not exist in Emply "
                f"(known roles: {', '.join(sorted(roles.values())) or 'none'}); fix the "
                "tenants file or add the role in Emply"
            )
        group_ids = groups.get(mapping.group.strip().lower(), [])
        if len(group_ids) > 1:
            raise InputError(
                f"{key}.group: {len(group_ids)} Entra groups are named {mapping.group!r} "
                f"(ids {', '.join(group_ids)}); rename all but one in Entra"
            )
        if not group_ids:
            if mapping.group.strip().lower() in seen_before:
                deleted.append(mapping.group)
            else:
                raise InputError(
                    f"{key}.group: group {mapping.group!r} does not exist in Entra tenant "
                    f"{settings.tenant_id}; fix the tenants file or make the group in Entra"
                )
    return deleted
