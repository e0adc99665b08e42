"""Strict shape checks for YAML data; every failure names the key path and what was expected."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol


class ShapeError(Exception):
    """One value does not have the expected shape; `path` is the key path ("steps[2].sync")."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path, self.problem = path, problem


class Shape(Protocol):
    expected: str

    def check(self, value: Any, path: str) -> Any:
        """The value, normalised; ShapeError when it does not fit."""
        ...


def describe(value: Any) -> str:
    """How a wrong value is shown in an error: short, and never a whole structure."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, int | float):
        return str(value)
    return f"a {type(value).__name__}"


def key_path(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def index_path(path: str, index: int) -> str:
    return f"{path}[{index}]"


def wrong(path: str, expected: str, value: Any) -> ShapeError:
    return ShapeError(path, f"expected {expected}, got {describe(value)}")


@dataclass(frozen=True)
class Text:
    expected: str = "text"

    def check(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise wrong(path, self.expected, value)
        return value


@dataclass(frozen=True)
class Flag:
    expected: str = "true or false"

    def check(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise wrong(path, self.expected, value)
        return value


@dataclass(frozen=True)
class Count:
    expected: str = "a whole number >= 0"

    def check(self, value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise wrong(path, self.expected, value)
        return value


@dataclass(frozen=True)
class Number:
    expected: str = "a number >= 0"

    def check(self, value: Any, path: str) -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise wrong(path, self.expected, value)
        return value


@dataclass(frozen=True)
class Timestamp:
    """ISO 8601 text; YAML's own date-times (unquoted) are turned back into that text."""

    expected: str = "an ISO 8601 date-time"

    def check(self, value: Any, path: str) -> str:
        if isinstance(value, datetime | date):
            return value.isoformat()
        if isinstance(value, str):
            try:
                datetime.fromisoformat(value)
            except ValueError:
                raise wrong(path, self.expected, value) from None
            return value
        raise wrong(path, self.expected, value)


@dataclass(frozen=True)
class Choice:
    values: tuple[str, ...]

    @property
    def expected(self) -> str:
        return f"one of: {', '.join(self.values)}"

    def check(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or value not in self.values:
            raise wrong(path, self.expected, value)
        return value


@dataclass(frozen=True)
class Scalar:
    """Any plain value an attribute can hold: text, number, true/false, null or a list of those."""

    expected: str = "a plain value (text, number, true/false, null or a list of them)"

    def check(self, value: Any, path: str) -> Any:
        items = value if isinstance(value, list) else [value]
        for item in items:
            if item is not None and not isinstance(item, str | int | float | bool):
                raise wrong(path, self.expected, value)
        return value


@dataclass(frozen=True)
class Nullable:
    inner: Shape

    @property
    def expected(self) -> str:
        return f"{self.inner.expected} or null"

    def check(self, value: Any, path: str) -> Any:
        return None if value is None else self.inner.check(value, path)


@dataclass(frozen=True)
class ListOf:
    item: Shape

    @property
    def expected(self) -> str:
        return f"a list of {self.item.expected}"

    def check(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise wrong(path, self.expected, value)
        return [self.item.check(item, index_path(path, i)) for i, item in enumerate(value)]


@dataclass(frozen=True)
class MapOf:
    """A mapping with free keys (user names, change kinds) and one shape for every value."""

    value: Shape
    keys: Shape = Text()

    @property
    def expected(self) -> str:
        return f"a mapping of {self.keys.expected} to {self.value.expected}"

    def check(self, value: Any, path: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise wrong(path, self.expected, value)
        checked = {}
        for key, item in value.items():
            self.keys.check(key, key_path(path, key))
            checked[key] = self.value.check(item, key_path(path, key))
        return checked


REQUIRED = object()  # a field without default: it must be given
OMIT = object()  # an optional field without default: left out when not given


@dataclass(frozen=True)
class Field:
    shape: Shape
    default: Any = OMIT


def required(shape: Shape) -> Field:
    return Field(shape, REQUIRED)


def optional(shape: Shape, default: Any = OMIT) -> Field:
    return Field(shape, default)


@dataclass(frozen=True)
class Fields:
    """A mapping with named keys: unknown keys and missing required keys are errors."""

    fields: dict[str, Field]
    fill_defaults: bool = True
    expected: str = field(default="a mapping")

    def check(self, value: Any, path: str) -> dict[str, Any]:
        if value is None and not self.required_names():
            value = {}
        if not isinstance(value, dict):
            raise wrong(path, f"{self.expected} with keys {', '.join(self.fields)}", value)
        for key in value:
            if key not in self.fields:
                raise ShapeError(
                    key_path(path, key), f"unknown key, expected one of: {', '.join(self.fields)}"
                )
        checked: dict[str, Any] = {}
        for name, spec in self.fields.items():
            if name in value:
                checked[name] = spec.shape.check(value[name], key_path(path, name))
            elif spec.default is REQUIRED:
                raise ShapeError(key_path(path, name), f"missing, expected {spec.shape.expected}")
            elif spec.default is not OMIT and self.fill_defaults:
                checked[name] = spec.default
        return checked

    def required_names(self) -> list[str]:
        return [name for name, spec in self.fields.items() if spec.default is REQUIRED]

    def all_optional(self) -> Fields:
        """The same keys, none required and no defaults filled (for partial updates)."""
        loose = {name: Field(spec.shape, OMIT) for name, spec in self.fields.items()}
        return Fields(loose, fill_defaults=False, expected=self.expected)


@dataclass(frozen=True)
class TextOr:
    """Text, or a mapping of named keys (e.g. a role: `HR` or `{name: HR, admin: true}`)."""

    mapping: Fields

    @property
    def expected(self) -> str:
        return f"text or a mapping with keys {', '.join(self.mapping.fields)}"

    def check(self, value: Any, path: str) -> Any:
        if isinstance(value, dict):
            return self.mapping.check(value, path)
        if isinstance(value, str) and value.strip():
            return value
        raise wrong(path, self.expected, value)


@dataclass(frozen=True)
class OneKey:
    """A mapping with exactly one key naming a variant (`{sync: {...}}`, `{add_member: {...}}`)."""

    variants: dict[str, Shape]
    what: str

    @property
    def expected(self) -> str:
        return f"a mapping with one {self.what} as its key"

    def check(self, value: Any, path: str) -> tuple[str, Any]:
        if not isinstance(value, dict) or len(value) != 1:
            shown = f"{len(value)} keys" if isinstance(value, dict) else describe(value)
            raise ShapeError(path, f"expected {self.expected}, got {shown}")
        ((name, body),) = value.items()
        if name not in self.variants:
            raise ShapeError(
                key_path(path, name),
                f"unknown {self.what}, expected one of: {', '.join(self.variants)}",
            )
        return name, self.variants[name].check(body, key_path(path, name))
