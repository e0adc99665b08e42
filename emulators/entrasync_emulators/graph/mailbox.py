"""A user's Exchange side: calendars, their events and the profile photo."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]


@dataclass
class Mailbox:
    """A user's Exchange side: calendars (by id), their events, and the profile photo."""

    calendars: dict[str, Record] = field(default_factory=dict)
    events: dict[str, list[Record]] = field(default_factory=dict)
    photo: bytes | None = None


def calendar_id(user_id: str, name: str) -> str:
    """A stable, URL-safe Outlook-looking id for one calendar of one user."""
    digest = hashlib.sha256(f"{user_id}/{name.lower()}".encode()).digest()[:16]
    return "AAMkAG" + base64.urlsafe_b64encode(digest).decode("ascii")


def new_calendar(user_id: str, name: str, *, can_edit: bool, is_default: bool) -> Record:
    identifier = calendar_id(user_id, name)
    return {
        "id": identifier,
        "name": name,
        "color": "auto",
        "hexColor": "",
        "isDefaultCalendar": is_default,
        "changeKey": base64.b64encode(hashlib.md5(identifier.encode()).digest()).decode(),
        "canShare": can_edit,
        "canViewPrivateItems": can_edit,
        "canEdit": can_edit,
        "allowedOnlineMeetingProviders": ["teamsForBusiness"],
        "defaultOnlineMeetingProvider": "teamsForBusiness",
        "isTallyingResponses": True,
        "isRemovable": not is_default,
    }
