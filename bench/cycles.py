"""Sync cycles of the benchmark tenant: the initial one, and incremental ones after churn."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from bench.figures import ReadFigures, directory_requests, read_figures
from bench.stack_process import StackProcess
from bench.tenant import BenchTenant
from bench.worker import Worker
from entrasync_emulators.churn import Churn


@dataclass
class CycleResult:
    """One real run of the sync-tenant flow and what Graph saw of it."""

    name: str
    wall_s: float
    status: str
    changes: dict[str, int]
    tasks: dict[str, float]
    tasks_busy_s: float  # time any task ran: extract-entra and extract-emply overlap
    peak_rss_mib: float
    requests: int  # every Graph request of the run (mailboxes too)
    directory_requests: int  # the Entra directory read's
    resource_units: int
    throttled: int
    read: ReadFigures
    profile: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def run_cycle(
    stack: StackProcess, worker: Worker, tenant: BenchTenant, name: str, profile: bool = False
) -> CycleResult:
    stack.graph_stats(reset=True)  # also refills the RU bucket: runs are 30 minutes apart
    answer = worker.call(
        "sync", tenant=tenant.name, tenants_file=str(tenant.tenants_file),
        allow_deactivations=True, profile=profile,
    )  # fmt: skip
    stats = stack.graph_stats()
    return CycleResult(
        name=name, wall_s=answer["wall_s"], status=answer["status"], changes=answer["changes"],
        tasks=answer["tasks"], tasks_busy_s=answer["tasks_busy_s"],
        peak_rss_mib=answer["peak_rss_mib"], requests=stats["requests"],
        directory_requests=directory_requests(stats), resource_units=stats["resource_units"],
        throttled=stats["throttled"], read=read_figures(tenant.warehouse),
        profile=answer["profile"],
    )  # fmt: skip


def apply_churn(stack: StackProcess, tenant: BenchTenant, churn: Churn, users: int,
                memberships: int) -> dict[str, Any]:  # fmt: skip
    """`users` user changes and `memberships` membership changes, through the control surface."""
    ops = churn.user_ops(users) + churn.membership_ops(memberships)
    started = time.perf_counter()
    for op in ops:
        stack.control.graph_op(tenant.target.tenant_id, op["op"], op["args"])
    return {"ops": len(ops), "user_changes": users, "membership_changes": memberships,
            "seconds": time.perf_counter() - started}  # fmt: skip
