"""Map Graph calendars and events, and Emply events, to warehouse rows (times as UTC text)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from entrasync.connectors.graph.errors import GraphDataError

UTC_TEXT = "%Y-%m-%dT%H:%M:%SZ"
# Windows zone names Outlook uses when Prefer: outlook.timezone="UTC" was not honoured.
WINDOWS_ZONES = {
    "utc": "UTC", "coordinated universal time": "UTC", "gmt standard time": "Europe/London",
    "w. europe standard time": "Europe/Berlin", "romance standard time": "Europe/Paris",
    "central europe standard time": "Europe/Budapest", "fle standard time": "Europe/Helsinki",
    "central european standard time": "Europe/Warsaw", "eastern standard time": "America/New_York",
    "central standard time": "America/Chicago", "mountain standard time": "America/Denver",
    "pacific standard time": "America/Los_Angeles",
}  # fmt: skip


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(UTC_TEXT)


def parse_utc(text: str, zone_name: str | None = None) -> str:
    """ISO text (Outlook's 7 fraction digits allowed) as UTC text; naive text is in zone_name."""
    cleaned = text.strip().replace("Z", "+00:00")
    head, dot, tail = cleaned.partition(".")
    if dot:
        digits = "".join(ch for ch in tail if ch.isdigit())
        cleaned = f"{head}.{digits[:6]}{tail[len(digits) :]}"
    moment = datetime.fromisoformat(cleaned)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_zone(zone_name))
    return utc_text(moment)


def _zone(name: str | None) -> ZoneInfo:
    key = (name or "UTC").strip()
    try:
        return ZoneInfo(WINDOWS_ZONES.get(key.lower(), key))
    except (ZoneInfoNotFoundError, ValueError):
        raise GraphDataError(f"Graph event time zone {name!r} is not known") from None


def entra_calendar_row(user_id: str, obj: dict[str, Any]) -> dict[str, Any]:
    """An `entra_calendars` row from a Graph calendar (events_read is set later)."""
    if not isinstance(obj.get("id"), str):
        raise GraphDataError(f"Graph calendar of user {user_id!r} has no id")
    return {
        "entra_object_id": user_id,
        "calendar_id": obj["id"],
        "name": obj.get("name"),
        "can_edit": bool(obj.get("canEdit")),
        "is_default": bool(obj.get("isDefaultCalendar")),
        "events_read": False,
    }


def _event_time(obj: dict[str, Any], name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        raise GraphDataError(f"Graph event {obj.get('id')!r}: field '{name}' has no dateTime")
    return parse_utc(value["dateTime"], value.get("timeZone"))


def entra_event_row(user_id: str, calendar_id: str, obj: dict[str, Any]) -> dict[str, Any]:
    """An `entra_events` row from a calendarView item."""
    if not isinstance(obj.get("id"), str):
        raise GraphDataError(f"Graph event in calendar {calendar_id!r} has no id")
    return {
        "entra_object_id": user_id,
        "calendar_id": calendar_id,
        "event_id": obj["id"],
        "subject": obj.get("subject") or "",
        "start_at": _event_time(obj, "start"),
        "end_at": _event_time(obj, "end"),
    }


def emply_event_row(row: dict[str, Any]) -> dict[str, Any]:
    """An `emply_events` row from the Emply connector's events row (naive times are UTC)."""
    return {
        "event_id": row["event_id"],
        "user_id": row["user_id"],
        "calendar_id": row["calendar_id"],
        "subject": row["subject"] or "",
        "start_at": parse_utc(row["start"]),
        "end_at": parse_utc(row["end"]),
        "source": row["source"],
        "entra_event_id": row["entra_event_id"],
    }


def emply_outbox_row(row: dict[str, Any]) -> dict[str, Any]:
    """An `emply_event_outbox` row from the Emply connector's outbox row."""
    return {
        "event_id": row["event_id"],
        "user_id": row["user_id"],
        "calendar_id": row["calendar_id"],
        "entra_calendar_id": row["entra_calendar_id"],
        "subject": row["subject"] or "",
        "start_at": parse_utc(row["start"]),
        "end_at": parse_utc(row["end"]),
    }
