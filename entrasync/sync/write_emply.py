"""Write planned changes to Emply, one at a time, recording each outcome as it goes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb

from entrasync.connectors.emply.client import EmplyClient
from entrasync.sync.write_calendars import MAILBOX_KINDS, write_mailbox_change
from entrasync.warehouse import audit

EMPLY_KINDS = (
    "link_user", "create_user", "activate_user", "deactivate_user", "set_roles", *MAILBOX_KINDS,
)  # fmt: skip


def _create_user(client: EmplyClient, change: dict[str, Any]) -> dict[str, Any]:
    target = change["after"]
    created = client.create_user(
        username=target["username"],
        email=target["email"],
        first_name=target.get("first_name"),
        last_name=target.get("last_name"),
        roles=target["roles"],
        employee_id=target.get("employee_id"),
        external_id=target["entra_object_id"],
    )
    return {"user_id": created["userId"]}


# The Emply user fields each update kind sets (EmplyClient.update_user keywords).
UPDATE_FIELDS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "link_user": lambda after: {"external_id": after["entra_object_id"]},
    "activate_user": lambda after: {"active": True},
    "deactivate_user": lambda after: {"active": False},
    "set_roles": lambda after: {"roles": after["roles"]},
}


def write_one(
    client: EmplyClient, change: dict[str, Any], con: duckdb.DuckDBPyConnection | None = None
) -> dict[str, Any] | None:
    """Apply one change; returns what later runs need to know (a new user's id)."""
    if change["kind"] in MAILBOX_KINDS:  # R8/R9: photo bytes and calendar ids come from `con`
        return write_mailbox_change(con, client, change)
    if change["kind"] == "create_user":
        return _create_user(client, change)
    client.update_user(change["emply_user_id"], **UPDATE_FIELDS[change["kind"]](change["after"]))
    return None


def write_emply_changes(
    con: duckdb.DuckDBPyConnection,
    client: EmplyClient,
    tenant: str,
    run_id: str,
    on_written: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Apply this run's pending Emply changes; a failing write is recorded and the rest go on."""
    counts = {"applied": 0, "failed": 0, "skipped": 0}
    written = 0
    for change in audit.pending_changes(con, run_id):
        if change["kind"] not in EMPLY_KINDS:
            continue
        earlier = audit.already_applied(con, tenant, change["change_id"])
        if earlier:
            audit.record_outcome(
                con, run_id, change["change_id"], "skipped", f"already applied in run {earlier}"
            )
            counts["skipped"] += 1
            continue
        try:
            result = write_one(client, change, con)
        except Exception as exc:  # recorded per change; the run ends failed
            audit.record_outcome(con, run_id, change["change_id"], "failed", str(exc))
            counts["failed"] += 1
            continue
        written += 1
        if on_written:  # between the write and its record: the worst moment to die
            on_written(written)
        audit.record_outcome(con, run_id, change["change_id"], "applied", result=result)
        counts["applied"] += 1
    return counts
