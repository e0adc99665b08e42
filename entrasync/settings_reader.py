"""A strict reader of one settings mapping: every error names the file and the key path."""

from __future__ import annotations

import math
from typing import Any

from entrasync.errors import SettingsError


class SettingsReader:
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

    def child(self, name: str, default: Any = ...) -> SettingsReader:
        if name not in self.mapping and default is not ...:
            return SettingsReader(self.source, self.key(name), default)
        return SettingsReader(self.source, self.key(name), self.get(name, dict, "a mapping"))


def shown(value: Any) -> str:
    """A wrong value in an error line: its type and a short repr, never a whole structure."""
    if value is None:
        return "nothing"
    if isinstance(value, dict | list):
        kind = "mapping" if isinstance(value, dict) else "list"
        return f"a {kind}" if value else f"an empty {kind}"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"
