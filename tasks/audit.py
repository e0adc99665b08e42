"""Audit tasks: open and close a run's record, and keep the per-tenant state current."""

from __future__ import annotations

import duckdb
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from entrasync.errors import EntrasyncError
from entrasync.run.context import RunContext
from entrasync.warehouse import audit, history, state
from entrasync.warehouse.db import connect
from entrasync.warehouse.history_chain import newest_link


@task(name="start-run", cache_policy=NO_CACHE)
def start_run(ctx: RunContext) -> None:
    with connect(ctx.tenant) as con:
        audit.start_run(con, ctx.run_id, ctx.tenant, ctx.dry_run, ctx.allow_deactivations)


@task(name="record-refused-run", cache_policy=NO_CACHE)
def record_refused_run(
    tenant: str, run_id: str, dry_run: bool, allow_deactivations: bool, error: str
) -> dict:
    """A run whose tenant entry is invalid: recorded failed with the reason, nothing else done.

    So the UI, the artifacts, the history and `rerun-failed` see it like any failed run.
    """
    with connect(tenant) as con:
        audit.start_run(con, run_id, tenant, dry_run, allow_deactivations)
        audit.finish_run(con, run_id, "failed", error)
        _export_history(con, run_id, tenant)
    return {"tenant": tenant, "run_id": run_id, "status": "failed", "error": error,
            "changes": {}, "outcomes": {}}  # fmt: skip


def _export_history(con: duckdb.DuckDBPyConnection, run_id: str, tenant: str) -> None:
    """The run's history files and their manifest; the manifest's hash is logged off the storage."""
    try:
        history.export_run(con, run_id)
        seq, digest = newest_link(history.audit_dir(), tenant)
        get_run_logger().info("history manifest %d of tenant %s: sha256 %s", seq, tenant, digest)
    except (OSError, duckdb.Error, EntrasyncError) as exc:  # only the history copy is late
        get_run_logger().warning(
            "analyst history not written for run %s (%s); write it later with "
            "`entrasync history export --tenant %s`", run_id, exc, tenant,
        )  # fmt: skip


@task(name="audit", cache_policy=NO_CACHE)
def finish_run(ctx: RunContext, status: str, error: str | None, wrote: bool) -> dict:
    """Close the run: skip what was not written, refresh state, return the run summary.

    State is refreshed only after writes: a run that stopped before had incomplete inputs.
    """
    with connect(ctx.tenant) as con:
        if status != "completed":
            audit.skip_planned(con, ctx.run_id, error or status)
        elif con.execute(
            "SELECT count(*) FROM changes WHERE run_id = ? AND outcome = 'failed'", [ctx.run_id]
        ).fetchone()[0]:
            status, error = "failed", "some writes failed; rerun the tenant"
        if wrote:
            state.refresh_links(con, ctx.run_id)
        audit.finish_run(con, ctx.run_id, status, error)
        _export_history(con, ctx.run_id, ctx.tenant)
        return {
            "tenant": ctx.tenant,
            "run_id": ctx.run_id,
            "status": status,
            "error": error,
            "changes": audit.change_counts(con, ctx.run_id),
            "outcomes": audit.outcome_counts(con, ctx.run_id),
        }
