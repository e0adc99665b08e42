"""Reading a Graph collection page by page, following `@odata.nextLink` verbatim."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from entrasync.connectors.graph.errors import GraphDataError

FetchPage = Callable[[str, dict[str, Any] | None, dict[str, str] | None], dict[str, Any]]


class PageStream:
    """One Graph collection, read lazily: iterating yields each page's `value` list.

    The first request goes to `path` with `params`; every later one to the previous page's
    `@odata.nextLink` as given (it already carries the query). After the last page,
    `delta_link` holds its `@odata.deltaLink` (delta queries) and `count` the first page's
    `@odata.count`. A failed page raises: the caller never gets a silently short collection.
    """

    def __init__(
        self,
        fetch_page: FetchPage,
        path: str,
        params: dict[str, Any] | None,
        headers: dict[str, str] | None,
    ) -> None:
        self._fetch_page = fetch_page
        self._path = path
        self._params = params
        self._headers = headers
        self.pages_read = 0
        self.count: int | None = None
        self.next_link: str | None = None
        self.delta_link: str | None = None

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        url, params = self._path, self._params
        while url is not None:
            page = self._fetch_page(url, params, self._headers)
            value = page.get("value")
            if not isinstance(value, list):
                raise GraphDataError(f"Graph page of {self._path} has no 'value' list")
            if self.pages_read == 0:
                self.count = page.get("@odata.count")
            self.pages_read += 1
            self.next_link = page.get("@odata.nextLink")
            self.delta_link = page.get("@odata.deltaLink")
            yield value
            url, params = self.next_link, None

    def items(self) -> Iterator[dict[str, Any]]:
        for page in self:
            yield from page
