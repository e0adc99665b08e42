"""Errors raised by the Emply connector; their messages never carry the API key."""

from __future__ import annotations

from entrasync.errors import EntrasyncError, ExtractionError


class EmplyError(EntrasyncError):
    """Emply answered with an error status (its `{"error": {"code", "message"}}` body parsed)."""

    def __init__(self, status: int | None, code: str, message: str, method: str, path: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.method = method
        self.path = path
        shown_status = status if status is not None else "no answer"
        super().__init__(
            f"Emply {method} {path} failed with {shown_status} {code or '(no code)'}: {message}"
        )

    def __reduce__(self):
        return (type(self), (self.status, self.code, self.message, self.method, self.path))


class EmplyConflict(EmplyError):
    """409: the username or Entra object id already exists (on create)."""


class EmplyUnavailable(EmplyError):
    """Emply kept failing transiently (429/5xx/connection) until the retries ran out."""


class EmplyExportError(ExtractionError):
    """An export or listing is malformed; the message names the export, row, id and field."""
