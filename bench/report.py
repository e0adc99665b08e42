"""The benchmark report: each figure against its goal, then where the time went (markdown)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bench.figures import ReadFigures, ru_bound_s
from bench.stack_process import LATENCY_MS, RU_PER_WINDOW

BIG = 100_000
PROFILE_LINES = 45
# #4's rivals of our extraction, as the report names them.
RIVALS = {"baseline": "sequential httpx + pandas", "sdk": "msgraph-sdk page iterator"}
TASK_ORDER = (
    "start-run", "extract-entra", "extract-emply", "extract-mailboxes", "validate-inputs", "plan",
    "validate-plan", "write-emply", "write-entra", "audit", "publish-artifacts",
)  # fmt: skip


def _verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("met" if ok else "**missed**")


def _best(runs: list[dict]) -> dict:
    return min(runs, key=lambda run: run["wall_s"])


def _read_line(label: str, read: ReadFigures, requests: int, ru: int, wall: float) -> str:
    bound = max(read.latency_bound_s(), ru_bound_s(ru))
    return (
        f"| {label} | {read.mode} | {requests} (min {read.minimum_pages}) | "
        f"{ru} (min {read.minimum_ru}) | {wall:.2f} s | {bound:.2f} s "
        f"({read.chain_pages} dependent pages x {LATENCY_MS:.0f} ms; RU {ru_bound_s(ru):.2f} s) | "
        f"{read.sequential_bound_s():.2f} s |"
    )


def _extraction_goal(extraction: dict[str, Any], name: str) -> str:
    """#4: our extraction against one rival (or why that rival did not run)."""
    label = f"| 4 | Entra extraction: ours vs {RIVALS[name]} | "
    if not extraction.get(name):
        return label + f"skipped: {extraction.get(name + '_skipped', 'not run')} | ≥ 3x | — |"
    ours, rival = _best(extraction["ours"]), _best(extraction[name])
    speedup = rival["wall_s"] / ours["wall_s"]
    return (
        label + f"{ours['wall_s']:.2f} s vs {rival['wall_s']:.2f} s = {speedup:.1f}x | ≥ 3x | "
        f"{_verdict(speedup >= 3)} |"
    )


def _goals(scales: list[Any], total_s: float) -> list[str]:
    main = scales[0]
    initial, incremental = main.cycles[0], main.cycles[1]
    big = main.users >= BIG
    lines = [
        "| # | figure | value | goal | verdict |",
        "|---|---|---|---|---|",
        f"| 1 | initial cycle, {main.users:,} users | {initial.wall_s:.1f} s "
        f"({initial.status}) | ≤ 60 s at 100k | "
        f"{_verdict(initial.wall_s <= 60 if big else None)} |",
        f"| 1 | peak RSS of the pipeline process | {initial.peak_rss_mib:.0f} MiB | ≤ 1.5 GiB | "
        f"{_verdict(initial.peak_rss_mib <= 1536)} |",
        f"| 2 | incremental cycle, {main.churn['user_changes']:,} user + "
        f"{main.churn['membership_changes']:,} membership changes | {incremental.wall_s:.1f} s "
        f"({incremental.status}) | ≤ 5 s at 100k | "
        f"{_verdict(incremental.wall_s <= 5 if big else None)} |",
    ]
    if len(scales) > 1:
        small = scales[1].cycles[1]
        ratio = incremental.wall_s / small.wall_s
        lines.append(
            f"| 2 | the same changes on {scales[1].users:,} users | {small.wall_s:.1f} s; "
            f"{main.users:,}/{scales[1].users:,} = {ratio:.2f}x | ≤ 1.5x | "
            f"{_verdict(ratio <= 1.5)} |"
        )
        big_read, small_read = incremental.tasks["extract-entra"], small.tasks["extract-entra"]
        lines.append(
            f"| 2 | of which the Entra delta read (extract-entra), same changes | "
            f"{big_read:.2f} s vs {small_read:.2f} s = {big_read / small_read:.2f}x | ≤ 1.5x | "
            f"{_verdict(big_read / small_read <= 1.5)} |"
        )
        big_calls, small_calls = incremental.directory_requests, small.directory_requests
        lines.append(
            f"| 2 | … the Entra delta read's Graph requests, same changes | {big_calls} vs "
            f"{small_calls} = {big_calls / small_calls:.2f}x | ≤ 1.5x | "
            f"{_verdict(big_calls / small_calls <= 1.5)} |"
        )
    plan = main.plan["wall_s"]
    lines.append(
        f"| 3 | plan stage alone, {main.users:,} users | {plan:.2f} s | ≤ 3 s at 100k | "
        f"{_verdict(plan <= 3 if big else None)} |"
    )
    if main.extraction:
        lines += [_extraction_goal(main.extraction, name) for name in RIVALS]
    if not big:
        lines.append(
            f"| — | the whole `make bench` ({main.users:,} users) | {total_s / 60:.1f} min | "
            f"< 3 min | {_verdict(total_s < 180)} |"
        )
    return lines


def _reads(scales: list[Any]) -> list[str]:
    lines = [
        "| read | mode | Graph requests | RU | wall | lower bound (latency chain, RU) "
        "| one-at-a-time bound |",
        "|---|---|---|---|---|---|---|",
    ]
    for scale in scales:
        for cycle in scale.cycles:
            lines.append(_read_line(
                f"{scale.users:,}: {cycle.name} cycle, Entra read", cycle.read,
                cycle.directory_requests, cycle.resource_units,
                cycle.tasks.get("extract-entra", 0.0),
            ))  # fmt: skip
        for name in ("ours", *RIVALS):
            if scale.extraction.get(name):
                best = _best(scale.extraction[name])
                lines.append(_read_line(
                    f"{scale.users:,}: extraction alone ({name})", scale.cycles[0].read,
                    best["requests"], best["resource_units"], best["wall_s"],
                ))  # fmt: skip
    return lines


def _tasks(scales: list[Any]) -> list[str]:
    cycles = [(scale.users, cycle) for scale in scales for cycle in scale.cycles]
    header = "| task | " + " | ".join(f"{u:,} {c.name}" for u, c in cycles) + " |"
    lines = [header, "|---" * (len(cycles) + 1) + "|"]
    names = [n for n in TASK_ORDER if any(n in c.tasks for _, c in cycles)]
    names += sorted({n for _, c in cycles for n in c.tasks} - set(names))
    for name in names:
        cells = " | ".join(f"{c.tasks.get(name, 0):.2f}" for _, c in cycles)
        lines.append(f"| {name} | {cells} |")
    both = " | ".join(
        f"{max(c.tasks.get('extract-entra', 0), c.tasks.get('extract-emply', 0)):.2f}"
        for _, c in cycles
    )
    lines.append(f"| (extract-entra and extract-emply run at once: the longer) | {both} |")
    overhead = " | ".join(f"{c.wall_s - c.tasks_busy_s:.2f}" for _, c in cycles)
    lines.append(f"| (flow and Prefect between tasks) | {overhead} |")
    walls = " | ".join(f"**{c.wall_s:.2f}**" for _, c in cycles)
    lines.append(f"| **wall** | {walls} |")
    changes = " | ".join(
        ", ".join(f"{k} {n}" for k, n in sorted(c.changes.items())) or "none" for _, c in cycles
    )
    lines.append(f"| planned changes | {changes} |")
    requests = " | ".join(f"{c.requests} ({c.throttled} throttled)" for _, c in cycles)
    lines.append(f"| Graph requests, all | {requests} |")
    return lines


def _plan_profile(scales: list[Any]) -> list[str]:
    lines: list[str] = []
    for scale in scales:
        files = scale.plan.get("files")
        if not files:
            continue
        lines += [
            f"### The plan stage at {scale.users:,} users: seconds per rule file",
            "", "| rule file | seconds |", "|---|---|",
        ]  # fmt: skip
        lines += [f"| {name} | {seconds:.3f} |" for name, seconds in files.items()]
        lines.append("")
    return lines


def _profiles(scales: list[Any]) -> list[str]:
    lines: list[str] = []
    for scale in scales:
        texts = [("plan stage alone", scale.plan.get("profile"))]
        texts += [(f"{cycle.name} cycle", cycle.profile) for cycle in scale.cycles]
        for label, text in texts:
            if text:
                top = "\n".join(text.strip().splitlines()[:PROFILE_LINES])
                lines += [f"### cProfile: {scale.users:,} users, {label}", "```", top, "```", ""]
    return lines


def render(scales: list[Any], machine: dict[str, str], when: datetime, command: str,
           total_s: float) -> str:  # fmt: skip
    main = scales[0]
    seconds = main.tenant.seconds
    lines = [
        f"# Benchmarks ({main.users:,} users)", "",
        f"- date: {when:%Y-%m-%d %H:%M} UTC; command: `{command}` ({total_s / 60:.1f} min)",
        f"- machine: {machine['cpu']}, {machine['memory']}, Python {machine['python']}, "
        f"{machine['os']}; load average at the end {machine['load']}",
        f"- emulators in their own process: {LATENCY_MS:.0f} ms per request, identity budget "
        f"{RU_PER_WINDOW:,} RU / 10 s (Graph's large-tenant limit); pipeline in another process",
        f"- tenant: {main.users:,} users, {main.tenant.generated['shape']['groups']:,} groups, "
        f"{main.tenant.generated['shape']['memberships']:,} memberships; expected first plan "
        f"{main.tenant.generated['expected']}; generated in {seconds['generate']:.1f} s, seeded "
        f"in {seconds['seed']:.1f} s",
        f"- cycles run in a warm pipeline process: its imports ({main.imports_s:.1f} s) and "
        "Prefect's temporary server are paid once before the first measured run",
        "", "## Goals", "", *_goals(scales, total_s),
        "", "## Round trips, RU and wall time against their bounds", "",
        "Minimum requests: ceil(objects / 999) per collection (at least one). Minimum RU: those "
        "pages at Graph's costs with $select. Lower bound: the longest chain of requests that "
        "must follow one another (a nextLink chain; members after the group list) times the "
        "latency, or the RU budget, whichever is larger.", "",
        *_reads(scales),
        "", "## Where the time goes (seconds per Prefect task)", "", *_tasks(scales), "",
        *_plan_profile(scales),
        *_profiles(scales),
    ]  # fmt: skip
    return "\n".join(lines) + "\n"
