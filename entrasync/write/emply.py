"""Write planned changes to Emply on a bounded pool, recording each outcome."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import duckdb

from entrasync.connectors.emply.client import EmplyClient
from entrasync.run.deadline import RunDeadline
from entrasync.warehouse import audit
from entrasync.warehouse.outcomes import Outcome
from entrasync.write.engine import OutcomeLog
from entrasync.write.mailboxes import MAILBOX_KINDS, write_mailbox_change
from entrasync.write.pool import run_phase

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
    return {
        "user_id": created["userId"],
        "calendar_sync_enabled": created.get("calendarSyncEnabled", True),
    }


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


# Writes in flight at once: Emply's budget for one tenant's run.
WRITE_WORKERS = 8
# Links and creations first: later kinds may touch the users they tie or make.
PHASES = (("link_user", "create_user"),)


def _phase(kind: str) -> int:
    for index, kinds in enumerate(PHASES):
        if kind in kinds:
            return index
    return len(PHASES)


def write_emply_changes(
    con: duckdb.DuckDBPyConnection,
    client: EmplyClient,
    tenant: str,
    run_id: str,
    on_written: Callable[[int], None] | None = None,
    workers: int = WRITE_WORKERS,
    deadline: RunDeadline | None = None,
) -> dict[str, int]:
    """Apply this run's pending Emply changes, `workers` at a time, one user's in order.

    A failing write is recorded and the rest go on. Outcomes are recorded in batches; a crash
    loses at most the latest batch of records, never a write: the rerun's plan reads Emply.
    """
    pending = [c for c in audit.pending_changes(con, run_id) if c["kind"] in EMPLY_KINDS]
    log = OutcomeLog(con, tenant, run_id)
    todo = log.skip_applied_earlier(pending)
    written = itertools.count(1)

    def write(change: dict[str, Any], cursor: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
        result = write_one(client, change, cursor)
        if on_written:  # between the write and its record: the worst moment to die
            on_written(next(written))
        return result

    for phase in sorted({_phase(c["kind"]) for c in todo}):
        changes = [c for c in todo if _phase(c["kind"]) == phase]
        if phase > 0:
            changes = for_created_users(con, log, run_id, changes)
        run_phase(con, log, changes, write, workers, stop=deadline.passed if deadline else bool)
        if deadline:  # between writes is a safe point: what is left is skipped, for the rerun
            deadline.check("every Emply write was made")
    return log.counts


CALENDAR_KINDS = ("add_calendar", "remove_calendar", "set_events")


def for_created_users(
    con: duckdb.DuckDBPyConnection, log: OutcomeLog, run_id: str, changes: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Give the changes due to a user create_user made (no Emply id at plan time) that id.

    The created user's id comes from its applied create_user (recorded once the first phase
    ended); a change whose user was not created is skipped, never counted applied, and so is a
    calendar change for a new user whose calendar sync Emply turned off.
    """
    waiting = [c for c in changes if c["emply_user_id"] is None and c["entra_object_id"]]
    if not waiting:
        return changes
    rows = con.execute(
        """
        SELECT entra_object_id,
               arg_max(json_extract_string(result, '$.user_id'), applied_at),
               arg_max(coalesce(CAST(json_extract(result, '$.calendar_sync_enabled') AS BOOLEAN),
                                true), applied_at)
        FROM changes
        WHERE kind = 'create_user' AND outcome = 'applied'
          AND list_contains(?, entra_object_id)
        GROUP BY entra_object_id
        """,
        [[c["entra_object_id"] for c in waiting]],
    ).fetchall()
    created = {entra_id: (user_id, sync_on) for entra_id, user_id, sync_on in rows if user_id}
    ready, resolved = [c for c in changes if c not in waiting], []
    for change in waiting:
        user_id, calendar_sync_on = created.get(change["entra_object_id"], (None, True))
        if user_id is None:
            why = f"its create_user did not complete: {change['subject']} is not in Emply"
            log.add(Outcome(change["change_id"], "skipped", why))
        elif change["kind"] in CALENDAR_KINDS and not calendar_sync_on:
            why = f"Emply created {change['subject']} with calendar sync off"
            log.add(Outcome(change["change_id"], "skipped", why))
        else:
            change["emply_user_id"] = user_id
            resolved.append((user_id, run_id, change["change_id"]))
            ready.append(change)
    log.flush()
    if resolved:  # the audit names the user each change touched
        con.executemany(
            "UPDATE changes SET emply_user_id = ? WHERE run_id = ? AND change_id = ?", resolved
        )
    return ready
