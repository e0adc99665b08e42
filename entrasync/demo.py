"""The newcomer's demo: emulators on loopback, the demo tenant synced twice, what changed."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import TextIO

import yaml

from entrasync.emulator_client import ControlSurface, EmulatorProcess, StackTenant
from entrasync.settings import data_dir, load_tenants
from entrasync.warehouse.db import warehouse_path
from entrasync.warehouse.history import audit_dir
from entrasync.warehouse.history_views import build_views
from flows.launch import run_sync

DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"
EXAMPLE_QUERY = (
    "SELECT kind, rule_id, count(*) AS changes FROM changes "
    "WHERE outcome = 'applied' GROUP BY ALL ORDER BY changes DESC;"
)
HISTORY_QUERY = (
    "SELECT tenant, date, status, count(*) AS runs, sum(applied) AS applied FROM runs "
    "GROUP BY ALL ORDER BY ALL;"
)


def seed_emulators(control_url: str, ca_file: str, tenants_file: Path) -> dict[str, str]:
    """Reset and seed every demo tenant on both sides; returns the secrets' env vars."""
    seed = yaml.safe_load((DEMO_DIR / "seed.yaml").read_text())
    env: dict[str, str] = {}
    with ControlSurface(control_url, ca_file) as control:
        for tenant in load_tenants(tenants_file):
            target = StackTenant(
                tenant_id=tenant.tenant_id, customer=tenant.emply.customer,
                client_id=tenant.client_id, client_secret=secrets.token_urlsafe(24),
                api_key=secrets.token_urlsafe(24), domains=tuple(tenant.domains),
            )  # fmt: skip
            env[tenant.credential.env] = target.client_secret
            env[tenant.emply.api_key.env] = target.api_key
            control.load_tenant(target, seed)
    return env


def format_counts(first: dict, second: dict) -> str:
    kinds = sorted(set(first["changes"]) | set(second["changes"]))
    lines = [f"{'change kind':<22}{'sync 1':>11}{'sync 2':>11}", "-" * 44]
    lines += [
        f"{kind:<22}{first['changes'].get(kind, 0):>11}{second['changes'].get(kind, 0):>11}"
        for kind in kinds
    ]
    lines.append("-" * 44)
    lines.append(f"{'run status':<22}{first['status']:>11}{second['status']:>11}")
    return "\n".join(lines)


def run_demo(out: TextIO) -> int:
    tenants_file = DEMO_DIR / "tenants.yaml"
    started = time.monotonic()
    with EmulatorProcess() as stack:
        print(f"emulators up: login {stack.login_url}  graph {stack.graph_url}  "
              f"emply {stack.emply_url}", file=out)  # fmt: skip
        os.environ.update(stack.env())
        os.environ.update(seed_emulators(stack.control_url, stack.ca_file, tenants_file))
        for tenant in load_tenants(tenants_file):
            if not tenant.enabled:
                continue
            first = run_sync(tenant.name, tenants_file=str(tenants_file))
            second = run_sync(tenant.name, tenants_file=str(tenants_file))
            print(f"\ntenant {tenant.name}: two syncs\n{format_counts(first, second)}", file=out)
            print(f"\nwarehouse: {warehouse_path(tenant.name)}", file=out)
            print(f'try: uv run entrasync query --tenant {tenant.name} "{EXAMPLE_QUERY}"', file=out)
            real_changes = {k: n for k, n in second["changes"].items() if k != "finding"}
            if first["status"] != "completed" or second["status"] != "completed" or real_changes:
                print(f"demo FAILED: second sync planned {real_changes}", file=out)
                return 1
    print(f"\nanalyst history: {audit_dir()} (Parquet), views in {build_views()}", file=out)
    print(f'try: uv run entrasync query "{HISTORY_QUERY}"', file=out)
    print(f"\ndemo done in {time.monotonic() - started:.1f} s (data in {data_dir()})", file=out)
    return 0
