"""Check Emply export rows and map them to warehouse rows (columns as in warehouse/schema.sql)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
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

    def choice(self, name: str, choices: Mapping[str, Any]) -> Any:
        value = self._get(name, required=True)
        if not isinstance(value, str) or value not in choices:
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


@dataclass(frozen=True)
class Field:
    """One field of an export row: its name there, its warehouse column, what it must hold."""

    name: str
    column: str
    kind: str  # "text", "flag" (true/false), "texts" (a list of text) or "choice"
    required: bool = False  # flags, lists and choices always are
    choices: Mapping[str, Any] | None = None  # a choice's export values -> column values


@dataclass(frozen=True)
class RowKind:
    """The fields of one kind of row, the field naming a row, and the column unique per listing."""

    fields: tuple[Field, ...]
    id_field: str
    unique: str | None


def _text(name: str, column: str, required: bool = False) -> Field:
    return Field(name, column, "text", required)


ROW_KINDS: dict[str, RowKind] = {
    "users": RowKind((
        _text("userId", "user_id", True), _text("username", "username", True),
        _text("email", "email"), _text("firstName", "first_name"),
        _text("lastName", "last_name"), Field("active", "active", "flag"),
        Field("roles", "roles", "texts"), _text("employeeId", "employee_id"),
        _text("externalId", "entra_object_id"),
        Field("calendarSyncEnabled", "calendar_sync_enabled", "flag"),
        _text("photoSha256", "photo_sha256"),
    ), "userId", "user_id"),
    "employees": RowKind((
        _text("employeeId", "employee_id", True), _text("email", "email"),
        _text("firstName", "first_name"), _text("lastName", "last_name"),
        _text("jobTitle", "job_title"), _text("department", "department"),
        _text("mobilePhone", "mobile_phone"), _text("userId", "user_id"),
        Field("status", "archived", "choice", choices=EMPLOYEE_STATUSES),
    ), "employeeId", "employee_id"),
    "roles": RowKind((
        _text("roleId", "role_id"), _text("name", "name", True),
        Field("isAdministrator", "is_admin", "flag"),
    ), "name", "name"),
    # a user's calendar in Emply (R9)
    "calendars": RowKind((
        _text("userId", "user_id", True), _text("calendarId", "calendar_id", True),
        _text("name", "name", True), Field("enabled", "enabled", "flag"),
        Field("canDisable", "can_disable", "flag"), _text("entraCalendarId", "entra_calendar_id"),
    ), "calendarId", None),
    # an event created in Emply and waiting to be created in Microsoft 365 (R9)
    "outbox": RowKind((
        _text("eventId", "event_id", True), _text("userId", "user_id", True),
        _text("calendarId", "calendar_id", True), _text("entraCalendarId", "entra_calendar_id"),
        _text("subject", "subject"), _text("start", "start", True), _text("end", "end", True),
    ), "eventId", "event_id"),
    # an event of a user's Emply calendar (R9)
    "events": RowKind((
        _text("eventId", "event_id", True), _text("userId", "user_id", True),
        _text("calendarId", "calendar_id", True), _text("subject", "subject"),
        _text("start", "start", True), _text("end", "end", True),
        Field("source", "source", "choice", choices={"entra": "entra", "emply": "emply"}),
        _text("entraEventId", "entra_event_id"),
    ), "eventId", "event_id"),
}  # fmt: skip


def read_field(reader: RowReader, field: Field) -> Any:
    if field.kind == "text":
        return reader.text(field.name, field.required)
    if field.kind == "flag":
        return reader.flag(field.name)
    if field.kind == "texts":
        return reader.texts(field.name)
    return reader.choice(field.name, field.choices or {})


def map_row(kind: RowKind, reader: RowReader) -> dict[str, Any]:
    """The warehouse row of one export row (columns in the fields' order); a bad field raises."""
    return {field.column: read_field(reader, field) for field in kind.fields}


def duplicate_error(reader: RowReader, key: Any, first_index: int) -> EmplyExportError:
    expected = f"a value not used before (row {first_index} has it)"
    return reader.fail(reader.id_field, expected, key)


def map_rows(kind_name: str, source: str, rows: list[Any]) -> list[dict[str, Any]]:
    """Check and map every row of a listing; a bad or duplicated row raises EmplyExportError."""
    kind = ROW_KINDS[kind_name]
    mapped: list[dict[str, Any]] = []
    first_index: dict[Any, int] = {}
    for index, row in enumerate(rows):
        reader = RowReader(source, index, row, kind.id_field)
        mapped_row = map_row(kind, reader)
        if kind.unique is not None:
            key = mapped_row[kind.unique]
            if key in first_index:
                raise duplicate_error(reader, key, first_index[key])
            first_index[key] = index
        mapped.append(mapped_row)
    return mapped


def export_shape_error(export_id: str, is_json: bool) -> EmplyExportError:
    what = "a package without a 'data' list" if is_json else "not JSON"
    return EmplyExportError(f"export '{export_id}': Emply sent {what}")


def _shown(value: Any) -> str:
    try:
        shown = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        shown = repr(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."
