"""bench/fleet.py's report: the figures the issue asks for, then one line per goal."""

from __future__ import annotations

import argparse
import os
from datetime import datetime
from typing import Any

from bench.fleet_cpu import ROLES
from bench.fleet_runs import average, percentile, running_at_once

GOAL_TENANTS = 500
GOAL_CYCLE_S = 15 * 60
GOAL_WAIT_S = 5 * 60
GOAL_OVERHEAD_S = 1.0
HALF_HOUR_S = 1800


def _s(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _spread(values: list[float | None]) -> str:
    """mean / p95 / max."""
    return " / ".join(_s(f(values)) for f in (average, lambda v: percentile(v, 0.95),
                                               lambda v: percentile(v, 1.0)))  # fmt: skip


def cycle_rows(cycle: Any, cores: int) -> dict[str, str]:
    runs = cycle.runs
    states: dict[str, int] = {}
    for run in runs:
        states[run.state] = states.get(run.state, 0) + 1
    cpu_total = sum(run.cpu_s for run in runs if run.cpu_s is not None)
    per_core = len(runs) * HALF_HOUR_S / (cycle.wall_s * cores) if cycle.wall_s else 0
    per_core_cpu = HALF_HOUR_S / average([r.cpu_s for r in runs]) if cpu_total else None
    return {
        "cycle wall (s)": f"**{cycle.wall_s:.1f}**",
        "cycle state": cycle.state,
        "tenant runs by state": ", ".join(f"{k} {v}" for k, v in sorted(states.items())),
        "creating the runs: start-tenant-runs task (s)": _s(cycle.tasks_s.get("start-tenant-runs")),
        "tenant runs in Running at once (mean)": _s(
            running_at_once(runs, cycle.started_at, cycle.ended_at)),
        "scheduled → running (s): mean / p95 / max": _spread([r.to_running_s for r in runs]),
        "… queued: scheduled → pending (s), mean / p95 / max": _spread([r.queued_s for r in runs]),
        "… starting: pending → running (s), mean / p95 / max": _spread(
            [r.starting_s for r in runs]),
        "… … pending → launcher started (s)": _spread([r.worker_to_launch_s for r in runs]),
        "… … launcher started → running: fork, flow run read, flow loaded (s)": _spread(
            [r.launch_to_running_s for r in runs]),
        "run wall: running → end (s), mean / p95 / max": _spread([r.wall_s for r in runs]),
        "run CPU, all its processes (s): mean / p95 / max": _spread([r.cpu_s for r in runs]),
        "… process start + imports: launcher + child before the engine (s)": _spread(
            [r.overhead_cpu_s for r in runs]),
        "… the flow run in Prefect's engine (s)": _spread([r.engine_cpu_s for r in runs]),
        "modules the run imported itself (mean)": _s(
            average([r.modules_imported for r in runs]), 0),
        "tenant runs per core per 30 min (this cycle's wall)": f"{per_core:.0f}",
        "tenant runs per core per 30 min (run CPU alone)": _s(per_core_cpu, 0),
    }  # fmt: skip


def cpu_rows(cycle: Any, cores: int, idle: Any) -> dict[str, str]:
    budget = cycle.wall_s * cores
    rows = {}
    for role in (*ROLES, "bench (polling)"):
        if cycle.cpu_s.get(role):
            seconds = cycle.cpu_s[role]
            rows[role] = f"{seconds:.1f} s ({100 * seconds / budget:.0f} %)"
    server = cycle.cpu_s.get("prefect server", 0) + cycle.cpu_s.get("postgresql", 0)
    idle_server = (idle.get("prefect server", 0) + idle.get("postgresql", 0)) * cycle.wall_s
    if cycle.runs:
        rows["prefect server (+ postgresql) per tenant run, idle rate taken off"] = (
            f"{(server - idle_server) / len(cycle.runs):.2f} s"
        )
    ours = sum(cycle.cpu_s.values())
    rows["all of the above"] = f"{ours:.1f} s ({100 * ours / budget:.0f} %)"
    others = cycle.machine_cpu_s - ours
    rows["the rest of the machine (other users)"] = (
        f"{others:.1f} s ({100 * others / budget:.0f} %)"
    )
    rows[f"{cores} cores x cycle wall"] = f"{budget:.1f} s"
    return rows


def _table(columns: list[str], rows: dict[str, list[str]]) -> list[str]:
    lines = ["| figure | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    lines += [f"| {name} | " + " | ".join(values) + " |" for name, values in rows.items()]
    return lines


def _merge(per_column: list[dict[str, str]]) -> dict[str, list[str]]:
    names = list(dict.fromkeys(name for column in per_column for name in column))
    return {name: [column.get(name, "—") for column in per_column] for name in names}


def goal_lines(results: list[Any], tenants: int) -> list[str]:
    lines = []
    for result in results:
        initial, incremental = result.cycles
        overhead = [r.overhead_cpu_s for c in result.cycles for r in c.runs]
        mean_overhead, p95 = average(overhead), percentile(overhead, 0.95)
        verdict = (
            "met" if mean_overhead is not None and mean_overhead <= GOAL_OVERHEAD_S else "missed"
        )
        lines.append(
            f"GOAL per-run overhead [{result.mode}]: {_s(mean_overhead)} s CPU mean, "
            f"{_s(p95)} s p95 for process start + imports (goal <= 1 s): {verdict}"
        )
        wait = max((r.to_running_s or 0) for r in incremental.runs)
        at_goal = tenants >= GOAL_TENANTS
        scale = GOAL_TENANTS / tenants
        cycle_verdict = ("met" if incremental.wall_s <= GOAL_CYCLE_S else "missed") if at_goal \
            else f"not judged at {tenants} tenants; linear projection to 500: " \
                 f"{incremental.wall_s * scale / 60:.1f} min"  # fmt: skip
        lines.append(
            f"GOAL incremental cycle [{result.mode}]: {incremental.wall_s / 60:.1f} min "
            f"for {tenants} tenants (goal <= 15 min for 500): {cycle_verdict}"
        )
        wait_verdict = (
            ("met" if wait <= GOAL_WAIT_S else "missed")
            if at_goal
            else f"not judged at {tenants} tenants; linear projection to 500: "
            f"{wait * scale / 60:.1f} min"
        )
        lines.append(
            f"GOAL longest wait to start, incremental [{result.mode}]: {wait / 60:.1f} min"
            f" (goal <= 5 min): {wait_verdict}"
        )
        lines.append(
            f"REPORT initial cycle [{result.mode}]: {initial.wall_s / 60:.1f} min for "
            f"{tenants} tenants ({result.users:,} users), {initial.state}"
        )
    return lines


def render(results: list[Any], args: argparse.Namespace, machine: dict[str, str],
           now: datetime, command: str, seconds: float, latency_ms: float) -> str:  # fmt: skip
    cores = os.cpu_count() or 1
    first = results[0]
    lines = [
        f"## Fleet: {args.tenants} tenants, {args.workers} worker(s), {args.runs_at_once} runs "
        f"at once, {args.database}",
        "",
        f"- date: {now:%Y-%m-%d %H:%M} UTC; command: `{command}` ({seconds / 60:.1f} min)",
        f"- machine: {machine['cpu']}, {machine['memory']}, Python {machine['python']}, "
        f"{machine['os']}; load average at the end {machine['load']}",
        f"- tenants: {first.tenants} (mix {args.mix}), {first.users:,} users, seeded in "
        f"{first.seed_s:.0f} s; emulators in one process, Graph at {latency_ms:.0f} ms a request",
        f"- incremental cycle after {first.churn['ops']:,} changes (1 % of users, 0.5 % of "
        "memberships per tenant)",
        f"- workers poll every {args.poll_seconds:g} s (PREFECT_WORKER_QUERY_SECONDS)",
    ]
    for result in results:
        if result.preload_cpu_s is not None:
            lines.append(f"- {result.mode}: each warm server imported the flows once: "
                         f"{result.preload_cpu_s:.1f} s CPU")  # fmt: skip
    columns = [f"{r.mode} {c.name}" for r in results for c in r.cycles]
    lines += ["", "### Cycles", ""]
    lines += _table(columns, _merge([cycle_rows(c, cores) for r in results for c in r.cycles]))
    lines += ["", "### Where the cycle's CPU goes (seconds; share of all cores over the cycle)", ""]
    lines += _table(
        columns, _merge([cpu_rows(c, cores, r.idle_cpu_per_s) for r in results for c in r.cycles])
    )
    lines += ["", "Idle (nothing due, 20 s before the first cycle), CPU seconds per second: " +
              "; ".join(f"{r.mode}: " + ", ".join(f"{role} {value:.3f}" for role, value in
                                                  sorted(r.idle_cpu_per_s.items()) if value)
                        for r in results)]  # fmt: skip
    if args.workers > 1:
        lines += ["", "### Tenant runs per worker", ""]
        per_worker = []
        for result in results:
            for cycle in result.cycles:
                counts: dict[str, int] = {}
                for run in cycle.runs:
                    counts[run.worker] = counts.get(run.worker, 0) + 1
                per_worker.append({name: str(n) for name, n in sorted(counts.items())})
        lines += _table(columns, _merge(per_worker))
    lines += ["", "### Slowest tenant runs to start (incremental cycle)", "",
              "| mode | tenant | users | state | worker | queued s | starting s | wall s | CPU s "
              "| start + imports CPU s |", "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for result in results:
        runs = sorted(result.cycles[-1].runs, key=lambda r: -(r.to_running_s or 0))[:10]
        for run in runs:
            lines.append(
                f"| {result.mode} | {run.tenant} | {result.sizes.get(run.tenant, '?')} | "
                f"{run.state} | {run.worker} | {_s(run.queued_s)} | {_s(run.starting_s)} | "
                f"{_s(run.wall_s)} | {_s(run.cpu_s)} | {_s(run.overhead_cpu_s)} |")  # fmt: skip
    lines += ["", "### Goals", "", "```", *goal_lines(results, args.tenants), "```"]
    return "\n".join(lines) + "\n"
