"""Graph pages as DataFrames in bulk, checked as models.py checks each object (its errors)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from entrasync.connectors.graph import models as graph_models
from entrasync.connectors.graph.errors import GraphDataError
from entrasync.connectors.graph.models import USER_FIELDS

NONE = type(None)
_ALLOWED = {"text": {str, NONE}, "flag": {bool, NONE}, "texts": {list, NONE}}


def _column_ok(values: list[Any], kind: str) -> bool:
    required = kind.startswith("required")
    base = kind.removeprefix("required ")
    types = set(map(type, values))
    if not types <= _ALLOWED[base] or (required and NONE in types):
        return False
    if base == "texts":
        return all(type(item) is str for value in values if value for item in value)
    return True


def _frame_or_precise_error(
    page: list[dict[str, Any]],
    fields: dict[str, tuple[str, str]],
    one_by_one: Callable[[dict[str, Any]], Any],
) -> dict[str, list[Any]]:
    if set(map(type, page)) <= {dict}:
        columns = {name: [obj.get(name) for obj in page] for name in fields}
        if all(_column_ok(columns[name], kind) for name, (_, kind) in fields.items()):
            return columns
    for obj in page:  # something is off: the per-object mapping names the object and field
        one_by_one(obj)
    raise GraphDataError("Graph page failed its checks, but no object did alone")


def user_frame(page: list[dict[str, Any]]) -> pd.DataFrame:
    """An entra_users frame of one /users page (the same rows as models.entra_user_row)."""
    columns = _frame_or_precise_error(page, USER_FIELDS, graph_models.entra_user_row)
    columns["otherMails"] = [list(value) if value else [] for value in columns["otherMails"]]
    return pd.DataFrame({USER_FIELDS[name][0]: values for name, values in columns.items()})


MEMBER_FIELDS = {"id": ("member_id", "required text"), "@odata.type": ("type", "required text")}


def member_frame(group_id: str, page: list[dict[str, Any]]) -> pd.DataFrame:
    """entra_memberships rows of one members page; devices, contacts and the like left out."""
    columns = _frame_or_precise_error(
        page, MEMBER_FIELDS, lambda obj: graph_models.entra_member_row(group_id, obj, False)
    )
    kinds = [graph_models.MEMBER_TYPES.get(odata_type) for odata_type in columns["@odata.type"]]
    frame = pd.DataFrame({"group_id": group_id, "member_id": columns["id"], "member_type": kinds})
    return frame[frame["member_type"].notna()]
