"""R4 Safety: a run that would deactivate too many users writes nothing and ends blocked.

Deleting Entra users (R7 write.delete) counts with the deactivations: it is the more drastic.
So does a read that came back empty where the last run had rows: true (every group deleted,
every user gone) or not, only the operator can tell; `allow_deactivations=true` releases both.
"""

from __future__ import annotations

import math
from typing import Any

import duckdb

from entrasync.settings import TenantSettings
from rules.views import make_view

PERCENT_RULE_MINIMUM = 10


def deactivations_view(con: duckdb.DuckDBPyConnection) -> str:
    """The view of the plan's deactivations R4 counts (rules/gate/r4_deactivations.sql)."""
    return make_view(con, "gate/r4_deactivations")


def linked_user_count(con: duckdb.DuckDBPyConnection) -> int:
    """Linked Emply users before the plan: the base of R4's percentage."""
    deactivations_view(con)
    return con.execute("SELECT linked_users FROM r4_linked_users").fetchone()[0]


def deactivation_limit(max_deactivations: int, max_percent: float, linked_users: int) -> int:
    """The most deactivations a run may plan without allow_deactivations (the plan suite's
    threshold; a plan over it is blocked)."""
    if linked_users == 0:  # no linked users: any deactivation is 100 % of them
        within_percent = math.inf if max_percent >= 100 else 0
    else:
        within_percent = math.floor(max_percent * linked_users / 100 + 1e-9)
    return int(min(max_deactivations, max(PERCENT_RULE_MINIMUM, within_percent)))


def deactivation_block_reason(con: duckdb.DuckDBPyConnection, settings: TenantSettings) -> str:
    """Why a plan over the threshold (the plan suite said so) is not written, with its numbers."""
    linked = linked_user_count(con)
    deactivations = con.execute("SELECT count(*) FROM r4_deactivations").fetchone()[0]
    if deactivations > settings.max_deactivations:
        return (
            f"R4: the plan deactivates or deletes {deactivations} users, more than "
            f"max_deactivations {settings.max_deactivations}; check the plan, then rerun with "
            "allow_deactivations=true"
        )
    percent = 100.0 * deactivations / linked if linked else 100.0
    return (
        f"R4: the plan deactivates or deletes {deactivations} of {linked} linked users "
        f"({percent:.0f}%), more than max_deactivation_percent "
        f"{settings.max_deactivation_percent:g}%; check the plan, then rerun with "
        "allow_deactivations=true"
    )


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
