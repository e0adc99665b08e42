"""The one form of a tenant name: a DNS label, so every name derived from it is the name."""

from __future__ import annotations

import re

from entrasync.errors import SettingsError

# RFC 1123 label: lowercase letters, digits and dashes, 1-63 characters, no dash at either end.
TENANT_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
TENANT_NAME_RULE = (
    "a tenant name is a DNS label: 1-63 lowercase letters, digits and dashes, "
    "starting and ending with a letter or digit"
)


def is_tenant_name(name: object) -> bool:
    return isinstance(name, str) and TENANT_NAME.fullmatch(name) is not None


def check_tenant_name(name: object, where: str = "tenant") -> str:
    """The name itself when it is a DNS label; else SettingsError saying where and the rule."""
    if not is_tenant_name(name):
        raise SettingsError(f"{where}: {name!r} is not a valid tenant name ({TENANT_NAME_RULE})")
    return name  # type: ignore[return-value]
