"""Outlook events: the stored record, time-zone handling, and rendering like Graph does."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from entrasync_emulators.graph.directory import Record, TenantDirectory
from entrasync_emulators.graph.messages import GraphError

# The Windows zone names Outlook uses most, mapped to IANA names.
WINDOWS_ZONES = {
    "utc": "UTC",
    "coordinated universal time": "UTC",
    "romance standard time": "Europe/Paris",
    "w. europe standard time": "Europe/Berlin",
    "central europe standard time": "Europe/Budapest",
    "central european standard time": "Europe/Warsaw",
    "gmt standard time": "Europe/London",
    "fle standard time": "Europe/Helsinki",
    "pacific standard time": "America/Los_Angeles",
    "mountain standard time": "America/Denver",
    "central standard time": "America/Chicago",
    "eastern standard time": "America/New_York",
}


def zone(name: str | None) -> ZoneInfo:
    """A zone from a Windows or IANA name; 400 like Outlook for an unknown one."""
    key = (name or "UTC").strip()
    try:
        return ZoneInfo(WINDOWS_ZONES.get(key.lower(), key))
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise GraphError(
            400, "TimeZoneNotSupportedException", f"A valid TimeZone value must be specified. "
            f"The following TimeZone value is not supported: '{key}'.",
        ) from error  # fmt: skip


def parse_instant(text: str, zone_name: str | None = None) -> datetime:
    """An aware datetime from ISO text; naive text is read in `zone_name` (default UTC)."""
    cleaned = text.strip().replace("Z", "+00:00")
    if "." in cleaned:  # Outlook writes 7 fraction digits; Python reads at most 6
        head, _, tail = cleaned.partition(".")
        digits = "".join(ch for ch in tail if ch.isdigit())
        rest = tail[len(digits) :]
        cleaned = f"{head}.{digits[:6]}{rest}"
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError as error:
        raise GraphError(
            400, "ErrorInvalidParameter", f"The value '{text}' is not a valid date and time."
        ) from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(zone_name))
    return moment.astimezone(UTC)


def format_instant(moment: datetime, zone_name: str) -> dict[str, str]:
    local = moment.astimezone(zone(zone_name))
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": zone_name}


def _outlook_id(*parts: str) -> str:
    digest = hashlib.sha256("/".join(parts).encode()).digest()[:24]
    return "AAMkAGI1" + base64.urlsafe_b64encode(digest).decode("ascii")


def _time_field(payload: dict[str, Any], key: str) -> tuple[datetime, str]:
    value = payload.get(key)
    if not isinstance(value, dict) or not value.get("dateTime"):
        raise GraphError(400, "ErrorInvalidRequest", f"The event's '{key}' must have a dateTime.")
    zone_name = value.get("timeZone") or "UTC"
    zone(zone_name)
    return parse_instant(str(value["dateTime"]), zone_name), zone_name


def create_event(
    tenant: TenantDirectory,
    user_id: str,
    calendar_id: str,
    payload: dict[str, Any],
    *,
    created_by_api: bool,
) -> Record:
    """Store a new event; a repeated transactionId returns the event it already made."""
    box = tenant.mailbox(user_id)
    events = box.events.setdefault(calendar_id, [])
    transaction_id = payload.get("transactionId")
    if transaction_id:
        for existing in events:
            if existing.get("transactionId") == transaction_id:
                return existing
    start, start_zone = _time_field(payload, "start")
    end, end_zone = _time_field(payload, "end")
    if end < start:
        raise GraphError(
            400, "ErrorInvalidRequest", "The event's end time must not be before its start time."
        )
    user = tenant.users[user_id]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    event_id = _outlook_id(user_id, calendar_id, str(uuid.uuid4()))
    change_key = base64.b64encode(hashlib.md5(event_id.encode()).digest()).decode()
    body = payload.get("body") if isinstance(payload.get("body"), dict) else {}
    location = payload.get("location") if isinstance(payload.get("location"), dict) else {}
    location_name = str(location.get("displayName") or "")
    record: Record = {
        "id": event_id,
        "createdDateTime": now,
        "lastModifiedDateTime": now,
        "changeKey": change_key,
        "categories": list(payload.get("categories") or []),
        "originalStartTimeZone": start_zone,
        "originalEndTimeZone": end_zone,
        "iCalUId": "040000008200E00074C5B7101A82E008" + hashlib.md5(event_id.encode()).hexdigest(),
        "reminderMinutesBeforeStart": 15,
        "isReminderOn": True,
        "hasAttachments": False,
        "hideAttendees": False,
        "subject": str(payload.get("subject") or ""),
        "bodyPreview": str(body.get("content") or "")[:255],
        "importance": "normal",
        "sensitivity": "normal",
        "isAllDay": bool(payload.get("isAllDay", False)),
        "isCancelled": False,
        "isDraft": False,
        "isOrganizer": True,
        "responseRequested": True,
        "seriesMasterId": None,
        "transactionId": transaction_id,
        "showAs": str(payload.get("showAs") or "busy"),
        "type": "singleInstance",
        "webLink": f"https://outlook.office365.com/owa/?itemid={event_id}&exvsurl=1&path=/calendar/item",
        "onlineMeetingUrl": None,
        "isOnlineMeeting": False,
        "onlineMeetingProvider": "unknown",
        "onlineMeeting": None,
        "allowNewTimeProposals": bool(payload.get("allowNewTimeProposals", True)),
        "responseStatus": {"response": "organizer", "time": "0001-01-01T00:00:00Z"},
        "body": {
            "contentType": str(body.get("contentType") or "text").lower(),
            "content": str(body.get("content") or ""),
        },
        "location": {
            "displayName": location_name,
            "locationType": "default",
            "uniqueId": location_name,
            "uniqueIdType": "private",
        },
        "locations": (
            [{"displayName": location_name, "locationType": "default", "uniqueIdType": "unknown"}]
            if location_name
            else []
        ),
        "recurrence": None,
        "attendees": list(payload.get("attendees") or []),
        "organizer": {
            "emailAddress": {
                "name": user.get("displayName"),
                "address": user.get("mail") or user["userPrincipalName"],
            }
        },
        "_start": start,
        "_end": end,
        "_created_by_api": created_by_api,
    }
    events.append(record)
    tenant.touch_mailbox()
    return record


def render_event(record: Record, zone_name: str, names: list[str] | None = None) -> dict[str, Any]:
    """Graph's view of an event, start/end in `zone_name` (UTC unless Prefer asks otherwise)."""
    rendered = {key: value for key, value in record.items() if not key.startswith("_")}
    rendered["start"] = format_instant(record["_start"], zone_name)
    rendered["end"] = format_instant(record["_end"], zone_name)
    if names is not None:
        rendered = {key: rendered.get(key) for key in names}
    etag = f'W/"{record["changeKey"]}"'
    return {"@odata.etag": etag, **rendered}


def api_created_events(tenant: TenantDirectory, user_id: str) -> list[dict[str, Any]]:
    """Events the Graph API created for one user, with their calendar's name (control view)."""
    if not tenant.has_mailbox(user_id):
        return []
    box = tenant.mailbox(user_id)
    listed = []
    for calendar_id, events in box.events.items():
        calendar = box.calendars.get(calendar_id)
        for record in events:
            if record["_created_by_api"]:
                listed.append({"calendar": calendar["name"] if calendar else None,
                               **render_event(record, "UTC")})  # fmt: skip
    return listed
