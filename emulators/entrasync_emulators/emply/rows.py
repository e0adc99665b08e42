"""The JSON rows the Emply API returns, and the export package that wraps them."""

from datetime import UTC, datetime
from typing import Any

from entrasync_emulators.emply.calendars import calendar_events, event_in_window, outbox
from entrasync_emulators.emply.errors import not_found
from entrasync_emulators.emply.fields import parse_time
from entrasync_emulators.emply.models import Calendar, Employee, Event, Role, User
from entrasync_emulators.emply.state import CustomerState

EXPORT_NAMES = {
    "users": "Users",
    "employees": "Employees",
    "roles": "Roles",
    "calendars": "Calendars",
    "events": "Events",
}


def user_row(user: User) -> dict[str, Any]:
    return {
        "userId": user.user_id,
        "username": user.username,
        "email": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "active": user.active,
        "roles": list(user.roles),
        "employeeId": user.employee_id,
        "externalId": user.external_id,
        "calendarSyncEnabled": user.calendar_sync_enabled,
        "photoSha256": user.photo.sha256 if user.photo else None,
    }


def employee_row(employee: Employee) -> dict[str, Any]:
    return {
        "employeeId": employee.employee_id,
        "email": employee.email,
        "firstName": employee.first_name,
        "lastName": employee.last_name,
        "jobTitle": employee.job_title,
        "department": employee.department,
        "mobilePhone": employee.mobile_phone,
        "userId": employee.user_id,
        "status": employee.status,
    }


def role_row(role: Role) -> dict[str, Any]:
    return {"roleId": role.role_id, "name": role.name, "isAdministrator": role.is_admin}


def calendar_row(calendar: Calendar) -> dict[str, Any]:
    return {
        "userId": calendar.user_id,
        "calendarId": calendar.calendar_id,
        "name": calendar.name,
        "enabled": calendar.enabled,
        "canDisable": calendar.can_disable,
        "entraCalendarId": calendar.entra_calendar_id,
    }


def event_row(event: Event, calendar: Calendar) -> dict[str, Any]:
    return {
        "eventId": event.event_id,
        "userId": event.user_id,
        "calendarId": event.calendar_id,
        "entraCalendarId": calendar.entra_calendar_id,
        "subject": event.subject,
        "start": event.start,
        "end": event.end,
        "source": event.source,
        "entraEventId": event.entra_event_id,
    }


def outbox_rows(state: CustomerState) -> list[dict[str, Any]]:
    rows = []
    for event in outbox(state):
        row = event_row(event, state.users[event.user_id].calendars[event.calendar_id])
        rows.append(
            {
                key: row[key]
                for key in (
                    "eventId",
                    "userId",
                    "calendarId",
                    "entraCalendarId",
                    "subject",
                    "start",
                    "end",
                )
            }
        )
    return rows


def event_rows(
    state: CustomerState, window_from: str | None, window_to: str | None
) -> list[dict[str, Any]]:
    """Events of live users' calendars; with from/to, only those in that window."""
    window = (
        parse_time(window_from or "0001-01-01T00:00:00+00:00", "query parameter 'from'"),
        parse_time(window_to or "9999-12-31T00:00:00+00:00", "query parameter 'to'"),
    )
    rows = []
    for user in state.users.values():
        for calendar in [] if user.deleted else user.calendars.values():
            for event in calendar_events(state, calendar):
                if event_in_window(event, *window):
                    rows.append(event_row(event, calendar))
    return rows


def export_rows(
    state: CustomerState, kind: str, window_from: str | None = None, window_to: str | None = None
) -> list[dict[str, Any]]:
    live_users = [u for u in state.users.values() if not u.deleted]
    if kind == "events":
        return event_rows(state, window_from, window_to)
    if kind == "users":
        return [user_row(u) for u in live_users]
    if kind == "employees":
        return [employee_row(e) for e in state.employees.values()]
    if kind == "roles":
        return [role_row(r) for r in state.roles.values()]
    return [calendar_row(c) for u in live_users for c in u.calendars.values()]


def export_package(
    state: CustomerState, export_id: str, window_from: str | None, window_to: str | None
) -> dict[str, Any]:
    """`{"exportId", "name", "from", "to", "generated", "data"}` for a configured export id."""
    kinds = [kind for kind, configured in state.export_ids.items() if configured == export_id]
    if not kinds:
        raise not_found(f"export {export_id!r} not found")
    return {
        "exportId": export_id,
        "name": EXPORT_NAMES[kinds[0]],
        "from": window_from,
        "to": window_to,
        "generated": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "data": export_rows(state, kinds[0], window_from, window_to),
    }
