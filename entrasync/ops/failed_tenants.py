"""Which tenants to rerun: those whose latest run in a window failed, was blocked or crashed.

Read from each tenant's warehouse `runs` table (the audit), read-only: it also sees runs started
outside Prefect (`entrasync sync`), and a run that was killed shows as still `running`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from entrasync.settings import TenantSettings
from entrasync.tenants_file import InvalidEntry
from entrasync.warehouse.db import warehouse_path

RERUN_STATUSES = ("failed", "blocked")
# Nobody closed a run this old: its process died (one tenant's runs never overlap).
CRASHED_AFTER = timedelta(hours=1)
LOCK_RETRIES = 5


@dataclass(frozen=True)
class TenantToRerun:
    tenant: str
    status: str  # failed, blocked or crashed
    run_id: str
    started_at: datetime
    error: str | None
    allow_deactivations: bool  # only a blocked tenant, only when the operator asked


def latest_run(path: Path, since: datetime) -> tuple | None:
    """(run_id, status, started_at, error) of the newest run started since `since`."""
    for attempt in range(LOCK_RETRIES):
        try:
            with duckdb.connect(str(path), read_only=True) as con:
                return con.execute(
                    "SELECT run_id, status, started_at, error FROM runs WHERE started_at >= ?"
                    " ORDER BY started_at DESC LIMIT 1",
                    [since],
                ).fetchone()
        except duckdb.IOException:  # a run of the tenant holds the file right now
            time.sleep(0.5 * 2**attempt)
    logging.getLogger(__name__).warning("%s is busy (a run writes it); not checked", path)
    return None


def tenants_to_rerun(
    tenants: list[TenantSettings | InvalidEntry],
    hours: float,
    allow_deactivations: bool = False,
    only: list[str] | None = None,
    now: datetime | None = None,
) -> list[TenantToRerun]:
    """Enabled tenants (or just `only`) whose latest run in the last `hours` did not succeed."""
    now = now or datetime.now(UTC)
    since = now - timedelta(hours=hours)
    found = []
    for tenant in tenants:
        if not tenant.name or not tenant.enabled or (only and tenant.name not in only):
            continue
        path = warehouse_path(tenant.name)
        run = latest_run(path, since) if path.exists() else None
        if run is None:
            continue
        run_id, status, started_at, error = run
        if status == "running" and now - started_at > CRASHED_AFTER:
            status, error = "crashed", f"still running after {CRASHED_AFTER}: its process ended"
        if status in (*RERUN_STATUSES, "crashed"):
            allow = allow_deactivations and status == "blocked"
            found.append(TenantToRerun(tenant.name, status, run_id, started_at, error, allow))
    return found
