"""What the control surface reports about a tenant: one user's state, every group's members."""

from __future__ import annotations

import hashlib
from typing import Any

from entrasync_emulators.graph.directory import TenantDirectory
from entrasync_emulators.graph.mailbox import Mailbox


def user_state(tenant: TenantDirectory, reference: str) -> dict[str, Any]:
    """The control surface's view of one user: exists/deleted, groups, attributes, mailbox."""
    user_id = tenant.find_user(reference)
    deleted = False
    if user_id is None:
        user_id = tenant.find_deleted_user(reference)
        deleted = user_id is not None
    if user_id is None:
        return {"exists": False, "deleted": False}
    record = tenant.deleted_users[user_id] if deleted else tenant.users[user_id]
    has_mailbox = tenant.has_mailbox(user_id)
    box = tenant.mailbox(user_id) if has_mailbox else Mailbox()
    state: dict[str, Any] = {
        "exists": not deleted,
        "deleted": deleted,
        "id": user_id,
        "groups": [] if deleted else tenant.group_names_of(user_id),
    }
    state.update(record)
    state["calendars"] = {
        calendar["name"]: {
            "id": calendar["id"],
            "canEdit": calendar["canEdit"],
            "isDefaultCalendar": calendar["isDefaultCalendar"],
            "events": len(box.events.get(calendar["id"], [])),
            "event_ids": [event["id"] for event in box.events.get(calendar["id"], [])],
        }
        for calendar in box.calendars.values()
    }
    state["photo_sha256"] = hashlib.sha256(box.photo).hexdigest() if box.photo else None
    state["mailbox"] = has_mailbox
    return state


def all_user_states(tenant: TenantDirectory) -> list[dict[str, Any]]:
    """Every user, active and soft-deleted, as user_state shows it."""
    return [user_state(tenant, user_id) for user_id in [*tenant.users, *tenant.deleted_users]]


def groups_state(tenant: TenantDirectory) -> list[dict[str, Any]]:
    """Every group with its listed members: UPNs for users, names for nested groups."""
    listed = []
    for group in tenant.groups.values():
        members = [
            record["userPrincipalName"] if kind == "user" else record["displayName"]
            for kind, record in tenant.direct_members(group["id"])
        ]
        listed.append({"id": group["id"], "name": group["displayName"], "members": members})
    return listed
