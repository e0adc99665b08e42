"""Tenant settings: load and check a tenants file, resolve credentials by reference."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from entrasync.errors import SettingsError
from entrasync.tenant_names import check_tenant_name

DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"
DEFAULT_GRAPH_URL = "https://graph.microsoft.com/v1.0"
DEFAULT_EMPLY_URL = "https://api.emply.com/v1"
# R8: photos re-read per run besides the never-checked and those Emply does not hold.
DEFAULT_PHOTO_CHECKS_PER_RUN = 2000


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
        shown = "nothing" if got is None else f"{type(got).__name__} {got!r}"
        raise SettingsError(f"{self.source}: {key}: expected {expected}, got {shown}")

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

    def number(self, name: str, default: float) -> float:
        value = self.get(name, (int, float), "a number >= 0", default)
        if value < 0:
            self.fail(self.key(name), "a number >= 0", value)
        return value

    def count(self, name: str, default: int) -> int:
        value = self.get(name, int, "an integer >= 0", default)
        if value < 0:
            self.fail(self.key(name), "an integer >= 0", value)
        return value

    def texts(self, name: str, default: Any = ...) -> tuple[str, ...]:
        values = self.get(name, list, "a list of text", default)
        for index, value in enumerate(values):
            if not isinstance(value, str) or not value.strip():
                self.fail(f"{self.key(name)}[{index}]", "text", value)
        return tuple(values)

    def child(self, name: str, default: Any = ...) -> _Reader:
        if name not in self.mapping and default is not ...:
            return _Reader(self.source, self.key(name), default)
        return _Reader(self.source, self.key(name), self.get(name, dict, "a mapping"))


TENANT_KEYS = {
    "name", "tenant_id", "client_id", "credential", "domains", "groups", "emply", "sync_roles",
    "sync_calendars", "transitive_groups", "hybrid", "write", "max_deactivations",
    "max_deactivation_percent", "enabled", "calendar_window_days", "photo_checks_per_run",
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


def _groups(reader: _Reader) -> tuple[GroupMapping, ...]:
    raw = reader.get("groups", list, "a list of {group, role}")
    mappings = []
    for index, item in enumerate(raw):
        entry = _Reader(reader.source, reader.key(f"groups[{index}]"), item)
        entry.allow_only({"group", "role"})
        mappings.append(GroupMapping(group=entry.text("group"), role=entry.text("role")))
    names = [m.group.casefold() for m in mappings]
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
        domains=tuple(d.strip().lower() for d in reader.texts("domains")),
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
        max_deactivations=int(reader.number("max_deactivations", 500)),
        max_deactivation_percent=float(reader.number("max_deactivation_percent", 20)),
        enabled=reader.flag("enabled", True),
        calendar_window_days=int(reader.number("calendar_window_days", 30)),
        photo_checks_per_run=reader.count("photo_checks_per_run", DEFAULT_PHOTO_CHECKS_PER_RUN),
        source=source,
    )
    if settings.hybrid and settings.any_write:
        switched_on = [k for k in ("update", "create", "delete") if getattr(settings.write, k)]
        raise SettingsError(
            f"{source}: {reader.key('hybrid')}: hybrid tenants are mastered on-premises, so "
            f"write.{'/'.join(switched_on)} must be false"
        )
    return settings


def load_tenants(path: str | Path) -> list[TenantSettings]:
    """All tenants of a tenants file, checked."""
    source = str(path)
    try:
        # libyaml's loader: every tenant run reads the whole fleet's file (500 tenants: 0.13 s
        # instead of 1 s of CPU with the pure-Python one)
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        raw = yaml.load(Path(path).read_text(), Loader=loader)
    except FileNotFoundError as exc:
        raise SettingsError(f"{source}: file not found") from exc
    except yaml.YAMLError as exc:
        raise SettingsError(f"{source}: not valid YAML ({exc})") from exc
    root = _Reader(source, "", raw)
    root.allow_only({"tenants"})
    items = root.get("tenants", list, "a list of tenants")
    tenants = [parse_tenant(item, source, f"tenants[{i}]") for i, item in enumerate(items)]
    _check_one_entra_tenant_per_platform(tenants, source)
    return tenants


def _check_one_entra_tenant_per_platform(tenants: list[TenantSettings], source: str) -> None:
    seen_names: dict[str, int] = {}
    seen_platforms: dict[str, tuple[int, str]] = {}
    for index, tenant in enumerate(tenants):
        if tenant.name in seen_names:
            raise SettingsError(
                f"{source}: tenants[{index}].name: {tenant.name!r} is already used by "
                f"tenants[{seen_names[tenant.name]}]"
            )
        seen_names[tenant.name] = index
        platform = tenant.emply.customer
        if platform in seen_platforms and seen_platforms[platform][1] != tenant.tenant_id:
            raise SettingsError(
                f"{source}: tenants[{index}].tenant_id: Emply platform {platform!r} is already "
                f"synced with Entra tenant {seen_platforms[platform][1]!r} by "
                f"tenants[{seen_platforms[platform][0]}]; one platform has exactly one Entra tenant"
            )
        seen_platforms.setdefault(platform, (index, tenant.tenant_id))


def load_tenant(path: str | Path, name: str) -> TenantSettings:
    for tenant in load_tenants(path):
        if tenant.name == name:
            return tenant
    raise SettingsError(f"{path}: no tenant named {name!r}")


def data_dir() -> Path:
    """Where warehouse files land (`data/` of the checkout unless ENTRASYNC_DATA_DIR says)."""
    configured = os.environ.get("ENTRASYNC_DATA_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parent.parent / "data"


def default_tenants_file() -> Path:
    configured = os.environ.get("ENTRASYNC_TENANTS_FILE")
    return Path(configured) if configured else data_dir() / "demo" / "tenants.yaml"
