"""Check one `expect` step: the last run's summary and the users both emulators hold now."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Marker:
    """An actual value that is not a value: shown as its text."""

    text: str


ABSENT = Marker("<absent>")
NO_SYNC = Marker("<no sync has run>")


@dataclass(frozen=True)
class AsSet:
    """Names compared as a set, shown in the order they came."""

    items: tuple[Any, ...]


@dataclass(frozen=True)
class Miss:
    key: str
    expected: Any
    actual: Any


@dataclass
class Outcome:
    checks: int = 0
    misses: list[Miss] = field(default_factory=list)

    def record(self, key: str, held: bool, expected: Any, actual: Any) -> None:
        self.checks += 1
        if not held:
            self.misses.append(Miss(key, expected, actual))

    def equal(self, key: str, expected: Any, actual: Any) -> None:
        held = not isinstance(actual, Marker) and _same(expected, actual)
        self.record(key, held, expected, actual)

    def same_set(self, key: str, expected: list[Any], actual: Any) -> None:
        if not isinstance(actual, list | dict):
            self.record(key, False, AsSet(tuple(expected)), actual)
            return
        held = set(expected) == set(actual)
        self.record(key, held, AsSet(tuple(expected)), AsSet(tuple(actual)))


def _same(expected: Any, actual: Any) -> bool:
    # true/false must not pass for 1/0, which Python's == allows
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    return expected == actual


UserReader = Callable[[str], dict[str, Any]]


def check_expect(
    expect: dict[str, Any],
    last_run: dict[str, Any] | None,
    emply_user: UserReader,
    entra_user: UserReader,
) -> Outcome:
    """Every key given in `expect`, compared; the readers fetch a user by username / UPN."""
    outcome = Outcome()
    if "run" in expect:
        check_run(outcome, expect["run"], last_run)
    for username, wanted in expect.get("emply", {}).get("users", {}).items():
        check_emply_user(outcome, f"emply.users.{username}", wanted, emply_user(username))
    for upn, wanted in expect.get("entra", {}).get("users", {}).items():
        check_entra_user(outcome, f"entra.users.{upn}", wanted, entra_user(upn))
    return outcome


def check_run(outcome: Outcome, wanted: dict[str, Any], summary: dict[str, Any] | None) -> None:
    if "status" in wanted:
        status = NO_SYNC if summary is None else summary.get("status", ABSENT)
        held = status == wanted["status"]
        if not held and summary and summary.get("error"):
            status = Marker(f"{status!r} (error: {summary['error']})")
        outcome.record("run.status", held, wanted["status"], status)
    planned = {} if summary is None else summary.get("changes") or {}
    for kind, count in wanted.get("changes", {}).items():
        actual = NO_SYNC if summary is None else planned.get(kind, 0)
        outcome.equal(f"run.changes.{kind}", count, actual)


def check_emply_user(outcome: Outcome, key: str, wanted: dict[str, Any], user: dict) -> None:
    for name in ("exists", "active", "employee"):
        if name in wanted:
            outcome.equal(f"{key}.{name}", wanted[name], user.get(name, ABSENT))
    if "roles" in wanted:
        outcome.same_set(f"{key}.roles", wanted["roles"], user.get("roles", ABSENT))
    if "calendars" in wanted:
        check_calendars(outcome, f"{key}.calendars", wanted["calendars"], user.get("calendars"))
    if "photo_sha256" in wanted:
        expected, actual = wanted["photo_sha256"], user.get("photo_sha256", ABSENT)
        outcome.equal(f"{key}.photo_sha256", _lower(expected), _lower(actual))


def check_calendars(outcome: Outcome, key: str, wanted: dict[str, dict], calendars: Any) -> None:
    """The set of names must match exactly; then each given field of each calendar held."""
    outcome.same_set(key, list(wanted), ABSENT if calendars is None else list(calendars))
    for name, fields in wanted.items():
        calendar = (calendars or {}).get(name)
        for field_name, expected in fields.items():
            actual = ABSENT if calendar is None else calendar.get(field_name, ABSENT)
            outcome.equal(f"{key}.{name}.{field_name}", expected, actual)


def check_entra_user(outcome: Outcome, key: str, wanted: dict[str, Any], user: dict) -> None:
    for name, expected in wanted.items():
        if name == "groups":
            outcome.same_set(f"{key}.groups", expected, user.get("groups", ABSENT))
            continue
        actual = user.get(name, ABSENT)
        if name == "upn" and actual is ABSENT:
            actual = user.get("userPrincipalName", ABSENT)
        outcome.equal(f"{key}.{name}", expected, actual)


def _lower(digest: Any) -> Any:
    """Hex digests compare case-insensitively."""
    return digest.lower() if isinstance(digest, str) else digest
