"""A tenant run told for the Prefect UI: change counts per kind, and the outcome in words."""

from __future__ import annotations

import json
from typing import Any

import duckdb

OUTCOME_COLUMNS = ("applied", "failed", "skipped")
LISTED_ROWS = 20
ACTION = {
    "completed": "Every planned change was applied.",
    "planned": "Dry run: nothing was written.",
    "blocked": (
        "Nothing was written. Check the plan (the deactivations below, `entrasync explain`), then "
        "rerun with deactivations allowed: `entrasync rerun-failed --allow-deactivations "
        "--tenant {tenant}`."
    ),
    "failed": (
        "Fix the cause, then `entrasync rerun-failed --tenant {tenant}`; changes already applied "
        "are not applied twice."
    ),
}


RELEASED = (
    "**Released:** this run had `allow_deactivations=true` (the operator's release, R4): the "
    "deactivation thresholds and the emptied-read checks were not applied."
)


def _released(con: duckdb.DuckDBPyConnection, run_id: str) -> bool:
    row = con.execute("SELECT allow_deactivations FROM runs WHERE run_id = ?", [run_id]).fetchone()
    return bool(row and row[0])


def change_table(outcomes: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """One row per change kind: planned (all), applied, failed, skipped; findings last."""
    kinds = sorted(outcomes, key=lambda kind: (kind == "finding", kind))
    rows = []
    for kind in kinds:
        counts = outcomes[kind]
        row: dict[str, Any] = {"kind": kind, "planned": sum(counts.values())}
        row |= {outcome: counts.get(outcome, 0) for outcome in OUTCOME_COLUMNS}
        rows.append(row)
    if not rows:
        return [{"kind": "(no changes)", "planned": 0} | dict.fromkeys(OUTCOME_COLUMNS, 0)]
    total = {"kind": "total", "planned": sum(r["planned"] for r in rows if r["kind"] != "finding")}
    total |= {outcome: sum(r[outcome] for r in rows) for outcome in OUTCOME_COLUMNS}
    return rows + [total]


def outcome_markdown(con: duckdb.DuckDBPyConnection, summary: dict[str, Any]) -> str:
    """The run in words: status and why, failed writes and checks, review queue, findings."""
    tenant, run_id, status = summary["tenant"], summary["run_id"], summary["status"]
    planned = sum(n for kind, n in summary["changes"].items() if kind != "finding")
    lines = [f"# Tenant {tenant}: {status}", "", f"Run `{run_id}`: {planned} changes planned."]
    if summary.get("error"):
        lines += ["", f"**Why:** {_cell(summary['error'])}"]
    lines += ["", ACTION.get(status, "").format(tenant=tenant)]
    if _released(con, run_id):
        lines += ["", RELEASED]
    lines += _section(
        con,
        "Failed writes",
        "SELECT subject, kind, error FROM changes WHERE run_id = ? AND outcome = 'failed'"
        " ORDER BY kind, subject",
        run_id,
        ("user", "change", "error"),
    )
    lines += _section(
        con,
        "Failed validations",
        "SELECT suite, expectation, unexpected_count, sample FROM validation_results"
        " WHERE run_id = ? AND NOT success ORDER BY suite, expectation",
        run_id,
        ("suite", "expectation", "rows", "examples"),
    )
    if status == "blocked":
        lines += _section(
            con,
            "Deactivations that blocked the run",
            "SELECT subject, rule_id, reason FROM changes WHERE run_id = ?"
            " AND kind = 'deactivate_user' ORDER BY subject",
            run_id,
            ("user", "rule", "reason"),
        )
    lines += _section(
        con,
        "Review queue",
        "SELECT subject, side, array_to_string(candidates, ', '), why FROM review_queue"
        " WHERE run_id = ? ORDER BY subject",
        run_id,
        ("user", "side", "candidates", "why"),
    )
    lines += _section(
        con,
        "Findings",
        "SELECT subject, rule_id, reason FROM changes WHERE run_id = ? AND kind = 'finding'"
        " ORDER BY rule_id, subject",
        run_id,
        ("subject", "rule", "reason"),
    )
    return "\n".join(lines) + "\n"


def _section(
    con: duckdb.DuckDBPyConnection, title: str, sql: str, run_id: str, header: tuple[str, ...]
) -> list[str]:
    count = con.execute(f"SELECT count(*) FROM ({sql})", [run_id]).fetchone()[0]
    lines = ["", f"## {title}: {count}"]
    if not count:
        return lines
    rows = con.execute(f"{sql} LIMIT {LISTED_ROWS}", [run_id]).fetchall()
    lines += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    if count > LISTED_ROWS:
        lines += ["", f"… and {count - LISTED_ROWS} more (the warehouse has them all)."]
    return lines


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text.replace("|", "\\|").replace("\n", " ")[:300]
