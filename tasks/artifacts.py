"""What the Prefect UI shows for a tenant run: change table, outcome in words, extract progress."""

from __future__ import annotations

import threading
from typing import Any
from uuid import UUID

from prefect import get_run_logger, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE

from entrasync.ops.names import tenant_artifact_key
from entrasync.ops.run_report import change_table, outcome_markdown
from entrasync.run.context import RunContext
from entrasync.warehouse.db import connect

EXTRACT_SIDES = ("Entra", "Emply")
_progress_lock = threading.Lock()
_progress_ids: dict[str, UUID] = {}  # run id -> its extract progress artifact
_sides_read: dict[str, dict[str, str]] = {}  # run id -> side -> what was read


@task(name="publish-artifacts", cache_policy=NO_CACHE)
def publish_run_artifacts(summary: dict[str, Any]) -> None:
    """Table `sync-<tenant>` and markdown `sync-<tenant>-outcome`; never fails the run."""
    tenant, run_id = summary["tenant"], summary["run_id"]
    key = tenant_artifact_key(tenant)
    with _progress_lock:  # an extraction that failed never reached 100 %
        _progress_ids.pop(run_id, None)
        _sides_read.pop(run_id, None)
    try:
        create_table_artifact(
            change_table(summary["outcomes"]),
            key=key,
            description=f"Tenant {tenant}: {summary['status']} — changes per kind and outcome",
        )
        with connect(tenant) as con:
            markdown = outcome_markdown(con, summary)
        create_markdown_artifact(
            markdown, key=f"{key}-outcome", description=f"Tenant {tenant}: the run in words"
        )
    except Exception as exc:  # the sync itself is recorded; only its UI summary is missing
        get_run_logger().warning("artifacts for tenant %s not published: %s", tenant, exc)


def report_extract_progress(ctx: RunContext, side: str, done: str) -> None:
    """The run's extract progress artifact: half per side read (Entra, Emply), in any order.

    The two extract tasks run at once, so the artifact is made and moved under a lock.
    A failure only logs."""
    try:
        with _progress_lock:
            sides = _sides_read.setdefault(ctx.run_id, {})
            if side:
                sides[side] = done
            percent = 100 * len(sides) / len(EXTRACT_SIDES)
            read = "; ".join(f"{name} read {rows}" for name, rows in sorted(sides.items()))
            description = f"Tenant {ctx.tenant} extract: {read or 'reading Entra and Emply'}"
            artifact_id = _progress_ids.get(ctx.run_id)
            if artifact_id is None:
                _progress_ids[ctx.run_id] = create_progress_artifact(
                    percent,
                    key=f"{tenant_artifact_key(ctx.tenant)}-extract",
                    description=description,
                )
            else:
                update_progress_artifact(artifact_id, percent, description=description)
            if percent >= 100:
                _progress_ids.pop(ctx.run_id, None)
                _sides_read.pop(ctx.run_id, None)
    except Exception as exc:
        get_run_logger().warning("extract progress for tenant %s not shown: %s", ctx.tenant, exc)
