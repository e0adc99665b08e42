"""Where the pipeline talks to (login authority, Graph, Emply, CA bundle): HTTPS only."""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from entrasync.connectors.emply.transport import DEFAULT_EMPLY_URL
from entrasync.connectors.graph.paths import DEFAULT_AUTHORITY_HOST, DEFAULT_GRAPH_URL
from entrasync.errors import SettingsError


@dataclass(frozen=True)
class Endpoints:
    """Where the pipeline talks to; the emulators set these through the environment."""

    authority_host: str
    graph_url: str
    emply_url: str
    ca_bundle: str | None

    @classmethod
    def from_env(cls) -> Endpoints:
        """HTTPS only (the Emply key and bearer tokens travel on every call); another CA only
        through ENTRASYNC_CA_BUNDLE, which must be a readable PEM file."""
        return cls(
            authority_host=_https_url("ENTRASYNC_AUTHORITY_HOST", DEFAULT_AUTHORITY_HOST),
            graph_url=_https_url("ENTRASYNC_GRAPH_URL", DEFAULT_GRAPH_URL),
            emply_url=_https_url("ENTRASYNC_EMPLY_URL", DEFAULT_EMPLY_URL),
            ca_bundle=_ca_bundle("ENTRASYNC_CA_BUNDLE"),
        )


def _https_url(variable: str, default: str) -> str:
    value = os.environ.get(variable, default)
    parts = urlsplit(value)
    if parts.scheme.lower() != "https" or not parts.hostname:
        shown = f"{parts.scheme}://{parts.hostname}" if parts.hostname else repr(value[:40])
        raise SettingsError(
            f"{variable}: {shown} is not an https:// URL (secrets travel on every call: HTTPS only)"
        )
    return value


def _ca_bundle(variable: str) -> str | None:
    path = os.environ.get(variable) or None
    if path is None:
        return None
    try:
        ssl.create_default_context(cafile=path)
    except FileNotFoundError:
        raise SettingsError(f"{variable}: {path}: no such file") from None
    except IsADirectoryError:
        raise SettingsError(f"{variable}: {path}: a folder, not a CA bundle file") from None
    except PermissionError:
        raise SettingsError(f"{variable}: {path}: not readable") from None
    except (OSError, ssl.SSLError) as exc:
        raise SettingsError(f"{variable}: {path}: not a PEM CA bundle ({exc})") from None
    return path
