"""Emply People API v1 client for one customer: exports, user writes, calendars, photos."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from entrasync.connectors.emply.errors import (
    EmplyConflict,
    EmplyError,
    EmplyExportError,
    EmplyUnavailable,
)
from entrasync.connectors.emply.models import export_shape_error, map_rows
from entrasync.connectors.emply.redact import install_log_redaction, redact
from entrasync.connectors.http import backoff_seconds, retry_after_seconds, tls_context

logger = logging.getLogger(__name__)

DEFAULT_EMPLY_URL = "https://api.emply.com/v1"
PERMANENT_5XX = frozenset({501, 505})
USER_FIELDS = {"active": "active", "roles": "roles", "external_id": "externalId"}


class _ApiKeyAuth(httpx.Auth):
    """Adds `apiKey` at send time, so no URL our code builds or reports ever holds it."""

    def __init__(self, api_key: str) -> None:
        self._api_key = api_key

    def __repr__(self) -> str:
        return "_ApiKeyAuth(***)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.url = request.url.copy_merge_params({"apiKey": self._api_key})
        yield request


class EmplyClient:
    """Calls `{base_url}/{customer}/...` with retries; errors and logs never show the key."""

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_EMPLY_URL,
        customer: str,
        api_key: str,
        ca_bundle: str | None = None,
        http: httpx.Client | None = None,
        max_retries: int = 4,
        timeout_s: float = 30,
        max_backoff_s: float = 30,
        retry_after_cap_s: float = 120,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        install_log_redaction()
        self.customer = customer
        self.base_url = f"{base_url.rstrip('/')}/{quote(customer, safe='')}"
        self._api_key = api_key
        self._auth = _ApiKeyAuth(api_key)
        self._owns_http = http is None
        self._http = http or httpx.Client(verify=tls_context(ca_bundle), timeout=timeout_s)
        self._max_retries = max_retries
        self._max_backoff_s = max_backoff_s
        # a longer Retry-After fails the request: waiting it out would hold the tenant's slot
        self._retry_after_cap_s = retry_after_cap_s
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"EmplyClient(base_url={self.base_url!r})"

    def __enter__(self) -> EmplyClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

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
            package = _NOT_JSON
        rows = package.get("data") if isinstance(package, dict) else None
        if not isinstance(rows, list):
            raise export_shape_error(export_id, package is not _NOT_JSON)
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
        return _json_body(self._call("PUT", path, json=body, expect=(200, 204)))

    def read_event_outbox(self) -> list[dict[str, Any]]:
        """Events created in Emply that still need creating in Microsoft 365."""
        return map_rows("outbox", "'events/outbox'", self._get_list("events/outbox"))

    def mark_event_pushed(self, event_id: str, entra_event_id: str) -> dict[str, Any]:
        path = f"events/{_segment(event_id)}/pushed"
        body = {"entraEventId": entra_event_id}
        return _json_body(self._call("POST", path, json=body, expect=(200, 201, 204)))

    def set_photo(
        self, user_id: str, content: bytes, content_type: str = "image/jpeg"
    ) -> dict[str, Any]:
        """Upload the picture's raw bytes; returns what Emply answered ({} for a 204)."""
        path = f"users/{_segment(user_id)}/photo"
        headers = {"Content-Type": content_type}
        return _json_body(
            self._call("PUT", path, content=content, headers=headers, expect=(200, 204))
        )

    def get_photo(self, user_id: str) -> bytes | None:
        response = self._call_unless_missing("GET", f"users/{_segment(user_id)}/photo")
        return None if response is None else response.content

    # ---- HTTP --------------------------------------------------------------------------------

    def _get_list(self, path: str, params: dict[str, str] | None = None) -> list[Any]:
        body = _json_or_missing(self._call("GET", path, params=params))
        if isinstance(body, dict) and isinstance(body.get("data"), list):
            return body["data"]
        if not isinstance(body, list):
            raise EmplyExportError(f"'{path}': Emply sent no list")
        return body

    def _json_object(self, response: httpx.Response) -> dict[str, Any]:
        body = _json_or_missing(response)
        if not isinstance(body, dict):
            method, path = response.request.method, self._path_of(response.request.url)
            raise EmplyError(response.status_code, "bad_answer", "not a JSON object", method, path)
        return body

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        expect: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        """Send with retries; return a response with an expected status, or raise EmplyError."""
        response = self._send_with_retries(method, path, params, json, content, headers)
        if response.status_code in expect:
            return response
        code, message = _error_fields(response)
        error_type = EmplyConflict if response.status_code == 409 else EmplyError
        raise error_type(response.status_code, code, redact(message, self._api_key), method, path)

    def _call_unless_missing(self, method: str, path: str) -> httpx.Response | None:
        """Like _call, but None when Emply answers 404 (a user without a photo)."""
        try:
            return self._call(method, path)
        except EmplyError as error:
            if error.status == 404:
                return None
            raise

    def _send_with_retries(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        json: Any,
        content: bytes | None,
        headers: dict[str, str] | None,
    ) -> httpx.Response:
        url = f"{self.base_url}/{path}"
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    content=content,
                    headers=headers,
                    auth=self._auth,
                )
            except httpx.TransportError as exc:
                status, code = None, type(exc).__name__
                message = redact(str(exc), self._api_key)
                if not _safe_to_resend(method, exc):
                    message += " (not resent: it may have reached Emply)"
                    raise EmplyUnavailable(status, code, message, method, path) from None
                wait = None
            else:
                if not _is_transient(response.status_code):
                    return response
                status = response.status_code
                code, message = _error_fields(response)
                message = redact(message, self._api_key)
                wait = retry_after_seconds(response.headers)
                if wait is not None and wait > self._retry_after_cap_s:
                    raise EmplyUnavailable(
                        status, code, f"{message} (asked to wait {wait:.0f} s by Retry-After, "
                        f"more than retry_after_cap_seconds {self._retry_after_cap_s:g})",
                        method, path,
                    )  # fmt: skip
            if attempt >= self._max_retries:
                raise EmplyUnavailable(
                    status, code, f"{message} (after {attempt + 1} attempts)", method, path
                )
            wait = wait if wait is not None else backoff_seconds(attempt, self._max_backoff_s)
            logger.warning(
                "Emply %s %s: %s %s; retry %d of %d in %.2f s",
                method, path, status or "", code, attempt + 1, self._max_retries, wait,
            )  # fmt: skip
            self._sleep(wait)
            attempt += 1

    def _path_of(self, url: httpx.URL) -> str:
        return url.path.removeprefix(httpx.URL(self.base_url).path + "/")


_NOT_JSON = object()


def _json_or_missing(response: httpx.Response) -> Any:
    try:
        return orjson.loads(response.content)  # JSON is UTF-8; orjson decodes it 2-3x faster
    except ValueError:
        return _NOT_JSON


def _json_body(response: httpx.Response) -> dict[str, Any]:
    """The JSON object a write answered with, or {} when it answered without one."""
    body = _json_or_missing(response)
    return body if isinstance(body, dict) else {}


def _error_fields(response: httpx.Response) -> tuple[str, str]:
    body = _json_or_missing(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("code") or ""), str(error.get("message") or response.reason_phrase)
    return "", response.reason_phrase


def _is_transient(status: int) -> bool:
    return status == 429 or (status >= 500 and status not in PERMANENT_5XX)


def _safe_to_resend(method: str, exc: httpx.TransportError) -> bool:
    # A POST that may have reached Emply is not sent twice; one that never left is.
    connect_failures = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
    return method != "POST" or isinstance(exc, connect_failures)


def _segment(value: str) -> str:
    return quote(value, safe="@")


def _iso(moment: datetime | str) -> str:
    return moment if isinstance(moment, str) else moment.isoformat()
