"""Client-side pacing of Graph's identity resource units, so a run stays inside its budget."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

# Microsoft's documented identity limits per app and tenant: resource units per 10 seconds by
# tenant size (users), and the base cost of a request.
WINDOW_S = 10.0
TENANT_TIERS: tuple[tuple[int, int], ...] = ((50, 3_500), (500, 5_000))
LARGE_TENANT_RU = 8_000
MAILBOX_MARKERS = ("/calendar", "/events", "/calendarview", "/photo", "/mailfolders")


def identity_budget(users: int) -> int:
    """RU per 10 s for a tenant with this many users (small, medium or large)."""
    for below, budget in TENANT_TIERS:
        if users < below:
            return budget
    return LARGE_TENANT_RU


def resource_unit_cost(method: str, url: str, params: dict | None = None) -> int:
    """The RU a request costs: GET users 2, members 3, transitiveMembers 5, other 1; $select -1.

    Outlook routes (calendars, events, photos) are limited per mailbox instead: they cost 0 here.
    """
    parts = urlsplit(url)
    path = parts.path.rstrip("/").lower()
    if any(marker in path for marker in MAILBOX_MARKERS):
        return 0
    if method != "GET":
        return 1
    if path.endswith("/users"):
        cost = 2
    elif "/transitivemembers" in path:
        cost = 5
    elif "/members" in path and "/groups/" in path:
        cost = 3
    else:
        cost = 1
    options = {key.lower() for key, _ in parse_qsl(parts.query)} | {
        str(key).lower() for key in (params or {})
    }
    if "$select" in options:
        cost -= 1
    return max(cost, 1)


class ResourceUnitPacer:
    """A token bucket shared by one tenant's request threads: `take` waits for enough units.

    It starts full, like Graph's bucket, and refills `capacity` units per `window_s`. A 429
    from Graph means the bucket was emptier than we thought (another run, another tool):
    `hold_off` then empties it, so every thread waits out the Retry-After together.
    """

    def __init__(
        self,
        capacity: int = LARGE_TENANT_RU,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self._window_s = window_s
        self.capacity = capacity
        self._units = float(capacity)
        self._at = clock()
        self.units_taken = 0
        self.waited_s = 0.0

    def set_capacity(self, capacity: int) -> None:
        with self._lock:
            self._refill()
            self._units = min(self._units, float(capacity))
            self.capacity = capacity

    def take(self, cost: int) -> None:
        """Block until `cost` units are available, then spend them."""
        if cost <= 0:
            return
        while True:
            with self._lock:
                self._refill()
                if self._units >= cost:
                    self._units -= cost
                    self.units_taken += cost
                    return
                wait = (cost - self._units) / self._rate
            self.waited_s += wait
            self._sleep(wait)

    def hold_off(self, seconds: float) -> None:
        """Graph said 429: no unit is available for `seconds` (other threads wait too)."""
        with self._lock:
            self._refill()
            self._units = min(self._units, -seconds * self._rate)

    @property
    def _rate(self) -> float:
        return self.capacity / self._window_s

    def _refill(self) -> None:
        now = self._clock()
        self._units = min(float(self.capacity), self._units + (now - self._at) * self._rate)
        self._at = now
