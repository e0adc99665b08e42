"""HTTP plumbing both connectors share: which CAs to trust, how long to wait before a retry."""

from __future__ import annotations

import random
import ssl
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

BACKOFF_BASE_S = 0.5


def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """Trust the given CA bundle (the emulators' CA), else the system store."""
    if ca_bundle:
        return ssl.create_default_context(cafile=ca_bundle)
    return ssl.create_default_context()


def retry_after_seconds(headers: httpx.Headers | dict[str, str]) -> float | None:
    """Seconds from a Retry-After header (delta seconds, fractional allowed, or an HTTP date)."""
    raw = _header(headers, "retry-after")
    if raw is None or not raw.strip():
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def backoff_seconds(attempt: int, cap_s: float) -> float:
    """Capped exponential backoff with jitter: half to all of min(cap, base * 2^attempt)."""
    ceiling = min(cap_s, BACKOFF_BASE_S * 2**attempt)
    return random.uniform(ceiling / 2, ceiling)


def _header(headers: httpx.Headers | dict[str, str], name: str) -> str | None:
    if isinstance(headers, httpx.Headers):
        return headers.get(name)
    for key, value in headers.items():
        if key.lower() == name:
            return str(value)
    return None
