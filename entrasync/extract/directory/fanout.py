"""Read several page streams at once on a few threads; the calling thread gets the pages."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

Page = list[dict[str, Any]]
Source = Callable[[], Iterable[Page]]
PUT_POLL_S = 0.1


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_DONE = object()


class FanOut:
    """Sources read concurrently by `workers` threads, their pages handed over a bounded queue.

    Only the calling thread touches DuckDB: workers fetch and decode, `pages()` yields
    `(key, page)` as they arrive and `(key, None)` when a source has ended. Sources may be added
    while iterating (a group's members once the group list is known). The first failure
    anywhere stops the others and is raised to the caller: a read is never silently short.
    """

    def __init__(self, workers: int, queue_pages: int = 32) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="graph-read")
        self._queue: queue.Queue[tuple[Hashable, Any]] = queue.Queue(maxsize=queue_pages)
        self._stop = threading.Event()
        self._running = 0

    def __enter__(self) -> FanOut:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def add(self, key: Hashable, source: Source) -> None:
        self._running += 1
        self._pool.submit(self._read, key, source)

    def pages(self) -> Iterator[tuple[Hashable, Page | None]]:
        while self._running:
            key, item = self._queue.get()
            if item is _DONE:
                self._running -= 1
                yield key, None
            elif isinstance(item, _Failed):
                self._stop.set()
                raise item.error
            else:
                yield key, item

    def close(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _put(self, item: tuple[Hashable, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=PUT_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _read(self, key: Hashable, source: Source) -> None:
        try:
            for page in source():
                if not self._put((key, page)):
                    return
        except BaseException as error:  # handed to the caller's thread, raised there
            self._put((key, _Failed(error)))
            return
        self._put((key, _DONE))


def run_together(workers: int, *calls: Callable[[], Any]) -> list[Any]:
    """Run a few independent calls at once; their results in order (the first error raises)."""
    with ThreadPoolExecutor(max_workers=max(min(workers, len(calls)), 1)) as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result() for future in futures]
