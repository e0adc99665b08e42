"""Microsoft Graph connector: the client, its errors and the Graph-to-warehouse row mapping."""

from entrasync.connectors.graph.client import GraphClient, PageStream
from entrasync.connectors.graph.errors import (
    GraphAuthError,
    GraphDataError,
    GraphError,
    GraphReadError,
)

__all__ = [
    "GraphAuthError",
    "GraphClient",
    "GraphDataError",
    "GraphError",
    "GraphReadError",
    "PageStream",
]
