"""`python -m bench.fleet`: N tenants through real Prefect workers, two cycles; prints figures.

A real `prefect server start` (SQLite or PostgreSQL), the work pool and prefect.yaml's
deployments (`prefect deploy --all`), K `entrasync worker`s (warm, or cold: a fresh process
per run), the emulators seeded with N tenants of a size mix; then two `sync-all-tenants`
cycles: the initial one, and an incremental one after 1 % churn. See bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.deployments import run_deployment
from prefect.settings import PREFECT_API_URL, temporary_settings

from bench.fleet_cpu import cpu_by_role, machine_cpu_s
from bench.fleet_report import render
from bench.fleet_runs import TenantRun, tenant_runs
from bench.fleet_stack import FleetStack, fleet_stack
from bench.fleet_tenants import DEFAULT_MIX, churn_fleet, fleet, parse_mix, seed_fleet
from bench.run import machine
from bench.stack_process import LATENCY_MS, StackProcess, start_stack
from entrasync.ops.local_prefect import CHECKOUT, POOL

CYCLE_DEPLOYMENT = "sync-all-tenants/sync-all-tenants"
CYCLE_TIMEOUT_S = 4 * 3600
IDLE_WINDOW_S = 20.0


@dataclass
class CycleFigures:
    name: str
    state: str
    message: str
    started_at: float
    ended_at: float
    runs: list[TenantRun]
    cpu_s: Counter  # by role
    machine_cpu_s: float
    tasks_s: dict[str, float] = field(default_factory=dict)  # the cycle flow's own tasks

    @property
    def wall_s(self) -> float:
        return self.ended_at - self.started_at


@dataclass
class ModeResult:
    mode: str
    tenants: int
    users: int
    seed_s: float
    churn: dict
    cycles: list[CycleFigures]
    preload_cpu_s: float | None
    sizes: dict[str, int]  # users per tenant
    idle_cpu_per_s: Counter  # by role, with nothing running: the price of waiting (polls)


def _bench_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cycle_task_seconds(client: SyncPrefectClient, cycle: UUID) -> dict[str, float]:
    tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[cycle])))
    return {task.name.rsplit("-", 1)[0]: task.total_run_time.total_seconds() for task in tasks
            if task.name.startswith(("start-tenant-runs", "wait-for-tenant-runs"))}  # fmt: skip


def run_cycle(
    client: SyncPrefectClient, name: str, fleet_stack: FleetStack, emulators: StackProcess,
    stats: Path,
) -> CycleFigures:  # fmt: skip
    roots = fleet_stack.roots() | {"emulators": [emulators.emulators.process.pid]}
    cpu_before, machine_before, bench_before = cpu_by_role(roots), machine_cpu_s(), _bench_cpu_s()
    started = time.time()
    cycle = run_deployment(CYCLE_DEPLOYMENT, as_subflow=False, timeout=0)
    print(f"[{name}] cycle {cycle.name} started", flush=True)
    deadline = time.monotonic() + CYCLE_TIMEOUT_S
    while not (cycle := client.read_flow_run(cycle.id)).state.is_final():
        if time.monotonic() > deadline:
            raise RuntimeError(f"cycle {cycle.name} still {cycle.state.name} after the timeout")
        time.sleep(2)
    ended = time.time()
    cpu = cpu_by_role(roots)
    cpu.subtract(cpu_before)
    cpu["bench (polling)"] = _bench_cpu_s() - bench_before
    runs = tenant_runs(client, cycle.id, stats)
    print(f"[{name}] {cycle.state.name} in {ended - started:.1f} s: {len(runs)} tenant runs",
          flush=True)  # fmt: skip
    return CycleFigures(name, cycle.state.name, cycle.state.message or "", started, ended, runs,
                        cpu, machine_cpu_s() - machine_before,
                        cycle_task_seconds(client, cycle.id))  # fmt: skip


def idle_cpu(roots: dict[str, list[int]], seconds: float = IDLE_WINDOW_S) -> Counter:
    """CPU per second of each role while no run is due: server services, workers' polls."""
    before = cpu_by_role(roots)
    time.sleep(seconds)
    used = cpu_by_role(roots)
    used.subtract(before)
    return Counter({role: value / seconds for role, value in used.items()})


def set_runs_at_once(client: SyncPrefectClient, runs_at_once: int) -> None:
    """The `tenants` queue's limit: how many tenant runs the workers take at once, together."""
    queue = client.read_work_queue_by_name("tenants", work_pool_name=POOL)
    client.update_work_queue(queue.id, concurrency_limit=runs_at_once)


def preload_cpu(stats: Path) -> float | None:
    import json

    if not stats.exists():
        return None
    lines = [json.loads(line) for line in stats.read_text().splitlines()]
    servers = [line["preload_cpu_s"] for line in lines if line["source"] == "server"]
    return max(servers) if servers else None


def run_mode(args: argparse.Namespace, mode: str, emulators: StackProcess) -> ModeResult:
    work_dir = args.work_dir / f"{mode}-{args.database}"
    shutil.rmtree(work_dir, ignore_errors=True)  # fresh warehouses: the first cycle reads in full
    tenants = fleet(args.tenants, parse_mix(args.mix))
    seeded = seed_fleet(emulators, tenants, work_dir)
    print(f"[{mode}] {len(tenants)} tenants, {seeded['users']:,} users seeded in "
          f"{seeded['seconds']:.1f} s", flush=True)  # fmt: skip
    stats = work_dir / "warm-stats.jsonl"
    with fleet_stack(work_dir, args.database) as stack:
        env = stack.prefect.env(
            ENTRASYNC_CHECKOUT=str(CHECKOUT), ENTRASYNC_DATA_DIR=str(work_dir / "data"),
            ENTRASYNC_WARM_STATS=str(stats), PREFECT_WORKER_QUERY_SECONDS=str(args.poll_seconds),
            PREFECT_WORKER_PREFETCH_SECONDS="10", PREFECT_LOGGING_LEVEL=args.log_level,
            **emulators.env, **seeded["env"],
        )  # fmt: skip
        if args.profile:
            (work_dir / "profiles").mkdir()
            env["ENTRASYNC_WARM_PROFILE"] = str(work_dir / "profiles")
        with temporary_settings({PREFECT_API_URL: stack.prefect.api_url}), \
                get_client(sync_client=True) as client:  # fmt: skip
            set_runs_at_once(client, args.runs_at_once)
            # each worker could take every slot, plus the cycle's own run
            stack.start_workers(client, args.workers, args.runs_at_once + 1, mode == "cold", env)
            print(f"[{mode}] server {stack.prefect.url}, {args.workers} worker(s) online",
                  flush=True)  # fmt: skip
            idle = idle_cpu(stack.roots() | {"emulators": [emulators.emulators.process.pid]})
            cycles = [run_cycle(client, "initial", stack, emulators, stats)]
            churn = churn_fleet(emulators, tenants)
            print(f"[{mode}] churn: {churn['ops']} changes in {churn['seconds']:.1f} s", flush=True)
            cycles.append(run_cycle(client, "incremental", stack, emulators, stats))
    return ModeResult(mode, len(tenants), seeded["users"], seeded["seconds"], churn, cycles,
                      preload_cpu(stats), {t.name: t.users for t in tenants}, idle)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fleet", description=__doc__)
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--mix", default=DEFAULT_MIX,
                        help=f"share:users-users,... (default {DEFAULT_MIX})")  # fmt: skip
    parser.add_argument("--workers", type=int, default=1, help="entrasync worker processes")
    parser.add_argument(
        "--runs-at-once",
        type=int,
        default=6,
        help="the tenants queue's concurrency limit (all workers together)",
    )
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--modes",
        default="warm",
        help="warm, cold or both (warm,cold): how each run's process starts",
    )
    parser.add_argument(
        "--poll-seconds",
        type=float,
        default=2.0,
        help="PREFECT_WORKER_QUERY_SECONDS of the workers",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        help="PREFECT_LOGGING_LEVEL of the runs (what they send to the server)",
    )
    parser.add_argument("--work-dir", type=Path, default=Path("bench/out/fleet"))
    parser.add_argument("--results", type=Path, help="also write the report (markdown) here")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile every run (stats in WORK_DIR/<mode>-<db>/profiles)",
    )
    args = parser.parse_args(argv)
    modes = [mode.strip() for mode in args.modes.split(",")]
    if set(modes) - {"warm", "cold"}:
        parser.error(f"--modes: warm and/or cold, not {args.modes}")
    started = time.perf_counter()
    emulators = start_stack()
    try:
        results = [run_mode(args, mode, emulators) for mode in modes]
    finally:
        emulators.stop()
    command = "python -m bench.fleet " + " ".join(argv if argv is not None else sys.argv[1:])
    report = render(results, args, machine(), datetime.now(UTC), command.strip(),
                    time.perf_counter() - started, LATENCY_MS)  # fmt: skip
    print(report)
    if args.results:
        args.results.write_text(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
