"""Graph reads of the directory: users, groups, members, transitive members, deleted items."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from entrasync_emulators.graph.directory import GROUP_KIND, USER_KIND, Record
from entrasync_emulators.graph.filters import GROUP_FILTERABLE, USER_FILTERABLE, filtered
from entrasync_emulators.graph.messages import GraphError, GraphRequest, GraphResponse
from entrasync_emulators.graph.odata import (
    context_url,
    eventual_consistency,
    fields_to_render,
    paged_response,
    project,
    reject_unrecognised,
    reject_unsupported,
    select_option,
)
from entrasync_emulators.graph.router import router
from entrasync_emulators.graph.schema import (
    DIRECTORY_OBJECT_SELECTABLE,
    GROUP_DEFAULT_PROPERTIES,
    GROUP_SELECTABLE,
    GROUP_TYPE,
    USER_DEFAULT_PROPERTIES,
    USER_SELECTABLE,
    USER_TYPE,
)
from entrasync_emulators.graph.shaping import expander, sorted_by_option

USER_TYPE_NAME = "microsoft.graph.user"
GROUP_TYPE_NAME = "microsoft.graph.group"


def not_found(reference: str) -> GraphError:
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{reference}' does not exist or one of its queried reference-property "
        "objects are not present.",
    )


def find_user_or_404(request: GraphRequest, reference: str) -> Record:
    """An active user by object id or UPN (case-insensitive), as /users/{id | upn} does."""
    tenant = request.tenant
    record = tenant.users.get(reference)
    if record is None:
        user_id = tenant.upn_index.get(reference.lower())
        record = tenant.users.get(user_id) if user_id else None
    if record is None:
        raise not_found(reference)
    return record


def group_or_404(request: GraphRequest, group_id: str) -> Record:
    record = request.tenant.groups.get(group_id)
    if record is None:
        raise not_found(group_id)
    return record


@dataclass(frozen=True)
class _Listing:
    """What a directory read renders: its entity set, type, selectable and default names."""

    entity_set: str
    type_name: str
    selectable: dict[str, str]
    defaults: tuple[str, ...]
    odata_type: str | None = None  # an `@odata.type` annotation on each single record
    shaped: str | None = None  # "users" / "groups": $orderby and $expand apply


DELETED_USER_DEFAULTS = (*USER_DEFAULT_PROPERTIES[:-1], "deletedDateTime", "id")
_USERS = _Listing("users", USER_TYPE_NAME, USER_SELECTABLE, USER_DEFAULT_PROPERTIES, shaped="users")
_GROUPS = _Listing(
    "groups", GROUP_TYPE_NAME, GROUP_SELECTABLE, GROUP_DEFAULT_PROPERTIES, shaped="groups"
)
_DELETED_GROUPS = _Listing("groups", GROUP_TYPE_NAME, GROUP_SELECTABLE, GROUP_DEFAULT_PROPERTIES)
_DELETED_USERS = _Listing("users", USER_TYPE_NAME, USER_SELECTABLE, DELETED_USER_DEFAULTS)
_DELETED_ITEM = _Listing(
    "directory/deletedItems", USER_TYPE_NAME, USER_SELECTABLE, DELETED_USER_DEFAULTS, USER_TYPE
)


def _page_of(
    request: GraphRequest, listing: _Listing, load: Callable[[GraphRequest], list[Record]]
) -> GraphResponse:
    """A page of the records `load` finds ($select is checked first), projected like Graph."""
    selected = select_option(request, listing.selectable, listing.type_name)
    names = fields_to_render(selected, listing.defaults)
    records = load(request)
    expand = None
    if listing.shaped is not None:
        records = sorted_by_option(request, records, listing.shaped, listing.selectable)
        expand = expander(request, listing.shaped)

    def render(record: Record) -> dict[str, Any]:
        rendered = project(record, names)
        return rendered if expand is None else {**rendered, **expand(record)}

    return paged_response(
        request, records, render, context_url(request, listing.entity_set, selected)
    )


def _one(request: GraphRequest, listing: _Listing, record: Record) -> GraphResponse:
    """One record with its `$entity` context, projected like Graph."""
    selected = select_option(request, listing.selectable, listing.type_name)
    body = {"@odata.context": context_url(request, listing.entity_set, selected) + "/$entity"}
    if listing.odata_type is not None:
        body["@odata.type"] = listing.odata_type
    body.update(project(record, fields_to_render(selected, listing.defaults)))
    expand = expander(request, listing.shaped) if listing.shaped is not None else None
    if expand is not None:
        body.update(expand(record))
    return GraphResponse(200, body)


def _active_users(request: GraphRequest) -> list[Record]:
    return filtered(request, request.tenant.active_users, USER_FILTERABLE, "users")


def _groups(request: GraphRequest) -> list[Record]:
    return filtered(request, lambda: _all_groups(request), GROUP_FILTERABLE, "groups")


@router.route("GET", "/users")
def list_users(request: GraphRequest) -> GraphResponse:
    reject_unsupported(request, allowed_extra=("$filter", "$orderby", "$expand"))
    return _page_of(request, _USERS, _active_users)


def _count(request: GraphRequest, total: int) -> GraphResponse:
    if not eventual_consistency(request):
        raise GraphError(400, "Request_BadRequest", "$count is not currently supported.")
    return GraphResponse(200, str(total).encode("ascii"), media_type="text/plain")


@router.route("GET", "/users/$count")
def count_users(request: GraphRequest) -> GraphResponse:
    reject_unrecognised(request)
    return _count(request, len(_active_users(request)))


@router.route("GET", "/groups/$count")
def count_groups(request: GraphRequest) -> GraphResponse:
    reject_unrecognised(request)
    return _count(request, len(_groups(request)))


@router.route("GET", "/users/{user}")
def get_user(request: GraphRequest) -> GraphResponse:
    reject_unsupported(request, allowed_extra=("$expand",))
    return _one(request, _USERS, find_user_or_404(request, request.path_params["user"]))


def _all_groups(request: GraphRequest) -> list[Record]:
    tenant = request.tenant
    return tenant.cached("groups", lambda: list(tenant.groups.values()))


@router.route("GET", "/groups")
def list_groups(request: GraphRequest) -> GraphResponse:
    reject_unsupported(request, allowed_extra=("$filter", "$orderby", "$expand"))
    return _page_of(request, _GROUPS, _groups)


@router.route("GET", "/groups/{id}")
def get_group(request: GraphRequest) -> GraphResponse:
    reject_unsupported(request, allowed_extra=("$expand",))
    return _one(request, _GROUPS, group_or_404(request, request.path_params["id"]))


def _member_renderer(
    selected: list[str] | None, with_type: bool
) -> Callable[[tuple[str, Record]], dict[str, Any]]:
    user_names = fields_to_render(selected, USER_DEFAULT_PROPERTIES)
    group_names = fields_to_render(selected, GROUP_DEFAULT_PROPERTIES)

    def render(member: tuple[str, Record]) -> dict[str, Any]:
        kind, record = member
        if kind == USER_KIND:
            names, odata_type = user_names, USER_TYPE
            if selected is not None:
                names = [name for name in names if name.lower() in USER_SELECTABLE]
        else:
            names, odata_type = group_names, GROUP_TYPE
            if selected is not None:
                names = [name for name in names if name.lower() in GROUP_SELECTABLE]
        rendered = {"@odata.type": odata_type} if with_type else {}
        rendered.update(project(record, names))
        return rendered

    return render


def _list_members(request: GraphRequest, transitive: bool, cast: str | None) -> GraphResponse:
    reject_unsupported(request)
    group = group_or_404(request, request.path_params["id"])
    tenant = request.tenant
    members = (
        tenant.transitive_members(group["id"]) if transitive else tenant.direct_members(group["id"])
    )
    if cast is None:
        selected = select_option(
            request, DIRECTORY_OBJECT_SELECTABLE, "microsoft.graph.directoryObject"
        )
        entity_set = "directoryObjects"
    else:
        kind = USER_KIND if cast == USER_TYPE_NAME else GROUP_KIND
        members = tenant.cached(
            ("cast", transitive, group["id"], kind),
            lambda: [member for member in members if member[0] == kind],
        )
        selectable = USER_SELECTABLE if kind == USER_KIND else GROUP_SELECTABLE
        selected = select_option(request, selectable, cast)
        entity_set = "users" if kind == USER_KIND else "groups"
    return paged_response(
        request,
        members,
        _member_renderer(selected, with_type=cast is None),
        context_url(request, entity_set, selected),
    )


@router.route("GET", "/groups/{id}/members")
def list_members(request: GraphRequest) -> GraphResponse:
    return _list_members(request, transitive=False, cast=None)


@router.route("GET", "/groups/{id}/transitiveMembers")
def list_transitive_members(request: GraphRequest) -> GraphResponse:
    return _list_members(request, transitive=True, cast=None)


@router.route("GET", "/groups/{id}/members/{cast}")
def list_members_cast(request: GraphRequest) -> GraphResponse:
    return _list_members(request, transitive=False, cast=_cast(request))


@router.route("GET", "/groups/{id}/transitiveMembers/{cast}")
def list_transitive_members_cast(request: GraphRequest) -> GraphResponse:
    return _list_members(request, transitive=True, cast=_cast(request))


def _cast(request: GraphRequest) -> str:
    cast = request.path_params["cast"].lower()
    if cast not in (USER_TYPE_NAME, GROUP_TYPE_NAME):
        raise GraphError(
            400,
            "BadRequest",
            f"Resource not found for the segment '{request.path_params['cast']}'.",
        )
    return cast


# Graph takes the cast with or without its namespace (the msgraph SDKs send `graph.user`).
@router.route("GET", "/directory/deletedItems/graph.user")
@router.route("GET", "/directory/deletedItems/microsoft.graph.user")
def list_deleted_users(request: GraphRequest) -> GraphResponse:
    reject_unsupported(request)
    tenant = request.tenant
    return _page_of(
        request,
        _DELETED_USERS,
        lambda _: tenant.cached("deleted_users", lambda: list(tenant.deleted_users.values())),
    )


@router.route("GET", "/directory/deletedItems/graph.group")
@router.route("GET", "/directory/deletedItems/microsoft.graph.group")
def list_deleted_groups(request: GraphRequest) -> GraphResponse:
    # Security groups are deleted permanently, so there is never a deleted group to list.
    reject_unsupported(request)
    return _page_of(request, _DELETED_GROUPS, lambda _: [])


@router.route("GET", "/directory/deletedItems/{id}")
def get_deleted_item(request: GraphRequest) -> GraphResponse:
    reject_unsupported(request)
    record = request.tenant.deleted_users.get(request.path_params["id"])
    if record is None:
        raise not_found(request.path_params["id"])
    return _one(request, _DELETED_ITEM, record)
