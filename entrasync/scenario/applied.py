"""Counts tell the truth: each change a sync counted applied is visible in its target afterwards,
and nothing the sync owns changed in either system without an applied change that says so.

Both systems are read through the emulators' control surface right before and right after the
sync step; the run's applied changes come from its warehouse (`changes`, with their results).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb

from entrasync.connectors.graph.mailbox_rows import parse_utc
from entrasync.scenario.expect import ABSENT, Outcome
from entrasync.warehouse.db import warehouse_path

Users = dict[str, dict[str, Any]]  # object id (Emply user id, Entra object id) -> control view
# Entra attributes the sync writes (R7) and so owns in the before/after comparison.
ENTRA_ATTRIBUTES = ("displayName", "givenName", "surname", "jobTitle", "department", "mobilePhone")


@dataclass(frozen=True)
class Sides:
    """Both systems before and after one sync, each user by its own id."""

    emply_before: Users
    emply_after: Users
    entra_before: Users
    entra_after: Users


def applied_changes(tenant: str, run_id: str | None) -> list[dict[str, Any]]:
    """The run's applied changes from the tenant's warehouse; none without one (a stand-in sync
    in the runner's own tests writes no warehouse)."""
    path = warehouse_path(tenant)
    if run_id is None or not path.exists():
        return []
    with duckdb.connect(str(path), read_only=True) as con:
        cursor = con.execute(
            "SELECT kind, subject, emply_user_id, entra_object_id, before, after, result"
            " FROM changes WHERE run_id = ? AND outcome = 'applied' ORDER BY kind, subject",
            [run_id],
        )
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        for name in ("before", "after", "result"):
            row[name] = json.loads(row[name]) if row[name] else None
    return rows


def check_applied(changes: list[dict[str, Any]], sides: Sides) -> Outcome:
    """Every applied change against the state after the sync; then every unexplained change."""
    outcome = Outcome()
    for change in changes:
        check = CHECKS.get(change["kind"])
        if check is not None:
            check(outcome, _Applied(change, sides))
    check_unexplained(outcome, changes, sides)
    return outcome


class _Applied:
    """One applied change with the views it is checked against."""

    def __init__(self, change: dict[str, Any], sides: Sides) -> None:
        self.change, self.sides = change, sides
        self.after = change.get("after") or {}
        self.result = change.get("result") or {}
        self.label = f"applied {change['kind']} {change['subject']}"

    def emply_user(self, user_id: str | None = None) -> dict[str, Any]:
        user_id = user_id or self.change["emply_user_id"] or self.result.get("user_id")
        return self.sides.emply_after.get(user_id or "", {"exists": False})

    def entra_user(self, object_id: str | None = None) -> dict[str, Any]:
        object_id = (
            object_id or self.change["entra_object_id"] or self.result.get("entra_object_id")
        )
        return self.sides.entra_after.get(object_id or "", {"exists": False})

    def equal(self, outcome: Outcome, name: str, expected: Any, actual: Any) -> None:
        outcome.equal(f"{self.label}: {name}", expected, actual)


def _emply_value(user: dict[str, Any], name: str) -> Any:
    return user.get(name, ABSENT) if user.get("exists") else ABSENT


def _linked(outcome: Outcome, applied: _Applied) -> None:
    user = applied.emply_user()
    applied.equal(outcome, "entra_object_id", applied.change["entra_object_id"],
                  _emply_value(user, "entra_object_id"))  # fmt: skip


def _created(outcome: Outcome, applied: _Applied) -> None:
    user = applied.emply_user()
    applied.equal(outcome, "exists", True, user.get("exists", False))
    applied.equal(outcome, "username", applied.after["username"], _emply_value(user, "username"))
    applied.equal(outcome, "entra_object_id", applied.after["entra_object_id"],
                  _emply_value(user, "entra_object_id"))  # fmt: skip
    outcome.same_set(f"{applied.label}: roles", applied.after["roles"],
                     _emply_value(user, "roles"))  # fmt: skip


def _active(expected: bool) -> Callable[[Outcome, _Applied], None]:
    def check(outcome: Outcome, applied: _Applied) -> None:
        applied.equal(outcome, "active", expected, _emply_value(applied.emply_user(), "active"))

    return check


def _roles(outcome: Outcome, applied: _Applied) -> None:
    outcome.same_set(f"{applied.label}: roles", applied.after["roles"],
                     _emply_value(applied.emply_user(), "roles"))  # fmt: skip


def _photo(outcome: Outcome, applied: _Applied) -> None:
    actual = _emply_value(applied.emply_user(), "photo_sha256")
    applied.equal(outcome, "photo_sha256", applied.after["sha256"].lower(),
                  actual.lower() if isinstance(actual, str) else actual)  # fmt: skip


def _calendar_of(user: dict[str, Any], key: str, value: Any) -> dict[str, Any] | None:
    for name, calendar in (_emply_value(user, "calendars") or {}).items():
        if isinstance(calendar, dict) and calendar.get(key) == value:
            return {"name": name, **calendar}
    return None


def _calendar_added(outcome: Outcome, applied: _Applied) -> None:
    calendar = _calendar_of(applied.emply_user(), "entra_calendar_id",
                            applied.after["entra_calendar_id"])  # fmt: skip
    applied.equal(outcome, f"calendar {applied.after['name']!r}", "present",
                  "present" if calendar else ABSENT)  # fmt: skip
    for name in ("enabled", "can_disable"):
        applied.equal(outcome, f"calendar {applied.after['name']!r}.{name}", applied.after[name],
                      calendar.get(name, ABSENT) if calendar else ABSENT)  # fmt: skip


def _calendar_removed(outcome: Outcome, applied: _Applied) -> None:
    calendar = _calendar_of(applied.emply_user(), "id", applied.after["calendar_id"])
    applied.equal(outcome, f"calendar {applied.after['calendar_id']!r}", "removed",
                  "present" if calendar else "removed")  # fmt: skip


def _events_set(outcome: Outcome, applied: _Applied) -> None:
    user = applied.emply_user()
    calendar_id = applied.after.get("calendar_id") or applied.result.get("calendar_id")
    calendar = _calendar_of(user, "id", calendar_id)
    synced = ABSENT
    if calendar is not None:
        window = (applied.after["from"], applied.after["to"])
        synced = sum(
            1 for event in calendar["events"]
            if event["source"] == "entra" and _in_window(event, *window)
        )  # fmt: skip
    applied.equal(outcome, f"events of {applied.after['name']!r} in the window",
                  applied.after["count"], synced)  # fmt: skip


def _in_window(event: dict[str, Any], start: str, end: str) -> bool:
    return _utc(event["start"]) < end and _utc(event["end"]) > start


def _utc(text: str) -> str:
    """Emply's event times as the plan's UTC text (YYYY-MM-DDTHH:MM:SSZ) for comparing."""
    return parse_utc(text)


def _entra_event(outcome: Outcome, applied: _Applied) -> None:
    event_id = applied.result.get("entra_event_id")
    entra = applied.entra_user()
    held = any(event_id in c.get("event_ids", []) for c in (entra.get("calendars") or {}).values())
    applied.equal(outcome, "Entra event", event_id, event_id if held else ABSENT)
    pushed = ABSENT
    for calendar in (_emply_value(applied.emply_user(), "calendars") or {}).values():
        for event in calendar["events"]:
            if event["event_id"] == applied.after["event_id"]:
                pushed = event["entra_event_id"]
    applied.equal(outcome, "Emply event marked pushed", event_id, pushed)


def _entra_created(outcome: Outcome, applied: _Applied) -> None:
    entra = applied.entra_user(applied.result.get("entra_object_id"))
    applied.equal(outcome, "Entra user exists", True, entra.get("exists", False))
    applied.equal(outcome, "userPrincipalName", applied.after["userPrincipalName"].lower(),
                  str(entra.get("userPrincipalName", "")).lower() or ABSENT)  # fmt: skip
    for name in ENTRA_ATTRIBUTES:
        if applied.after.get(name) is not None:
            applied.equal(outcome, name, applied.after[name], entra.get(name, ABSENT))
    emply = applied.emply_user(applied.change["emply_user_id"])
    applied.equal(outcome, "linked in Emply", applied.result.get("entra_object_id"),
                  _emply_value(emply, "entra_object_id"))  # fmt: skip


def _entra_member(outcome: Outcome, applied: _Applied) -> None:
    entra = applied.entra_user(applied.result.get("entra_object_id"))
    groups = entra.get("groups", []) if entra.get("exists") else []
    applied.equal(outcome, f"member of {applied.after['group']!r}", True,
                  applied.after["group"] in groups)  # fmt: skip


def _entra_updated(outcome: Outcome, applied: _Applied) -> None:
    entra = applied.entra_user()
    for name, value in applied.after.items():
        applied.equal(
            outcome, name, value, entra.get(name, ABSENT) if entra.get("exists") else ABSENT
        )


def _entra_deleted(outcome: Outcome, applied: _Applied) -> None:
    applied.equal(outcome, "deleted", True, applied.entra_user().get("deleted", False))


CHECKS: dict[str, Callable[[Outcome, _Applied], None]] = {
    "link_user": _linked,
    "create_user": _created,
    "activate_user": _active(True),
    "deactivate_user": _active(False),
    "set_roles": _roles,
    "set_photo": _photo,
    "add_calendar": _calendar_added,
    "remove_calendar": _calendar_removed,
    "set_events": _events_set,
    "create_entra_event": _entra_event,
    "create_entra_user": _entra_created,
    "add_entra_group_member": _entra_member,
    "update_entra_user": _entra_updated,
    "delete_entra_user": _entra_deleted,
}


# ------------------------------------------------------------- the other way: nothing unsaid

# What the sync owns of each side, and the applied kinds that may change it.
EMPLY_FACTS: dict[str, tuple[Callable[[dict], Any], tuple[str, ...]]] = {
    "exists": (lambda u: u.get("exists", False), ("create_user",)),
    "active": (lambda u: u.get("active"), ("activate_user", "deactivate_user", "create_user")),
    "roles": (lambda u: sorted(u.get("roles") or []), ("set_roles", "create_user")),
    "photo_sha256": (lambda u: u.get("photo_sha256"), ("set_photo",)),
    "entra_object_id": (
        lambda u: u.get("entra_object_id"), ("link_user", "create_user", "create_entra_user")
    ),
    "synced calendars": (
        lambda u: sorted(
            c["entra_calendar_id"] for c in (u.get("calendars") or {}).values()
            if c.get("entra_calendar_id")
        ),
        ("add_calendar", "remove_calendar"),
    ),
}  # fmt: skip
ENTRA_FACTS: dict[str, tuple[Callable[[dict], Any], tuple[str, ...]]] = {
    "exists": (lambda u: u.get("exists", False), ("create_entra_user", "delete_entra_user")),
    "groups": (lambda u: sorted(u.get("groups") or []), ("add_entra_group_member",)),
    **{
        name: ((lambda u, n=name: u.get(n)), ("update_entra_user", "create_entra_user"))
        for name in ENTRA_ATTRIBUTES
    },
}


def check_unexplained(outcome: Outcome, changes: list[dict[str, Any]], sides: Sides) -> None:
    """A user fact that changed with no applied change of a kind that may change it is a miss."""
    touched: dict[tuple[str, str], set[str]] = {}
    for change in changes:
        result = change.get("result") or {}
        for side, object_id in (
            ("emply", change["emply_user_id"] or result.get("user_id")),
            ("entra", change["entra_object_id"] or result.get("entra_object_id")),
        ):
            if object_id:
                touched.setdefault((side, object_id), set()).add(change["kind"])
    for side, before, after, facts in (
        ("emply", sides.emply_before, sides.emply_after, EMPLY_FACTS),
        ("entra", sides.entra_before, sides.entra_after, ENTRA_FACTS),
    ):
        for object_id in sorted(set(before) | set(after)):
            was = before.get(object_id, {"exists": False})
            now = after.get(object_id, {"exists": False})
            name = (
                now.get("username")
                or now.get("userPrincipalName")
                or was.get("username")
                or (was.get("userPrincipalName") or object_id)
            )
            kinds = touched.get((side, object_id), set())
            for fact, (read, allowed) in facts.items():
                if fact != "exists" and read(was) != read(now) and not was.get("exists"):
                    continue  # created: its first values are checked against the create
                if fact != "exists" and not now.get("exists") and was.get("exists"):
                    continue  # deleted: what it held went with it
                if read(was) != read(now) and not kinds & set(allowed):
                    outcome.record(
                        f"{side} user {name} changed {fact} with no applied "
                        f"{' or '.join(allowed)}",
                        False, read(was), read(now),
                    )  # fmt: skip
