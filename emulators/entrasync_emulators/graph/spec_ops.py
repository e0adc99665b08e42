"""SPEC's entra ops (add_user, add_member, fault, ...) and the bulk seed, applied to a tenant."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from entrasync_emulators.graph.directory import (
    DirectoryError,
    Record,
    TenantDirectory,
)
from entrasync_emulators.graph.events import create_event
from entrasync_emulators.graph.faults import add_fault
from entrasync_emulators.graph.mailbox import new_calendar

# add_user / update_user argument -> Graph property.
USER_ARGS: dict[str, str] = {
    "upn": "userPrincipalName",
    **{
        name: name
        for name in (
            "userPrincipalName", "mail", "displayName", "givenName", "surname", "jobTitle",
            "department", "mobilePhone", "accountEnabled", "userType", "otherMails",
            "onPremisesSyncEnabled", "businessPhones", "officeLocation", "preferredLanguage",
            "employeeId", "companyName", "usageLocation", "mailNickname",
        )
    },
}  # fmt: skip
BOOLEAN_ARGS = frozenset({"accountEnabled", "onPremisesSyncEnabled"})
LIST_ARGS = frozenset({"otherMails", "businessPhones"})
USER_TYPES = frozenset({"Member", "Guest"})

OpResult = dict[str, Any]


class OpError(Exception):
    """A bad op call: `status` 400 (bad args) or 404 (unknown user/group)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _require(op: str, args: dict[str, Any], *names: str) -> None:
    for name in names:
        if args.get(name) in (None, ""):
            raise OpError(400, f"{op}: missing required arg '{name}'")


def only_args(op: str, args: dict[str, Any], allowed: set[str] | frozenset[str]) -> None:
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise OpError(400, f"{op}: unknown arg '{unknown[0]}' (allowed: {sorted(allowed)})")


def user_props(op: str, args: dict[str, Any], *, allow_id: bool) -> Record:
    """Graph properties from add_user-style args, type-checked, unknown keys refused."""
    props: Record = {}
    for key, value in args.items():
        if key == "id" and allow_id:
            props["id"] = str(value)
            continue
        prop = USER_ARGS.get(key)
        if prop is None:
            allowed = sorted(USER_ARGS) + (["id"] if allow_id else [])
            raise OpError(400, f"{op}: unknown arg '{key}' (allowed: {allowed})")
        if prop in BOOLEAN_ARGS and not isinstance(value, bool):
            raise OpError(400, f"{op}: arg '{key}' must be true or false, got {value!r}")
        if prop in LIST_ARGS and (
            not isinstance(value, list) or not all(isinstance(v, str) for v in value)
        ):
            raise OpError(400, f"{op}: arg '{key}' must be a list of text, got {value!r}")
        if prop == "userType" and value not in USER_TYPES:
            raise OpError(400, f"{op}: arg 'userType' must be Member or Guest, got {value!r}")
        props[prop] = value
    return props


def _user(tenant: TenantDirectory, op: str, arg: str, reference: Any) -> str:
    user_id = tenant.find_user(str(reference))
    if user_id is None:
        raise OpError(404, f"{op}: {arg} {reference!r} is not a user of tenant {tenant.tenant_id}")
    return user_id


def _mailbox_user(tenant: TenantDirectory, op: str, reference: Any) -> str:
    """A user with a mailbox: a guest or an unlicensed member has none to change."""
    user_id = _user(tenant, op, "user", reference)
    if not tenant.has_mailbox(user_id):
        raise OpError(
            400,
            f"{op}: user {reference!r} has no mailbox (a guest, or created through Graph "
            "without a licence)",
        )
    return user_id


def _group(tenant: TenantDirectory, op: str, reference: Any) -> str:
    group_id = tenant.find_group(str(reference))
    if group_id is None:
        raise OpError(404, f"{op}: group {reference!r} is not a group of tenant {tenant.tenant_id}")
    return group_id


def _member(tenant: TenantDirectory, op: str, reference: Any) -> str:
    """A user (UPN, mail or id) or, for nesting, a group (name or id)."""
    member_id = tenant.find_user(str(reference)) or tenant.find_group(str(reference))
    if member_id is None:
        raise OpError(404, f"{op}: user {reference!r} is not a user or group of the tenant")
    return member_id


def _group_and_member(tenant: TenantDirectory, op: str, args: dict[str, Any]) -> tuple[str, str]:
    """The ids that add_member / remove_member's `group` and `user` args name."""
    only_args(op, args, {"group", "user"})
    _require(op, args, "group", "user")
    return _group(tenant, op, args["group"]), _member(tenant, op, args["user"])


@contextmanager
def _directory_errors(op: str, status: int = 400) -> Iterator[None]:
    """A change the directory refuses becomes an OpError with `status`, named after `op`."""
    try:
        yield
    except DirectoryError as error:
        raise OpError(status, f"{op}: {error.message}") from error


# ------------------------------------------------------------------------ ops
def add_user(tenant: TenantDirectory, args: dict[str, Any]) -> OpResult:
    props = user_props("add_user", args, allow_id=True)
    if not props.get("userPrincipalName") and not (
        props.get("userType") == "Guest" and props.get("mail")
    ):
        raise OpError(400, "add_user: missing required arg 'upn' (a Guest may give only 'mail')")
    with _directory_errors("add_user"):
        record = tenant.create_user(props)
    return {"id": record["id"], "userPrincipalName": record["userPrincipalName"]}


def update_user(tenant: TenantDirectory, args: dict[str, Any]) -> OpResult:
    only_args("update_user", args, {"upn", "set"})
    _require("update_user", args, "upn", "set")
    if not isinstance(args["set"], dict):
        raise OpError(400, "update_user: arg 'set' must be a mapping of add_user keys")
    user_id = _user(tenant, "update_user", "upn", args["upn"])
    changes = user_props("update_user", args["set"], allow_id=False)
    with _directory_errors("update_user"):
        record = tenant.update_user(user_id, changes)
    return {"id": user_id, "userPrincipalName": record["userPrincipalName"]}


def disable_user(tenant: TenantDirectory, args: dict[str, Any]) -> OpResult:
    only_args("disable_user", args, {"upn"})
    _require("disable_user", args, "upn")
    user_id = _user(tenant, "disable_user", "upn", args["upn"])
    tenant.update_user(user_id, {"accountEnabled": False})
    return {"id": user_id}


def delete_user(tenant: TenantDirectory, args: dict[str, Any]) -> OpResult:
    only_args("delete_user", args, {"upn"})
    _require("delete_user", args, "upn")
    user_id = _user(tenant, "delete_user", "upn", args["upn"])
    tenant.soft_delete_user(user_id)
    return {"id": user_id}


def add_group(tenant: TenantDirectory, args: dict[str, Any]) -> OpResult:
    only_args("add_group", args, {"name", "id"})
    _require("add_group", args, "name")
    with _directory_errors("add_group"):
        record = tenant.create_group(str(args["name"]), args.get("id"))
    return {"id": record["id"]}


def delete_group(tenant: TenantDirectory, args: dict[str, Any]) -> OpResult:
    only_args("delete_group", args, {"name"})
    _require("delete_group", args, "name")
    group_id = _group(tenant, "delete_group", args["name"])
    tenant.delete_group(group_id)
    return {"id": group_id}


def add_member(tenant: TenantDirectory, args: dict[str, Any]) -> OpResult:
    group_id, member_id = _group_and_member(tenant, "add_member", args)
    with _directory_errors("add_member"):
        tenant.add_member(group_id, member_id)
    return {"id": group_id, "member_id": member_id}


def remove_member(tenant: TenantDirectory, args: dict[str, Any]) -> OpResult:
    group_id, member_id = _group_and_member(tenant, "remove_member", args)
    with _directory_errors("remove_member", status=404):
        tenant.remove_member(group_id, member_id)
    return {"id": group_id, "member_id": member_id}


def _calendar_by_name(tenant: TenantDirectory, user_id: str, name: str) -> Record | None:
    for calendar in tenant.mailbox(user_id).calendars.values():
        if calendar["name"].lower() == name.lower():
            return calendar
    return None


def _calendar(tenant: TenantDirectory, op: str, user_id: str, name: Any) -> Record:
    calendar = _calendar_by_name(tenant, user_id, str(name))
    if calendar is None:
        raise OpError(404, f"{op}: no calendar named {name!r}")
    return calendar


def add_calendar(tenant: TenantDirectory, args: dict[str, Any]) -> OpResult:
    only_args("add_calendar", args, {"user", "name", "canEdit", "isDefault"})
    _require("add_calendar", args, "user", "name")
    user_id = _mailbox_user(tenant, "add_calendar", args["user"])
    can_edit, is_default = args.get("canEdit", True), args.get("isDefault", False)
    if not isinstance(can_edit, bool) or not isinstance(is_default, bool):
        raise OpError(400, "add_calendar: args 'canEdit' and 'isDefault' must be true or false")
    name = str(args["name"])
    if _calendar_by_name(tenant, user_id, name) is not None:
        raise OpError(400, f"add_calendar: user already has a calendar named {name!r}")
    box = tenant.mailbox(user_id)
    if is_default:
        for calendar in box.calendars.values():
            calendar["isDefaultCalendar"] = False
            calendar["isRemovable"] = True
    calendar = new_calendar(user_id, name, can_edit=can_edit, is_default=is_default)
    box.calendars[calendar["id"]] = calendar
    box.events[calendar["id"]] = []
    tenant.touch_mailbox()
    return {"id": calendar["id"]}


def update_calendar(tenant: TenantDirectory, args: dict[str, Any]) -> OpResult:
    """Extension: change a calendar's canEdit (e.g. the share became read-only)."""
    only_args("update_calendar", args, {"user", "name", "canEdit"})
    _require("update_calendar", args, "user", "name")
    user_id = _mailbox_user(tenant, "update_calendar", args["user"])
    calendar = _calendar(tenant, "update_calendar", user_id, args["name"])
    if "canEdit" in args:
        if not isinstance(args["canEdit"], bool):
            raise OpError(400, "update_calendar: arg 'canEdit' must be true or false")
        calendar["canEdit"] = calendar["canShare"] = args["canEdit"]
    tenant.touch_mailbox()
    return {"id": calendar["id"]}


def remove_calendar(tenant: TenantDirectory, args: dict[str, Any]) -> OpResult:
    only_args("remove_calendar", args, {"user", "name"})
    _require("remove_calendar", args, "user", "name")
    user_id = _mailbox_user(tenant, "remove_calendar", args["user"])
    calendar = _calendar(tenant, "remove_calendar", user_id, args["name"])
    if calendar["isDefaultCalendar"]:
        raise OpError(400, "remove_calendar: the default calendar cannot be removed")
    box = tenant.mailbox(user_id)
    del box.calendars[calendar["id"]]
    box.events.pop(calendar["id"], None)
    tenant.touch_mailbox()
    return {"id": calendar["id"]}


def set_photo(tenant: TenantDirectory, args: dict[str, Any]) -> OpResult:
    only_args("set_photo", args, {"user", "content"})
    _require("set_photo", args, "user")
    if "content" not in args:
        raise OpError(400, "set_photo: missing required arg 'content' (null removes the photo)")
    user_id = _mailbox_user(tenant, "set_photo", args["user"])
    content = args["content"]
    tenant.mailbox(user_id).photo = None if content is None else str(content).encode("utf-8")
    tenant.touch_mailbox()
    return {"id": user_id}


def add_event(tenant: TenantDirectory, args: dict[str, Any]) -> OpResult:
    """Extension: an event that exists in Microsoft 365 (made in Outlook, not by the sync)."""
    only_args("add_event", args, {"user", "calendar", "subject", "start", "end", "timeZone"})
    _require("add_event", args, "user", "subject", "start", "end")
    user_id = _mailbox_user(tenant, "add_event", args["user"])
    calendar = _calendar(tenant, "add_event", user_id, str(args.get("calendar") or "Calendar"))
    zone = str(args.get("timeZone") or "UTC")
    event = create_event(
        tenant,
        user_id,
        calendar["id"],
        {
            "subject": args["subject"],
            "start": {"dateTime": str(args["start"]), "timeZone": zone},
            "end": {"dateTime": str(args["end"]), "timeZone": zone},
        },
        created_by_api=False,
    )
    return {"id": event["id"]}


def fault(tenant: TenantDirectory, args: dict[str, Any]) -> OpResult:
    only_args("fault", args, {"path", "status", "times", "retry_after"})
    _require("fault", args, "path", "status")
    status, times = args["status"], args.get("times", 1)
    retry_after = args.get("retry_after")
    if not isinstance(status, int) or not 400 <= status <= 599:
        raise OpError(400, f"fault: arg 'status' must be an HTTP error status, got {status!r}")
    if not isinstance(times, int) or times < 1:
        raise OpError(400, f"fault: arg 'times' must be a positive integer, got {times!r}")
    if retry_after is not None and (
        isinstance(retry_after, bool) or not isinstance(retry_after, int | float)
    ):
        raise OpError(400, f"fault: arg 'retry_after' must be seconds, got {retry_after!r}")
    added = add_fault(tenant, str(args["path"]), status, times, retry_after)
    return {"path": added.path, "status": status, "times": times}


def expire_delta_tokens(tenant: TenantDirectory, args: dict[str, Any]) -> OpResult:
    """Extension: every delta token issued so far answers 410 syncStateNotFound."""
    only_args("expire_delta_tokens", args, set())
    tenant.sync_generation += 1
    return {"sync_generation": tenant.sync_generation}


OPS: dict[str, Callable[[TenantDirectory, dict[str, Any]], OpResult]] = {
    "add_user": add_user,
    "update_user": update_user,
    "disable_user": disable_user,
    "delete_user": delete_user,
    "add_group": add_group,
    "delete_group": delete_group,
    "add_member": add_member,
    "remove_member": remove_member,
    "add_calendar": add_calendar,
    "remove_calendar": remove_calendar,
    "set_photo": set_photo,
    "fault": fault,
    "update_calendar": update_calendar,
    "add_event": add_event,
    "expire_delta_tokens": expire_delta_tokens,
}


def apply_op(tenant: TenantDirectory, op: Any, args: Any) -> OpResult:
    handler = OPS.get(op) if isinstance(op, str) else None
    if handler is None:
        raise OpError(400, f"unknown op {op!r} (known: {sorted(OPS)})")
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise OpError(400, f"{op}: 'args' must be a mapping")
    return handler(tenant, args)
