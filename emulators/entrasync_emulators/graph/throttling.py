"""Throttling: Outlook limits per mailbox, and the identity resource-unit bucket per app+tenant."""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass

from entrasync_emulators.graph.config import GraphConfig
from entrasync_emulators.graph.messages import GraphRequest

MAILBOX_ROUTE_MARKERS = ("/calendars", "/calendar", "/events", "/calendarview", "/photo")


@dataclass
class Admission:
    """What a request holds while it runs: a mailbox slot and the RU it was charged."""

    mailbox_key: tuple[str, str, str] | None = None
    resource_units: int = 0


@dataclass
class Refusal:
    """A 429 decision: when to retry and the headers that explain the scope."""

    retry_after: float
    code: str
    message: str
    headers: dict[str, str]


def mailbox_of(request: GraphRequest) -> str | None:
    """The mailbox (user reference) an Outlook route touches; None for directory routes."""
    user = request.path_params.get("user")
    if user is None:
        return None
    template = request.route.lower()
    if not any(marker in template for marker in MAILBOX_ROUTE_MARKERS):
        return None
    tenant = request.tenant
    if user in tenant.users:
        return user
    return tenant.upn_index.get(user.lower(), user.lower())


def resource_unit_cost(request: GraphRequest) -> int:
    """Identity base cost of a request (Microsoft's table), $select -1, never below 1."""
    template = request.route
    if request.method != "GET":
        return 1
    if template == "GET /users":
        cost = 2
    elif template.startswith("GET /groups/{id}/transitiveMembers"):
        cost = 5
    elif template.startswith("GET /groups/{id}/members"):
        cost = 3
    else:
        cost = 1
    if request.option("$select") is not None:
        cost -= 1
    return max(cost, 1)


class MailboxLimiter:
    """At most N concurrent requests and M requests per window, per app and mailbox."""

    def __init__(self, config: GraphConfig) -> None:
        self.config = config
        self.in_flight: dict[tuple[str, str, str], int] = {}
        self.recent: dict[tuple[str, str, str], deque[float]] = {}

    def admit(self, key: tuple[str, str, str], now: float) -> Refusal | None:
        window = self.config.mailbox_window_s
        stamps = self.recent.setdefault(key, deque())
        while stamps and stamps[0] <= now - window:
            stamps.popleft()
        scope = f"Mailbox/{key[0]}/{key[2]}"
        if self.in_flight.get(key, 0) >= self.config.mailbox_concurrency:
            return Refusal(
                1.0,
                "ApplicationThrottled",
                "Application is over its MailboxConcurrency limit.",
                {"x-ms-throttle-scope": scope, "x-ms-throttle-information": "ConcurrencyLimit"},
            )
        if len(stamps) >= self.config.mailbox_requests_per_window:
            wait = max(stamps[0] + window - now, 0.001)
            return Refusal(
                math.ceil(wait),
                "ApplicationThrottled",
                "Application is over its request limit for this mailbox.",
                {"x-ms-throttle-scope": scope, "x-ms-throttle-information": "RequestLimit"},
            )
        stamps.append(now)
        self.in_flight[key] = self.in_flight.get(key, 0) + 1
        return None

    def release(self, key: tuple[str, str, str]) -> None:
        remaining = self.in_flight.get(key, 0) - 1
        if remaining > 0:
            self.in_flight[key] = remaining
        else:
            self.in_flight.pop(key, None)


class ResourceUnitBucket:
    """Token bucket of identity resource units per (app, tenant); off when no limit is set."""

    def __init__(self, config: GraphConfig) -> None:
        self.config = config
        self.levels: dict[tuple[str, str], tuple[float, float]] = {}  # key -> (units, at)

    def take(self, key: tuple[str, str], cost: int, now: float) -> Refusal | None:
        capacity = self.config.identity_ru_per_window
        if capacity is None:
            return None
        rate = capacity / max(self.config.identity_window_s, 0.001)
        units, at = self.levels.get(key, (float(capacity), now))
        units = min(float(capacity), units + (now - at) * rate)
        if units < cost:
            self.levels[key] = (units, now)
            wait = (cost - units) / rate
            return Refusal(
                max(round(wait, 3), 0.001),
                "TooManyRequests",
                "Please retry again later.",
                {
                    "x-ms-throttle-scope": f"Tenant_Application/ReadWrite/{key[0]}/{key[1]}",
                    "x-ms-throttle-information": "ResourceUnitLimitExceeded",
                },
            )
        self.levels[key] = (units - cost, now)
        return None

    def reset(self) -> None:
        self.levels.clear()


class Throttles:
    """Both limiters behind one admit/release pair used by the request pipeline."""

    def __init__(self, config: GraphConfig) -> None:
        self.mailboxes = MailboxLimiter(config)
        self.identity = ResourceUnitBucket(config)

    def admit(self, request: GraphRequest) -> Admission | Refusal:
        now = time.monotonic()
        tenant_id = request.tenant.tenant_id
        mailbox = mailbox_of(request)
        if mailbox is not None:
            key = (request.app_id, tenant_id, mailbox)
            refusal = self.mailboxes.admit(key, now)
            return refusal or Admission(mailbox_key=key)
        cost = resource_unit_cost(request)
        refusal = self.identity.take((request.app_id, tenant_id), cost, now)
        return refusal or Admission(resource_units=cost)

    def release(self, admission: Admission) -> None:
        if admission.mailbox_key is not None:
            self.mailboxes.release(admission.mailbox_key)
