"""Where the plan's time goes: each rule file (staging first) timed once, then rolled back."""

from __future__ import annotations

import time

import duckdb

from rules.runner import rule_files, run_rule_file


def rule_file_seconds(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Seconds per rule file for one plan on this warehouse; nothing it plans is kept."""
    seconds: dict[str, float] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM planned_changes")
        for rule in rule_files():
            started = time.perf_counter()
            run_rule_file(con, rule)
            seconds[rule.name] = time.perf_counter() - started
    finally:
        con.execute("ROLLBACK")
    return seconds
