"""Emply over HTTP for one customer: the API key, retries, Retry-After, errors in our words."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from typing import Any, Self
from urllib.parse import quote

import httpx
import orjson

from entrasync.connectors.emply.errors import (
    EmplyConflict,
    EmplyError,
    EmplyExportError,
    EmplyUnavailable,
)
from entrasync.connectors.emply.redact import install_log_redaction, redact
from entrasync.connectors.http import backoff_seconds, retry_after_seconds, tls_context

logger = logging.getLogger(__name__)

DEFAULT_EMPLY_URL = "https://api.emply.com/v1"
PERMANENT_5XX = frozenset({501, 505})


class _ApiKeyAuth(httpx.Auth):
    """Adds `apiKey` at send time, so no URL our code builds or reports ever holds it."""

    def __init__(self, api_key: str) -> None:
        self._api_key = api_key

    def __repr__(self) -> str:
        return "_ApiKeyAuth(***)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.url = request.url.copy_merge_params({"apiKey": self._api_key})
        yield request


class EmplyTransport:
    """Calls `{base_url}/{customer}/...` with retries; errors and logs never show the key."""

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_EMPLY_URL,
        customer: str,
        api_key: str,
        ca_bundle: str | None = None,
        http: httpx.Client | None = None,
        max_retries: int = 4,
        timeout_s: float = 30,
        max_backoff_s: float = 30,
        retry_after_cap_s: float = 120,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        install_log_redaction()
        self.customer = customer
        self.base_url = f"{base_url.rstrip('/')}/{quote(customer, safe='')}"
        self._api_key = api_key
        self._auth = _ApiKeyAuth(api_key)
        self._owns_http = http is None
        self._http = http or httpx.Client(verify=tls_context(ca_bundle), timeout=timeout_s)
        self._max_retries = max_retries
        self._max_backoff_s = max_backoff_s
        # a longer Retry-After fails the request: waiting it out would hold the tenant's slot
        self._retry_after_cap_s = retry_after_cap_s
        self._sleep = sleep

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    # ---- HTTP --------------------------------------------------------------------------------

    def _get_list(self, path: str, params: dict[str, str] | None = None) -> list[Any]:
        body = _json_or_missing(self._call("GET", path, params=params))
        if isinstance(body, dict) and isinstance(body.get("data"), list):
            return body["data"]
        if not isinstance(body, list):
            raise EmplyExportError(f"'{path}': Emply sent no list")
        return body

    def _json_object(self, response: httpx.Response) -> dict[str, Any]:
        body = _json_or_missing(response)
        if not isinstance(body, dict):
            method, path = response.request.method, self._path_of(response.request.url)
            raise EmplyError(response.status_code, "bad_answer", "not a JSON object", method, path)
        return body

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        expect: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        """Send with retries; return a response with an expected status, or raise EmplyError."""
        response = self._send_with_retries(method, path, params, json, content, headers)
        if response.status_code in expect:
            return response
        code, message = _error_fields(response)
        error_type = EmplyConflict if response.status_code == 409 else EmplyError
        raise error_type(response.status_code, code, redact(message, self._api_key), method, path)

    def _call_unless_missing(self, method: str, path: str) -> httpx.Response | None:
        """Like _call, but None when Emply answers 404 (a user without a photo)."""
        try:
            return self._call(method, path)
        except EmplyError as error:
            if error.status == 404:
                return None
            raise

    def _send_with_retries(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        json: Any,
        content: bytes | None,
        headers: dict[str, str] | None,
    ) -> httpx.Response:
        url = f"{self.base_url}/{path}"
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    content=content,
                    headers=headers,
                    auth=self._auth,
                )
            except httpx.TransportError as exc:
                status, code = None, type(exc).__name__
                message = redact(str(exc), self._api_key)
                if not _safe_to_resend(method, exc):
                    message += " (not resent: it may have reached Emply)"
                    raise EmplyUnavailable(status, code, message, method, path) from None
                wait = None
            else:
                if not _is_transient(response.status_code):
                    return response
                status = response.status_code
                code, message = _error_fields(response)
                message = redact(message, self._api_key)
                wait = retry_after_seconds(response.headers)
                if wait is not None and wait > self._retry_after_cap_s:
                    raise EmplyUnavailable(
                        status, code, f"{message} (asked to wait {wait:.0f} s by Retry-After, "
                        f"more than retry_after_cap_seconds {self._retry_after_cap_s:g})",
                        method, path,
                    )  # fmt: skip
            if attempt >= self._max_retries:
                raise EmplyUnavailable(
                    status, code, f"{message} (after {attempt + 1} attempts)", method, path
                )
            wait = wait if wait is not None else backoff_seconds(attempt, self._max_backoff_s)
            logger.warning(
                "Emply %s %s: %s %s; retry %d of %d in %.2f s",
                method, path, status or "", code, attempt + 1, self._max_retries, wait,
            )  # fmt: skip
            self._sleep(wait)
            attempt += 1

    def _path_of(self, url: httpx.URL) -> str:
        return url.path.removeprefix(httpx.URL(self.base_url).path + "/")


NOT_JSON = object()


def _json_or_missing(response: httpx.Response) -> Any:
    try:
        return orjson.loads(response.content)  # JSON is UTF-8; orjson decodes it 2-3x faster
    except ValueError:
        return NOT_JSON


def json_body(response: httpx.Response) -> dict[str, Any]:
    """The JSON object a write answered with, or {} when it answered without one."""
    body = _json_or_missing(response)
    return body if isinstance(body, dict) else {}


def _error_fields(response: httpx.Response) -> tuple[str, str]:
    body = _json_or_missing(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("code") or ""), str(error.get("message") or response.reason_phrase)
    return "", response.reason_phrase


def _is_transient(status: int) -> bool:
    return status == 429 or (status >= 500 and status not in PERMANENT_5XX)


def _safe_to_resend(method: str, exc: httpx.TransportError) -> bool:
    # A POST that may have reached Emply is not sent twice; one that never left is.
    connect_failures = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
    return method != "POST" or isinstance(exc, connect_failures)
