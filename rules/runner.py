"""Apply the rule files in order to a tenant's warehouse and produce `planned_changes`."""

from __future__ import annotations

from pathlib import Path

import duckdb

from entrasync.settings import TenantSettings

RULES_DIR = Path(__file__).parent
# One file per rule family, in the order their decisions depend on each other.
RULE_FILES = [
    "link.sql", "create.sql", "status.sql", "roles.sql",
    "pictures.sql", "calendars.sql", "writeback.sql",
]  # fmt: skip


def rule_paths() -> list[Path]:
    staging = sorted((RULES_DIR / "staging").glob("*.sql"))
    return staging + [RULES_DIR / name for name in RULE_FILES if (RULES_DIR / name).exists()]


def write_run_settings(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    settings: TenantSettings,
    allow_deactivations: bool,
) -> None:
    """The settings of this run as tables the rules join (replaced each run)."""
    con.execute("DELETE FROM run_settings")
    con.execute(
        "INSERT INTO run_settings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id, settings.name, settings.tenant_id, settings.sync_roles,
            settings.sync_calendars, settings.transitive_groups, settings.hybrid,
            settings.write.update, settings.write.create, settings.write.delete,
            settings.max_deactivations, settings.max_deactivation_percent, allow_deactivations,
        ],
    )  # fmt: skip
    con.execute("DELETE FROM connected_groups")
    con.executemany(
        "INSERT INTO connected_groups VALUES (?, ?)",
        [(mapping.group, mapping.role) for mapping in settings.groups],
    )
    con.execute("DELETE FROM settings_domains")
    con.executemany("INSERT INTO settings_domains VALUES (?)", [(d,) for d in settings.domains])


def plan(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """Run staging and every rule; returns the number of planned changes (findings included)."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM planned_changes")
        con.execute("DELETE FROM review_queue WHERE run_id = ?", [run_id])
        for path in rule_paths():
            try:
                con.execute(path.read_text())
            except duckdb.Error as exc:
                raise RuntimeError(f"rule file {path.name} failed: {exc}") from exc
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return con.execute("SELECT count(*) FROM planned_changes").fetchone()[0]
