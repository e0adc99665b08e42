"""Graph directory writes: create, update and delete users; add and remove group members."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from entrasync_emulators.graph.directory import DirectoryError, TenantDirectory
from entrasync_emulators.graph.directory_api import find_user_or_404, group_or_404, not_found
from entrasync_emulators.graph.messages import GraphError, GraphRequest, GraphResponse
from entrasync_emulators.graph.odata import project
from entrasync_emulators.graph.router import router
from entrasync_emulators.graph.schema import (
    ON_PREMISES_MASTERED,
    USER_DEFAULT_PROPERTIES,
    USER_WRITABLE_PROPERTIES,
)

REQUIRED_ON_CREATE = (
    "accountEnabled",
    "displayName",
    "mailNickname",
    "userPrincipalName",
    "passwordProfile",
)
ON_PREMISES_MASTERED_REFUSAL = (
    "Unable to update the specified properties for on-premises mastered Directory Sync objects "
    "or objects currently undergoing migration."
)
_WRITABLE_BY_LOWER = {name.lower(): name for name in USER_WRITABLE_PROPERTIES}
_DIRECTORY_OBJECT_REF = re.compile(r"/(?:directoryObjects|users|groups)/([^/?]+)$", re.IGNORECASE)


def _bad_request(message: str) -> GraphError:
    return GraphError(400, "Request_BadRequest", message)


@contextmanager
def _refusals_as_bad_request() -> Iterator[None]:
    """A change the directory refuses answers 400 with the directory's message."""
    try:
        yield
    except DirectoryError as error:
        raise _bad_request(error.message) from error


def _user_changes(payload: Any) -> dict[str, Any]:
    """Canonically named user properties from a POST/PATCH body; unknown ones are refused."""
    if not isinstance(payload, dict):
        raise GraphError(400, "BadRequest", "The request body must be a JSON object.")
    changes: dict[str, Any] = {}
    for key, value in payload.items():
        if key.startswith("@odata."):
            continue
        canonical = _WRITABLE_BY_LOWER.get(key.lower())
        if canonical is None:
            raise _bad_request(f"Property '{key}' is read-only or does not exist on 'User'.")
        changes[canonical] = value
    for key in ("accountEnabled", "onPremisesSyncEnabled"):
        if key in changes and not isinstance(changes[key], bool):
            raise GraphError(
                400, "BadRequest", f"Cannot convert the literal to 'Edm.Boolean' ({key})."
            )
    return changes


def password_is_complex(password: str) -> bool:
    """Entra's rule for cloud users: 8 to 256 characters, three of the four kinds of character
    (lower case, upper case, digits, symbols)."""
    kinds = (
        any(ch.islower() for ch in password),
        any(ch.isupper() for ch in password),
        any(ch.isdigit() for ch in password),
        any(not ch.isalnum() for ch in password),
    )
    return 8 <= len(password) <= 256 and sum(kinds) >= 3


def _check_upn(tenant: TenantDirectory, upn: Any) -> None:
    if not isinstance(upn, str) or "@" not in upn:
        raise _bad_request(
            "Invalid value specified for property 'userPrincipalName' of resource 'User'."
        )
    domain = upn.rsplit("@", 1)[1].lower()
    if domain not in tenant.verified_domains:
        raise _bad_request(
            "The domain portion of the userPrincipalName property is invalid. You must use one "
            "of the verified domain names in your organization."
        )
    if upn.lower() in tenant.upn_index or upn.lower() in tenant.deleted_upn_index:
        raise _bad_request(
            "Another object with the same value for property userPrincipalName already exists."
        )


@router.route("POST", "/users")
def create_user(request: GraphRequest) -> GraphResponse:
    changes = _user_changes(request.json_body())
    for name in REQUIRED_ON_CREATE:
        if changes.get(name) in (None, ""):
            raise _bad_request(f"A value is required for property '{name}' of resource 'User'.")
    profile = changes["passwordProfile"]
    if not isinstance(profile, dict) or not profile.get("password"):
        raise _bad_request(
            "Invalid value specified for property 'passwordProfile' of resource 'User'."
        )
    if not password_is_complex(str(profile["password"])):
        raise _bad_request(
            "The specified password does not comply with password complexity requirements. "
            "Please provide a different password."
        )
    tenant = request.tenant
    _check_upn(tenant, changes["userPrincipalName"])
    with _refusals_as_bad_request():  # no licence is assigned: the new user has no mailbox
        record = tenant.create_user(changes, licensed=False)
    names = ["id", *USER_DEFAULT_PROPERTIES[:-1]]
    body = {"@odata.context": f"{request.base_url}/$metadata#users/$entity"}
    body.update(project(record, names))
    return GraphResponse(
        201, body, headers={"Location": f"{request.base_url}/users/{record['id']}"}
    )


@router.route("PATCH", "/users/{user}")
def update_user(request: GraphRequest) -> GraphResponse:
    record = find_user_or_404(request, request.path_params["user"])
    changes = _user_changes(request.json_body())
    if record["onPremisesSyncEnabled"]:
        mastered = sorted(set(changes) & ON_PREMISES_MASTERED)
        if mastered:
            raise _bad_request(ON_PREMISES_MASTERED_REFUSAL)
    tenant = request.tenant
    new_upn = changes.get("userPrincipalName")
    if new_upn is not None and str(new_upn).lower() != record["userPrincipalName"].lower():
        _check_upn(tenant, new_upn)
    with _refusals_as_bad_request():
        tenant.update_user(record["id"], changes)
    return GraphResponse(204)


@router.route("DELETE", "/users/{user}")
def delete_user(request: GraphRequest) -> GraphResponse:
    record = find_user_or_404(request, request.path_params["user"])
    if record["onPremisesSyncEnabled"]:  # on-premises AD owns the object: delete it there
        raise _bad_request(ON_PREMISES_MASTERED_REFUSAL)
    request.tenant.soft_delete_user(record["id"])
    return GraphResponse(204)


@router.route("POST", "/groups/{id}/members/$ref")
def add_member(request: GraphRequest) -> GraphResponse:
    group = group_or_404(request, request.path_params["id"])
    payload = request.json_body()
    reference = payload.get("@odata.id") if isinstance(payload, dict) else None
    match = _DIRECTORY_OBJECT_REF.search(reference) if isinstance(reference, str) else None
    if match is None:
        raise GraphError(
            400,
            "Request_BadRequest",
            "Invalid object identifier: '@odata.id' must name a directoryObjects/{id} URL.",
        )
    member_id = match.group(1)
    tenant = request.tenant
    if member_id not in tenant.users and member_id not in tenant.groups:
        raise not_found(member_id)
    with _refusals_as_bad_request():
        tenant.add_member(group["id"], member_id)
    return GraphResponse(204)


@router.route("DELETE", "/groups/{id}/members/{member}/$ref")
def remove_member(request: GraphRequest) -> GraphResponse:
    group = group_or_404(request, request.path_params["id"])
    member_id = request.path_params["member"]
    if member_id not in request.tenant.members[group["id"]]:
        raise not_found(member_id)
    request.tenant.remove_member(group["id"], member_id)
    return GraphResponse(204)
