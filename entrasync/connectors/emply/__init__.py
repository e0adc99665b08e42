"""Emply connector: the client, its errors and the export-to-warehouse row mapping."""

from entrasync.connectors.emply.client import EmplyClient
from entrasync.connectors.emply.errors import (
    EmplyConflict,
    EmplyError,
    EmplyExportError,
    EmplyUnavailable,
)

__all__ = [
    "EmplyClient",
    "EmplyConflict",
    "EmplyError",
    "EmplyExportError",
    "EmplyUnavailable",
]
