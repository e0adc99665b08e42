"""Apply the rule files in order to a tenant's warehouse and produce `planned_changes`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from entrasync.settings import TenantSettings
from entrasync.warehouse.state import record_scope_and_mapping

RULES_DIR = Path(__file__).parent
# One file per rule family, in the order their decisions depend on each other (each file's
# header says which tables it reads, makes and writes; the runner checks them).
RULE_FILES = [
    "link.sql", "create.sql", "status.sql", "roles.sql",
    "pictures.sql", "calendars.sql", "writeback.sql",
]  # fmt: skip
# `-- reads: a, b` in a rule file's leading comment; a list may go on over `--` lines.
HEADER_LINE = re.compile(r"^--\s*(reads|makes|writes):(.*)$|^--\s{2,}(\w.*)$")


class RuleFileError(RuntimeError):
    """A rule file is missing, failed, or does not match what its header declares."""


@dataclass(frozen=True)
class RuleFile:
    """One rule file and what its header declares it reads, makes (temp) and writes."""

    path: Path
    reads: tuple[str, ...]
    makes: tuple[str, ...]
    writes: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.path.parent.name}/{self.path.name}"


def declared(path: Path) -> RuleFile:
    """The header of a rule file: its `-- reads:`, `-- makes:` and `-- writes:` lists."""
    lists: dict[str, list[str]] = {"reads": [], "makes": [], "writes": []}
    current = None
    for line in path.read_text().splitlines():
        if not line.startswith("--"):
            break
        match = HEADER_LINE.match(line)
        if match and match.group(1):
            current = match.group(1)
            text = match.group(2)
        elif match and current:
            text = match.group(3)
        else:
            current = None
            continue
        lists[current] += [name.strip() for name in text.split(",") if name.strip()]
    return RuleFile(path, *(tuple(lists[key]) for key in ("reads", "makes", "writes")))


def rule_files() -> list[RuleFile]:
    """Staging first, then the rules in order; a listed rule file that is missing is an error."""
    missing = [name for name in RULE_FILES if not (RULES_DIR / name).is_file()]
    if missing:
        raise RuleFileError(f"rules/{missing[0]}: rule file missing; the plan cannot be made")
    staging = sorted((RULES_DIR / "staging").glob("*.sql"))
    return [declared(path) for path in staging + [RULES_DIR / name for name in RULE_FILES]]


def _absent(con: duckdb.DuckDBPyConnection, names: tuple[str, ...]) -> list[str]:
    """The names that are neither a table, a view nor a macro on this connection."""
    if not names:
        return []
    known = {
        row[0]
        for row in con.execute(
            "SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views()"
            " UNION SELECT function_name FROM duckdb_functions() WHERE function_type = 'macro'"
        ).fetchall()
    }
    return [name for name in names if name not in known]


def run_rule_file(con: duckdb.DuckDBPyConnection, rule: RuleFile) -> None:
    """Run one rule file after checking that what it reads exists, and that it made its tables."""
    absent = _absent(con, rule.reads + rule.writes)
    if absent:
        raise RuleFileError(
            f"rules/{rule.name}: reads {', '.join(absent)}, which no earlier rule file made"
        )
    try:
        con.execute(rule.path.read_text())
    except duckdb.Error as exc:
        raise RuleFileError(f"rule file {rule.path.name} failed: {exc}") from exc
    absent = _absent(con, rule.makes)
    if absent:
        raise RuleFileError(f"rules/{rule.name}: declares {', '.join(absent)} but did not make it")


def write_run_settings(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    settings: TenantSettings,
    allow_deactivations: bool,
) -> None:
    """The settings of this run as tables the rules join (replaced each run)."""
    con.execute("DELETE FROM run_settings")
    con.execute(
        "INSERT INTO run_settings (run_id, tenant, entra_tenant_id, sync_roles, sync_calendars,"
        " transitive_groups, hybrid, write_update, write_create, write_delete,"
        " max_deactivations, max_deactivation_percent, allow_deactivations)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id, settings.name, settings.tenant_id, settings.sync_roles,
            settings.sync_calendars, settings.transitive_groups, settings.hybrid,
            settings.write.update, settings.write.create, settings.write.delete,
            settings.max_deactivations, settings.max_deactivation_percent, allow_deactivations,
        ],
    )  # fmt: skip
    con.execute("DELETE FROM connected_groups")
    con.executemany(
        "INSERT INTO connected_groups (group_name, role) VALUES (?, ?)",
        [(mapping.group, mapping.role) for mapping in settings.groups],
    )
    con.execute("DELETE FROM settings_domains")
    con.executemany(
        "INSERT INTO settings_domains (domain) VALUES (?)", [(d,) for d in settings.domains]
    )


def apply_rules(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """Run staging and every rule; returns the number of planned changes (findings included)."""
    rules = rule_files()
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM planned_changes")
        con.execute("DELETE FROM review_queue WHERE run_id = ?", [run_id])
        for rule in rules:
            run_rule_file(con, rule)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return con.execute("SELECT count(*) FROM planned_changes").fetchone()[0]


def plan(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    settings: TenantSettings,
    allow_deactivations: bool,
) -> int:
    """The plan of a run: its settings, every rule, and the scope and mapping it planned with.

    The one entry point of planning (the plan task, the rule tests, the delta test, bench).
    """
    write_run_settings(con, run_id, settings, allow_deactivations)
    planned = apply_rules(con, run_id)
    record_scope_and_mapping(con, run_id)
    return planned
