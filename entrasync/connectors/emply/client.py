"""Emply People API v1 client for one customer: exports, user writes, calendars, photos."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

import orjson

from entrasync.connectors.emply.models import export_shape_error, map_rows
from entrasync.connectors.emply.transport import NOT_JSON, EmplyTransport, json_body

USER_FIELDS = {"active": "active", "roles": "roles", "external_id": "externalId"}


class EmplyClient(EmplyTransport):
    """An Emply People API client for one customer."""

    def __repr__(self) -> str:
        return f"EmplyClient(base_url={self.base_url!r})"

    # ---- exports -----------------------------------------------------------------------------

    def read_export_body(
        self,
        export_id: str,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
    ) -> bytes:
        """An export package as Emply sent it (JSON text; the bulk loader parses it in DuckDB)."""
        params = {key: _iso(value) for key, value in (("from", from_), ("to", to)) if value}
        return self._call("GET", f"exports/{_segment(export_id)}", params=params).content

    def read_export(
        self,
        export_id: str,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
    ) -> list[dict[str, Any]]:
        """The `data` rows of an export package, as Emply sent them."""
        try:
            package = orjson.loads(self.read_export_body(export_id, from_, to))
        except ValueError:
            package = NOT_JSON
        rows = package.get("data") if isinstance(package, dict) else None
        if not isinstance(rows, list):
            raise export_shape_error(export_id, package is not NOT_JSON)
        return rows

    def read_users(self, export_id: str = "users") -> list[dict[str, Any]]:
        return map_rows("users", f"export '{export_id}'", self.read_export(export_id))

    def read_employees(self, export_id: str = "employees") -> list[dict[str, Any]]:
        return map_rows("employees", f"export '{export_id}'", self.read_export(export_id))

    def read_roles(self, export_id: str = "roles") -> list[dict[str, Any]]:
        return map_rows("roles", f"export '{export_id}'", self.read_export(export_id))

    def read_calendars(self, export_id: str = "calendars") -> list[dict[str, Any]]:
        return map_rows("calendars", f"export '{export_id}'", self.read_export(export_id))

    def read_events(
        self, export_id: str, from_: datetime | str, to: datetime | str
    ) -> list[dict[str, Any]]:
        """Events of every user's calendars in the window [from_, to) (R9)."""
        rows = self.read_export(export_id, from_, to)
        return map_rows("events", f"export '{export_id}'", rows)

    # ---- users and employees -----------------------------------------------------------------

    def list_roles(self) -> list[dict[str, Any]]:
        return map_rows("roles", "'roles'", self._get_list("roles"))

    def find_employees_by_email(self, email: str) -> list[dict[str, Any]]:
        """Employees with this e-mail, as Emply sent them (employees export row shape)."""
        return self._get_list("employees/find-by-name", params={"email": email})

    def create_user(
        self,
        *,
        username: str,
        email: str,
        first_name: str | None,
        last_name: str | None,
        roles: list[str],
        employee_id: str | None = None,
        external_id: str | None = None,
    ) -> dict[str, Any]:
        """Create a user; returns its user row. 409 (username/externalId taken): EmplyConflict."""
        body = {
            "username": username,
            "email": email,
            "firstName": first_name,
            "lastName": last_name,
            "roles": roles,
            "employeeId": employee_id,
            "externalId": external_id,
        }
        return self._json_object(self._call("POST", "users", json=body, expect=(200, 201)))

    def update_user(self, user_id: str, **fields: Any) -> dict[str, Any]:
        """PATCH any of active=, roles=, external_id=; returns the updated user row."""
        unknown = set(fields) - set(USER_FIELDS)
        if unknown or not fields:
            raise TypeError(f"update_user takes {sorted(USER_FIELDS)}, got {sorted(fields)}")
        body = {USER_FIELDS[name]: value for name, value in fields.items()}
        response = self._call("PATCH", f"users/{_segment(user_id)}", json=body)
        return self._json_object(response)

    # ---- calendars, events, photos (R8, R9) --------------------------------------------------

    def add_calendar(
        self,
        user_id: str,
        *,
        name: str,
        entra_calendar_id: str,
        enabled: bool,
        can_disable: bool,
    ) -> dict[str, Any]:
        body = {
            "name": name,
            "entraCalendarId": entra_calendar_id,
            "enabled": enabled,
            "canDisable": can_disable,
        }
        path = f"users/{_segment(user_id)}/calendars"
        return self._json_object(self._call("POST", path, json=body, expect=(200, 201)))

    def remove_calendar(self, user_id: str, calendar_id: str) -> None:
        path = f"users/{_segment(user_id)}/calendars/{_segment(calendar_id)}"
        self._call("DELETE", path, expect=(200, 204))

    def set_events(
        self,
        user_id: str,
        calendar_id: str,
        *,
        from_: datetime | str,
        to: datetime | str,
        events: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """Replace the calendar's events in [from_, to) with `events` ({entraEventId, ...})."""
        path = f"users/{_segment(user_id)}/calendars/{_segment(calendar_id)}/events"
        body = {"from": _iso(from_), "to": _iso(to), "events": events}
        return json_body(self._call("PUT", path, json=body, expect=(200, 204)))

    def read_event_outbox(self) -> list[dict[str, Any]]:
        """Events created in Emply that still need creating in Microsoft 365."""
        return map_rows("outbox", "'events/outbox'", self._get_list("events/outbox"))

    def mark_event_pushed(self, event_id: str, entra_event_id: str) -> dict[str, Any]:
        path = f"events/{_segment(event_id)}/pushed"
        body = {"entraEventId": entra_event_id}
        return json_body(self._call("POST", path, json=body, expect=(200, 201, 204)))

    def set_photo(
        self, user_id: str, content: bytes, content_type: str = "image/jpeg"
    ) -> dict[str, Any]:
        """Upload the picture's raw bytes; returns what Emply answered ({} for a 204)."""
        path = f"users/{_segment(user_id)}/photo"
        headers = {"Content-Type": content_type}
        return json_body(
            self._call("PUT", path, content=content, headers=headers, expect=(200, 204))
        )

    def get_photo(self, user_id: str) -> bytes | None:
        response = self._call_unless_missing("GET", f"users/{_segment(user_id)}/photo")
        return None if response is None else response.content


def _segment(value: str) -> str:
    return quote(value, safe="@")


def _iso(moment: datetime | str) -> str:
    return moment if isinstance(moment, str) else moment.isoformat()
