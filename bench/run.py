"""`python -m bench.run [--users N]`: the issue-6 benchmarks on the emulators; prints figures."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.cycles import CycleResult, apply_churn, run_cycle
from bench.figures import directory_requests
from bench.report import render
from bench.stack_process import LATENCY_MS, RU_PER_WINDOW, StackProcess, start_stack
from bench.tenant import BenchTenant, seed_bench_tenant, shape_for
from bench.worker import Worker
from entrasync_emulators.churn import Churn

USER_CHURN = 0.01  # the incremental cycle: 1% of users changed ...
MEMBERSHIP_CHURN = 0.005  # ... and 0.5% of memberships
SMALL = 10_000
# #4's contenders and their worker commands: ours, sequential httpx + pandas, msgraph-sdk.
CONTENDERS = {"ours": "extract", "baseline": "baseline", "sdk": "sdk_baseline"}
# The SDK spends ~5 ms of CPU per object deserializing (msgraph-sdk-python#584): one round of
# it at 10k users takes longer than the rest of `make bench`, so it runs in the first only.
ROUNDS = {"sdk": 1}


@dataclass
class ScaleResult:
    users: int
    tenant: BenchTenant
    extraction: dict[str, Any] = field(default_factory=dict)
    cycles: list[CycleResult] = field(default_factory=list)
    churn: dict[str, Any] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)
    imports_s: float = 0.0


# Above this size the SDK's ~3 ms per object (11 minutes at 100k) is measured at 10k only.
SDK_MAX_USERS = SMALL


def _sdk_missing(users: int) -> str | None:
    """Why the msgraph-sdk contender does not run here."""
    if users > SDK_MAX_USERS:
        return (f"not run above {SDK_MAX_USERS:,} users (its cost is per object: see the "
                f"{SDK_MAX_USERS:,}-user report)")  # fmt: skip
    try:
        import msgraph  # noqa: F401
    except ImportError as error:
        return f"msgraph-sdk not installed (uv run --group bench): {error}"
    return None


def _measure(stack: StackProcess, worker: Worker, tenant: BenchTenant, name: str) -> dict:
    """One contender's extraction, with the emulator's request and RU counts of it alone."""
    stack.graph_stats(reset=True)
    kwargs: dict[str, Any] = {"tenant": tenant.name, "tenants_file": str(tenant.tenants_file)}
    if name == "ours":
        kwargs["profile"] = False
    answer = worker.call(CONTENDERS[name], **kwargs)
    stats = stack.graph_stats()
    answer.update(
        client_requests=answer.get("requests"),
        requests=directory_requests(stats),
        resource_units=stats["resource_units"],
        throttled=stats["throttled"],
    )
    return answer


def _check_same_rows(figures: dict[str, Any]) -> None:
    """The SDK must read what the baseline reads, or its time means nothing."""
    expected = figures["baseline"][0]["rows"]
    for run in figures.get("sdk", []):
        if run["rows"] != expected:
            raise RuntimeError(f"msgraph-sdk read {run['rows']}, the baseline {expected}")


def compare_extraction(
    stack: StackProcess, tenant: BenchTenant, users: int, rounds: int = 2
) -> dict:
    """#4: ours, the straightforward way and msgraph-sdk, alternately, on a worker of their own."""
    skipped = _sdk_missing(users)
    names = [name for name in CONTENDERS if not (skipped and name == "sdk")]
    figures: dict[str, Any] = {name: [] for name in names}
    if skipped:
        figures["sdk_skipped"] = skipped
    worker = Worker(tenant.env)
    try:
        for round_ in range(rounds):
            for name in names:
                if round_ < ROUNDS.get(name, rounds):
                    figures[name].append(_measure(stack, worker, tenant, name))
    finally:
        worker.stop()
    _check_same_rows(figures)
    return figures


def run_scale(
    stack: StackProcess, users: int, work_dir: Path, churn_users: int, churn_memberships: int,
    profile: bool, name: str = "bench", compare: bool = True,
) -> ScaleResult:  # fmt: skip
    tenant = seed_bench_tenant(stack, shape_for(users), work_dir / name, name)
    print(f"[{name}] {users} users generated in {tenant.seconds['generate']:.1f} s, seeded in "
          f"{tenant.seconds['seed']:.1f} s", flush=True)  # fmt: skip
    result = ScaleResult(users, tenant)
    if compare:
        result.extraction = compare_extraction(stack, tenant, users)
        rows = {k: v[0]["rows"] for k, v in result.extraction.items() if k in ("baseline", "sdk")}
        print(f"[{name}] extraction compared; rows read: {rows}", flush=True)
    worker = Worker(tenant.env)
    result.imports_s = worker.imports_s
    try:
        result.cycles.append(run_cycle(stack, worker, tenant, "initial"))
        print(f"[{name}] initial cycle {result.cycles[-1].wall_s:.1f} s", flush=True)
        result.plan = worker.call("plan", tenant=name, tenants_file=str(tenant.tenants_file),
                                  profile=profile)  # fmt: skip
        churn = Churn(tenant.generated)
        result.churn = apply_churn(stack, tenant, churn, churn_users, churn_memberships)
        result.cycles.append(run_cycle(stack, worker, tenant, "incremental"))
        print(f"[{name}] incremental cycle {result.cycles[-1].wall_s:.1f} s", flush=True)
        if profile:  # the same changes again, under cProfile
            apply_churn(stack, tenant, churn, churn_users, churn_memberships)
            result.cycles.append(
                run_cycle(stack, worker, tenant, "incremental (profiled)", profile=True)
            )
    finally:
        worker.stop()
    return result


def machine() -> dict[str, str]:
    cpu = "unknown"
    if Path("/proc/cpuinfo").exists():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    if Path("/proc/meminfo").exists():
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return {"cpu": f"{os.cpu_count()} x {cpu}", "memory": memory, "load": load,
            "python": platform.python_version(), "os": platform.platform()}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--users", type=int, default=SMALL, help="tenant size (default 10000)")
    parser.add_argument("--profile", action="store_true", help="cProfile plan and a delta cycle")
    parser.add_argument("--results", type=Path, help="also write the report (markdown) here")
    parser.add_argument("--work-dir", type=Path, default=Path("bench/out"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    stack = start_stack()
    shape = shape_for(args.users)
    churn_users = round(args.users * USER_CHURN)
    churn_memberships = round(shape.memberships * MEMBERSHIP_CHURN)
    print(f"emulators: {LATENCY_MS:.0f} ms latency, {RU_PER_WINDOW} RU / 10 s", flush=True)
    try:
        scales = [run_scale(stack, args.users, args.work_dir, churn_users, churn_memberships,
                            args.profile)]  # fmt: skip
        if args.users > SMALL:  # the same changes on a small tenant: cost follows changes
            scales.append(run_scale(stack, SMALL, args.work_dir, churn_users, churn_memberships,
                                    False, name="bench_small", compare=False))  # fmt: skip
    finally:
        stack.stop()
    command = "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])
    report = render(scales, machine(), datetime.now(UTC), command.strip(),
                    time.perf_counter() - started)  # fmt: skip
    print(report)
    if args.results:
        args.results.write_text(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
