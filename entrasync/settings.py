"""Tenant settings: load and check a tenants file, resolve credentials by reference."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from entrasync.errors import SettingsError, TenantSettingsError
from entrasync.tenant_names import check_tenant_name, is_tenant_name

DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"
DEFAULT_GRAPH_URL = "https://graph.microsoft.com/v1.0"
DEFAULT_EMPLY_URL = "https://api.emply.com/v1"
# R8: photos re-read per run besides the never-checked and those Emply does not hold.
DEFAULT_PHOTO_CHECKS_PER_RUN = 2000
# A Retry-After longer than this fails the request like exhausted retries (the slot is freed).
DEFAULT_RETRY_AFTER_CAP_S = 120
# Below the 30-minute cycle: a run still going then stops at its next safe point, failed.
DEFAULT_RUN_DEADLINE_MINUTES = 25
# A verified domain as Entra lists it: dot-separated DNS labels.
DOMAIN_NAME = re.compile(r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")


@dataclass(frozen=True)
class CredentialRef:
    """Where a secret lives: an environment variable or a Prefect Secret block, never the value."""

    env: str | None = None
    prefect_secret: str | None = None

    def resolve(self) -> str:
        if self.env:
            value = os.environ.get(self.env)
            if not value:
                raise SettingsError(f"credential: environment variable {self.env} is not set")
            return value
        from prefect.blocks.system import Secret  # only when a block is named

        return str(Secret.load(self.prefect_secret).get())

    def describe(self) -> str:
        return f"env:{self.env}" if self.env else f"prefect_secret:{self.prefect_secret}"


@dataclass(frozen=True)
class GroupMapping:
    group: str
    role: str


@dataclass(frozen=True)
class WriteSwitches:
    update: bool = False
    create: bool = False
    delete: bool = False


@dataclass(frozen=True)
class EmplySettings:
    customer: str
    api_key: CredentialRef
    exports: dict[str, str] = field(
        default_factory=lambda: {
            "users": "users",
            "employees": "employees",
            "roles": "roles",
            "calendars": "calendars",
            "events": "events",
        }
    )


@dataclass(frozen=True)
class TenantSettings:
    name: str
    tenant_id: str
    client_id: str
    credential: CredentialRef
    domains: tuple[str, ...]
    groups: tuple[GroupMapping, ...]
    emply: EmplySettings
    sync_roles: bool = True
    sync_calendars: bool = False
    transitive_groups: bool = False
    hybrid: bool = False
    write: WriteSwitches = WriteSwitches()
    max_deactivations: int = 500
    max_deactivation_percent: float = 20.0
    enabled: bool = True
    calendar_window_days: int = 30
    photo_checks_per_run: int = DEFAULT_PHOTO_CHECKS_PER_RUN
    retry_after_cap_s: float = DEFAULT_RETRY_AFTER_CAP_S
    run_deadline_minutes: float = DEFAULT_RUN_DEADLINE_MINUTES
    source: str = ""

    @property
    def any_write(self) -> bool:
        return self.write.update or self.write.create or self.write.delete


@dataclass(frozen=True)
class Endpoints:
    """Where the pipeline talks to; the emulators set these through the environment."""

    authority_host: str
    graph_url: str
    emply_url: str
    ca_bundle: str | None

    @classmethod
    def from_env(cls) -> Endpoints:
        return cls(
            authority_host=os.environ.get("ENTRASYNC_AUTHORITY_HOST", DEFAULT_AUTHORITY_HOST),
            graph_url=os.environ.get("ENTRASYNC_GRAPH_URL", DEFAULT_GRAPH_URL),
            emply_url=os.environ.get("ENTRASYNC_EMPLY_URL", DEFAULT_EMPLY_URL),
            ca_bundle=os.environ.get("ENTRASYNC_CA_BUNDLE") or None,
        )


class _Reader:
    """Reads one mapping strictly: every error names the file and the key path."""

    def __init__(self, source: str, path: str, mapping: Any):
        self.source, self.path = source, path
        if not isinstance(mapping, dict):
            self.fail(path, "a mapping", mapping)
        self.mapping: dict[str, Any] = mapping

    def fail(self, key: str, expected: str, got: Any) -> None:
        raise SettingsError(f"{self.source}: {key}: expected {expected}, got {_shown(got)}")

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def allow_only(self, names: set[str]) -> None:
        for name in self.mapping:
            if name not in names:
                raise SettingsError(
                    f"{self.source}: {self.key(name)}: unknown key "
                    f"(expected one of: {', '.join(sorted(names))})"
                )

    def get(self, name: str, kind: type | tuple[type, ...], expected: str, default: Any = ...):
        if name not in self.mapping:
            if default is ...:
                raise SettingsError(
                    f"{self.source}: {self.key(name)}: missing (expected {expected})"
                )
            return default
        value = self.mapping[name]
        if kind is not bool and isinstance(value, bool) or not isinstance(value, kind):
            self.fail(self.key(name), expected, value)
        if isinstance(value, str) and not value.strip():
            self.fail(self.key(name), expected, value)
        return value

    def text(self, name: str, default: Any = ...) -> str:
        return self.get(name, str, "text", default)

    def flag(self, name: str, default: bool) -> bool:
        return self.get(name, bool, "true or false", default)

    def number(self, name: str, default: float, low: float, high: float) -> float:
        """A finite number within [low, high]; true/false and NaN/inf are not numbers here."""
        expected = f"a number from {low:g} to {high:g}"
        value = self.get(name, (int, float), expected, default)
        if not math.isfinite(value) or not low <= value <= high:
            self.fail(self.key(name), expected, value)
        return float(value)

    def count(self, name: str, default: int, low: int = 0, high: int | None = None) -> int:
        """A whole number (2.9 and 3.0 are refused, not truncated) within [low, high]."""
        expected = f"an integer >= {low}" if high is None else f"an integer from {low} to {high}"
        value = self.get(name, int, expected, default)
        if value < low or (high is not None and value > high):
            self.fail(self.key(name), expected, value)
        return value

    def texts(self, name: str, default: Any = ...) -> tuple[str, ...]:
        values = self.get(name, list, "a non-empty list of text", default)
        if not values:
            self.fail(self.key(name), "a non-empty list of text", values)
        for index, value in enumerate(values):
            if not isinstance(value, str) or not value.strip():
                self.fail(f"{self.key(name)}[{index}]", "text", value)
        return tuple(values)

    def child(self, name: str, default: Any = ...) -> _Reader:
        if name not in self.mapping and default is not ...:
            return _Reader(self.source, self.key(name), default)
        return _Reader(self.source, self.key(name), self.get(name, dict, "a mapping"))


def _shown(value: Any) -> str:
    """A wrong value in an error line: its type and a short repr, never a whole structure."""
    if value is None:
        return "nothing"
    if isinstance(value, dict | list):
        kind = "mapping" if isinstance(value, dict) else "list"
        return f"a {kind}" if value else f"an empty {kind}"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


TENANT_KEYS = {
    "name", "tenant_id", "client_id", "credential", "domains", "groups", "emply", "sync_roles",
    "sync_calendars", "transitive_groups", "hybrid", "write", "max_deactivations",
    "max_deactivation_percent", "enabled", "calendar_window_days", "photo_checks_per_run",
    "retry_after_cap_seconds", "run_deadline_minutes",
}  # fmt: skip


def _credential(reader: _Reader) -> CredentialRef:
    reader.allow_only({"env", "prefect_secret"})
    env = reader.text("env", None)
    block = reader.text("prefect_secret", None)
    if bool(env) == bool(block):
        raise SettingsError(
            f"{reader.source}: {reader.path}: expected exactly one of env or prefect_secret "
            "(a reference to the secret, never the secret itself)"
        )
    return CredentialRef(env=env, prefect_secret=block)


def _domains(reader: _Reader) -> tuple[str, ...]:
    domains = tuple(d.strip().lower() for d in reader.texts("domains"))
    for index, domain in enumerate(domains):
        if not DOMAIN_NAME.fullmatch(domain):
            reader.fail(
                reader.key(f"domains[{index}]"), "a domain name such as contoso.com", domain
            )
    return domains


def _groups(reader: _Reader) -> tuple[GroupMapping, ...]:
    raw = reader.get("groups", list, "a non-empty list of {group, role}")
    if not raw:  # no connected group: nobody would be in scope, everyone would leave (R3)
        reader.fail(reader.key("groups"), "a non-empty list of {group, role}", raw)
    mappings = []
    for index, item in enumerate(raw):
        entry = _Reader(reader.source, reader.key(f"groups[{index}]"), item)
        entry.allow_only({"group", "role"})
        mappings.append(GroupMapping(group=entry.text("group"), role=entry.text("role")))
    names = [m.group.strip().casefold() for m in mappings]
    for index, name in enumerate(names):
        if names.index(name) != index:
            raise SettingsError(
                f"{reader.source}: {reader.key(f'groups[{index}]')}.group: "
                f"group {mappings[index].group!r} is mapped twice"
            )
    return tuple(mappings)


def _emply(reader: _Reader, tenant_name: str) -> EmplySettings:
    reader.allow_only({"customer", "api_key", "exports"})
    exports = reader.child("exports", {})
    exports.allow_only({"users", "employees", "roles", "calendars", "events"})
    defaults = EmplySettings(customer="", api_key=CredentialRef(env="-")).exports
    return EmplySettings(
        customer=reader.text("customer", tenant_name),
        api_key=_credential(reader.child("api_key")),
        exports={kind: exports.text(kind, default) for kind, default in defaults.items()},
    )


def parse_tenant(raw: Any, source: str, path: str) -> TenantSettings:
    """One tenant's settings from its mapping; errors name `source` and the key path."""
    reader = _Reader(source, path, raw)
    reader.allow_only(TENANT_KEYS)
    name = check_tenant_name(reader.text("name"), f"{source}: {reader.key('name')}")
    write = reader.child("write", {})
    write.allow_only({"update", "create", "delete"})
    settings = TenantSettings(
        name=name,
        tenant_id=reader.text("tenant_id"),
        client_id=reader.text("client_id"),
        credential=_credential(reader.child("credential")),
        domains=_domains(reader),
        groups=_groups(reader),
        emply=_emply(reader.child("emply"), name),
        sync_roles=reader.flag("sync_roles", True),
        sync_calendars=reader.flag("sync_calendars", False),
        transitive_groups=reader.flag("transitive_groups", False),
        hybrid=reader.flag("hybrid", False),
        write=WriteSwitches(
            update=write.flag("update", False),
            create=write.flag("create", False),
            delete=write.flag("delete", False),
        ),
        max_deactivations=reader.count("max_deactivations", 500),
        max_deactivation_percent=reader.number("max_deactivation_percent", 20, 0, 100),
        enabled=reader.flag("enabled", True),
        calendar_window_days=reader.count("calendar_window_days", 30, 1, 366),
        photo_checks_per_run=reader.count("photo_checks_per_run", DEFAULT_PHOTO_CHECKS_PER_RUN),
        retry_after_cap_s=reader.number(
            "retry_after_cap_seconds", DEFAULT_RETRY_AFTER_CAP_S, 1, 3600
        ),
        run_deadline_minutes=reader.number(
            "run_deadline_minutes", DEFAULT_RUN_DEADLINE_MINUTES, 1, 1440
        ),
        source=source,
    )
    if settings.hybrid and settings.any_write:
        switched_on = [k for k in ("update", "create", "delete") if getattr(settings.write, k)]
        raise SettingsError(
            f"{source}: {reader.key('hybrid')}: hybrid tenants are mastered on-premises, so "
            f"write.{'/'.join(switched_on)} must be false"
        )
    return settings


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
    try:
        raw = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}: " if mark else ""
        raise SettingsError(f"{source}: not valid YAML ({where}{error.problem})") from None
    except yaml.YAMLError as error:
        raise SettingsError(f"{source}: not valid YAML ({error})") from None
    if not isinstance(raw, dict) or "tenants" not in raw:
        raise SettingsError(
            f"{source}: not a tenants file (expected a mapping with a `tenants` list, got "
            f"{_shown(raw)})"
        )
    root = _Reader(source, "", raw)
    root.allow_only({"tenants"})
    return root.get("tenants", list, "a list of tenants")


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


def load_tenants(path: str | Path) -> list[TenantSettings]:
    """All tenants of a tenants file that must be wholly valid (demo, benchmarks)."""
    tenants_file = read_tenants_file(path)
    if tenants_file.invalid:
        raise SettingsError(tenants_file.invalid[0].reason)
    return list(tenants_file.tenants)


def load_tenant(path: str | Path, name: str) -> TenantSettings:
    """One tenant, whatever the other entries of its file hold."""
    return read_tenants_file(path).tenant(name)


def data_dir() -> Path:
    """Where warehouse files land (`data/` of the checkout unless ENTRASYNC_DATA_DIR says)."""
    configured = os.environ.get("ENTRASYNC_DATA_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parent.parent / "data"


def default_tenants_file() -> Path:
    configured = os.environ.get("ENTRASYNC_TENANTS_FILE")
    return Path(configured) if configured else data_dir() / "demo" / "tenants.yaml"
