"""What Outlook routes share: the mailbox owner lookup, $top/$skip paging, Prefer time zone."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from entrasync_emulators.graph.directory import Record
from entrasync_emulators.graph.events import zone
from entrasync_emulators.graph.messages import GraphError, GraphRequest, GraphResponse
from entrasync_emulators.graph.odata import link_with

OUTLOOK_DEFAULT_PAGE_SIZE = 10
OUTLOOK_MAX_PAGE_SIZE = 1000
_PREFER_ZONE = re.compile(r'outlook\.timezone\s*=\s*"?([^",;]+)"?', re.IGNORECASE)


def mailbox_owner(request: GraphRequest) -> tuple[str, Record]:
    """The active user whose mailbox the path names (id or UPN); 404 ErrorInvalidUser.

    A user without a mailbox (a guest, an unlicensed member) answers 404
    MailboxNotEnabledForRESTAPI, for calendars, events and the photo alike, as Graph does.
    """
    reference = request.path_params["user"]
    tenant = request.tenant
    user_id = reference if reference in tenant.users else tenant.upn_index.get(reference.lower())
    if user_id is None:
        raise GraphError(404, "ErrorInvalidUser", f"The requested user '{reference}' is invalid.")
    if not tenant.has_mailbox(user_id):
        raise no_mailbox()
    return user_id, tenant.users[user_id]


def no_mailbox() -> GraphError:
    return GraphError(
        404,
        "MailboxNotEnabledForRESTAPI",
        "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
    )


def preferred_zone(request: GraphRequest) -> str | None:
    """The zone of a `Prefer: outlook.timezone="..."` header, validated; None without one."""
    match = _PREFER_ZONE.search(request.headers.get("prefer", ""))
    if match is None:
        return None
    name = match.group(1).strip()
    zone(name)
    return name


def _non_negative_int(request: GraphRequest, name: str, default: int) -> int:
    raw = request.option(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise GraphError(400, "BadRequest", f"Invalid value '{raw}' for '{name}'.") from error
    if value < 0:
        raise GraphError(400, "BadRequest", f"Invalid value '{raw}' for '{name}'.")
    return value


def outlook_page(
    request: GraphRequest,
    items: Sequence[Any],
    render: Callable[[Any], dict[str, Any]],
    context: str,
) -> GraphResponse:
    """A page of an Outlook collection: 10 by default, nextLink with $skip like Outlook."""
    top = min(_non_negative_int(request, "$top", OUTLOOK_DEFAULT_PAGE_SIZE), OUTLOOK_MAX_PAGE_SIZE)
    top = top or OUTLOOK_DEFAULT_PAGE_SIZE
    skip = _non_negative_int(request, "$skip", 0)
    body: dict[str, Any] = {"@odata.context": context}
    if skip + top < len(items):
        body["@odata.nextLink"] = link_with(request, {"$skip": str(skip + top)})
    body["value"] = [render(item) for item in items[skip : skip + top]]
    return GraphResponse(200, body)
