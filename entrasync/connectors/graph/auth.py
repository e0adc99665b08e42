"""App-only access tokens for Graph from one msal ConfidentialClientApplication."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from urllib.parse import urlparse

import msal
from msal.authority import WELL_KNOWN_AUTHORITY_HOSTS
from msal.exceptions import MsalServiceError

from entrasync.connectors.graph.errors import GraphAuthError
from entrasync.connectors.graph.token_http import AuthorityHttpClient, AuthorityUnavailable

DEFAULT_RETRY_AFTER_CAP_S = 120.0

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
        retry_after_cap_s: float = DEFAULT_RETRY_AFTER_CAP_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.authority = f"{authority_host.rstrip('/')}/{tenant_id}"
        self._client_id = client_id
        self._client_secret = client_secret
        self.http_client = AuthorityHttpClient(
            ca_bundle=ca_bundle, timeout_s=timeout_s, retry_after_cap_s=retry_after_cap_s,
            sleep=sleep,
        )  # fmt: skip
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MsalTokenSource(authority={self.authority!r}, client_id={self._client_id!r})"

    def __call__(self) -> str:
        try:
            result = self._application().acquire_token_for_client(scopes=[GRAPH_SCOPE])
        except (ValueError, AuthorityUnavailable, MsalServiceError) as exc:
            raise GraphAuthError("token_request_failed", str(exc), self.authority) from None
        if "access_token" not in result:
            raise GraphAuthError(
                str(result.get("error", "unknown_error")),
                str(result.get("error_description", "")),
                self.authority,
            )
        return result["access_token"]

    def close(self) -> None:
        self.http_client.close()

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
                        http_client=self.http_client,
                    )
                except (ValueError, AuthorityUnavailable, MsalServiceError) as exc:
                    raise GraphAuthError("authority_unusable", str(exc), self.authority) from None
            return self._app


def _is_microsoft_host(authority: str) -> bool:
    return urlparse(authority).hostname in WELL_KNOWN_AUTHORITY_HOSTS
