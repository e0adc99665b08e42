"""A tenants file read entry by entry: one bad entry fails its own tenant, never the others."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from entrasync.errors import SettingsError, TenantSettingsError
from entrasync.settings import TenantSettings, parse_tenant
from entrasync.settings_reader import shown
from entrasync.tenant_names import is_tenant_name


@dataclass(frozen=True)
class InvalidEntry:
    """A tenants-file entry that cannot run, and why (one line naming file, entry and key)."""

    index: int
    name: str | None  # its name when that is a valid tenant name: it owns a warehouse then
    enabled: bool  # false only when the entry itself says `enabled: false`
    reason: str
    given_name: str | None = None  # the `name` text as written, valid or not

    @property
    def label(self) -> str:
        return self.name or f"tenants[{self.index}]"


@dataclass(frozen=True)
class TenantsFile:
    """A tenants file read entry by entry: one bad entry never hides the good ones."""

    source: str
    tenants: tuple[TenantSettings, ...]  # the valid entries
    invalid: tuple[InvalidEntry, ...]

    def tenant(self, name: str) -> TenantSettings:
        """The named tenant; TenantSettingsError with its reason when its own entry is bad."""
        for tenant in self.tenants:
            if tenant.name == name:
                return tenant
        for entry in self.invalid:
            if entry.name is not None and entry.name == name:
                raise TenantSettingsError(name, entry.reason)
            if entry.given_name == name:  # no valid name: no warehouse to record a run in
                raise SettingsError(entry.reason)
        raise SettingsError(f"{self.source}: no tenant named {name!r}")


def read_tenants_file(path: str | Path) -> TenantsFile:
    """Every entry of a tenants file, checked one by one.

    A file that cannot be read, is not YAML or is not a tenants file raises SettingsError
    (one line); a bad entry only lands in `invalid`, with its reason.
    """
    source = str(path)
    items = _tenant_items(Path(path), source)
    tenants: dict[int, TenantSettings] = {}
    invalid: dict[int, InvalidEntry] = {}
    for index, item in enumerate(items):
        try:
            tenants[index] = parse_tenant(item, source, f"tenants[{index}]")
        except SettingsError as error:
            invalid[index] = _invalid_entry(index, item, str(error))
    for index, reason in _clashes(tenants, source).items():
        invalid[index] = _invalid_entry(index, items[index], reason)
        del tenants[index]
    return TenantsFile(
        source,
        tuple(tenants[i] for i in sorted(tenants)),
        tuple(invalid[i] for i in sorted(invalid)),
    )


def _tenant_items(path: Path, source: str) -> list[Any]:
    """The `tenants` list of the file; SettingsError when the file as a whole is unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingsError(f"{source}: file not found") from None
    except IsADirectoryError:
        raise SettingsError(f"{source}: is a directory, expected a tenants file") from None
    except UnicodeDecodeError as error:
        raise SettingsError(
            f"{source}: not UTF-8 text (byte 0x{error.object[error.start]:02x} at offset "
            f"{error.start})"
        ) from None
    except OSError as error:
        raise SettingsError(f"{source}: cannot read ({error.strerror or error})") from None
    raw = _parse_yaml(text, source)
    if not isinstance(raw, dict) or "tenants" not in raw:
        raise SettingsError(
            f"{source}: not a tenants file (expected a mapping with a `tenants` list, got "
            f"{shown(raw)})"
        )
    for key in raw:
        if key != "tenants":
            raise SettingsError(f"{source}: {key}: unknown key (expected one of: tenants)")
    if not isinstance(raw["tenants"], list):
        raise SettingsError(
            f"{source}: tenants: expected a list of tenants, got {shown(raw['tenants'])}"
        )
    return raw["tenants"]


def _invalid_entry(index: int, item: Any, reason: str) -> InvalidEntry:
    raw = item if isinstance(item, dict) else {}
    name = raw.get("name")
    return InvalidEntry(
        index=index,
        name=name if is_tenant_name(name) else None,
        enabled=raw.get("enabled") is not False,
        reason=reason,
        given_name=name if isinstance(name, str) else None,
    )


def _clashes(tenants: dict[int, TenantSettings], source: str) -> dict[int, str]:
    """Entries that contradict each other, each with a reason naming the other entries.

    A name used twice, or an Emply platform synced with two Entra tenants: every entry
    involved fails (neither is known to be the right one), the rest of the file runs.
    """
    reasons: dict[int, str] = {}
    by_name: dict[str, list[int]] = {}
    by_platform: dict[str, list[int]] = {}
    for index, tenant in tenants.items():
        by_name.setdefault(tenant.name, []).append(index)
        by_platform.setdefault(tenant.emply.customer, []).append(index)
    for name, indexes in by_name.items():
        for index in indexes if len(indexes) > 1 else ():
            others = ", ".join(f"tenants[{i}]" for i in indexes if i != index)
            reasons[index] = (
                f"{source}: tenants[{index}].name: {name!r} is also the name of {others}; "
                "a tenant has one entry"
            )
    for platform, indexes in by_platform.items():
        if len({tenants[i].tenant_id for i in indexes}) < 2:
            continue
        for index in indexes:
            if index in reasons:
                continue
            others = ", ".join(
                f"tenants[{i}] (Entra tenant {tenants[i].tenant_id!r})"
                for i in indexes
                if i != index and tenants[i].tenant_id != tenants[index].tenant_id
            )
            reasons[index] = (
                f"{source}: tenants[{index}].tenant_id: Emply platform {platform!r} is also "
                f"synced by {others}; one platform has exactly one Entra tenant"
            )
    return reasons


def _parse_yaml(text: str, source: str) -> Any:
    """The file's YAML: libyaml's loader reads it (every tenant run reads the whole fleet's
    file; 500 tenants: 0.13 s instead of 1 s of CPU), the pure-Python one words its errors."""
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        pass
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}: " if mark else ""
        raise SettingsError(f"{source}: not valid YAML ({where}{error.problem})") from None
    except yaml.YAMLError as error:
        raise SettingsError(f"{source}: not valid YAML ({error})") from None
