"""msal's HTTP client for the login authority: httpx with bounded timeouts and bounded retries.

msal leaves retries to the http_client it is given, and caches a 429/5xx answer (for its
Retry-After) above it: so the retries happen here, below msal's cache, and only the final
answer reaches msal. Token and discovery requests change nothing at the authority, so every
one of them may be sent again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from entrasync.connectors.http import backoff_seconds, retry_after_seconds, tls_context
from entrasync.errors import EntrasyncError

MAX_RETRIES = 3
MAX_BACKOFF_S = 10.0


class AuthorityUnavailable(EntrasyncError):
    """The login authority kept failing (5xx, 429, timeouts) until the retries ran out."""


class AuthorityHttpClient:
    """What msal calls as `http_client`: `post`, `get` and `close`, answered by httpx."""

    def __init__(
        self,
        *,
        ca_bundle: str | None,
        timeout_s: float,
        retry_after_cap_s: float,
        max_retries: int = MAX_RETRIES,
        max_backoff_s: float = MAX_BACKOFF_S,
        sleep: Callable[[float], None] = time.sleep,
        http: httpx.Client | None = None,
    ) -> None:
        # A slow authority times out per request; the retries below are counted.
        self._http = http or httpx.Client(verify=tls_context(ca_bundle), timeout=timeout_s)
        self._retry_after_cap_s = retry_after_cap_s
        self._max_retries = max_retries
        self._max_backoff_s = max_backoff_s
        self._sleep = sleep
        self.attempts = 0  # requests sent, retries included

    def post(self, url: str, params=None, data=None, headers=None, **_: Any) -> httpx.Response:
        body = {"data": data} if isinstance(data, dict) else {"content": data}
        return self._send("POST", url, params, headers, body)

    def get(self, url: str, params=None, headers=None, **_: Any) -> httpx.Response:
        return self._send("GET", url, params, headers, {})

    def close(self) -> None:
        self._http.close()

    def _send(
        self, method: str, url: str, params: Any, headers: Any, body: dict[str, Any]
    ) -> httpx.Response:
        where = f"{method} {httpx.URL(url).copy_with(query=None)}"
        attempt = 0
        while True:
            self.attempts += 1
            try:
                response = self._http.request(method, url, params=params, headers=headers, **body)
            except httpx.TransportError as exc:
                failure, wait = f"{type(exc).__name__}: {exc}".rstrip(": "), None
            else:
                status = response.status_code
                if status != 429 and status < 500:
                    return response
                failure, wait = f"HTTP {status}", retry_after_seconds(response.headers)
                if wait is not None and wait > self._retry_after_cap_s:
                    raise AuthorityUnavailable(
                        f"{where} answered {failure} asking to wait {wait:.0f} s (Retry-After), "
                        f"more than retry_after_cap_seconds {self._retry_after_cap_s:g}"
                    )
            if attempt >= self._max_retries:
                raise AuthorityUnavailable(
                    f"{where} still failing after {attempt + 1} attempts: {failure}"
                )
            self._sleep(wait if wait is not None else backoff_seconds(attempt, self._max_backoff_s))
            attempt += 1
