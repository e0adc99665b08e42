"""Many Graph GETs through $batch: 20 a call, 4 per mailbox, 8 calls at once, pages followed."""

from __future__ import annotations

import base64
from collections import Counter, deque
from collections.abc import Hashable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from entrasync.connectors.graph import paths
from entrasync.connectors.graph.batch import BATCH_LIMIT
from entrasync.connectors.graph.client import GraphClient
from entrasync.connectors.graph.errors import GraphError, GraphReadError

# Outlook runs at most 4 requests per app and mailbox at once; a batch runs its items together.
MAILBOX_CONCURRENCY = 4
# $batch calls in flight at once: each takes a round trip, and Outlook limits mailboxes, not
# calls (the identity RU budget does not count photo and calendar routes).
CALLS_AT_ONCE = 8
# How far down the waiting calls a free thread looks for one whose mailboxes are free.
LOOKAHEAD = 64


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
    """Calls of at most 20 GETs with at most MAILBOX_CONCURRENCY for any one mailbox.

    Each GET goes to the first call with room for it, as before, but in linear time: a call
    that is full, or holds a mailbox's limit, stays so. The search starts after the full calls
    at the front and at the call that took the mailbox's previous GET; the calls it walks past
    hold that mailbox's limit (calls after the first open one only ever took GETs of the at most
    four mailboxes it refused, so they are not full), each passed once.
    """
    chunks: list[list[Get]] = []
    per_mailbox: list[dict[str, int]] = []
    first_open = 0  # every call before it is full
    last_used: dict[str, int] = {}  # mailbox -> the call that took its latest GET
    for get in gets:
        index = max(first_open, last_used.get(get.mailbox, 0))
        while index < len(chunks) and (
            len(chunks[index]) >= BATCH_LIMIT
            or per_mailbox[index].get(get.mailbox, 0) >= MAILBOX_CONCURRENCY
        ):
            index += 1
        if index == len(chunks):
            chunks.append([])
            per_mailbox.append({})
        chunks[index].append(get)
        counts = per_mailbox[index]
        counts[get.mailbox] = counts.get(get.mailbox, 0) + 1
        last_used[get.mailbox] = index
        while first_open < len(chunks) and len(chunks[first_open]) >= BATCH_LIMIT:
            first_open += 1
    return chunks


def get_many(
    client: GraphClient,
    gets: list[Get],
    headers: dict[str, str] | None = None,
    calls_at_once: int = CALLS_AT_ONCE,
) -> dict[Hashable, Answer]:
    """Every GET's answer by key; throttled items are resent alone by the client.

    Up to `calls_at_once` $batch calls run together on threads sharing the client (its token
    source, pacer and HTTP pool are thread-safe). A call starts only while every mailbox in it
    stays within MAILBOX_CONCURRENCY GETs in flight across all running calls, so running calls
    together never trips Outlook's per-mailbox concurrency limit.
    """
    chunks = mailbox_chunks(gets)
    if calls_at_once <= 1 or len(chunks) <= 1:
        answers: dict[Hashable, Answer] = {}
        for chunk in chunks:
            answers.update(_call(client, chunk, headers))
        return answers
    return _calls_together(client, chunks, headers, calls_at_once)


def _calls_together(
    client: GraphClient,
    chunks: list[list[Get]],
    headers: dict[str, str] | None,
    calls_at_once: int,
) -> dict[Hashable, Answer]:
    answers: dict[Hashable, Answer] = {}
    waiting = deque((chunk, Counter(get.mailbox for get in chunk)) for chunk in chunks)
    in_flight: Counter[str] = Counter()
    running: dict[Future, Counter[str]] = {}
    with ThreadPoolExecutor(
        max_workers=min(calls_at_once, len(chunks)), thread_name_prefix="graph-batch"
    ) as pool:
        while waiting or running:
            for chunk, mailboxes in _startable(waiting, in_flight, calls_at_once - len(running)):
                in_flight.update(mailboxes)
                running[pool.submit(_call, client, chunk, headers)] = mailboxes
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                in_flight.subtract(running.pop(future))
                answers.update(future.result())  # the first failure raises (R4)
    return answers


def _startable(
    waiting: deque[tuple[list[Get], Counter[str]]], in_flight: Counter[str], free: int
) -> list[tuple[list[Get], Counter[str]]]:
    """Waiting calls that fit beside the running ones, in order, looking LOOKAHEAD calls ahead.

    With nothing running every call fits (it holds at most MAILBOX_CONCURRENCY per mailbox),
    so the calls always make progress.
    """
    started: list[tuple[list[Get], Counter[str]]] = []
    planned: Counter[str] = Counter(in_flight)
    index = 0
    while free > len(started) and index < min(len(waiting), LOOKAHEAD):
        chunk, mailboxes = waiting[index]
        if all(planned[m] + n <= MAILBOX_CONCURRENCY for m, n in mailboxes.items()):
            planned.update(mailboxes)
            started.append((chunk, mailboxes))
            del waiting[index]
        else:
            index += 1
    return started


def _call(
    client: GraphClient, chunk: list[Get], headers: dict[str, str] | None
) -> dict[Hashable, Answer]:
    extra = {"headers": headers} if headers else {}
    requests = [
        {"id": str(index), "method": "GET", "url": get.url, **extra}
        for index, get in enumerate(chunk)
    ]
    return {
        get.key: Answer(get.url, response["status"], response["headers"], response["body"])
        for get, response in zip(chunk, client.batch(requests), strict=True)
    }


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


# ---- the mailbox reads the sync makes (R8, R9), each answer by its key --------------------------


def calendars(client: GraphClient, users: list[str]) -> dict[Hashable, Answer]:
    """Each user's calendar list (first page), by user id."""
    return get_many(client, [Get(u, u, paths.calendars_url(u)) for u in users])


def calendar_views(
    client: GraphClient, calendars: list[tuple[str, str]], start: str, end: str
) -> dict[Hashable, Answer]:
    """Each (user id, calendar id)'s events between `start` and `end`, times in UTC."""
    gets = [
        Get(
            (user_id, calendar_id),
            user_id,
            paths.calendar_view_url(user_id, calendar_id, start, end),
        )
        for user_id, calendar_id in calendars
    ]
    return get_many(client, gets, paths.UTC_EVENTS)


def all_events(client: GraphClient, answer: Answer) -> list[dict[str, Any]]:
    """The events of a calendar_views answer, later pages included (times in UTC)."""
    return all_items(client, answer, paths.UTC_EVENTS)


def photo_metas(client: GraphClient, users: list[str]) -> dict[Hashable, Answer]:
    """Each user's photo metadata (404: no photo), by user id."""
    return get_many(client, [Get(u, u, paths.photo(u)) for u in users])


def photo_values(client: GraphClient, users: list[str]) -> dict[Hashable, Answer]:
    """Each user's photo bytes, by user id."""
    return get_many(client, [Get(u, u, paths.photo(u, content=True)) for u in users])
