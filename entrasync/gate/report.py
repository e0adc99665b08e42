"""`entrasync validation`: the expectations a run's gates broke, read back from the warehouse."""

from __future__ import annotations

import json
from typing import TextIO

import duckdb

from entrasync.errors import EntrasyncError
from entrasync.gate.outcome import ExpectationOutcome


def find_run(con: duckdb.DuckDBPyConnection, run: str | None) -> tuple[str, str, str | None]:
    """(run_id, status, error) of the run named by id or id prefix, else of the latest run."""
    row = con.execute(
        "SELECT run_id, status, error FROM runs"
        " WHERE $run IS NULL OR starts_with(run_id, $run)"
        " ORDER BY started_at DESC LIMIT 1",
        {"run": run},
    ).fetchone()
    if row is None:
        raise EntrasyncError(f"no run {run!r} in this warehouse" if run else "no runs yet")
    return row


def print_validation(con: duckdb.DuckDBPyConnection, run: str | None, out: TextIO) -> int:
    """Print the run's failed expectations, one line each; returns how many failed."""
    run_id, status, error = find_run(con, run)
    rows = con.execute(
        "SELECT suite, expectation, expectation_type, success, element_count, unexpected_count,"
        " sample FROM validation_results WHERE run_id = ?"
        " ORDER BY suite = 'plan', success, expectation",
        [run_id],
    ).fetchall()
    print(f"run {run_id} ({status})" + (f": {error}" if error else ""), file=out)
    if not rows:
        print("  no validation results: the run stopped before its inputs were validated", file=out)
        return 0
    failed = 0
    for suite, words, kind, success, checked, breaking, sample in rows:
        if success:
            continue
        failed += 1
        outcome = ExpectationOutcome(
            key="", expectation=words, expectation_type=kind, success=False,
            element_count=checked, unexpected_count=breaking,
            sample=json.loads(sample) if sample else [],
        )  # fmt: skip
        print(f"  FAILED {outcome.describe(suite)}", file=out)
    suites = sorted({row[0] for row in rows})
    print(f"  {failed} of {len(rows)} expectations failed (suites: {', '.join(suites)})", file=out)
    return failed
