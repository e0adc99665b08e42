"""Map Graph JSON objects to warehouse rows (columns as in warehouse/schema.sql)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from entrasync.connectors.graph.errors import GraphDataError

# A Graph user as read: property -> (entra_users column, kind). The one list both the
# per-object mapping (entra_user_row) and the per-page one (connectors/graph/frames.py) follow.
USER_FIELDS: dict[str, tuple[str, str]] = {
    "id": ("id", "required text"),
    "userPrincipalName": ("user_principal_name", "required text"),
    "mail": ("mail", "text"),
    "otherMails": ("other_mails", "texts"),
    "displayName": ("display_name", "text"),
    "givenName": ("given_name", "text"),
    "surname": ("surname", "text"),
    "jobTitle": ("job_title", "text"),
    "department": ("department", "text"),
    "mobilePhone": ("mobile_phone", "text"),
    "accountEnabled": ("account_enabled", "required flag"),
    "userType": ("user_type", "text"),
    "onPremisesSyncEnabled": ("on_premises_sync_enabled", "flag"),
}
USER_SELECT: tuple[str, ...] = tuple(USER_FIELDS)
GROUP_SELECT: tuple[str, ...] = ("id", "displayName")
MEMBER_SELECT: tuple[str, ...] = ("id",)
DELETED_USER_SELECT: tuple[str, ...] = ("id", "userPrincipalName", "deletedDateTime")
CALENDAR_SELECT: tuple[str, ...] = ("id", "name", "canEdit", "isDefaultCalendar", "owner")

MEMBER_TYPES = {"#microsoft.graph.user": "user", "#microsoft.graph.group": "group"}

_MISSING = object()


def entra_user_row(obj: dict[str, Any]) -> dict[str, Any]:
    """An `entra_users` row from a Graph user read with USER_SELECT."""
    return {column: _read(obj, name, kind) for name, (column, kind) in USER_FIELDS.items()}


def _read(obj: dict[str, Any], name: str, kind: str) -> Any:
    required = kind.startswith("required ")
    base = kind.removeprefix("required ")
    if base == "texts":
        return _texts(obj, name)
    if base == "flag":
        return _flag(obj, name, required)
    return _text(obj, name, required)


def entra_group_row(obj: dict[str, Any]) -> dict[str, Any]:
    """An `entra_groups` row from a Graph group read with GROUP_SELECT."""
    return {
        "id": _text(obj, "id", required=True),
        "display_name": _text(obj, "displayName", required=True),
    }


def entra_member_row(group_id: str, obj: dict[str, Any], transitive: bool) -> dict[str, Any] | None:
    """An `entra_group_members` row, or None for members that are neither users nor groups."""
    member_id = _text(obj, "id", required=True)
    odata_type = _text(obj, "@odata.type", required=True)
    member_type = MEMBER_TYPES.get(odata_type)
    if member_type is None:
        return None  # devices, service principals, contacts: never Emply users
    return {
        "group_id": group_id,
        "member_id": member_id,
        "member_type": member_type,
        "transitive": transitive,
    }


def entra_deleted_user_row(obj: dict[str, Any]) -> dict[str, Any]:
    """An `entra_deleted_users` row from a user in /directory/deletedItems."""
    return {
        "id": _text(obj, "id", required=True),
        "user_principal_name": _text(obj, "userPrincipalName"),
        "deleted_at": _timestamp(obj, "deletedDateTime"),
    }


def _field(obj: dict[str, Any], name: str, required: bool) -> Any:
    if not isinstance(obj, dict):
        raise GraphDataError(f"Graph object is not a JSON object: {str(obj)[:80]}")
    value = obj.get(name, _MISSING)
    if required and (value is _MISSING or value is None):
        raise GraphDataError(f"Graph object {_object_id(obj)}: field '{name}' is missing")
    return None if value is _MISSING else value


def _text(obj: dict[str, Any], name: str, required: bool = False) -> str | None:
    value = _field(obj, name, required)
    if value is not None and not isinstance(value, str):
        raise _wrong_type(obj, name, "text", value)
    return value


def _flag(obj: dict[str, Any], name: str, required: bool = False) -> bool | None:
    value = _field(obj, name, required)
    if value is not None and not isinstance(value, bool):
        raise _wrong_type(obj, name, "true/false", value)
    return value


def _texts(obj: dict[str, Any], name: str) -> list[str]:
    value = _field(obj, name, required=False)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _wrong_type(obj, name, "a list of text", value)
    return list(value)


def _timestamp(obj: dict[str, Any], name: str) -> datetime | None:
    value = _text(obj, name)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise _wrong_type(obj, name, "an ISO 8601 timestamp", value) from None


def _wrong_type(obj: dict[str, Any], name: str, expected: str, value: Any) -> GraphDataError:
    return GraphDataError(
        f"Graph object {_object_id(obj)}: field '{name}': expected {expected}, got {value!r}"
    )


def _object_id(obj: dict[str, Any]) -> str:
    object_id = obj.get("id")
    return repr(object_id) if object_id else "(no id)"
