"""R4 Safety: a run that would deactivate too many users writes nothing and ends blocked.

Deleting Entra users (R7 write.delete) counts with the deactivations: it is the more drastic.
So does a read that came back empty where the last run had rows: true (every group deleted,
every user gone) or not, only the operator can tell; `allow_deactivations=true` releases both.
"""

from __future__ import annotations

from typing import Any

import duckdb

from entrasync.settings import TenantSettings

PERCENT_RULE_MINIMUM = 10


def deactivation_block_reason(
    con: duckdb.DuckDBPyConnection, settings: TenantSettings, allow_deactivations: bool
) -> str | None:
    """Why this plan must not be written, or None when it is within the thresholds."""
    deactivations, linked = con.execute(
        "SELECT (SELECT count(*) FROM planned_changes WHERE kind IN"
        " ('deactivate_user', 'delete_entra_user')),"
        " (SELECT count(*) FROM emply_users WHERE entra_object_id IS NOT NULL)"
    ).fetchone()
    if allow_deactivations or deactivations == 0:
        return None
    percent = 100.0 * deactivations / linked if linked else 100.0
    if deactivations > settings.max_deactivations:
        return (
            f"R4: the plan deactivates or deletes {deactivations} users, more than "
            "max_deactivations "
            f"{settings.max_deactivations}; check the plan, then rerun with "
            "allow_deactivations=true"
        )
    if deactivations > PERCENT_RULE_MINIMUM and percent > settings.max_deactivation_percent:
        return (
            f"R4: the plan deactivates or deletes {deactivations} of {linked} linked users "
            f"({percent:.0f}%), "
            f"more than max_deactivation_percent {settings.max_deactivation_percent:g}%; check "
            "the plan, then rerun with allow_deactivations=true"
        )
    return None


def emptied_read_reason(emptied: list[dict[str, Any]]) -> str | None:
    """Why a run whose reads came back empty (where the last run had rows) is held, or None."""
    if not emptied:
        return None
    tables = ", ".join(
        f"{read['table']} (run {read['previous_run_id']} had {read['previous_rows']})"
        for read in emptied
    )
    return (
        f"R4: read empty where the last run had rows: {tables}; check that the source really "
        "is empty and the plan, then rerun with allow_deactivations=true"
    )
