"""The per-tenant sync: extract → plan → validate → write → audit."""

from __future__ import annotations

import uuid

from prefect import flow, runtime
from prefect.futures import wait
from prefect.states import Completed, Failed, State

from entrasync.endpoints import Endpoints
from entrasync.errors import SettingsError, TenantSettingsError
from entrasync.run.context import RunContext
from entrasync.run.deadline import RunDeadline
from entrasync.settings import default_tenants_file, load_tenant
from entrasync.user_error_logs import install_user_error_filter
from tasks.artifacts import publish_run_artifacts, report_extract_progress
from tasks.audit import finish_run, record_refused_run, start_run
from tasks.concurrency import one_run_per_tenant
from tasks.extract import extract_emply, extract_entra
from tasks.mailboxes import extract_mailboxes
from tasks.plan import plan
from tasks.validate import validate_inputs, validate_plan
from tasks.write import write_emply
from tasks.write_entra import write_entra

install_user_error_filter()  # a bad setting or export is logged as its one line


class TenantRunNotCompleted(Exception):
    """A failed or blocked run's outcome, as the exception its Failed state carries."""

    def __init__(self, summary: dict) -> None:
        super().__init__(f"tenant {summary['tenant']} {summary['status']}: {summary['error']}")
        self.summary = summary


def _run_id() -> str:
    return str(runtime.flow_run.id or uuid.uuid4())


@flow(name="sync-tenant", flow_run_name="sync-{tenant}", log_prints=True)
def sync_tenant(
    tenant: str,
    dry_run: bool = False,
    allow_deactivations: bool = False,
    tenants_file: str | None = None,
) -> State:
    with one_run_per_tenant(tenant):  # on a Prefect server: a second run of the tenant waits
        return _sync(tenant, dry_run, allow_deactivations, tenants_file)


def _sync(tenant: str, dry_run: bool, allow_deactivations: bool, tenants_file: str | None) -> State:
    try:
        settings = load_tenant(tenants_file or default_tenants_file(), tenant)
    except TenantSettingsError as exc:  # its own entry is bad: it fails alone, recorded
        summary = record_refused_run(
            tenant, _run_id(), dry_run, allow_deactivations, f"SettingsError: {exc}"
        )
        publish_run_artifacts(summary)
        return _final_state(summary)
    except SettingsError as exc:  # no such tenant, or no usable file: no warehouse is its
        return _final_state(_unrecorded(tenant, f"SettingsError: {exc}"))
    deadline = RunDeadline.starting_now(settings.run_deadline_minutes)
    ctx = RunContext(
        settings, _run_id(), Endpoints.from_env(), dry_run, allow_deactivations, deadline
    )
    start_run(ctx)
    status, error, wrote = "failed", None, False
    try:
        read_both_sides(ctx)
        extract_mailboxes(ctx)  # R8/R9; with calendar sync off it still reads Emply's
        deadline.check("planning")  # a safe point: nothing planned, nothing written
        emptied = validate_inputs(ctx)  # R4: a read emptied since the last run holds the run
        plan(ctx)
        blocked = "; ".join(filter(None, [emptied, validate_plan(ctx)])) or None
        if dry_run:
            status, error = "planned", blocked
        elif blocked:
            status, error = "blocked", blocked
        else:
            deadline.check("writing")
            wrote = True
            write_emply(ctx)  # between two writes is a safe point too
            deadline.check("writing to Entra")
            write_entra(ctx)  # R7 and Emply-made events (R9)
            status = "completed"
    except Exception as exc:  # the run is recorded as failed with the reason, then reported
        error = f"{type(exc).__name__}: {exc}"
    summary = finish_run(ctx, status, error, wrote)
    publish_run_artifacts(summary)
    return _final_state(summary)


def _unrecorded(tenant: str, error: str) -> dict:
    """The summary of a run that could not be tied to a tenant's warehouse."""
    return {"tenant": tenant, "run_id": _run_id(), "status": "failed", "error": error,
            "changes": {}, "outcomes": {}}  # fmt: skip


def read_both_sides(ctx: RunContext) -> None:
    """Entra and Emply are read at once (each into its own tables); both end before a raise."""
    report_extract_progress(ctx, "", "")
    reads = [extract_entra.submit(ctx), extract_emply.submit(ctx)]
    wait(reads)
    for read in reads:
        read.result()  # the Entra failure first when both failed


def _final_state(summary: dict) -> State:
    """The Prefect state ops see: blocked and failed runs are Failed, dry runs 'Planned'."""
    message = summary["error"] or f"{sum(summary['changes'].values())} changes"
    if summary["status"] == "planned" and summary["error"]:
        message = f"dry run; a real run would be blocked: {summary['error']}"
    if summary["status"] == "completed":
        return Completed(message=message, data=summary)
    if summary["status"] == "planned":
        return Completed(name="Planned", message=message, data=summary)
    # a Failed state's data must be an exception: a worker's engine raises it at the end
    failure = TenantRunNotCompleted(summary)
    return Failed(name=summary["status"].capitalize(), message=message, data=failure)
