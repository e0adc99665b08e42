"""Every Graph path, OData option and header the sync sends, and the default hosts: one place."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote, urlencode

from entrasync.connectors.graph.models import CALENDAR_SELECT

DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"
DEFAULT_GRAPH_URL = "https://graph.microsoft.com/v1.0"
USERS = "/users"
GROUPS = "/groups"
USER_COUNT = "/users/$count"
DELETED_USERS = "/directory/deletedItems/microsoft.graph.user"
CONSISTENCY_EVENTUAL = {"ConsistencyLevel": "eventual"}
# Outlook answers event times in this zone when asked, and so never in a Windows zone name.
UTC_EVENTS = {"Prefer": 'outlook.timezone="UTC"'}
EVENT_SELECT: tuple[str, ...] = ("id", "subject", "start", "end")
PAGE_MAX = 999  # Graph's largest $top for directory collections
CALENDARS_PAGE = 100
EVENTS_PAGE = 1000


def segment(value: str) -> str:
    """One path segment: an id or a UPN (its @ kept)."""
    return quote(value, safe="@")


def user(user_id: str) -> str:
    return f"{USERS}/{segment(user_id)}"


def group_members(group_id: str, relation: str = "members") -> str:
    return f"{GROUPS}/{segment(group_id)}/{relation}"


def calendar(user_id: str, calendar_id: str | None) -> str:
    """A user's calendar; None: the default one."""
    if calendar_id is None:
        return user(user_id)
    return f"{user(user_id)}/calendars/{segment(calendar_id)}"


def photo(user_id: str, content: bool = False) -> str:
    """A user's photo: its metadata, or with `content` its bytes."""
    path = f"{user(user_id)}/photo"
    return f"{path}/$value" if content else path


def upn_starts_with(first: str) -> str:
    """An OData filter for UPNs starting with `first` (a quote is doubled in a literal)."""
    return f"startswith(userPrincipalName,'{first.replace(chr(39), 2 * chr(39))}')"


def calendars_url(user_id: str) -> str:
    """A user's calendars with the fields R9 needs, as one URL (for $batch)."""
    query = urlencode({"$select": ",".join(CALENDAR_SELECT), "$top": CALENDARS_PAGE}, safe="$,")
    return f"{user(user_id)}/calendars?{query}"


def calendar_view_url(user_id: str, calendar_id: str, start: str, end: str) -> str:
    """A calendar's events (occurrences expanded) between `start` and `end`, as one URL."""
    query = urlencode(
        {"startDateTime": start, "endDateTime": end,
         "$select": ",".join(EVENT_SELECT), "$top": EVENTS_PAGE},
        safe="$,:",
    )  # fmt: skip
    return f"{calendar(user_id, calendar_id)}/calendarView?{query}"


def iso(moment: datetime | str) -> str:
    return moment if isinstance(moment, str) else moment.isoformat()
