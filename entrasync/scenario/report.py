"""The lines a scenario run prints: one per miss or failure, or one PASS line."""

from __future__ import annotations

from typing import Any

from entrasync.scenario.expect import AsSet, Marker, Miss


def show(value: Any) -> str:
    """A value as a scenario author reads it (YAML words for true/false/null)."""
    if isinstance(value, Marker):
        return value.text
    if isinstance(value, AsSet):
        return "{" + ",".join(show(item) for item in value.items) + "}"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(show(item) for item in value) + "]"
    return repr(value)


def miss_line(scenario: str, where: str, miss: Miss) -> str:
    found = f"expected {show(miss.expected)}, got {show(miss.actual)}"
    return f"FAIL {scenario} · {where} · {miss.key}: {found}"


def failure_line(scenario: str, where: str, message: str) -> str:
    return f"FAIL {scenario} · {where} · {message}"


def pass_line(scenario: str, checks: int) -> str:
    return f"PASS {scenario} ({checks} check{'' if checks == 1 else 's'})"


def error_line(message: str) -> str:
    return f"ERROR {message}"


def summary_line(passed: int, failed: int) -> str:
    total = passed + failed
    return f"{total} scenario{'' if total == 1 else 's'}: {passed} passed, {failed} failed"


def redact(text: str, secrets: list[str]) -> str:
    """The text with every secret value replaced, so no printed line can leak one."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return text
