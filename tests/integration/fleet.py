"""Several copies of the demo tenant in one tenants file, seeded on the emulators."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

from entrasync.demo import DEMO_DIR, seed_emulators
from entrasync.emulator_client import EmulatorProcess

UNSET_VARIABLE = "ENTRASYNC_VARIABLE_NOBODY_SETS"


def tenant_entries(names: list[str]) -> list[dict[str, Any]]:
    """The demo tenant's settings once per name: own Entra tenant, Emply customer, credentials."""
    template = yaml.safe_load((DEMO_DIR / "tenants.yaml").read_text())["tenants"][0]
    entries = []
    for index, name in enumerate(names):
        slug = re.sub(r"[^a-z0-9]", "", name.lower())
        variable = re.sub(r"[^A-Z0-9]", "_", name.upper())
        entry = copy.deepcopy(template)
        entry["name"] = name
        entry["tenant_id"] = f"6c1f9a2e-0d4b-4c53-9a35-fleet{index:07d}"
        entry["credential"] = {"env": f"ENTRASYNC_{variable}_SECRET"}
        entry["emply"] = {"customer": slug, "api_key": {"env": f"ENTRASYNC_{variable}_EMPLY_KEY"}}
        entries.append(entry)
    return entries


def write_tenants(path: Path, entries: list[dict[str, Any]], broken: str | None = None) -> None:
    """The tenants file; the `broken` tenant's Emply key points at a variable nobody sets."""
    written = copy.deepcopy(entries)
    for entry in written:
        if entry["name"] == broken:
            entry["emply"]["api_key"] = {"env": UNSET_VARIABLE}
    path.write_text(yaml.safe_dump({"tenants": written}, sort_keys=False))


def seed_fleet(
    stack: EmulatorProcess, tmp_path: Path, names: list[str]
) -> tuple[Path, list[dict[str, Any]], dict[str, str]]:
    """(tenants file, entries, env with endpoints, secrets and a scratch data dir)."""
    tenants_file = tmp_path / "tenants.yaml"
    entries = tenant_entries(names)
    write_tenants(tenants_file, entries)
    env = stack.env() | seed_emulators(stack.control_url, stack.ca_file, tenants_file)
    env["ENTRASYNC_DATA_DIR"] = str(tmp_path / "data")
    env["ENTRASYNC_TENANTS_FILE"] = str(tenants_file)
    return tenants_file, entries, env
