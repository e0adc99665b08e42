"""The Emply control surface for tests and scenarios: reset, seed, ops, inspect, stats."""

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from entrasync_emulators.emply import spec_ops
from entrasync_emulators.emply.calendars import calendar_events
from entrasync_emulators.emply.errors import EmplyError
from entrasync_emulators.emply.fields import Fields
from entrasync_emulators.emply.models import User
from entrasync_emulators.emply.registry import CustomerRegistry
from entrasync_emulators.emply.rows import event_row
from entrasync_emulators.emply.state import EXPORT_KINDS, CustomerState

Handler = Callable[[CustomerRegistry, Request, Any], tuple[int, Any]]


def add_role_entry(state: CustomerState, entry: Any, where: str) -> None:
    """A role given as a name, or as `{"name", "admin"}`."""
    if isinstance(entry, str):
        entry = {"name": entry}
    spec_ops.add_role(state, Fields(entry, where))


def reset_customer(registry: CustomerRegistry, request: Request, body: Any) -> tuple[int, Any]:
    customer = request.path_params["customer"]
    fields = Fields(body, f"PUT /{customer}")
    fields.reject_unknown({"api_key", "roles", "exports"})
    state = CustomerState(api_key=fields.text("api_key"))
    for index, entry in enumerate(fields.object_list("roles", [])):
        add_role_entry(state, entry, f"roles[{index}]")
    exports = Fields(fields.values.get("exports") or {}, "exports")
    exports.reject_unknown(set(EXPORT_KINDS))
    for kind in exports.values:
        state.export_ids[kind] = exports.text(kind)
    registry.customers[customer] = state
    return 200, {"customer": customer, "exports": state.export_ids}


def seed_customer(registry: CustomerRegistry, request: Request, body: Any) -> tuple[int, Any]:
    state = registry.get(request.path_params["customer"])
    fields = Fields(body, "seed")
    fields.reject_unknown({"roles", "users", "employees"})
    roles = fields.object_list("roles", [])
    for index, entry in enumerate(roles):
        add_role_entry(state, entry, f"roles[{index}]")
    users = fields.object_list("users", [])
    for index, entry in enumerate(users):
        spec_ops.add_user(state, Fields(entry, f"users[{index}]"))
    employees = fields.object_list("employees", [])
    for index, entry in enumerate(employees):
        spec_ops.add_employee(state, Fields(entry, f"employees[{index}]"))
    return 200, {"roles": len(roles), "users": len(users), "employees": len(employees)}


def run_op(registry: CustomerRegistry, request: Request, body: Any) -> tuple[int, Any]:
    state = registry.get(request.path_params["customer"])
    fields = Fields(body, "ops")
    fields.reject_unknown({"op", "args"})
    return 200, spec_ops.apply_op(state, fields.values.get("op"), fields.values.get("args"))


def describe_user(registry: CustomerRegistry, request: Request, body: Any) -> tuple[int, Any]:
    """What a scenario's `expect: emply.users.<username>` checks."""
    state = registry.get(request.path_params["customer"])
    username = request.path_params["username"]
    user = state.find_user(username)
    if user is None:
        return 200, {"exists": False, "deleted": state.was_deleted(username)}
    return 200, user_view(state, user)


def user_view(state: CustomerState, user: User) -> dict[str, Any]:
    """One user as the control surface shows it; a deleted one only says so."""
    if user.deleted:
        return {"exists": False, "deleted": True, "user_id": user.user_id,
                "username": user.username}  # fmt: skip
    return {
        "exists": True,
        "deleted": False,
        "user_id": user.user_id,
        "username": user.username,
        "email": user.email,
        "active": user.active,
        "roles": list(user.roles),
        "employee": state.has_employee_profile(user),
        "entra_object_id": user.external_id,
        "calendar_sync_enabled": user.calendar_sync_enabled,
        "calendars": {
            c.name: {
                "enabled": c.enabled,
                "can_disable": c.can_disable,
                "id": c.calendar_id,
                "entra_calendar_id": c.entra_calendar_id,
                "events": [
                    {
                        "event_id": e.event_id,
                        "source": e.source,
                        "entra_event_id": e.entra_event_id,
                        "start": e.start,
                        "end": e.end,
                    }
                    for e in calendar_events(state, c)
                ],  # fmt: skip
            }
            for c in user.calendars.values()
        },
        "photo_sha256": user.photo.sha256 if user.photo else None,
    }


def list_users(registry: CustomerRegistry, request: Request, body: Any) -> tuple[int, Any]:
    """Every user, deleted ones included (the scenario runner's before/after snapshots)."""
    state = registry.get(request.path_params["customer"])
    return 200, [user_view(state, user) for user in state.users.values()]


def list_user_events(registry: CustomerRegistry, request: Request, body: Any) -> tuple[int, Any]:
    state = registry.get(request.path_params["customer"])
    user = state.user_named(request.path_params["username"])
    return 200, [
        {**event_row(event, calendar), "calendar": calendar.name}
        for calendar in user.calendars.values()
        for event in calendar_events(state, calendar)
    ]


def customer_stats(registry: CustomerRegistry, request: Request, body: Any) -> tuple[int, Any]:
    counters = registry.get(request.path_params["customer"]).counters
    return 200, {"requests": counters.requests, "writes": counters.writes}


def all_stats(registry: CustomerRegistry, request: Request, body: Any) -> tuple[int, Any]:
    per_customer = {
        name: {"requests": s.counters.requests, "writes": s.counters.writes}
        for name, s in registry.customers.items()
    }
    return 200, {
        "requests": sum(c["requests"] for c in per_customer.values()),
        "writes": sum(c["writes"] for c in per_customer.values()),
        "customers": per_customer,
    }


ROUTES: list[tuple[str, list[str], Handler]] = [
    ("/stats", ["GET"], all_stats),
    ("/{customer}", ["PUT"], reset_customer),
    ("/{customer}/seed", ["POST"], seed_customer),
    ("/{customer}/ops", ["POST"], run_op),
    ("/{customer}/users", ["GET"], list_users),
    ("/{customer}/users/{username}", ["GET"], describe_user),
    ("/{customer}/users/{username}/events", ["GET"], list_user_events),
    ("/{customer}/stats", ["GET"], customer_stats),
]


def _endpoint(
    registry: CustomerRegistry, handler: Handler
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return JSONResponse({"error": "request body is not valid JSON"}, status_code=400)
        try:
            with registry.lock:
                status, payload = handler(registry, request, body)
        except EmplyError as error:
            return JSONResponse({"error": error.message}, status_code=error.status)
        return JSONResponse(payload, status_code=status)

    return endpoint


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = f"{request.method} {request.url.path}: no such control route"
    return JSONResponse({"error": message}, status_code=status)


def build_control_app(registry: CustomerRegistry) -> Starlette:
    routes = [
        Route(path, _endpoint(registry, handler), methods=methods)
        for path, methods, handler in ROUTES
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
