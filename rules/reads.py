"""What extraction fetches is decided here, in SQL: the views of rules/reads/ name the users
whose calendars, events and photos are read (a superset of what the rules then plan for)."""

from __future__ import annotations

import duckdb

from rules.runner import RULES_DIR, declared, run_rule_file

READS_DIR = RULES_DIR / "reads"


def read_scope(con: duckdb.DuckDBPyConnection, view: str) -> str:
    """Make the temp view `view` of rules/reads/<view>.sql on `con`; returns its name."""
    run_rule_file(con, declared(READS_DIR / f"{view}.sql"))
    return view
