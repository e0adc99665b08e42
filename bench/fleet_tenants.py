"""The fleet: N generated tenants of a size mix, seeded on the emulators, one tenants file.

Each tenant is its own Entra tenant id and Emply customer; all share one Graph secret and
one Emply key (one environment variable each, as the worker's environment carries them).
"""

from __future__ import annotations

import random
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.stack_process import StackProcess
from bench.tenant import EMPLY_KEY_ENV, SECRET_ENV, tenants_yaml
from entrasync.emulator_client import StackTenant
from entrasync_emulators.churn import Churn
from entrasync_emulators.generate import TenantShape, generate

# The mix: share of tenants, then their user counts (uniform in the range).
DEFAULT_MIX = "70:50-500,25:500-5000,5:5000-20000"
USER_CHURN = 0.01  # the incremental cycle follows 1 % of users changed ...
MEMBERSHIP_CHURN = 0.005  # ... and 0.5 % of memberships, as bench/run.py's cycles
SEED_THREADS = 4


def fleet_shape(users: int, seed: int) -> TenantShape:
    """bench/run.py's proportions (a group per 50 users, 5 memberships a user) where they fit;
    a small tenant has at least two team groups and as many memberships as they can hold."""
    groups = max(users // 50, 12)
    teams = groups - TenantShape.connected_groups
    memberships = users + min(4 * users, teams * users // 2)
    return TenantShape(users=users, groups=groups, memberships=memberships, seed=seed)


@dataclass(frozen=True)
class FleetTenant:
    name: str
    users: int
    index: int

    @property
    def shape(self) -> TenantShape:
        return fleet_shape(self.users, seed=self.index + 1)

    @property
    def target(self) -> StackTenant:
        return StackTenant(
            tenant_id=f"7d3c0b52-f1ee-4e6f-9c11-{self.index:012d}", customer=self.name,
            client_id="fleet-app", client_secret="", api_key="", domains=(self.shape.domain,),
        )  # fmt: skip


def parse_mix(text: str) -> list[tuple[float, int, int]]:
    """'70:50-500,25:500-5000' -> [(0.70, 50, 500), (0.25, 500, 5000)]."""
    mix = []
    for part in text.split(","):
        share, sizes = part.split(":")
        low, high = sizes.split("-")
        mix.append((float(share) / 100, int(low), int(high)))
    if abs(sum(share for share, _, _ in mix) - 1) > 1e-6:
        raise SystemExit(f"--mix {text!r}: the shares must add up to 100")
    return mix


def fleet(count: int, mix: list[tuple[float, int, int]], seed: int = 12) -> list[FleetTenant]:
    """`count` tenants; each band gets its share (rounded; the largest band takes the rest)."""
    rng = random.Random(seed)
    bands = [round(count * share) for share, _, _ in mix]
    bands[bands.index(max(bands))] += count - sum(bands)
    sizes = [rng.randint(low, high) for n, (_, low, high) in zip(bands, mix, strict=True)
             for _ in range(n)]  # fmt: skip
    rng.shuffle(sizes)  # big and small tenants interleaved in the cycle's order
    return [FleetTenant(f"fleet-{index:04d}", users, index) for index, users in enumerate(sizes)]


def seed_fleet(stack: StackProcess, tenants: list[FleetTenant], work_dir: Path) -> dict[str, Any]:
    """Seed every tenant (both sides reset); (tenants file, env with the shared credentials)."""
    secret, api_key = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    started = time.perf_counter()

    def seed_one(tenant: FleetTenant) -> dict[str, Any]:
        generated = generate(tenant.shape)
        target = StackTenant(**{**tenant.target.__dict__, "client_secret": secret,
                                "api_key": api_key})  # fmt: skip
        stack.control.load_tenant(target, generated)
        return tenants_yaml(tenant.name, target, generated)["tenants"][0]

    with ThreadPoolExecutor(SEED_THREADS) as pool:
        entries = list(pool.map(seed_one, tenants))
    work_dir.mkdir(parents=True, exist_ok=True)
    tenants_file = work_dir / "tenants.yaml"
    tenants_file.write_text(yaml.safe_dump({"tenants": entries}, sort_keys=False))
    env = {SECRET_ENV: secret, EMPLY_KEY_ENV: api_key, "ENTRASYNC_TENANTS_FILE": str(tenants_file)}
    return {"tenants_file": tenants_file, "env": env, "seconds": time.perf_counter() - started,
            "users": sum(t.users for t in tenants)}  # fmt: skip


def churn_fleet(stack: StackProcess, tenants: list[FleetTenant]) -> dict[str, Any]:
    """1 % of each tenant's users and 0.5 % of its memberships changed (at least one each)."""
    started = time.perf_counter()

    def churn_one(tenant: FleetTenant) -> int:
        shape = tenant.shape
        churn = Churn(generate(shape))
        ops = churn.user_ops(max(1, round(shape.users * USER_CHURN)))
        ops += churn.membership_ops(max(1, round(shape.memberships * MEMBERSHIP_CHURN)))
        for op in ops:
            stack.control.graph_op(tenant.target.tenant_id, op["op"], op["args"])
        return len(ops)

    with ThreadPoolExecutor(SEED_THREADS) as pool:
        ops = sum(pool.map(churn_one, tenants))
    return {"ops": ops, "seconds": time.perf_counter() - started}
