"""Write the Emply side of R8 and R9: pictures, calendars and the events of the sync window."""

from __future__ import annotations

import json
from typing import Any

import duckdb

from entrasync.connectors.emply.client import EmplyClient
from entrasync.connectors.emply.errors import EmplyError

MAILBOX_KINDS = ("set_photo", "add_calendar", "remove_calendar", "set_events")
# Calendars added by this process and not yet given their events: one user's changes run in
# plan order (add_calendar before set_events) while outcomes reach the ledger in batches.
_added_calendars: dict[tuple[str, str], str] = {}


class MissingPhoto(Exception):
    """The planned photo's bytes are not in entra_photo_content (they never enter the audit)."""


def write_mailbox_change(
    con: duckdb.DuckDBPyConnection, client: EmplyClient, change: dict[str, Any]
) -> dict[str, Any] | None:
    """Apply one R8/R9 change to Emply; returns what later steps need (new calendar ids)."""
    return WRITERS[change["kind"]](con, client, change)


def _set_photo(con, client: EmplyClient, change: dict[str, Any]) -> dict[str, Any]:
    after = change["after"]
    row = con.execute(
        "SELECT content FROM entra_photo_content WHERE entra_object_id = ? AND sha256 = ?",
        [change["entra_object_id"], after["sha256"]],
    ).fetchone()
    if row is None:
        raise MissingPhoto(f"photo {after['sha256']} of {change['subject']} was not read this run")
    answer = client.set_photo(change["emply_user_id"], bytes(row[0]), after["content_type"])
    return {"sha256": answer.get("photoSha256", after["sha256"])}


def _add_calendar(con, client: EmplyClient, change: dict[str, Any]) -> dict[str, Any]:
    after = change["after"]
    created = client.add_calendar(
        change["emply_user_id"],
        name=after["name"],
        entra_calendar_id=after["entra_calendar_id"],
        enabled=after["enabled"],
        can_disable=after["can_disable"],
    )
    _added_calendars[(change["emply_user_id"], after["entra_calendar_id"])] = created["calendarId"]
    return {"calendar_id": created["calendarId"]}


def _remove_calendar(con, client: EmplyClient, change: dict[str, Any]) -> None:
    try:
        client.remove_calendar(change["emply_user_id"], change["after"]["calendar_id"])
    except EmplyError as error:
        if error.status != 404:  # already gone is what we wanted
            raise


def _set_events(con, client: EmplyClient, change: dict[str, Any]) -> dict[str, Any]:
    after = change["after"]
    calendar_id = after["calendar_id"] or _added_calendar_id(con, change)
    events = [
        {"entraEventId": e["entra_event_id"], "subject": e["subject"],
         "start": e["start"], "end": e["end"]}
        for e in _planned_events(con, change)
    ]  # fmt: skip
    answer = client.set_events(
        change["emply_user_id"], calendar_id, from_=after["from"], to=after["to"], events=events
    )
    return {
        "calendar_id": calendar_id,
        "removed": answer.get("removed"),
        "added": answer.get("added"),
    }


def _planned_events(con: duckdb.DuckDBPyConnection, change: dict[str, Any]) -> list[dict]:
    """The events this plan set aside for the change (the audit holds only their hash)."""
    row = con.execute(
        "SELECT events FROM planned_calendar_events WHERE change_id = ?", [change["change_id"]]
    ).fetchone()
    if row is None:
        raise LookupError(f"the events of {change['after']['name']!r} are not in this plan")
    return json.loads(row[0])


def _added_calendar_id(con: duckdb.DuckDBPyConnection, change: dict[str, Any]) -> str:
    """The Emply id of a calendar an add_calendar (this run or an earlier one) created."""
    added = _added_calendars.pop(
        (change["emply_user_id"], change["after"]["entra_calendar_id"]), None
    )
    if added:
        return added
    row = con.execute(
        """
        SELECT json_extract_string(result, '$.calendar_id') FROM changes
        WHERE kind = 'add_calendar' AND outcome = 'applied' AND emply_user_id = ?
          AND json_extract_string(after, '$.entra_calendar_id') = ?
        ORDER BY applied_at DESC LIMIT 1
        """,
        [change["emply_user_id"], change["after"]["entra_calendar_id"]],
    ).fetchone()
    if row is None or row[0] is None:
        raise LookupError(f"calendar {change['after']['name']!r} was not added to Emply")
    return row[0]


WRITERS = {
    "set_photo": _set_photo,
    "add_calendar": _add_calendar,
    "remove_calendar": _remove_calendar,
    "set_events": _set_events,
}
