"""The $filter subset the emulator understands: startswith, eq and in, joined by `and`."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from entrasync_emulators.graph.directory import Record
from entrasync_emulators.graph.messages import GraphError, GraphRequest

USER_FILTERABLE = (
    "userPrincipalName", "displayName", "mail", "givenName", "surname", "id", "userType",
    "accountEnabled", "jobTitle", "department", "employeeId", "onPremisesSyncEnabled",
    "mailNickname",
)  # fmt: skip
GROUP_FILTERABLE = ("displayName", "id", "mailNickname", "securityEnabled", "mailEnabled")

_LITERAL = r"(?:'(?:[^']|'')*'|true|false|null)"
_LITERALS = _LITERAL + r"(?:\s*,\s*" + _LITERAL + r")*"
_CLAUSES = (
    ("startswith", re.compile(r"startswith\(\s*(\w+)\s*,\s*(" + _LITERAL + r")\s*\)", re.I)),
    ("eq", re.compile(r"(\w+)\s+eq\s+(" + _LITERAL + ")", re.I)),
    ("in", re.compile(r"(\w+)\s+in\s+\(\s*(" + _LITERALS + r")\s*\)", re.I)),
)  # fmt: skip
_AND = re.compile(r"\s+and\s+", re.I)
_ONE_LITERAL = re.compile(_LITERAL, re.I)

Test = Callable[[Record], bool]


def _value(literal: str) -> Any:
    lowered = literal.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    return literal[1:-1].replace("''", "'").lower()


def _normalise(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _clause_test(kind: str, prop: str, literal_text: str) -> Test:
    if kind == "startswith":
        prefix = _value(literal_text)
        return lambda record: str(record.get(prop) or "").lower().startswith(str(prefix))
    if kind == "eq":
        wanted = _value(literal_text)
        return lambda record: _normalise(record.get(prop)) == wanted
    options = {_value(match.group(0)) for match in _ONE_LITERAL.finditer(literal_text)}
    return lambda record: _normalise(record.get(prop)) in options


def _match_clause(text: str, position: int) -> tuple[str, re.Match[str]] | None:
    for kind, pattern in _CLAUSES:
        match = pattern.match(text, position)
        if match:
            return kind, match
    return None


def parse_filter(expression: str, filterable: tuple[str, ...]) -> tuple[Test, tuple]:
    """A record test and a hashable key for the expression; 400 for anything unsupported."""
    by_lower = {name.lower(): name for name in filterable}
    tests: list[Test] = []
    key: list[tuple[str, str, str]] = []
    position = 0
    text = expression.strip()
    while True:
        found = _match_clause(text, position)
        if found is None:
            raise _unsupported(expression, filterable)
        kind, match = found
        prop = by_lower.get(match.group(1).lower())
        if prop is None:
            raise _unsupported(expression, filterable)
        tests.append(_clause_test(kind, prop, match.group(2)))
        key.append((kind, prop, match.group(2).lower()))
        position = match.end()
        if position == len(text):
            break
        joiner = _AND.match(text, position)
        if joiner is None:
            raise _unsupported(expression, filterable)
        position = joiner.end()
    return (lambda record: all(test(record) for test in tests)), tuple(key)


def _unsupported(expression: str, filterable: tuple[str, ...]) -> GraphError:
    return GraphError(
        400,
        "Request_UnsupportedQuery",
        f"Unsupported or invalid query filter clause specified for the Graph emulator: "
        f"'{expression}'. It understands startswith(p,'x'), p eq 'x', p in ('x','y') and "
        f"'and', on {list(filterable)}.",
    )


def filtered(
    request: GraphRequest,
    records: Callable[[], list[Record]],
    filterable: tuple[str, ...],
    name: str,
) -> list[Record]:
    """`records()`, narrowed by the request's $filter (memoised until the next change)."""
    expression = request.option("$filter")
    if expression is None:
        return records()
    test, key = parse_filter(expression, filterable)

    def build() -> list[Record]:
        return [record for record in _candidates(request, records, name, key) if test(record)]

    return request.tenant.cached(("filter", name, key), build)


def _candidates(
    request: GraphRequest, records: Callable[[], list[Record]], name: str, key: tuple
) -> list[Record]:
    """For one startswith clause, only the records with that first letter (an index, as Graph
    has one): a /users read split by first letter then scans the users once, not per letter."""
    if len(key) != 1 or key[0][0] != "startswith":
        return records()
    _, prop, literal = key[0]
    prefix = _value(literal)
    if not isinstance(prefix, str) or not prefix:
        return records()

    def index() -> dict[str, list[Record]]:
        by_first: dict[str, list[Record]] = {}
        for record in records():
            first = str(record.get(prop) or "").lower()[:1]
            by_first.setdefault(first, []).append(record)
        return by_first

    return request.tenant.cached(("first-letter", name, prop), index).get(prefix[0], [])
