"""Delta queries for users and groups: snapshot pages, delta tokens over the change log, 410."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from entrasync_emulators.graph.directory import GROUP_KIND, USER_KIND, TenantDirectory
from entrasync_emulators.graph.messages import GraphError, GraphRequest, GraphResponse
from entrasync_emulators.graph.odata import context_url, decode_token, encode_token, project
from entrasync_emulators.graph.schema import (
    GROUP_DEFAULT_PROPERTIES,
    GROUP_TYPE,
    USER_DEFAULT_PROPERTIES,
    USER_TYPE,
)

DEFAULT_PAGE_SIZE = 200
MAX_PAGE_SIZE = 999
KEPT_SESSIONS = 64
_MAX_PAGE_SIZE_PREFERENCE = re.compile(r"odata\.maxpagesize\s*=\s*(\d+)", re.IGNORECASE)


@dataclass
class DeltaSession:
    """One round's prepared pages; the skiptoken names the session and the page."""

    pages: list[list[dict[str, Any]]]
    delta_token: str  # handed out with the last page


@dataclass
class DeltaQuery:
    """What a delta request asks for: the collection, its $select, and where to start."""

    kind: str  # "users" | "groups"
    selected: list[str] | None  # canonical names; "members" kept for groups
    since: int | None  # change-log position of the delta token; None: initial round


def page_size(request: GraphRequest) -> int:
    match = _MAX_PAGE_SIZE_PREFERENCE.search(request.headers.get("prefer", ""))
    return min(int(match.group(1)), MAX_PAGE_SIZE) if match else DEFAULT_PAGE_SIZE


def sync_state_not_found(
    request: GraphRequest, kind: str, selected: list[str] | None
) -> GraphError:
    location = f"{request.base_url}/{kind}/delta"
    if selected:
        location += "?$select=" + ",".join(selected)
    return GraphError(
        410,
        "syncStateNotFound",
        "The sync state generation is not found or has expired. Start a full resync from the "
        "URL in the Location header.",
        headers={"Location": location},
    )


def new_delta_token(tenant: TenantDirectory, query: DeltaQuery) -> str:
    return encode_token(
        {
            "k": query.kind,
            "tid": tenant.tenant_id,
            "g": tenant.sync_generation,
            "i": tenant.instance,
            "p": len(tenant.change_log),
            "s": query.selected,
            "t": time.time(),
        }
    )


def read_delta_token(request: GraphRequest, kind: str, token: str) -> DeltaQuery:
    """The query a delta token continues; 410 syncStateNotFound if it is stale or foreign."""
    payload = decode_token(token)
    tenant = request.tenant
    if (
        payload is None
        or payload.get("k") != kind
        or payload.get("tid") != tenant.tenant_id
        or payload.get("g") != tenant.sync_generation
        or payload.get("i") != tenant.instance
        or not isinstance(payload.get("p"), int)
        or payload["p"] > len(tenant.change_log)
        or time.time() - float(payload.get("t", 0)) > request.config.delta_token_lifetime_s
    ):
        selected = payload.get("s") if isinstance(payload, dict) else None
        raise sync_state_not_found(request, kind, selected)
    return DeltaQuery(kind=kind, selected=payload.get("s"), since=payload["p"])


# ----------------------------------------------------------------- rendering
def _user_names(selected: list[str] | None) -> list[str]:
    if selected is None:
        return list(USER_DEFAULT_PROPERTIES)
    return selected if "id" in selected else [*selected, "id"]


def _group_names(selected: list[str] | None) -> tuple[list[str], bool]:
    """Group properties to render, and whether members@delta is wanted."""
    if selected is None:
        return list(GROUP_DEFAULT_PROPERTIES), True
    names = [name for name in selected if name != "members"]
    return (names if "id" in names else [*names, "id"]), "members" in selected


def _removed(object_id: str, reason: str) -> dict[str, Any]:
    return {"id": object_id, "@removed": {"reason": reason}}


def _member_entry(tenant: TenantDirectory, member_id: str, present: bool) -> dict[str, Any]:
    odata_type = GROUP_TYPE if member_id in tenant.groups else USER_TYPE
    entry: dict[str, Any] = {"@odata.type": odata_type, "id": member_id}
    if not present:
        entry["@removed"] = {"reason": "deleted"}
    return entry


def _user_units(tenant: TenantDirectory, query: DeltaQuery) -> list[tuple[dict[str, Any], int]]:
    names = _user_names(query.selected)
    if query.since is None:
        user_ids = list(tenant.users) + list(tenant.deleted_users)
    else:
        changed: dict[str, None] = {}
        for kind, object_id, _ in tenant.change_log[query.since :]:
            if kind == USER_KIND:
                changed.pop(object_id, None)
                changed[object_id] = None
        user_ids = list(changed)
    units = []
    for user_id in user_ids:
        record = tenant.users.get(user_id)
        if record is not None:
            units.append((project(record, names), 1))
        elif user_id in tenant.deleted_users:
            units.append((_removed(user_id, "changed"), 1))
        else:
            units.append((_removed(user_id, "deleted"), 1))
    return units


def _group_units(
    tenant: TenantDirectory, query: DeltaQuery, budget: int
) -> list[tuple[dict[str, Any], int]]:
    names, with_members = _group_names(query.selected)
    member_changes: dict[str, dict[str, None]] = {}
    if query.since is None:
        group_ids = list(tenant.groups)
    else:
        changed: dict[str, None] = {}
        for kind, object_id, member_id in tenant.change_log[query.since :]:
            if kind != GROUP_KIND:
                continue
            changed.pop(object_id, None)
            changed[object_id] = None
            if member_id is not None:
                member_changes.setdefault(object_id, {})[member_id] = None
        group_ids = list(changed)
    units: list[tuple[dict[str, Any], int]] = []
    for group_id in group_ids:
        record = tenant.groups.get(group_id)
        if record is None:
            units.append((_removed(group_id, "deleted"), 1))
            continue
        rendered = project(record, names)
        if not with_members:
            units.append((rendered, 1))
            continue
        current = tenant.members[group_id]
        if query.since is None:
            entries = [
                _member_entry(tenant, member_id, True)
                for member_id in current
                if member_id in tenant.users or member_id in tenant.groups
            ]
        else:
            entries = [
                _member_entry(tenant, member_id, member_id in current)
                for member_id in member_changes.get(group_id, {})
            ]
        if not entries:
            units.append((rendered, 1))
            continue
        # A large group's members@delta is split: the group repeats on the following pages.
        chunk = max(budget - 1, 1)
        for start in range(0, len(entries), chunk):
            part = entries[start : start + chunk]
            units.append(({**rendered, "members@delta": part}, 1 + len(part)))
    return units


def _paginate(units: list[tuple[dict[str, Any], int]], budget: int) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    weight = 0
    for item, item_weight in units:
        if current and weight + item_weight > budget:
            pages.append(current)
            current, weight = [], 0
        current.append(item)
        weight += item_weight
    pages.append(current)
    return pages


def start_round(request: GraphRequest, query: DeltaQuery) -> GraphResponse:
    """Prepare every page of this round (a snapshot) and answer with the first one."""
    tenant = request.tenant
    budget = page_size(request)
    delta_token = new_delta_token(tenant, query)
    if query.kind == "users":
        units = _user_units(tenant, query)
    else:
        units = _group_units(tenant, query, budget)
    session_id = secrets.token_urlsafe(12)
    tenant.delta_sessions[session_id] = DeltaSession(_paginate(units, budget), delta_token)
    while len(tenant.delta_sessions) > KEPT_SESSIONS:
        del tenant.delta_sessions[next(iter(tenant.delta_sessions))]
    return page_response(request, query, session_id, 0)


def page_response(
    request: GraphRequest, query: DeltaQuery, session_id: str, index: int
) -> GraphResponse:
    session: DeltaSession | None = request.tenant.delta_sessions.get(session_id)
    if session is None or index >= len(session.pages):
        raise sync_state_not_found(request, query.kind, query.selected)
    context_select = [name for name in query.selected or [] if name != "members"] or None
    body: dict[str, Any] = {"@odata.context": context_url(request, query.kind, context_select)}
    base = f"{request.base_url}/{query.kind}/delta"
    if index + 1 < len(session.pages):
        token = encode_token(
            {"k": query.kind, "sid": session_id, "i": index + 1, "s": query.selected}
        )
        body["@odata.nextLink"] = f"{base}?$skiptoken={token}"
    else:
        body["@odata.deltaLink"] = f"{base}?$deltatoken={session.delta_token}"
    body["value"] = session.pages[index]
    return GraphResponse(200, body)


def latest(request: GraphRequest, query: DeltaQuery) -> GraphResponse:
    """$deltatoken=latest: no objects, just a deltaLink that starts from now."""
    body = {
        "@odata.context": context_url(request, query.kind, None),
        "@odata.deltaLink": (
            f"{request.base_url}/{query.kind}/delta?$deltatoken="
            f"{new_delta_token(request.tenant, query)}"
        ),
        "value": [],
    }
    return GraphResponse(200, body)


def read_skiptoken(request: GraphRequest, kind: str, token: str) -> tuple[DeltaQuery, str, int]:
    payload = decode_token(token)
    if (
        payload is None
        or payload.get("k") != kind
        or not isinstance(payload.get("sid"), str)
        or not isinstance(payload.get("i"), int)
    ):
        raise sync_state_not_found(request, kind, None)
    query = DeltaQuery(kind=kind, selected=payload.get("s"), since=None)
    return query, payload["sid"], payload["i"]
