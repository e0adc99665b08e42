"""Many Graph GETs through $batch: 20 a call, at most 4 per mailbox in a call, pages followed."""

from __future__ import annotations

import base64
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from entrasync.connectors.graph.batch import BATCH_LIMIT
from entrasync.connectors.graph.client import GraphClient
from entrasync.connectors.graph.errors import GraphError, GraphReadError

# Outlook runs at most 4 requests per app and mailbox at once; a batch runs its items together.
MAILBOX_CONCURRENCY = 4


@dataclass(frozen=True)
class Get:
    """One GET to batch: `key` names it for the caller, `mailbox` is the user it reads."""

    key: Hashable
    mailbox: str
    url: str


@dataclass(frozen=True)
class Answer:
    url: str
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def error(self) -> GraphError:
        return GraphError.from_body(self.status, self.body, "GET", self.url)

    def raise_for_failure(self) -> None:
        """A failed read (throttled to the end, 5xx, 403...) stops the run (R4)."""
        if not self.ok:
            error = self.error()
            failure = f"HTTP {self.status} {error.code}: {error.message}".strip()
            raise GraphReadError("GET", self.url, 1, failure)

    def content(self) -> bytes:
        """A binary answer: $batch carries it base64-encoded."""
        if isinstance(self.body, str):
            return base64.b64decode(self.body)
        if isinstance(self.body, bytes | bytearray):
            return bytes(self.body)
        raise GraphReadError("GET", self.url, 1, "binary answer without content")


def mailbox_chunks(gets: list[Get]) -> list[list[Get]]:
    """Calls of at most 20 GETs with at most MAILBOX_CONCURRENCY for any one mailbox."""
    chunks: list[list[Get]] = []
    per_mailbox: list[dict[str, int]] = []
    for get in gets:
        for chunk, counts in zip(chunks, per_mailbox, strict=True):
            if len(chunk) < BATCH_LIMIT and counts.get(get.mailbox, 0) < MAILBOX_CONCURRENCY:
                break
        else:
            chunk, counts = [], {}
            chunks.append(chunk)
            per_mailbox.append(counts)
        chunk.append(get)
        counts[get.mailbox] = counts.get(get.mailbox, 0) + 1
    return chunks


def get_many(
    client: GraphClient, gets: list[Get], headers: dict[str, str] | None = None
) -> dict[Hashable, Answer]:
    """Every GET's answer by key; throttled items are resent alone by the client."""
    answers: dict[Hashable, Answer] = {}
    for chunk in mailbox_chunks(gets):
        extra = {"headers": headers} if headers else {}
        requests = [
            {"id": str(index), "method": "GET", "url": get.url, **extra}
            for index, get in enumerate(chunk)
        ]
        for get, response in zip(chunk, client.batch(requests), strict=True):
            answers[get.key] = Answer(
                get.url, response["status"], response["headers"], response["body"]
            )
    return answers


def all_items(
    client: GraphClient, answer: Answer, headers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The `value` of a collection answer plus the pages after it (read one by one)."""
    body = answer.body if isinstance(answer.body, dict) else {}
    items = body.get("value")
    if not isinstance(items, list):
        raise GraphReadError("GET", answer.url, 1, "collection answer without a 'value' list")
    next_link = body.get("@odata.nextLink")
    if next_link:
        items = [*items, *client.iter_pages(next_link, None, headers).items()]
    return items
