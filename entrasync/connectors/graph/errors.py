"""Errors raised by the Graph connector; none of them ever carries the client secret."""

from __future__ import annotations

from typing import Any

from entrasync.errors import EntrasyncError, ExtractionError


class GraphError(EntrasyncError):
    """Graph answered a request with an error status (4xx other than 429, or 401 after refresh)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        request_id: str | None,
        method: str,
        path: str,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.method = method
        self.path = path
        super().__init__(
            f"Graph {method} {path} failed with {status} {code or '(no code)'}: {message}"
            f" (request-id {request_id or 'unknown'})"
        )

    def __reduce__(self):
        fields = (self.status, self.code, self.message, self.request_id, self.method, self.path)
        return (type(self), fields)

    @classmethod
    def from_body(
        cls,
        status: int,
        body: Any,
        method: str,
        path: str,
        *,
        reason: str = "",
        request_id: str | None = None,
    ) -> GraphError:
        """Parse Graph's `{"error": {"code", "message", "innerError": {"request-id"}}}` body."""
        code, message = "", reason
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            code = str(error.get("code") or "")
            message = str(error.get("message") or reason)
            inner = error.get("innerError") or error.get("innererror")
            if isinstance(inner, dict):
                request_id = inner.get("request-id") or inner.get("requestId") or request_id
        return cls(status, code, message, request_id, method, path)


class GraphAuthError(EntrasyncError):
    """No access token: msal refused (wrong tenant, client id or secret, unusable authority)."""

    def __init__(self, error: str, description: str, authority: str) -> None:
        self.error = error
        self.description = description
        self.authority = authority
        super().__init__(f"Graph token from {authority} refused: {error}: {description}")

    def __reduce__(self):
        return (type(self), (self.error, self.description, self.authority))


class GraphReadError(ExtractionError):
    """Graph kept failing transiently (429/5xx/connection) until the retries ran out."""

    def __init__(self, method: str, path: str, attempts: int, last_failure: str) -> None:
        self.method = method
        self.path = path
        self.attempts = attempts
        self.last_failure = last_failure
        super().__init__(
            f"Graph {method} {path} still failing after {attempts} attempts: {last_failure}"
        )

    def __reduce__(self):
        return (type(self), (self.method, self.path, self.attempts, self.last_failure))


class GraphDataError(ExtractionError):
    """Graph returned an object or page the connector cannot use (a required field missing)."""
