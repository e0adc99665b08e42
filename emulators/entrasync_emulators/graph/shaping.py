"""$orderby and $expand on users and groups: accepted like Graph, with the relations we model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from entrasync_emulators.graph.directory import GROUP_KIND, USER_KIND, Record, TenantDirectory
from entrasync_emulators.graph.messages import GraphError, GraphRequest
from entrasync_emulators.graph.odata import fields_to_render, project
from entrasync_emulators.graph.schema import (
    GROUP_DEFAULT_PROPERTIES,
    GROUP_SELECTABLE,
    GROUP_TYPE,
    USER_DEFAULT_PROPERTIES,
    USER_SELECTABLE,
    USER_TYPE,
)

# Properties Graph sorts directory objects by without advanced query parameters.
SORTABLE = {"users": ("displayName", "userPrincipalName"), "groups": ("displayName",)}
# Navigation properties: to-many ones list directoryObjects, to-one ones a single object.
NAVIGATION = {
    "users": {"manager": "one", "memberOf": "many", "directReports": "many"},
    "groups": {"members": "many", "owners": "many", "memberOf": "many"},
}
# Graph returns at most 20 objects of an expanded relationship.
EXPANDED_LIMIT = 20


def _unknown_property(name: str, type_name: str) -> GraphError:
    return GraphError(
        400,
        "Request_BadRequest",
        f"Could not find a property named '{name}' on type '{type_name}'.",
    )


def sorted_by_option(
    request: GraphRequest, records: list[Record], kind: str, selectable: dict[str, str]
) -> list[Record]:
    """The records in $orderby order (case-insensitive, nulls last, id breaks ties)."""
    raw = request.option("$orderby")
    if raw is None or not raw.strip():
        return records
    type_name = f"microsoft.graph.{kind[:-1]}"
    keys: list[tuple[str, bool]] = []
    for part in raw.split(","):
        words = part.split()
        if (
            not words
            or len(words) > 2
            or (len(words) == 2 and words[1].lower() not in ("asc", "desc"))
        ):
            raise GraphError(400, "BadRequest", f"Invalid $orderby expression '{part.strip()}'.")
        canonical = selectable.get(words[0].lower())
        if canonical is None:
            raise _unknown_property(words[0], type_name)
        if canonical not in SORTABLE[kind]:
            raise GraphError(
                400, "Request_UnsupportedQuery", "Sorting not supported for current query."
            )
        keys.append((canonical, len(words) == 2 and words[1].lower() == "desc"))
    ordered = sorted(records, key=lambda record: record["id"])
    for name, descending in reversed(keys):  # stable sorts, last key first
        present = [r for r in ordered if r.get(name) is not None]
        missing = [r for r in ordered if r.get(name) is None]
        present.sort(key=lambda record: str(record[name]).lower(), reverse=descending)
        ordered = present + missing
    return ordered


def _expansions(raw: str) -> list[tuple[str, str | None]]:
    """`a,b($select=x,y)` as [(a, None), (b, 'x,y')]: commas inside parentheses stay."""
    parts, depth, current = [], 0, ""
    for ch in raw:
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += (ch == "(") - (ch == ")")
        current += ch
    parts.append(current)
    expansions = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        name, _, nested = part.partition("(")
        select = None
        if nested:
            option, _, value = nested.rstrip(")").partition("=")
            if option.strip().lower() not in ("$select", "select"):
                raise GraphError(
                    400, "BadRequest", f"Query option '{option.strip()}' is not allowed in $expand."
                )
            select = value
        expansions.append((name.strip(), select))
    return expansions


Expander = Callable[[Record], dict[str, Any]]


def expander(request: GraphRequest, kind: str) -> Expander | None:
    """What $expand adds to each rendered user or group; None without $expand."""
    raw = request.option("$expand")
    if raw is None or not raw.strip():
        return None
    type_name = f"microsoft.graph.{kind[:-1]}"
    by_lower = {name.lower(): name for name in NAVIGATION[kind]}
    wanted: list[tuple[str, list[str] | None]] = []
    for name, select in _expansions(raw):
        canonical = by_lower.get(name.lower())
        if canonical is None:
            raise _unknown_property(name, type_name)
        names = [n.strip() for n in select.split(",") if n.strip()] if select else None
        wanted.append((canonical, names))
    tenant = request.tenant

    def expand(record: Record) -> dict[str, Any]:
        added: dict[str, Any] = {}
        for name, names in wanted:
            related = _related(tenant, kind, name, record["id"])
            if NAVIGATION[kind][name] == "one":
                if related:  # Graph leaves out a to-one relation that is not set
                    added[name] = _render_object(related[0], names)
                continue
            added[name] = [_render_object(member, names) for member in related[:EXPANDED_LIMIT]]
        return added

    return expand


def _related(
    tenant: TenantDirectory, kind: str, name: str, object_id: str
) -> list[tuple[str, Record]]:
    """Manager, owners and direct reports are not modelled: always none."""
    if name == "members":
        return tenant.direct_members(object_id)
    if name == "memberOf":
        return [
            (GROUP_KIND, tenant.groups[group_id])
            for group_id in tenant.member_of.get(object_id, {})
            if group_id in tenant.groups
        ]
    return []


def _render_object(member: tuple[str, Record], names: list[str] | None) -> dict[str, Any]:
    kind, record = member
    if kind == USER_KIND:
        selectable, defaults, odata_type = USER_SELECTABLE, USER_DEFAULT_PROPERTIES, USER_TYPE
    else:
        selectable, defaults, odata_type = GROUP_SELECTABLE, GROUP_DEFAULT_PROPERTIES, GROUP_TYPE
    chosen = None
    if names is not None:
        chosen = [selectable[n.lower()] for n in names if n.lower() in selectable]
    return {"@odata.type": odata_type, **project(record, fields_to_render(chosen, defaults))}
