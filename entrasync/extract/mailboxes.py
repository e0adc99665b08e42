"""Read calendars and events (R9) from both sides, and photos (R8), into the warehouse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb

from entrasync.connectors.emply.client import EmplyClient
from entrasync.connectors.emply.export_load import load_export
from entrasync.connectors.graph import mailbox_batch
from entrasync.connectors.graph.client import GraphClient
from entrasync.connectors.graph.mailbox_rows import (
    emply_event_row,
    emply_outbox_row,
    entra_calendar_row,
    entra_event_row,
    utc_text,
)
from entrasync.extract.photos import extract_photos
from entrasync.settings import TenantSettings
from entrasync.warehouse.load import insert_rows
from rules.views import make_view

MAILBOX_TABLES = (
    "emply_calendars", "emply_events", "emply_event_outbox", "mailbox_reads",
    "entra_calendars", "entra_events",
)  # fmt: skip


def calendar_window(days: int, now: datetime | None = None) -> tuple[datetime, datetime]:
    """From midnight UTC of today, `days` days on: stable within a day, so plans are too."""
    today = (now or datetime.now(UTC)).astimezone(UTC)
    start = today.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=days)


def extract_mailboxes(
    con: duckdb.DuckDBPyConnection,
    graph: GraphClient,
    emply: EmplyClient,
    settings: TenantSettings,
    run_id: str,
    now: datetime | None = None,
) -> dict[str, int]:
    """Calendar side of both systems (only what R9 needs when it is off) and the photos."""
    calendars_on = settings.sync_calendars and settings.enabled
    start, end = calendar_window(settings.calendar_window_days, now)
    con.execute("DELETE FROM run_calendar_window")
    con.execute(
        "INSERT INTO run_calendar_window VALUES (?, ?, ?, ?)",
        [run_id, calendars_on, utc_text(start), utc_text(end)],
    )
    for table in MAILBOX_TABLES:
        con.execute(f"DELETE FROM {table}")
    # Emply's calendars are read even when R9 is off: the synced ones must then be removed.
    calendars_export = settings.emply.exports["calendars"]
    load_export(
        con, "emply_calendars", "calendars", calendars_export,
        emply.read_export_body(calendars_export),
    )  # fmt: skip
    if calendars_on:
        export_id = settings.emply.exports.get("events", "events")
        events = emply.read_events(export_id, utc_text(start), utc_text(end))
        insert_rows(con, "emply_events", (emply_event_row(row) for row in events))
        outbox = emply.read_event_outbox()
        insert_rows(con, "emply_event_outbox", (emply_outbox_row(row) for row in outbox))
        _extract_calendars(con, graph)
        _extract_events(con, graph, start, end)
    # Checked at the wall clock, not `now`: a fixed `now` would tie every run's checks.
    photo_checks = extract_photos(con, graph, run_id, settings.photo_checks_per_run)
    counts = {
        table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in (*MAILBOX_TABLES, "entra_photos", "entra_photo_content")
    }
    return counts | {"photo_checks": photo_checks}


def _extract_calendars(con: duckdb.DuckDBPyConnection, graph: GraphClient) -> None:
    view = make_view(con, "reads/calendar_users_to_read")  # R9 decides whom, in rules/
    users = [row[0] for row in con.execute(f"SELECT * FROM {view} ORDER BY 1").fetchall()]
    answers = mailbox_batch.calendars(graph, users)
    reads, rows = [], []
    for user_id in users:
        answer = answers[user_id]
        if answer.status == 404:  # no mailbox: its calendars are left as they are
            reads.append(_read(user_id, "calendars", answer.status, answer.error().message))
            continue
        answer.raise_for_failure()
        reads.append(_read(user_id, "calendars", answer.status, None))
        rows.extend(
            entra_calendar_row(user_id, obj) for obj in mailbox_batch.all_items(graph, answer)
        )
    insert_rows(con, "mailbox_reads", reads)
    insert_rows(con, "entra_calendars", rows)


def _extract_events(
    con: duckdb.DuckDBPyConnection, graph: GraphClient, start: datetime, end: datetime
) -> None:
    view = make_view(con, "reads/calendars_to_read")
    wanted = con.execute(f"SELECT * FROM {view} ORDER BY ALL").fetchall()
    answers = mailbox_batch.calendar_views(graph, wanted, utc_text(start), utc_text(end))
    rows, read = [], []
    for user_id, calendar_id in wanted:
        answer = answers[(user_id, calendar_id)]
        if answer.status == 404:  # removed since it was listed: no events, and it will go
            continue
        answer.raise_for_failure()
        items = mailbox_batch.all_events(graph, answer)
        rows.extend(entra_event_row(user_id, calendar_id, obj) for obj in items)
        read.append((user_id, calendar_id))
    insert_rows(con, "entra_events", rows)
    if read:
        con.executemany(
            "UPDATE entra_calendars SET events_read = true"
            " WHERE entra_object_id = ? AND calendar_id = ?",
            read,
        )


def _read(user_id: str, what: str, status: int, error: str | None) -> dict:
    return {"entra_object_id": user_id, "what": what, "status": status, "error": error}
