"""OData query options of directory listings: $select, $top, $skiptoken, $count, paging links."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

from entrasync_emulators.graph.messages import GraphError, GraphRequest, GraphResponse

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 999
UNSUPPORTED_OPTIONS = ("$orderby", "$expand", "$search", "$skip", "$format", "$apply")


# The query arguments Graph's directory routes recognise: OData system query options (v1.0
# takes them only with the `$`) and ConsistencyLevel, the query-string twin of the header.
RECOGNISED_ARGUMENTS = frozenset(
    {"$select", "$filter", "$top", "$skip", "$skiptoken", "$deltatoken", "$count", "$orderby",
     "$expand", "$search", "$format", "$apply", "consistencylevel"}
)  # fmt: skip


def reject_unrecognised(request: GraphRequest) -> None:
    """An argument Graph does not know (`$foo`, or `select` without its `$`) is a 400."""
    for key, _ in request.query:
        if key.lower() not in RECOGNISED_ARGUMENTS:
            raise GraphError(
                400, "Request_BadRequest", f"Unrecognized query argument specified: '{key}'."
            )


def reject_unsupported(request: GraphRequest, allowed_extra: Sequence[str] = ()) -> None:
    """Refuse unknown arguments as Graph does, and options the emulator does not implement
    instead of silently ignoring them."""
    reject_unrecognised(request)
    for name in UNSUPPORTED_OPTIONS + ("$filter",):
        if name in allowed_extra:
            continue
        if request.option(name) is not None:
            raise GraphError(
                400,
                "Request_UnsupportedQuery",
                f"The query option '{name}' is not supported by the Graph emulator for "
                f"'{request.path}'.",
            )


def select_option(
    request: GraphRequest, selectable: dict[str, str], type_name: str, *, strict: bool = True
) -> list[str] | None:
    """Canonical property names from $select (case-insensitive); None without $select."""
    raw = request.option("$select")
    if raw is None or not raw.strip():
        return None
    names: list[str] = []
    for part in raw.split(","):
        wanted = part.strip()
        if not wanted:
            continue
        canonical = selectable.get(wanted.lower())
        if canonical is None:
            if strict:
                raise GraphError(
                    400,
                    "Request_BadRequest",
                    f"Could not find a property named '{wanted}' on type '{type_name}'.",
                )
            canonical = wanted
        if canonical not in names:
            names.append(canonical)
    return names


def fields_to_render(selected: list[str] | None, defaults: Sequence[str]) -> list[str]:
    """$select plus id (Graph always returns id), or the type's default property set."""
    if selected is None:
        return list(defaults)
    return selected if "id" in selected else [*selected, "id"]


def project(record: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    return {name: record.get(name) for name in names}


def top_option(request: GraphRequest) -> int:
    raw = request.option("$top")
    if raw is None:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError as error:
        raise GraphError(
            400, "BadRequest", f"Invalid value '{raw}' for query option '$top'."
        ) from error
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise GraphError(
            400,
            "Request_BadRequest",
            f"Invalid page size specified: '{size}'. Must be between 1 and {MAX_PAGE_SIZE} "
            "inclusive.",
        )
    return size


def encode_token(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return "RFNwdA" + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_token(token: str) -> dict[str, Any] | None:
    if not token.startswith("RFNwdA"):
        return None
    body = token[len("RFNwdA") :]
    try:
        decoded = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        return None
    return decoded if isinstance(decoded, dict) else None


def skip_offset(request: GraphRequest) -> int:
    """The offset stored in $skiptoken; the token only works on the path that issued it."""
    token = request.option("$skiptoken")
    if token is None:
        return 0
    payload = decode_token(token)
    if (
        payload is None
        or payload.get("p") != request.path.lower()
        or not isinstance(payload.get("o"), int)
    ):
        raise GraphError(
            400,
            "Request_BadRequest",
            "The specified page token value has expired and can no longer be included in "
            "your request.",
        )
    return payload["o"]


def link_with(request: GraphRequest, replace: dict[str, str]) -> str:
    """This request's URL with the given query options set (kept in place, or appended)."""
    replaced = {name.lower(): value for name, value in replace.items()}
    query: list[tuple[str, str]] = []
    for key, value in request.query:
        if key.lower() in replaced or ("$" + key.lower()) in replaced:
            continue
        query.append((key, value))
    query.extend(replace.items())
    safe = "$,()'=:@/*"
    encoded = "&".join(f"{quote(k, safe=safe)}={quote(v, safe=safe)}" for k, v in query)
    return f"{request.base_url}{quote(request.path, safe='/$@')}?{encoded}"


def context_url(request: GraphRequest, entity_set: str, selected: list[str] | None) -> str:
    suffix = f"({','.join(selected)})" if selected else ""
    return f"{request.base_url}/$metadata#{entity_set}{suffix}"


def eventual_consistency(request: GraphRequest) -> bool:
    """ConsistencyLevel: eventual, as a header or as a query argument (Graph takes both)."""
    level = request.headers.get("consistencylevel") or request.option("ConsistencyLevel") or ""
    return level.lower() == "eventual"


def count_requested(request: GraphRequest) -> bool:
    raw = request.option("$count")
    if raw is None:
        return False
    if raw.lower() not in ("true", "false"):
        raise GraphError(400, "BadRequest", f"Invalid value '{raw}' for query option '$count'.")
    if raw.lower() == "true" and not eventual_consistency(request):
        raise GraphError(400, "Request_BadRequest", "$count is not currently supported.")
    return raw.lower() == "true"


def paged_response(
    request: GraphRequest,
    items: Sequence[Any],
    render: Callable[[Any], dict[str, Any]],
    context: str,
) -> GraphResponse:
    """One page of `items` with @odata.context, @odata.nextLink (if more) and value."""
    top = top_option(request)
    offset = skip_offset(request)
    with_count = count_requested(request)
    body: dict[str, Any] = {"@odata.context": context}
    if with_count and offset == 0:
        body["@odata.count"] = len(items)
    end = offset + top
    if end < len(items):
        token = encode_token({"p": request.path.lower(), "o": end})
        body["@odata.nextLink"] = link_with(request, {"$skiptoken": token})
    body["value"] = [render(item) for item in items[offset:end]]
    return GraphResponse(200, body)
