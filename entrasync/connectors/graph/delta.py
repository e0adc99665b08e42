"""Graph delta queries: a round of pages up to its deltaLink, `$deltatoken=latest`, and 410."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from entrasync.connectors.graph.client import GraphClient
from entrasync.connectors.graph.errors import GraphDataError, GraphError
from entrasync.errors import ExtractionError

# Delta pages are sized by preference, not $top (Graph refuses $top on delta).
DELTA_HEADERS = {"Prefer": "odata.maxpagesize=999"}


class DeltaExpired(ExtractionError):
    """Graph answered 410 (syncStateNotFound): the stored deltaLink is gone; read in full."""

    def __init__(self, collection: str, detail: str) -> None:
        self.collection = collection
        self.detail = detail
        super().__init__(f"Graph {collection} delta token expired: {detail}")

    def __reduce__(self):
        return (type(self), (self.collection, self.detail))


def relative_link(client: GraphClient, link: str) -> str:
    """A deltaLink without the Graph base URL, so a stored link survives a changed endpoint."""
    base = client.graph_url
    if not link.startswith(base + "/"):
        raise GraphDataError(f"Graph deltaLink is not under {base}: {link[:120]}")
    return link[len(base) :]


class DeltaRound:
    """One delta round read lazily: iterating yields pages; then `delta_link` is set.

    `start` is a collection path (`/users/delta`, with `params`) or a stored relative deltaLink.
    A 410 anywhere raises DeltaExpired; any other failure raises as for every Graph read.
    """

    def __init__(
        self,
        client: GraphClient,
        collection: str,
        start: str,
        params: dict[str, Any] | None = None,
    ) -> None:
        self._client = client
        self.collection = collection
        self._start = start
        self._params = params
        self.delta_link: str | None = None
        self.pages_read = 0

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        stream = self._client.iter_pages(self._start, self._params, DELTA_HEADERS)
        try:
            for page in stream:
                self.pages_read += 1
                yield page
        except GraphError as error:
            if error.status == 410:
                raise DeltaExpired(self.collection, f"{error.code}: {error.message}") from None
            raise
        if stream.delta_link is None:
            raise GraphDataError(f"Graph {self.collection} delta ended without a deltaLink")
        self.delta_link = relative_link(self._client, stream.delta_link)


def delta_start(collection: str, select: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """The path and query of a delta round from scratch."""
    return f"/{collection}/delta", {"$select": ",".join(select)}


def latest_link(client: GraphClient, collection: str, select: tuple[str, ...]) -> str:
    """A deltaLink that starts now (`$deltatoken=latest`): no objects, one request."""
    path, params = delta_start(collection, select)
    round_ = DeltaRound(client, collection, path, {**params, "$deltatoken": "latest"})
    for page in round_:
        if page:
            raise GraphDataError(f"Graph {collection} delta 'latest' returned objects")
    assert round_.delta_link is not None
    return round_.delta_link
