"""The emulator's own request/response objects and Graph's error body."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import orjson

from entrasync_emulators.graph.clock import error_date
from entrasync_emulators.graph.config import GraphConfig
from entrasync_emulators.graph.directory import TenantDirectory

JSON_MEDIA_TYPE = (
    "application/json;odata.metadata=minimal;odata.streaming=true;"
    "IEEE754Compatible=false;charset=utf-8"
)


class GraphError(Exception):
    """Raised by a handler to answer with Graph's error body."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


@dataclass
class GraphRequest:
    """One Graph call (a top-level HTTP request or one item of a $batch)."""

    method: str
    path: str  # percent-decoded, relative to /v1.0, leading slash, no trailing slash
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    base_url: str  # e.g. https://127.0.0.1:8443/v1.0
    tenant: TenantDirectory
    app_id: str
    request_id: str
    client_request_id: str
    config: GraphConfig = field(default_factory=GraphConfig)
    path_params: dict[str, str] = field(default_factory=dict)
    route: str = ""  # the matched route template, e.g. "GET /groups/{id}/members"

    def option(self, name: str) -> str | None:
        """A query option by name, case-insensitive, with or without the `$` prefix."""
        wanted = name.lower().lstrip("$")
        for key, value in self.query:
            if key.lower().lstrip("$") == wanted:
                return value
        return None

    def json_body(self) -> Any:
        if not self.body:
            raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
        try:
            return json.loads(self.body)
        except ValueError as error:
            raise GraphError(
                400, "BadRequest", "Invalid JSON: unable to read the request body."
            ) from error


@dataclass
class GraphResponse:
    """What a handler answers: JSON body (dict), raw bytes, or nothing."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str | None = None

    def encoded(self) -> tuple[bytes, str | None]:
        if self.body is None:
            return b"", self.media_type
        if isinstance(self.body, bytes | bytearray):
            return bytes(self.body), self.media_type or "application/octet-stream"
        return (
            orjson.dumps(self.body),  # compact UTF-8, as Graph sends it
            self.media_type or JSON_MEDIA_TYPE,
        )


def error_body(code: str, message: str, request_id: str, client_request_id: str) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": error_date(),
                "request-id": request_id,
                "client-request-id": client_request_id,
            },
        }
    }


def throttled_body(
    request_id: str,
    client_request_id: str,
    code: str = "TooManyRequests",
    message: str = "Please retry again later.",
) -> dict[str, Any]:
    """The 429 body of Microsoft's throttling doc."""
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "code": "429",
                "date": error_date(),
                "message": "Please retry after",
                "request-id": request_id,
                "client-request-id": client_request_id,
                "status": "429",
            },
        }
    }


def error_response(
    request_id: str,
    client_request_id: str,
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
) -> GraphResponse:
    return GraphResponse(
        status=status,
        body=error_body(code, message, request_id, client_request_id),
        headers=dict(headers or {}),
        media_type="application/json",
    )


def format_retry_after(seconds: float) -> str:
    """Whole seconds stay integers ("5"); fractions keep three digits ("2.128")."""
    if float(seconds).is_integer():
        return str(int(seconds))
    return f"{seconds:.3f}"


def throttled_response(
    request_id: str,
    client_request_id: str,
    retry_after: float | None,
    headers: dict[str, str] | None = None,
    code: str = "TooManyRequests",
    message: str = "Please retry again later.",
) -> GraphResponse:
    headers = dict(headers or {})
    if retry_after is not None:
        headers["Retry-After"] = format_retry_after(retry_after)
    return GraphResponse(
        status=429,
        body=throttled_body(request_id, client_request_id, code, message),
        headers=headers,
        media_type="application/json",
    )
