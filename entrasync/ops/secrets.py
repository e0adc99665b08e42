"""Credentials by reference: a Prefect Secret block whose value comes from stdin, never argv."""

from __future__ import annotations

import getpass
import sys
from typing import TextIO

from entrasync.errors import EntrasyncError


def read_secret_value(name: str, stdin: TextIO | None = None) -> str:
    """The value from a pipe (one line), or typed at a hidden prompt on a terminal."""
    stream = stdin or sys.stdin
    if stream.isatty():
        value = getpass.getpass(f"value of secret {name} (not shown): ")
    else:
        value = stream.readline().rstrip("\r\n")
    if not value.strip():
        raise EntrasyncError(f"secret {name}: no value given (pipe it in or type it at the prompt)")
    return value


def store_secret(name: str, value: str) -> None:
    """Create or replace the Secret block `name`; settings refer to it as {prefect_secret: name}."""
    from prefect.blocks.system import Secret

    try:
        Secret(value=value).save(name, overwrite=True)
    except ValueError as exc:  # block names: lowercase letters, digits and dashes
        raise EntrasyncError(f"secret {name}: {exc}") from None
