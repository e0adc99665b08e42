"""Temporary passwords for users created in Entra (R7): random, strong, never logged or stored."""

from __future__ import annotations

import secrets
import string

SYMBOLS = "!#$%&*+-=?@^_"
LENGTH = 20


def temporary_password(length: int = LENGTH) -> str:
    """Upper, lower, digit and symbol each present (Entra's complexity rule), the rest random."""
    classes = (string.ascii_uppercase, string.ascii_lowercase, string.digits, SYMBOLS)
    alphabet = "".join(classes)
    chars = [secrets.choice(chars) for chars in classes]
    chars += [secrets.choice(alphabet) for _ in range(length - len(classes))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)
