"""Tenant settings: load and check a tenants file, resolve credentials by reference."""

from __future__ import annotations

import math
import os
import re
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from entrasync.connectors.emply.transport import DEFAULT_EMPLY_URL
from entrasync.connectors.graph.paths import DEFAULT_AUTHORITY_HOST, DEFAULT_GRAPH_URL
from entrasync.errors import SettingsError
from entrasync.tenant_names import check_tenant_name

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
        """HTTPS only (the Emply key and bearer tokens travel on every call); another CA only
        through ENTRASYNC_CA_BUNDLE, which must be a readable PEM file."""
        return cls(
            authority_host=_https_url("ENTRASYNC_AUTHORITY_HOST", DEFAULT_AUTHORITY_HOST),
            graph_url=_https_url("ENTRASYNC_GRAPH_URL", DEFAULT_GRAPH_URL),
            emply_url=_https_url("ENTRASYNC_EMPLY_URL", DEFAULT_EMPLY_URL),
            ca_bundle=_ca_bundle("ENTRASYNC_CA_BUNDLE"),
        )


def _https_url(variable: str, default: str) -> str:
    value = os.environ.get(variable, default)
    parts = urlsplit(value)
    if parts.scheme.lower() != "https" or not parts.hostname:
        shown = f"{parts.scheme}://{parts.hostname}" if parts.hostname else repr(value[:40])
        raise SettingsError(
            f"{variable}: {shown} is not an https:// URL (secrets travel on every call: HTTPS only)"
        )
    return value


def _ca_bundle(variable: str) -> str | None:
    path = os.environ.get(variable) or None
    if path is None:
        return None
    try:
        ssl.create_default_context(cafile=path)
    except FileNotFoundError:
        raise SettingsError(f"{variable}: {path}: no such file") from None
    except IsADirectoryError:
        raise SettingsError(f"{variable}: {path}: a folder, not a CA bundle file") from None
    except PermissionError:
        raise SettingsError(f"{variable}: {path}: not readable") from None
    except (OSError, ssl.SSLError) as exc:
        raise SettingsError(f"{variable}: {path}: not a PEM CA bundle ({exc})") from None
    return path


class _Reader:
    """Reads one mapping strictly: every error names the file and the key path."""

    def __init__(self, source: str, path: str, mapping: Any):
        self.source, self.path = source, path
        if not isinstance(mapping, dict):
            self.fail(path, "a mapping", mapping)
        self.mapping: dict[str, Any] = mapping

    def fail(self, key: str, expected: str, got: Any) -> None:
        raise SettingsError(f"{self.source}: {key}: expected {expected}, got {shown(got)}")

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


def shown(value: Any) -> str:
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


def load_tenants(path: str | Path) -> list[TenantSettings]:
    """All tenants of a tenants file that must be wholly valid (demo, benchmarks)."""
    from entrasync.tenants_file import read_tenants_file  # it builds on parse_tenant above

    tenants_file = read_tenants_file(path)
    if tenants_file.invalid:
        raise SettingsError(tenants_file.invalid[0].reason)
    return list(tenants_file.tenants)


def load_tenant(path: str | Path, name: str) -> TenantSettings:
    """One tenant, whatever the other entries of its file hold."""
    from entrasync.tenants_file import read_tenants_file

    return read_tenants_file(path).tenant(name)


def data_dir() -> Path:
    """Where warehouse files land (`data/` of the checkout unless ENTRASYNC_DATA_DIR says)."""
    configured = os.environ.get("ENTRASYNC_DATA_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parent.parent / "data"


def default_tenants_file() -> Path:
    configured = os.environ.get("ENTRASYNC_TENANTS_FILE")
    return Path(configured) if configured else data_dir() / "demo" / "tenants.yaml"
