"""The records one Emply customer holds: roles, users, employees, calendars, events, photos."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Role:
    role_id: str
    name: str
    is_admin: bool = False


@dataclass
class Photo:
    content: bytes
    content_type: str
    sha256: str


@dataclass
class Calendar:
    calendar_id: str
    user_id: str
    name: str
    enabled: bool
    can_disable: bool
    entra_calendar_id: str | None


@dataclass
class Event:
    """A calendar entry: `source` "entra" (synced in) or "emply" (made in Emply, to push out)."""

    event_id: str
    user_id: str
    calendar_id: str
    subject: str
    start: str
    end: str
    starts_at: datetime
    ends_at: datetime
    source: str
    entra_event_id: str | None = None


@dataclass
class User:
    user_id: str
    username: str
    email: str
    first_name: str | None = None
    last_name: str | None = None
    active: bool = True
    roles: list[str] = field(default_factory=list)
    employee_id: str | None = None
    external_id: str | None = None
    calendar_sync_enabled: bool = True
    deleted: bool = False
    photo: Photo | None = None
    calendars: dict[str, Calendar] = field(default_factory=dict)


@dataclass
class Employee:
    employee_id: str
    email: str
    first_name: str | None = None
    last_name: str | None = None
    job_title: str | None = None
    department: str | None = None
    mobile_phone: str | None = None
    user_id: str | None = None
    status: str = "active"


@dataclass
class Fault:
    """Injected failure: the next `times` API requests under `path` get `status`."""

    path: str
    status: int
    times: int
    retry_after: int | None = None


@dataclass
class BadExportRow:
    """Injected bad data: the next `times` reads of export `export_id` have row `row` changed."""

    export_id: str
    row: int
    values: dict[str, Any]
    times: int


@dataclass
class Counters:
    requests: int = 0
    writes: int = 0
