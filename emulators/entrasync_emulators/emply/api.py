"""The Emply API v1 the pipeline talks to: every route under /v1/{customer}/ lives here."""

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from entrasync_emulators.emply import calendars
from entrasync_emulators.emply.errors import EmplyError, bad_request, conflict, error_code
from entrasync_emulators.emply.fields import Fields, parse_time
from entrasync_emulators.emply.photos import set_photo
from entrasync_emulators.emply.registry import CustomerRegistry
from entrasync_emulators.emply.rows import (
    calendar_row,
    employee_row,
    event_row,
    export_package,
    outbox_rows,
    role_row,
    user_row,
)
from entrasync_emulators.emply.state import CustomerState

Reply = tuple[int, Any] | Response
Handler = Callable[[CustomerState, Request, bytes], Reply]


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"error": {"code": error_code(status), "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def json_body(body: bytes, where: str) -> Fields:
    try:
        values = json.loads(body or b"null")
    except ValueError:
        raise bad_request(f"{where}: request body is not valid JSON") from None
    return Fields(values, where)


# read routes


def get_export(state: CustomerState, request: Request, body: bytes) -> Reply:
    window = {}
    for name in ("from", "to"):
        value = request.query_params.get(name) or None
        if value is not None:
            parse_time(value, f"query parameter {name!r}")
        window[name] = value
    export_id = request.path_params["export_id"]
    package = export_package(state, export_id, window["from"], window["to"])
    bad = state.take_bad_export_row(export_id)
    if bad is not None and bad.row < len(package["data"]):
        package["data"][bad.row] = {**package["data"][bad.row], **bad.values}
    return 200, package


def find_employees_by_email(state: CustomerState, request: Request, body: bytes) -> Reply:
    email = request.query_params.get("email", "").strip()
    if not email:
        raise bad_request("query parameter 'email' is required")
    return 200, [employee_row(e) for e in state.employees_with_email(email)]


def list_roles(state: CustomerState, request: Request, body: bytes) -> Reply:
    return 200, [role_row(role) for role in state.roles.values()]


def list_outbox(state: CustomerState, request: Request, body: bytes) -> Reply:
    return 200, outbox_rows(state)


# user writes


def create_user(state: CustomerState, request: Request, body: bytes) -> Reply:
    fields = json_body(body, "POST users")
    fields.reject_unknown(
        {
            "username",
            "email",
            "firstName",
            "lastName",
            "roles",
            "employeeId",
            "externalId",
            "active",
        }
    )
    username, email = fields.text("username"), fields.text("email")
    employee_id = fields.optional_text("employeeId")
    employee = state.employee(employee_id, "POST users: 'employeeId'") if employee_id else None
    if employee is not None and employee.user_id is not None:
        raise conflict(f"employee {employee_id!r} is already connected to a user")
    user = state.add_user(
        username,
        email,
        fields.text_list("roles", []),
        first_name=fields.optional_text("firstName"),
        last_name=fields.optional_text("lastName"),
        active=fields.boolean("active", True),
        external_id=fields.optional_text("externalId"),
        label="POST users",
    )
    if employee is not None:
        state.connect(employee, user)
    return 201, user_row(user)


def update_user(state: CustomerState, request: Request, body: bytes) -> Reply:
    user = state.live_user(request.path_params["user_id"])
    fields = json_body(body, f"PATCH users/{user.user_id}")
    fields.reject_unknown({"active", "roles", "externalId"})
    if not fields.values:
        raise bad_request(f"{fields.where}: give at least one of active, roles, externalId")
    roles = (
        state.check_roles(fields.text_list("roles"), fields.where)
        if fields.has("roles")
        else user.roles
    )
    active = fields.boolean("active") if fields.has("active") else user.active
    if fields.has("externalId"):
        state.set_external_id(user, fields.optional_text("externalId"))
    user.roles, user.active = roles, active
    return 200, user_row(user)


# calendars and events


def add_calendar(state: CustomerState, request: Request, body: bytes) -> Reply:
    user = state.live_user(request.path_params["user_id"])
    fields = json_body(body, f"POST users/{user.user_id}/calendars")
    fields.reject_unknown({"name", "entraCalendarId", "enabled", "canDisable"})
    calendar = calendars.add_calendar(
        state,
        user,
        fields.text("name"),
        fields.text("entraCalendarId"),
        enabled=fields.boolean("enabled", False),
        can_disable=fields.boolean("canDisable", True),
    )
    return 201, calendar_row(calendar)


def delete_calendar(state: CustomerState, request: Request, body: bytes) -> Reply:
    user = state.live_user(request.path_params["user_id"])
    calendar = calendars.calendar_by_id(user, request.path_params["calendar_id"])
    calendars.remove_calendar(state, user, calendar)
    return Response(status_code=204)


def replace_events(state: CustomerState, request: Request, body: bytes) -> Reply:
    user = state.live_user(request.path_params["user_id"])
    calendar = calendars.calendar_by_id(user, request.path_params["calendar_id"])
    fields = json_body(body, f"PUT users/{user.user_id}/calendars/{calendar.calendar_id}/events")
    fields.reject_unknown({"from", "to", "events"})
    window = (fields.time("from"), fields.time("to"))
    if window[1] < window[0]:
        raise bad_request(f"{fields.where}: 'to' is before 'from'")
    incoming = []
    for index, entry in enumerate(fields.object_list("events")):
        event = Fields(entry, f"{fields.where}: events[{index}]")
        event.reject_unknown({"entraEventId", "subject", "start", "end"})
        synced = calendars.SyncedEvent(
            event.text("entraEventId"),
            event.optional_text("subject") or "",
            event.text("start"),
            event.text("end"),
            event.time("start"),
            event.time("end"),
        )
        if synced.ends_at < synced.starts_at:
            raise bad_request(f"{event.where}: 'end' is before 'start'")
        incoming.append(synced)
    ids = [synced.entra_event_id for synced in incoming]
    if len(set(ids)) != len(ids):
        raise bad_request(f"{fields.where}: an entraEventId appears twice in 'events'")
    removed, added = calendars.replace_synced_events(state, calendar, window, incoming)
    return 200, {"calendarId": calendar.calendar_id, "removed": removed, "added": added}


def mark_event_pushed(state: CustomerState, request: Request, body: bytes) -> Reply:
    event_id = request.path_params["event_id"]
    fields = json_body(body, f"POST events/{event_id}/pushed")
    fields.reject_unknown({"entraEventId"})
    event = calendars.mark_pushed(state, event_id, fields.text("entraEventId"))
    return 200, event_row(event, state.users[event.user_id].calendars[event.calendar_id])


# photos


def photo(state: CustomerState, request: Request, body: bytes) -> Reply:
    user = state.live_user(request.path_params["user_id"])
    if request.method == "PUT":
        content_type = request.headers.get("content-type", "")
        stored = set_photo(user, body, content_type.split(";")[0].strip())
        return 200, {"userId": user.user_id, "photoSha256": stored.sha256}
    if user.photo is None:
        raise EmplyError(404, f"user {user.user_id!r} has no photo")
    return Response(user.photo.content, media_type=user.photo.content_type)


ROUTES: list[tuple[str, list[str], Handler]] = [
    ("/exports/{export_id}", ["GET"], get_export),
    ("/employees/find-by-name", ["GET"], find_employees_by_email),
    ("/roles", ["GET"], list_roles),
    ("/users", ["POST"], create_user),
    ("/users/{user_id}", ["PATCH"], update_user),
    ("/users/{user_id}/calendars", ["POST"], add_calendar),
    ("/users/{user_id}/calendars/{calendar_id}", ["DELETE"], delete_calendar),
    ("/users/{user_id}/calendars/{calendar_id}/events", ["PUT"], replace_events),
    ("/users/{user_id}/photo", ["GET", "PUT"], photo),
    ("/events/outbox", ["GET"], list_outbox),
    ("/events/{event_id}/pushed", ["POST"], mark_event_pushed),
]


def _authorised(state: CustomerState, request: Request) -> bool:
    given = request.query_params.get("apiKey", "")
    return hmac.compare_digest(given.encode(), state.api_key.encode())


def _relative_path(request: Request, customer: str) -> str:
    path = request.url.path
    marker = f"/v1/{customer}"
    return path[path.find(marker) + len(marker) :]


def _endpoint(
    registry: CustomerRegistry, handler: Handler
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler with customer lookup, counting, apiKey check, faults and error shape."""

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        customer = request.path_params["customer"]
        with registry.lock:
            try:
                state = registry.get(customer)
                state.counters.requests += 1
                if not _authorised(state, request):
                    return error_response(401, "missing or invalid apiKey")
                fault = state.take_fault(_relative_path(request, customer))
                if fault is not None:
                    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else None
                    return error_response(fault.status, "injected fault", headers)
                reply = handler(state, request, body)
                if request.method != "GET":
                    state.counters.writes += 1
            except EmplyError as error:
                return error_response(error.status, error.message)
        if isinstance(reply, Response):
            return reply
        status, payload = reply
        # orjson: an export of 100k users renders in a fraction of json.dumps' time
        return Response(orjson.dumps(payload), status_code=status, media_type="application/json")

    return endpoint


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return error_response(status, f"{request.method} {request.url.path}: {error_code(status)}")


def build_api_app(registry: CustomerRegistry) -> Starlette:
    routes = [
        Route(f"/v1/{{customer}}{path}", _endpoint(registry, handler), methods=methods)
        for path, methods, handler in ROUTES
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
