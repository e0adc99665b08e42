"""Tenant settings: load and check a tenants file, resolve credentials by reference."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from entrasync.errors import SettingsError
from entrasync.settings_reader import SettingsReader
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


TENANT_KEYS = {
    "name", "tenant_id", "client_id", "credential", "domains", "groups", "emply", "sync_roles",
    "sync_calendars", "transitive_groups", "hybrid", "write", "max_deactivations",
    "max_deactivation_percent", "enabled", "calendar_window_days", "photo_checks_per_run",
    "retry_after_cap_seconds", "run_deadline_minutes",
}  # fmt: skip


def _credential(reader: SettingsReader) -> CredentialRef:
    reader.allow_only({"env", "prefect_secret"})
    env = reader.text("env", None)
    block = reader.text("prefect_secret", None)
    if bool(env) == bool(block):
        raise SettingsError(
            f"{reader.source}: {reader.path}: expected exactly one of env or prefect_secret "
            "(a reference to the secret, never the secret itself)"
        )
    return CredentialRef(env=env, prefect_secret=block)


def _domains(reader: SettingsReader) -> tuple[str, ...]:
    domains = tuple(d.strip().lower() for d in reader.texts("domains"))
    for index, domain in enumerate(domains):
        if not DOMAIN_NAME.fullmatch(domain):
            reader.fail(
                reader.key(f"domains[{index}]"), "a domain name such as contoso.com", domain
            )
    return domains


def _groups(reader: SettingsReader) -> tuple[GroupMapping, ...]:
    raw = reader.get("groups", list, "a non-empty list of {group, role}")
    if not raw:  # no connected group: nobody would be in scope, everyone would leave (R3)
        reader.fail(reader.key("groups"), "a non-empty list of {group, role}", raw)
    mappings = []
    for index, item in enumerate(raw):
        entry = SettingsReader(reader.source, reader.key(f"groups[{index}]"), item)
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


def _emply(reader: SettingsReader, tenant_name: str) -> EmplySettings:
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
    reader = SettingsReader(source, path, raw)
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
