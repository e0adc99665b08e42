"""$batch GETs: calls of 20 with at most 4 per mailbox, chunked in linear time, run together."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from entrasync.connectors.graph.batch import BATCH_LIMIT
from entrasync.connectors.graph.mailbox_batch import (
    MAILBOX_CONCURRENCY,
    Get,
    get_many,
    mailbox_chunks,
)


def gets_for(mailboxes: list[str]) -> list[Get]:
    return [
        Get((index, box), box, f"/users/{box}/x/{index}") for index, box in enumerate(mailboxes)
    ]


def assert_within_limits(chunks: list[list[Get]], gets: list[Get]) -> None:
    assert sorted(g.key for c in chunks for g in c) == sorted(g.key for g in gets)
    for chunk in chunks:
        assert 0 < len(chunk) <= BATCH_LIMIT
        assert max(Counter(g.mailbox for g in chunk).values()) <= MAILBOX_CONCURRENCY


def first_fit(gets: list[Get]) -> list[list[Get]]:
    """The quadratic first-fit the linear version must reproduce call for call."""
    chunks: list[list[Get]] = []
    for get in gets:
        for chunk in chunks:
            same = sum(g.mailbox == get.mailbox for g in chunk)
            if len(chunk) < BATCH_LIMIT and same < MAILBOX_CONCURRENCY:
                chunk.append(get)
                break
        else:
            chunks.append([get])
    return chunks


@pytest.mark.parametrize(
    "mailboxes",
    [
        [f"u{i}" for i in range(45)],
        ["a"] * 10 + ["b"] * 3 + [f"u{i}" for i in range(30)] + ["a"] * 7,
        ["a", "b", "c", "d", "e"] * 9 + ["f"] * 13,
        [f"u{(i * 7) % 13}" for i in range(300)],
    ],
)
def test_chunks_are_first_fit_within_both_limits(mailboxes):
    gets = gets_for(mailboxes)
    chunks = mailbox_chunks(gets)
    assert_within_limits(chunks, gets)
    assert [[g.key for g in c] for c in chunks] == [[g.key for g in c] for c in first_fit(gets)]


def test_forty_thousand_gets_chunk_into_the_fewest_calls():
    # one heavy mailbox among many single ones: the shape that made first-fit quadratic
    mailboxes = ["heavy"] * 8_000 + [f"u{i}" for i in range(32_000)]
    gets = gets_for(mailboxes)
    chunks = mailbox_chunks(gets)
    assert_within_limits(chunks, gets)
    # the heavy mailbox needs 2,000 calls (4 each); the others fill them to 20
    assert len(chunks) == 8_000 // MAILBOX_CONCURRENCY
    assert all(len(c) == BATCH_LIMIT for c in chunks)


class RecordingClient:
    """A fake GraphClient: answers each GET with its URL, records the calls in flight."""

    def __init__(self, delay_s: float = 0.02, fail_on: str | None = None) -> None:
        self.delay_s, self.fail_on = delay_s, fail_on
        self.lock = threading.Lock()
        self.calls = self.in_flight = self.most_in_flight = 0
        self.mailbox_in_flight: Counter[str] = Counter()
        self.most_per_mailbox = 0

    def batch(self, requests: list[dict]) -> list[dict]:
        boxes = Counter(r["url"].split("/")[2] for r in requests)
        with self.lock:
            self.calls += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.mailbox_in_flight.update(boxes)
            self.most_per_mailbox = max(self.most_per_mailbox, *self.mailbox_in_flight.values())
        try:
            time.sleep(self.delay_s)
            if self.fail_on and any(r["url"] == self.fail_on for r in requests):
                raise RuntimeError(f"read failed: {self.fail_on}")
            return [
                {"id": r["id"], "status": 200, "headers": {}, "body": {"url": r["url"]}}
                for r in requests
            ]
        finally:
            with self.lock:
                self.in_flight -= 1
                self.mailbox_in_flight.subtract(boxes)


def test_calls_run_together_and_every_answer_lands_on_its_key():
    gets = gets_for([f"u{i}" for i in range(400)])
    client = RecordingClient()
    answers = get_many(client, gets, calls_at_once=8)
    assert {key: a.body["url"] for key, a in answers.items()} == {g.key: g.url for g in gets}
    assert client.calls == 20
    assert 1 < client.most_in_flight <= 8
    assert client.most_per_mailbox == 1


def test_a_busy_mailbox_never_exceeds_its_limit_across_concurrent_calls():
    # "a" has 30 GETs: 8 calls hold 4 of them each; they may not run side by side
    mailboxes = ["a"] * 30 + [f"u{i}" for i in range(150)] + ["b", "b", "b"] * 5
    gets = gets_for(mailboxes)
    client = RecordingClient(delay_s=0.005)
    answers = get_many(client, gets, calls_at_once=8)
    assert {key: a.body["url"] for key, a in answers.items()} == {g.key: g.url for g in gets}
    assert client.most_in_flight > 1
    assert client.most_per_mailbox <= MAILBOX_CONCURRENCY


def test_one_call_at_a_time_when_asked():
    gets = gets_for([f"u{i}" for i in range(100)])
    client = RecordingClient(delay_s=0.001)
    answers = get_many(client, gets, calls_at_once=1)
    assert len(answers) == 100 and client.most_in_flight == 1


def test_a_failed_call_fails_the_read():
    gets = gets_for([f"u{i}" for i in range(200)])
    client = RecordingClient(delay_s=0.001, fail_on=gets[150].url)
    with pytest.raises(RuntimeError, match="read failed"):
        get_many(client, gets, calls_at_once=4)
