"""Decisions other stages read, made as views on demand: rules/reads/ (whose calendars, events
and photos extraction reads) and rules/gate/ (what R4 counts), each declared like a rule file."""

from __future__ import annotations

import duckdb

from rules.runner import RULES_DIR, declared, run_rule_file


def make_view(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """Run rules/<name>.sql (e.g. "reads/calendar_users_to_read") on `con`; returns the name of
    the view it makes first."""
    rule = declared(RULES_DIR / f"{name}.sql")
    run_rule_file(con, rule)
    return rule.makes[0]
