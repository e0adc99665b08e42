"""Graph over HTTP for one tenant: app-only tokens, retries, Retry-After, pacing, safe links."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Self

import httpx
import orjson

from entrasync.connectors.graph.auth import MsalTokenSource
from entrasync.connectors.graph.errors import GraphDataError, GraphError, GraphReadError
from entrasync.connectors.graph.pacing import ResourceUnitPacer, resource_unit_cost
from entrasync.connectors.graph.paths import (
    DEFAULT_AUTHORITY_HOST,
    DEFAULT_GRAPH_URL,
)
from entrasync.connectors.http import backoff_seconds, retry_after_seconds, tls_context

logger = logging.getLogger(__name__)

RETRY_AFTER_STATUSES = frozenset({429, 503, 504})
PERMANENT_5XX = frozenset({501, 505})


class GraphTransport:
    """Requests to Graph for one Entra tenant: one msal app, one HTTP connection pool."""

    def __init__(
        self,
        *,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        authority_host: str = DEFAULT_AUTHORITY_HOST,
        graph_url: str = DEFAULT_GRAPH_URL,
        ca_bundle: str | None = None,
        http: httpx.Client | None = None,
        timeout_s: float = 30,
        max_retries: int = 6,
        max_backoff_s: float = 30,
        retry_after_cap_s: float = 120,
        page_size: int = 999,
        token_provider: Callable[[], str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        before_request: Callable[[], AbstractContextManager[Any]] | None = None,
        pacer: ResourceUnitPacer | None = None,
    ) -> None:
        if not 1 <= page_size <= 999:
            raise ValueError(f"page_size must be 1..999 (Graph's $top limit), got {page_size}")
        self.tenant_id = tenant_id
        self.graph_url = graph_url.rstrip("/")
        self._base = httpx.URL(self.graph_url)
        self._token_provider = token_provider or MsalTokenSource(
            tenant_id=tenant_id,
            client_id=client_id,
            client_secret=client_secret,
            authority_host=authority_host,
            ca_bundle=ca_bundle,
            timeout_s=timeout_s,
            retry_after_cap_s=retry_after_cap_s,
            sleep=sleep,
        )
        self._owns_http = http is None
        self._http = http or httpx.Client(verify=tls_context(ca_bundle), timeout=timeout_s)
        self._max_retries = max_retries
        self._max_backoff_s = max_backoff_s
        # a longer Retry-After fails the request: waiting it out would hold the tenant's slot
        self._retry_after_cap_s = retry_after_cap_s
        self._page_size = page_size
        self._sleep = sleep
        # held around each HTTP request, e.g. a slot of a limit shared by all workers
        self._before_request = before_request or nullcontext
        # spends identity resource units before each request (shared by this client's threads)
        self.pacer = pacer

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()
        close_token_source = getattr(self._token_provider, "close", None)
        if close_token_source is not None:
            close_token_source()

    # ---- HTTP --------------------------------------------------------------------------------

    def _get_json(
        self, url: str, params: dict[str, Any] | None, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        response = self._call("GET", url, params=params, headers=headers)
        return json_object(response, self._display_path(self._url(url)))

    def _call(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        expect: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        """Send with retries; return a response with an expected status, or raise GraphError."""
        full_url = self._url(url)
        path = self._display_path(full_url)
        response = self._send_with_retries(method, full_url, path, params, json, headers)
        if response.status_code in expect:
            return response
        raise GraphError.from_body(
            response.status_code,
            _json_or_none(response),
            method,
            path,
            reason=response.reason_phrase,
            request_id=response.headers.get("request-id"),
        )

    def _call_unless_missing(self, method: str, url: str) -> httpx.Response | None:
        """Like _call, but None when Graph answers 404 (a user without a photo)."""
        try:
            return self._call(method, url)
        except GraphError as error:
            if error.status == 404:
                return None
            raise

    def _send_with_retries(
        self,
        method: str,
        url: httpx.URL,
        path: str,
        params: dict[str, Any] | None,
        json: Any,
        headers: dict[str, str] | None,
    ) -> httpx.Response:
        token_refreshed = False
        attempt = 0
        while True:
            auth = {"Authorization": f"Bearer {self._token_provider()}"}
            if self.pacer is not None:
                self.pacer.take(resource_unit_cost(method, str(url), params))
            try:
                with self._before_request():
                    response = self._http.request(
                        method, url, params=params, json=json, headers={**(headers or {}), **auth}
                    )
            except httpx.TransportError as exc:
                failure = f"{type(exc).__name__}: {exc}"
                if not _safe_to_resend(method, exc):
                    failure += " (not resent: it may have reached Graph)"
                    raise GraphReadError(method, path, attempt + 1, failure) from exc
                wait = None
            else:
                status = response.status_code
                if status == 401 and not token_refreshed:
                    token_refreshed = True
                    self._forget_token()
                    continue
                if not _is_transient(status):
                    return response
                failure = f"HTTP {status}"
                wait = None
                if status in RETRY_AFTER_STATUSES:
                    wait = retry_after_seconds(response.headers)
                if wait is not None and wait > self._retry_after_cap_s:
                    raise GraphReadError(method, path, attempt + 1, self._too_long(failure, wait))
                if status == 429 and self.pacer is not None:
                    self.pacer.hold_off(wait if wait is not None else 1.0)
            if attempt >= self._max_retries:
                raise GraphReadError(method, path, attempt + 1, failure)
            wait = wait if wait is not None else backoff_seconds(attempt, self._max_backoff_s)
            logger.warning(
                "Graph %s %s: %s; retry %d of %d in %.2f s",
                method, path, failure, attempt + 1, self._max_retries, wait,
            )  # fmt: skip
            self._sleep(wait)
            attempt += 1

    def _too_long(self, failure: str, wait: float) -> str:
        return (
            f"{failure} asking to wait {wait:.0f} s (Retry-After), more than "
            f"retry_after_cap_seconds {self._retry_after_cap_s:g}"
        )

    def _forget_token(self) -> None:
        forget = getattr(self._token_provider, "forget_token", None)
        if forget is not None:
            forget()

    def _url(self, url_or_path: str) -> httpx.URL:
        if not url_or_path.startswith(("https://", "http://")):
            return httpx.URL(f"{self.graph_url}/{url_or_path.lstrip('/')}")
        url = httpx.URL(url_or_path)
        base = self._base
        if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port):
            # A nextLink elsewhere would receive our bearer token: refuse it.
            raise GraphDataError(f"Graph link points outside {self.graph_url}: {url_or_path[:120]}")
        return url

    def _display_path(self, url: httpx.URL) -> str:
        base_path = self._base.path.rstrip("/")
        path = url.path
        if not path.startswith(base_path):
            return path
        return path[len(base_path) :] or "/"


def _is_transient(status: int) -> bool:
    return status == 429 or (status >= 500 and status not in PERMANENT_5XX)


def _safe_to_resend(method: str, exc: httpx.TransportError) -> bool:
    # A POST that may have reached Graph is not sent twice; one that never left is.
    connect_failures = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
    return method != "POST" or isinstance(exc, connect_failures)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return orjson.loads(response.content)  # JSON is UTF-8; orjson decodes it 2-3x faster
    except ValueError:
        return None


def json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    body = _json_or_none(response)
    if not isinstance(body, dict):
        raise GraphDataError(f"Graph answer for {what} is not a JSON object")
    return body
