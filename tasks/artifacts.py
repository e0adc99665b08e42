"""What the Prefect UI shows for a tenant run: change table, outcome in words, extract progress."""

from __future__ import annotations

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
from entrasync.sync.context import RunContext
from entrasync.warehouse.db import connect

_progress_ids: dict[str, UUID] = {}  # run id -> its extract progress artifact


@task(name="publish-artifacts", cache_policy=NO_CACHE)
def publish_run_artifacts(ctx: RunContext, summary: dict[str, Any]) -> None:
    """Table `sync-<tenant>` and markdown `sync-<tenant>-outcome`; never fails the run."""
    key = tenant_artifact_key(ctx.tenant)
    _progress_ids.pop(ctx.run_id, None)  # an extraction that failed never reached 100 %
    try:
        create_table_artifact(
            change_table(summary["outcomes"]),
            key=key,
            description=f"Tenant {ctx.tenant}: {summary['status']} — changes per kind and outcome",
        )
        with connect(ctx.tenant) as con:
            markdown = outcome_markdown(con, summary)
        create_markdown_artifact(
            markdown, key=f"{key}-outcome", description=f"Tenant {ctx.tenant}: the run in words"
        )
    except Exception as exc:  # the sync itself is recorded; only its UI summary is missing
        get_run_logger().warning("artifacts for tenant %s not published: %s", ctx.tenant, exc)


def report_extract_progress(ctx: RunContext, percent: float, done: str) -> None:
    """Create or move the run's extract progress artifact; a failure only logs."""
    try:
        artifact_id = _progress_ids.get(ctx.run_id)
        description = f"Tenant {ctx.tenant} extract: {done}"
        if artifact_id is None:
            _progress_ids[ctx.run_id] = create_progress_artifact(
                percent, key=f"{tenant_artifact_key(ctx.tenant)}-extract", description=description
            )
        else:
            update_progress_artifact(artifact_id, percent, description=description)
        if percent >= 100:
            _progress_ids.pop(ctx.run_id, None)
    except Exception as exc:
        get_run_logger().warning("extract progress for tenant %s not shown: %s", ctx.tenant, exc)
