"""The small $filter subset /users understands: startswith(prop,'x') and prop eq 'x'."""

from __future__ import annotations

import re

from entrasync.emulators.graph.directory import Record
from entrasync.emulators.graph.messages import GraphError, GraphRequest

FILTERABLE = {
    name.lower(): name
    for name in ("userPrincipalName", "displayName", "mail", "givenName", "surname", "id")
}
_STARTSWITH = re.compile(r"^\s*startswith\(\s*(\w+)\s*,\s*'((?:[^']|'')*)'\s*\)\s*$", re.I)
_EQUALS = re.compile(r"^\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*$", re.I)


def _unsupported(expression: str) -> GraphError:
    return GraphError(
        400,
        "Request_UnsupportedQuery",
        f"Unsupported or invalid query filter clause specified for the Graph emulator: "
        f"'{expression}'. Supported: startswith(prop,'x') and prop eq 'x' on "
        f"{sorted(FILTERABLE.values())}.",
    )


def filtered_users(request: GraphRequest) -> list[Record]:
    """Active users, narrowed by $filter when given (comparisons are case-insensitive)."""
    tenant = request.tenant
    expression = request.option("$filter")
    if expression is None:
        return tenant.active_users()
    match = _STARTSWITH.match(expression) or _EQUALS.match(expression)
    if match is None:
        raise _unsupported(expression)
    prop = FILTERABLE.get(match.group(1).lower())
    if prop is None:
        raise _unsupported(expression)
    value = match.group(2).replace("''", "'").lower()
    starts = match.re is _STARTSWITH

    def build() -> list[Record]:
        selected: list[Record] = []
        for user in tenant.active_users():
            text = (user.get(prop) or "").lower()
            if text.startswith(value) if starts else text == value:
                selected.append(user)
        return selected

    return tenant.cached(("filter", prop, starts, value), build)
