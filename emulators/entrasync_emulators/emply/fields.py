"""Typed reading of JSON objects (op args, API bodies) with 400 errors that name the field."""

from datetime import UTC, datetime
from typing import Any

from entrasync_emulators.emply.errors import bad_request

_MISSING = object()


class Fields:
    """Reads named values from one JSON object; `where` prefixes every error ("add_user: ...")."""

    def __init__(self, values: Any, where: str) -> None:
        if not isinstance(values, dict):
            raise bad_request(f"{where}: expected an object, got {type(values).__name__}")
        self.values: dict[str, Any] = values
        self.where = where

    def _get(self, name: str, default: Any) -> Any:
        value = self.values.get(name, _MISSING)
        if value is _MISSING:
            if default is _MISSING:
                raise bad_request(f"{self.where}: missing {name!r}")
            return default
        return value

    def _wrong(self, name: str, expected: str, value: Any) -> Exception:
        return bad_request(f"{self.where}: {name!r} must be {expected}, got {value!r}")

    def has(self, name: str) -> bool:
        return name in self.values

    def text(self, name: str, default: Any = _MISSING) -> str:
        value = self._get(name, default)
        if not isinstance(value, str) or not value.strip():
            raise self._wrong(name, "non-empty text", value)
        return value.strip()

    def optional_text(self, name: str) -> str | None:
        value = self._get(name, None)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._wrong(name, "text or null", value)
        return value.strip() or None

    def boolean(self, name: str, default: Any = _MISSING) -> bool:
        value = self._get(name, default)
        if not isinstance(value, bool):
            raise self._wrong(name, "true or false", value)
        return value

    def integer(self, name: str, default: Any = _MISSING) -> int:
        value = self._get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(name, "an integer", value)
        return value

    def optional_integer(self, name: str) -> int | None:
        return None if self.values.get(name) is None else self.integer(name)

    def text_list(self, name: str, default: Any = _MISSING) -> list[str]:
        value = self._get(name, default)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self._wrong(name, "a list of text", value)
        return [item.strip() for item in value]

    def object_list(self, name: str, default: Any = _MISSING) -> list[Any]:
        value = self._get(name, default)
        if not isinstance(value, list):
            raise self._wrong(name, "a list", value)
        return value

    def mapping(self, name: str) -> dict[str, Any]:
        value = self._get(name, _MISSING)
        if not isinstance(value, dict):
            raise self._wrong(name, "an object", value)
        return value

    def time(self, name: str) -> datetime:
        return parse_time(self.text(name), f"{self.where}: {name!r}")

    def reject_unknown(self, allowed: set[str]) -> None:
        unknown = sorted(set(self.values) - allowed)
        if unknown:
            raise bad_request(f"{self.where}: unknown {', '.join(map(repr, unknown))}")


def parse_time(text: str, label: str) -> datetime:
    """ISO 8601 text as an aware datetime; a time without offset is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise bad_request(f"{label} must be an ISO 8601 date-time, got {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
