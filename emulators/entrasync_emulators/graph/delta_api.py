"""Graph routes GET /users/delta and GET /groups/delta, also in their function form delta()."""

from __future__ import annotations

from entrasync_emulators.graph.delta import (
    DeltaQuery,
    latest,
    page_response,
    read_delta_token,
    read_skiptoken,
    start_round,
)
from entrasync_emulators.graph.messages import GraphError, GraphRequest, GraphResponse
from entrasync_emulators.graph.odata import reject_unrecognised, select_option
from entrasync_emulators.graph.router import router
from entrasync_emulators.graph.schema import GROUP_SELECTABLE, USER_SELECTABLE


def _delta(request: GraphRequest, kind: str) -> GraphResponse:
    reject_unrecognised(request)
    for unsupported in ("$filter", "$orderby", "$expand", "$top", "$search"):
        if request.option(unsupported) is not None:
            raise GraphError(
                400,
                "Request_UnsupportedQuery",
                f"The query option '{unsupported}' is not supported by the emulator's delta.",
            )
    skiptoken = request.option("$skiptoken")
    if skiptoken is not None:
        query, session_id, index = read_skiptoken(request, kind, skiptoken)
        return page_response(request, query, session_id, index)
    selectable = USER_SELECTABLE if kind == "users" else GROUP_SELECTABLE
    type_name = "microsoft.graph.user" if kind == "users" else "microsoft.graph.group"
    selected = select_option(request, selectable, type_name)
    deltatoken = request.option("$deltatoken")
    if deltatoken is not None and deltatoken.lower() == "latest":
        return latest(request, DeltaQuery(kind=kind, selected=selected, since=None))
    if deltatoken is not None:
        return start_round(request, read_delta_token(request, kind, deltatoken))
    return start_round(request, DeltaQuery(kind=kind, selected=selected, since=None))


# The function form `delta()` is how the CSDL binds it and what msgraph-sdk requests.
@router.route("GET", "/users/delta()")
@router.route("GET", "/users/delta")
def users_delta(request: GraphRequest) -> GraphResponse:
    return _delta(request, "users")


@router.route("GET", "/groups/delta()")
@router.route("GET", "/groups/delta")
def groups_delta(request: GraphRequest) -> GraphResponse:
    return _delta(request, "groups")
