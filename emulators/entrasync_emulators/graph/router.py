"""Matches a Graph path against route templates; handlers register with `@router.route`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from entrasync_emulators.graph.messages import GraphError, GraphRequest, GraphResponse

Handler = Callable[[GraphRequest], GraphResponse]
_PARAMETER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # e.g. /groups/{id}/members
    pattern: re.Pattern[str]
    handler: Handler

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"


def _compile(template: str) -> re.Pattern[str]:
    parts: list[str] = []
    position = 0
    for match in _PARAMETER.finditer(template):
        parts.append(re.escape(template[position : match.start()]))
        parts.append(f"(?P<{match.group(1)}>[^/]+)")
        position = match.end()
    parts.append(re.escape(template[position:]))
    # Graph's path segments are case-insensitive (transitiveMembers == transitivemembers).
    return re.compile("".join(parts), re.IGNORECASE)


class Router:
    """A route table; routes with fewer parameters win (`/users/delta` before `/users/{id}`)."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def route(self, method: str, template: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method, template, _compile(template), handler))
            self.routes.sort(key=lambda route: route.template.count("{"))
            return handler

        return register

    def resolve(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route for `method path`; 405 if only other methods match, 400 if none does."""
        path_matched = False
        for route in self.routes:
            match = route.pattern.fullmatch(path)
            if match is None:
                continue
            if route.method == method:
                return route, match.groupdict()
            path_matched = True
        if path_matched:
            raise GraphError(
                405,
                "Request_BadRequest",
                "Specified HTTP method is not allowed for the request target.",
            )
        segment = path.rstrip("/").rsplit("/", 1)[-1] or path
        raise GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")


router = Router()
