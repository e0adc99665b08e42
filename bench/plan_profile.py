"""Where the plan's time goes: each staging view timed once and counted where rules use it."""

from __future__ import annotations

import re
import time
from typing import Any

import duckdb

from rules.runner import rule_paths

_VIEW = re.compile(r"CREATE OR REPLACE TEMP VIEW (\w+)", re.IGNORECASE)
# A rewrite of stg_emply_users measured for the rules' owners: its OR join is a nested loop.
SLOW_JOIN = """LEFT JOIN stg_emply_employees p
       ON p.user_id = u.user_id OR (u.employee_id IS NOT NULL AND p.employee_id = u.employee_id)
QUALIFY row_number() OVER (PARTITION BY u.user_id ORDER BY p.employee_id) = 1;"""
EQUI_JOINS = """LEFT JOIN (
    SELECT user_id, min(employee_id) AS employee_id, arg_min(archived, employee_id) AS archived
    FROM (
        SELECT u.user_id, p.employee_id, p.archived
        FROM emply_users u JOIN stg_emply_employees p ON p.user_id = u.user_id
        UNION ALL
        SELECT u.user_id, p.employee_id, p.archived
        FROM emply_users u JOIN stg_emply_employees p ON p.employee_id = u.employee_id
    ) GROUP BY user_id
) p ON p.user_id = u.user_id
QUALIFY row_number() OVER (PARTITION BY u.user_id ORDER BY p.employee_id) = 1;"""


def staging_views(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """Seconds to evaluate each staging view once, and how often the rule files name it."""
    paths = rule_paths()
    texts = {path: path.read_text() for path in paths}
    views: dict[str, dict[str, Any]] = {}
    for path, text in texts.items():
        if path.parent.name != "staging":
            continue
        con.execute(text)
        for name in _VIEW.findall(text):
            started = time.perf_counter()
            con.execute(f"SELECT count(*) FROM {name}").fetchone()
            uses = sum(len(re.findall(rf"\b{name}\b", t)) for p, t in texts.items() if p != path)
            views[name] = {"seconds": time.perf_counter() - started, "uses": uses}
    return views


def plan_with_equi_joins(con: duckdb.DuckDBPyConnection) -> float | None:
    """Seconds for every rule file with stg_emply_users rewritten (rolled back); None if the
    rules no longer hold the OR join."""
    texts = [path.read_text() for path in rule_paths()]
    if not any(SLOW_JOIN in text for text in texts):
        return None
    con.execute("BEGIN TRANSACTION")
    try:
        started = time.perf_counter()
        con.execute("DELETE FROM planned_changes")
        for text in texts:
            con.execute(text.replace(SLOW_JOIN, EQUI_JOINS))
        return time.perf_counter() - started
    finally:
        con.execute("ROLLBACK")
