"""The SPEC's Emply scenario ops (plus add_role and fault), applied to one customer's state."""

from collections.abc import Callable
from typing import Any

from entrasync_emulators.emply import calendars
from entrasync_emulators.emply.errors import bad_request
from entrasync_emulators.emply.fields import Fields, parse_time
from entrasync_emulators.emply.models import BadExportRow, Fault, User
from entrasync_emulators.emply.rows import calendar_row, employee_row, event_row, role_row, user_row
from entrasync_emulators.emply.state import CustomerState

# op arg name -> Employee attribute, for add_employee and update_employee's `set`
EMPLOYEE_ARGS = {
    "email": "email",
    "first_name": "first_name",
    "last_name": "last_name",
    "job_title": "job_title",
    "department": "department",
    "mobile": "mobile_phone",
}


def _user_arg_only(state: CustomerState, args: Fields) -> User:
    """The user named by an op whose one arg is `user`."""
    args.reject_unknown({"user"})
    return state.user_named(args.text("user"))


def add_role(state: CustomerState, args: Fields) -> dict[str, Any]:
    args.reject_unknown({"name", "admin"})
    return role_row(state.add_role(args.text("name"), args.boolean("admin", False)))


def add_user(state: CustomerState, args: Fields) -> dict[str, Any]:
    args.reject_unknown(
        {"username", "email", "roles", "active", "first_name", "last_name", "external_id"}
    )
    user = state.add_user(
        args.text("username"),
        args.text("email"),
        args.text_list("roles", []),
        active=args.boolean("active", True),
        first_name=args.optional_text("first_name"),
        last_name=args.optional_text("last_name"),
        external_id=args.optional_text("external_id"),
        label=args.where,
    )
    return user_row(user)


def add_employee(state: CustomerState, args: Fields) -> dict[str, Any]:
    args.reject_unknown({*EMPLOYEE_ARGS, "user"})
    user = state.user_named(args.text("user")) if args.has("user") else None
    master_data = {attr: args.optional_text(arg) for arg, attr in EMPLOYEE_ARGS.items()}
    master_data["email"] = args.text("email")
    employee = state.add_employee(**master_data)
    if user is not None:
        state.connect(employee, user)
    return employee_row(employee)


def update_employee(state: CustomerState, args: Fields) -> dict[str, Any]:
    args.reject_unknown({"email", "set"})
    employee = state.employee_with_email(args.text("email"))
    changes = Fields(args.values.get("set"), f"{args.where}: set")
    changes.reject_unknown({*EMPLOYEE_ARGS, "user"})
    if changes.has("user"):
        username = changes.optional_text("user")
        if username is None:
            state.disconnect_employee(employee)
        else:
            state.connect(employee, state.user_named(username))
    for arg, attr in EMPLOYEE_ARGS.items():
        if changes.has(arg):
            value = changes.text(arg) if arg == "email" else changes.optional_text(arg)
            setattr(employee, attr, value)
    return employee_row(employee)


def set_roles(state: CustomerState, args: Fields) -> dict[str, Any]:
    args.reject_unknown({"user", "roles"})
    user = state.user_named(args.text("user"))
    user.roles = state.check_roles(args.text_list("roles"), args.where)
    return user_row(user)


def deactivate_user(state: CustomerState, args: Fields) -> dict[str, Any]:
    user = _user_arg_only(state, args)
    user.active = False
    return user_row(user)


def delete_user(state: CustomerState, args: Fields) -> dict[str, Any]:
    user = _user_arg_only(state, args)
    state.delete_user(user)
    return user_row(user)


def archive_employee(state: CustomerState, args: Fields) -> dict[str, Any]:
    args.reject_unknown({"email"})
    employee = state.employee_with_email(args.text("email"))
    employee.status = "archived"
    return employee_row(employee)


def disable_calendar_sync(state: CustomerState, args: Fields) -> dict[str, Any]:
    user = _user_arg_only(state, args)
    user.calendar_sync_enabled = False
    return user_row(user)


def set_calendar_enabled(state: CustomerState, args: Fields) -> dict[str, Any]:
    args.reject_unknown({"user", "calendar", "enabled"})
    user = state.user_named(args.text("user"))
    calendar = calendars.calendar_by_name(user, args.text("calendar"))
    calendars.set_enabled(calendar, args.boolean("enabled"))
    return calendar_row(calendar)


def add_event(state: CustomerState, args: Fields) -> dict[str, Any]:
    args.reject_unknown({"user", "calendar", "subject", "start", "end"})
    user = state.user_named(args.text("user"))
    calendar = calendars.calendar_by_name(user, args.text("calendar"))
    subject = args.text("subject")
    start, end = args.text("start"), args.text("end")
    starts_at = parse_time(start, f"{args.where}: 'start'")
    ends_at = parse_time(end, f"{args.where}: 'end'")
    if ends_at < starts_at:
        raise bad_request(f"{args.where}: 'end' is before 'start'")
    event = calendars.add_emply_event(state, calendar, subject, (start, end, starts_at, ends_at))
    return event_row(event, calendar)


def fault(state: CustomerState, args: Fields) -> dict[str, Any]:
    args.reject_unknown({"path", "status", "times", "retry_after"})
    path = "/" + args.text("path").lstrip("/")
    status = args.integer("status")
    if not 400 <= status <= 599:
        raise bad_request(f"{args.where}: 'status' must be an error status 400-599, got {status}")
    times = args.integer("times", 1)
    if times < 1:
        raise bad_request(f"{args.where}: 'times' must be at least 1, got {times}")
    retry_after = args.optional_integer("retry_after")
    state.faults.append(Fault(path, status, times, retry_after))
    return {"path": path, "status": status, "times": times, "retry_after": retry_after}


def bad_export_row(state: CustomerState, args: Fields) -> dict[str, Any]:
    """The next `times` reads of an export carry row `row` with `set` merged in: a broken
    export, as a bad Emply release would send it (R4: the run fails before planning)."""
    args.reject_unknown({"export", "row", "set", "times"})
    export_id, row, values = args.text("export"), args.integer("row"), args.mapping("set")
    times = args.integer("times", 1)
    if row < 0 or times < 1:
        raise bad_request(f"{args.where}: 'row' must be >= 0 and 'times' >= 1")
    state.bad_export_rows.append(BadExportRow(export_id, row, values, times))
    return {"export": export_id, "row": row, "set": values, "times": times}


OPS: dict[str, Callable[[CustomerState, Fields], dict[str, Any]]] = {
    "add_role": add_role,
    "add_user": add_user,
    "add_employee": add_employee,
    "update_employee": update_employee,
    "set_roles": set_roles,
    "deactivate_user": deactivate_user,
    "delete_user": delete_user,
    "archive_employee": archive_employee,
    "disable_calendar_sync": disable_calendar_sync,
    "set_calendar_enabled": set_calendar_enabled,
    "add_event": add_event,
    "fault": fault,
    "bad_export_row": bad_export_row,
}


def apply_op(state: CustomerState, op: Any, args: Any) -> dict[str, Any]:
    """Run one `{"op", "args"}`; 400 for an unknown op or bad arg, 404 for an unknown name."""
    if not isinstance(op, str) or op not in OPS:
        raise bad_request(f"unknown emply op {op!r}; known: {', '.join(OPS)}")
    return OPS[op](state, Fields({} if args is None else args, op))
