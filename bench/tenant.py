"""The benchmark tenant: generated, seeded into the stack, and described in a tenants file."""

from __future__ import annotations

import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.stack_process import StackProcess
from entrasync.emulator_client import StackTenant
from entrasync.warehouse.paths import warehouse_file
from entrasync_emulators.generate import TenantShape, generate

TENANT = "bench"
ENTRA_TENANT_ID = "7d3c0b52-bench-4e6f-9c11-000000000100"
SECRET_ENV = "ENTRASYNC_BENCH_SECRET"
EMPLY_KEY_ENV = "ENTRASYNC_BENCH_EMPLY_KEY"


def shape_for(users: int, seed: int = 1) -> TenantShape:
    """The issue's proportions: 100k users, 2,000 groups, 500,000 memberships."""
    return TenantShape(users=users, groups=max(users // 50, 11), memberships=users * 5, seed=seed)


@dataclass
class BenchTenant:
    name: str
    tenants_file: Path
    env: dict[str, str]
    generated: dict[str, Any]
    target: StackTenant
    seconds: dict[str, float]

    @property
    def warehouse(self) -> Path:
        return warehouse_file(self.name, Path(self.env["ENTRASYNC_DATA_DIR"]))


def tenants_yaml(name: str, target: StackTenant, generated: dict[str, Any]) -> dict[str, Any]:
    """Deactivations are allowed by the runs; the thresholds stay out of the way (R4)."""
    return {"tenants": [{
        "name": name, "tenant_id": target.tenant_id, "client_id": target.client_id,
        "credential": {"env": SECRET_ENV}, "domains": list(target.domains),
        "groups": generated["groups"], "sync_roles": True, "sync_calendars": False,
        "transitive_groups": False, "hybrid": False,
        "write": {"update": False, "create": False, "delete": False},
        "max_deactivations": generated["shape"]["users"], "max_deactivation_percent": 100,
        "enabled": True,
        "emply": {"customer": target.customer, "api_key": {"env": EMPLY_KEY_ENV}},
    }]}  # fmt: skip


def seed_bench_tenant(
    stack: StackProcess, shape: TenantShape, work_dir: Path, name: str = TENANT
) -> BenchTenant:
    """Generate and load the tenant; a fresh data dir means the first sync reads in full."""
    started = time.perf_counter()
    generated = generate(shape)
    generated_at = time.perf_counter()
    target = StackTenant(
        tenant_id=f"{ENTRA_TENANT_ID}-{name}", customer=name, client_id="bench-app",
        client_secret=secrets.token_urlsafe(24), api_key=secrets.token_urlsafe(24),
        domains=(shape.domain,),
    )  # fmt: skip
    stack.control.load_tenant(target, generated)
    seconds = {"generate": generated_at - started, "seed": time.perf_counter() - generated_at}
    shutil.rmtree(work_dir, ignore_errors=True)  # a fresh warehouse: the first sync reads in full
    work_dir.mkdir(parents=True)
    tenants_file = work_dir / "tenants.yaml"
    tenants_file.write_text(yaml.safe_dump(tenants_yaml(name, target, generated), sort_keys=False))
    env = stack.env | {
        SECRET_ENV: target.client_secret,
        EMPLY_KEY_ENV: target.api_key,
        "ENTRASYNC_DATA_DIR": str(work_dir / "data"),
    }
    return BenchTenant(name, tenants_file, env, generated, target, seconds)
