"""The pipeline tenants file a scenario runs with: its settings plus credential references."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

SECRET_ENV = "ENTRASYNC_SCENARIO_SECRET"
EMPLY_KEY_ENV = "ENTRASYNC_SCENARIO_EMPLY_KEY"


def slug(text: str) -> str:
    """A stable name for files and runs: lower case, runs of other characters become `-`."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "tenant"


def merge_settings(settings: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """Settings with a `settings` step applied: keys replaced, `write` merged key by key."""
    merged = {**settings, **change}
    if "write" in change:
        merged["write"] = {**settings["write"], **change["write"]}
    return merged


def tenant_entry(name: str, customer: str, client_id: str, settings: dict[str, Any]) -> dict:
    """One `tenants:` entry (DESIGN.md format); secrets only as environment references."""
    return {
        "name": name,
        "tenant_id": settings["tenant_id"],
        "client_id": client_id,
        "credential": {"env": SECRET_ENV},
        **{key: value for key, value in settings.items() if key != "tenant_id"},
        "emply": {"customer": customer, "api_key": {"env": EMPLY_KEY_ENV}},
    }


def write_tenants_file(path: Path, entry: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump({"tenants": [entry]}, sort_keys=False), encoding="utf-8")
