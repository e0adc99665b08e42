"""Timestamps and ids in the formats Graph uses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


def utc_now() -> str:
    """Graph's entity timestamp, e.g. 2018-12-22T02:21:05Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def error_date() -> str:
    """The innerError date, e.g. 2025-02-13T10:17:05 (no zone, as Graph writes it)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def new_object_id() -> str:
    return str(uuid.uuid4())
