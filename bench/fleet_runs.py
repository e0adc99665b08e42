"""Per tenant run of a cycle: its state times from Prefect and its CPU from the launch stats.

Times: scheduled (created by the cycle) -> pending (a worker took it) -> running (the flow
started) -> final. CPU: the launcher, the child's start (process start and imports when cold,
settings re-read when warm) and the child's engine (the flow run itself), from the JSON lines
that `entrasync.warm` writes when ENTRASYNC_WARM_STATS is set.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import Any
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId
from prefect.client.schemas.objects import FlowRun

PAGE = 200


@dataclass
class TenantRun:
    tenant: str
    state: str
    worker: str
    mode: str
    scheduled_at: float
    pending_at: float | None
    running_at: float | None
    ended_at: float | None
    launched_at: float | None = None  # the launcher process started
    launch_cpu_s: float | None = None  # the launcher process
    start_cpu_s: float | None = None  # the child before the engine: process start + imports
    engine_cpu_s: float | None = None  # the child in Prefect's engine: the flow run
    child_cpu_s: float | None = None  # the child's whole CPU (wait4), for the check
    modules_imported: int | None = None

    @property
    def queued_s(self) -> float | None:
        return _gap(self.scheduled_at, self.pending_at)

    @property
    def starting_s(self) -> float | None:
        return _gap(self.pending_at, self.running_at)

    @property
    def worker_to_launch_s(self) -> float | None:
        return _gap(self.pending_at, self.launched_at)

    @property
    def launch_to_running_s(self) -> float | None:
        return _gap(self.launched_at, self.running_at)

    @property
    def to_running_s(self) -> float | None:
        return _gap(self.scheduled_at, self.running_at)

    @property
    def wall_s(self) -> float | None:
        return _gap(self.running_at, self.ended_at)

    @property
    def cpu_s(self) -> float | None:
        if self.child_cpu_s is None:
            return None
        return (self.launch_cpu_s or 0) + self.child_cpu_s

    @property
    def overhead_cpu_s(self) -> float | None:
        """CPU spent before the flow run's engine started: what a warm start saves."""
        if self.start_cpu_s is None:
            return None
        return (self.launch_cpu_s or 0) + self.start_cpu_s


def _gap(start: float | None, end: float | None) -> float | None:
    return end - start if start is not None and end is not None else None


def read_stats(path: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """flow run id -> {source: line}."""
    by_run: dict[str, dict[str, dict[str, Any]]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            figures = json.loads(line)
            if figures.get("flow_run_id"):
                by_run.setdefault(figures["flow_run_id"], {})[figures["source"]] = figures
    return by_run


def child_runs(client: SyncPrefectClient, parent: UUID) -> list[FlowRun]:
    runs: list[FlowRun] = []
    while True:
        page = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[parent])
            ),
            limit=PAGE, offset=len(runs),
        )  # fmt: skip
        runs += page
        if len(page) < PAGE:
            return runs


def tenant_runs(client: SyncPrefectClient, cycle: UUID, stats_file: Path) -> list[TenantRun]:
    stats = read_stats(stats_file)
    found = []
    for run in child_runs(client, cycle):
        at: dict[str, float] = {}
        for state in client.read_flow_run_states(run.id):  # oldest first
            at.setdefault(state.type.value, state.timestamp.timestamp())
        final = run.state.timestamp.timestamp() if run.state and run.state.is_final() else None
        lines = stats.get(str(run.id), {})
        launch, child = lines.get("launch", {}), lines.get("child", {})
        child_cpu = launch.get("child_cpu") or {}
        found.append(TenantRun(
            tenant=run.parameters.get("tenant", run.name),
            state=run.state.name if run.state else "?",
            worker=launch.get("worker") or "?", mode=launch.get("mode", "?"),
            scheduled_at=at.get("SCHEDULED", run.created.timestamp()),
            pending_at=at.get("PENDING"), running_at=at.get("RUNNING"), ended_at=final,
            launched_at=launch.get("started_at"),
            launch_cpu_s=launch.get("launch_cpu_s"), start_cpu_s=child.get("setup_cpu_s"),
            engine_cpu_s=child.get("engine_cpu_s"),
            child_cpu_s=(child_cpu["user_s"] + child_cpu["system_s"]) if child_cpu else None,
            modules_imported=child.get("modules_imported_by_run"),
        ))  # fmt: skip
    return found


def average(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return mean(present) if present else None


def percentile(values: list[float | None], share: float) -> float | None:
    present = sorted(value for value in values if value is not None)
    if not present:
        return None
    return present[min(len(present) - 1, int(share * len(present)))]


def running_at_once(runs: list[TenantRun], start: float, end: float, step: float = 1.0) -> float:
    """Mean number of tenant runs in Running over [start, end]."""
    spans = [(r.running_at, r.ended_at) for r in runs if r.running_at and r.ended_at]
    samples = [start + step * i for i in range(int((end - start) / step) + 1)]
    if not samples:
        return 0.0
    return mean(sum(1 for s, e in spans if s <= t < e) for t in samples)
