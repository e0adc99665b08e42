"""Write a suite's outcome to `validation_results`, replacing what the run stored before."""

from __future__ import annotations

import duckdb

from entrasync.gate.outcome import SuiteOutcome


def store_outcome(con: duckdb.DuckDBPyConnection, outcome: SuiteOutcome) -> None:
    """Delete this run's rows of the suite, then insert one row per expectation (rerun-safe)."""
    con.execute(
        "DELETE FROM validation_results WHERE run_id = ? AND suite = ?",
        [outcome.run_id, outcome.suite],
    )
    con.executemany(
        "INSERT INTO validation_results (run_id, suite, expectation, expectation_type, success,"
        " element_count, unexpected_count, sample) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                outcome.run_id, outcome.suite,
                result.expectation if not result.error
                else f"{result.expectation} (could not be checked: {result.error})",
                result.expectation_type, result.success, result.element_count,
                result.unexpected_count, result.sample_json(),
            )
            for result in outcome.results
        ],
    )  # fmt: skip
