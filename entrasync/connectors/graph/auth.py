"""App-only access tokens for Graph from one msal ConfidentialClientApplication."""

from __future__ import annotations

import functools
import threading
from urllib.parse import urlparse

import msal
import requests
from msal.authority import WELL_KNOWN_AUTHORITY_HOSTS

from entrasync.connectors.graph.errors import GraphAuthError

GRAPH_SCOPE = "https://graph.microsoft.com/.default"


class MsalTokenSource:
    """Callable returning a bearer token; msal caches and renews it, we never do."""

    def __init__(
        self,
        *,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        authority_host: str,
        ca_bundle: str | None,
        timeout_s: float,
    ) -> None:
        self.authority = f"{authority_host.rstrip('/')}/{tenant_id}"
        self._client_id = client_id
        self._client_secret = client_secret
        self._verify: str | bool = ca_bundle or True
        self._timeout_s = timeout_s
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MsalTokenSource(authority={self.authority!r}, client_id={self._client_id!r})"

    def __call__(self) -> str:
        try:
            result = self._application().acquire_token_for_client(scopes=[GRAPH_SCOPE])
        except (ValueError, requests.RequestException) as exc:
            raise GraphAuthError("token_request_failed", str(exc), self.authority) from None
        if "access_token" not in result:
            raise GraphAuthError(
                str(result.get("error", "unknown_error")),
                str(result.get("error_description", "")),
                self.authority,
            )
        return result["access_token"]

    def forget_token(self) -> None:
        """Drop the cached access token Graph just rejected, so the next call fetches a new one."""
        if self._app is None:
            return
        cache = self._app.token_cache
        for token in list(cache.search(cache.CredentialType.ACCESS_TOKEN)):
            cache.remove_at(token)

    def _application(self) -> msal.ConfidentialClientApplication:
        # Built on first use: msal contacts the authority while constructing the app.
        with self._lock:
            if self._app is None:
                try:
                    self._app = msal.ConfidentialClientApplication(
                        self._client_id,
                        client_credential=self._client_secret,
                        authority=self.authority,
                        instance_discovery=None if _is_microsoft_host(self.authority) else False,
                        http_client=_pinned_session(self._verify, self._timeout_s),
                    )
                except (ValueError, requests.RequestException) as exc:
                    raise GraphAuthError("authority_unusable", str(exc), self.authority) from None
            return self._app


def _pinned_session(verify: str | bool, timeout_s: float) -> requests.Session:
    """msal's HTTP session, trusting `verify` even when REQUESTS_CA_BUNDLE is set.

    msal would set `Session.verify`, but requests lets REQUESTS_CA_BUNDLE override a
    session-level choice; a per-request `verify` wins, so the emulators' CA is really used.
    """
    session = requests.Session()
    session.mount("https://", requests.adapters.HTTPAdapter(max_retries=1))
    session.request = functools.partial(session.request, verify=verify, timeout=timeout_s)
    return session


def _is_microsoft_host(authority: str) -> bool:
    return urlparse(authority).hostname in WELL_KNOWN_AUTHORITY_HOSTS
