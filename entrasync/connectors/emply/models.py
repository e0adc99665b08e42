"""Check Emply export rows and map them to warehouse rows (columns as in warehouse/schema.sql)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from entrasync.connectors.emply.errors import EmplyExportError

EMPLOYEE_STATUSES = {"active": False, "pending": False, "archived": True}  # status -> archived

_MISSING = object()


class RowReader:
    """Reads typed fields of one row; every failure names source, row index, row id and field."""

    def __init__(self, source: str, index: int, row: Any, id_field: str) -> None:
        self.source = source
        self.index = index
        self.row = row
        self.id_field = id_field
        if not isinstance(row, dict):
            raise EmplyExportError(f"{self._where()}: expected an object, got {_shown(row)}")

    def text(self, name: str, required: bool = False) -> str | None:
        value = self._get(name, required)
        if value is not None and not isinstance(value, str):
            raise self.fail(name, "text", value)
        return value

    def flag(self, name: str) -> bool:
        value = self._get(name, required=True)
        if not isinstance(value, bool):
            raise self.fail(name, "true/false", value)
        return value

    def texts(self, name: str) -> list[str]:
        value = self._get(name, required=True)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail(name, "a list of text", value)
        return list(value)

    def choice(self, name: str, choices: dict[str, Any]) -> Any:
        value = self._get(name, required=True)
        if value not in choices:
            raise self.fail(name, " or ".join(f'"{c}"' for c in choices), value)
        return choices[value]

    def fail(self, name: str, expected: str, value: Any) -> EmplyExportError:
        return EmplyExportError(
            f"{self._where()}: field '{name}': expected {expected}, got {_shown(value)}"
        )

    def _get(self, name: str, required: bool) -> Any:
        value = self.row.get(name, _MISSING)
        if value is _MISSING or (required and value is None):
            if required:
                raise EmplyExportError(f"{self._where()}: field '{name}': missing")
            return None
        return value

    def _where(self) -> str:
        row_id = self.row.get(self.id_field) if isinstance(self.row, dict) else None
        shown_id = f" ({self.id_field} {row_id})" if isinstance(row_id, str | int) else ""
        return f"{self.source} row {self.index}{shown_id}"


def emply_user_row(reader: RowReader) -> dict[str, Any]:
    """An `emply_users` row from a users export row."""
    return {
        "user_id": reader.text("userId", required=True),
        "username": reader.text("username", required=True),
        "email": reader.text("email"),
        "first_name": reader.text("firstName"),
        "last_name": reader.text("lastName"),
        "active": reader.flag("active"),
        "roles": reader.texts("roles"),
        "employee_id": reader.text("employeeId"),
        "entra_object_id": reader.text("externalId"),
        "calendar_sync_enabled": reader.flag("calendarSyncEnabled"),
        "photo_sha256": reader.text("photoSha256"),
    }


def emply_employee_row(reader: RowReader) -> dict[str, Any]:
    """An `emply_employees` row from an employees export row."""
    return {
        "employee_id": reader.text("employeeId", required=True),
        "email": reader.text("email"),
        "first_name": reader.text("firstName"),
        "last_name": reader.text("lastName"),
        "job_title": reader.text("jobTitle"),
        "department": reader.text("department"),
        "mobile_phone": reader.text("mobilePhone"),
        "user_id": reader.text("userId"),
        "archived": reader.choice("status", EMPLOYEE_STATUSES),
    }


def emply_role_row(reader: RowReader) -> dict[str, Any]:
    """An `emply_roles` row from a roles export row (or a `GET roles` item)."""
    return {
        "role_id": reader.text("roleId"),
        "name": reader.text("name", required=True),
        "is_admin": reader.flag("isAdministrator"),
    }


def emply_calendar_row(reader: RowReader) -> dict[str, Any]:
    """A user's calendar in Emply (R9) from a calendars export row."""
    return {
        "user_id": reader.text("userId", required=True),
        "calendar_id": reader.text("calendarId", required=True),
        "name": reader.text("name", required=True),
        "enabled": reader.flag("enabled"),
        "can_disable": reader.flag("canDisable"),
        "entra_calendar_id": reader.text("entraCalendarId"),
    }


def emply_outbox_event_row(reader: RowReader) -> dict[str, Any]:
    """An event created in Emply and waiting to be created in Microsoft 365 (R9)."""
    return {
        "event_id": reader.text("eventId", required=True),
        "user_id": reader.text("userId", required=True),
        "calendar_id": reader.text("calendarId", required=True),
        "entra_calendar_id": reader.text("entraCalendarId"),
        "subject": reader.text("subject"),
        "start": reader.text("start", required=True),
        "end": reader.text("end", required=True),
    }


def emply_event_row(reader: RowReader) -> dict[str, Any]:
    """An event of a user's Emply calendar (R9) from an events export row."""
    return {
        "event_id": reader.text("eventId", required=True),
        "user_id": reader.text("userId", required=True),
        "calendar_id": reader.text("calendarId", required=True),
        "subject": reader.text("subject"),
        "start": reader.text("start", required=True),
        "end": reader.text("end", required=True),
        "source": reader.choice("source", {"entra": "entra", "emply": "emply"}),
        "entra_event_id": reader.text("entraEventId"),
    }


# row mapper, the source field naming a row, and the key that must be unique in a listing
ROW_KINDS: dict[str, tuple[Callable[[RowReader], dict[str, Any]], str, str | None]] = {
    "users": (emply_user_row, "userId", "user_id"),
    "employees": (emply_employee_row, "employeeId", "employee_id"),
    "roles": (emply_role_row, "name", "name"),
    "calendars": (emply_calendar_row, "calendarId", None),
    "outbox": (emply_outbox_event_row, "eventId", "event_id"),
    "events": (emply_event_row, "eventId", "event_id"),
}


def map_rows(kind: str, source: str, rows: list[Any]) -> list[dict[str, Any]]:
    """Check and map every row of a listing; a bad or duplicated row raises EmplyExportError."""
    mapper, id_field, unique_key = ROW_KINDS[kind]
    mapped: list[dict[str, Any]] = []
    first_index: dict[Any, int] = {}
    for index, row in enumerate(rows):
        reader = RowReader(source, index, row, id_field)
        mapped_row = mapper(reader)
        if unique_key is not None:
            key = mapped_row[unique_key]
            if key in first_index:
                expected = f"a value not used before (row {first_index[key]} has it)"
                raise reader.fail(id_field, expected, key)
            first_index[key] = index
        mapped.append(mapped_row)
    return mapped


def _shown(value: Any) -> str:
    try:
        shown = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        shown = repr(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."
