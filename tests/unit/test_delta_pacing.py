"""The client-side RU pacer: Graph's costs, the token bucket, and a 429 holding everyone off."""

from __future__ import annotations

import pytest

from entrasync.connectors.graph.pacing import (
    ResourceUnitPacer,
    identity_budget,
    resource_unit_cost,
)

BASE = "https://graph.example/v1.0"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(
    ("method", "url", "params", "cost"),
    [
        ("GET", f"{BASE}/users", None, 2),
        ("GET", f"{BASE}/users", {"$select": "id"}, 1),
        ("GET", f"{BASE}/users?$select=id&$skiptoken=x", None, 1),
        ("GET", f"{BASE}/groups/g1/members", {"$select": "id"}, 2),
        ("GET", f"{BASE}/groups/g1/members", None, 3),
        ("GET", f"{BASE}/groups/g1/transitiveMembers", None, 5),
        ("GET", f"{BASE}/groups/g1/transitiveMembers?$select=id", None, 4),
        ("GET", f"{BASE}/users/delta?$deltatoken=abc", None, 1),
        ("GET", f"{BASE}/groups", {"$select": "id,displayName"}, 1),
        ("GET", f"{BASE}/users/$count", None, 1),
        ("POST", f"{BASE}/users", None, 1),
        ("GET", f"{BASE}/users/u1/photo", None, 0),
        ("GET", f"{BASE}/users/u1/calendars", None, 0),
    ],
)
def test_costs_follow_graphs_table(method, url, params, cost):
    assert resource_unit_cost(method, url, params) == cost


def test_tenant_size_picks_the_budget():
    assert [identity_budget(n) for n in (10, 49, 50, 499, 500, 100_000)] == [
        3_500, 3_500, 5_000, 5_000, 8_000, 8_000,
    ]  # fmt: skip


def test_bucket_starts_full_then_paces_at_its_rate():
    clock = FakeClock()
    pacer = ResourceUnitPacer(capacity=100, window_s=10, clock=clock, sleep=clock.sleep)
    for _ in range(50):
        pacer.take(2)  # the whole bucket, no wait
    assert clock.slept == []
    pacer.take(5)  # empty: 5 units at 10 units/s
    assert clock.slept == [pytest.approx(0.5)]
    assert pacer.units_taken == 105


def test_spending_never_outruns_the_budget():
    clock = FakeClock()
    pacer = ResourceUnitPacer(capacity=80, window_s=10, clock=clock, sleep=clock.sleep)
    for _ in range(400):
        pacer.take(1)
    # at most a full bucket plus what refilled meanwhile
    assert pacer.units_taken <= 80 + clock.now * 8 + 1e-9


def test_a_429_empties_the_bucket_for_its_retry_after():
    clock = FakeClock()
    pacer = ResourceUnitPacer(capacity=100, window_s=10, clock=clock, sleep=clock.sleep)
    pacer.hold_off(2.0)
    pacer.take(1)
    assert sum(clock.slept) == pytest.approx(2.1)


def test_a_smaller_tier_caps_what_is_left():
    clock = FakeClock()
    pacer = ResourceUnitPacer(capacity=8_000, window_s=10, clock=clock, sleep=clock.sleep)
    pacer.set_capacity(3_500)
    pacer.take(3_500)
    pacer.take(350)
    assert sum(clock.slept) == pytest.approx(1.0)
