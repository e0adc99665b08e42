"""Start the sync-tenant flow in this process and return the run summary (CLI, demo, scenarios)."""

from __future__ import annotations

from entrasync.prefect_env import set_prefect_defaults

set_prefect_defaults()


def run_sync(
    tenant: str,
    dry_run: bool = False,
    allow_deactivations: bool = False,
    tenants_file: str | None = None,
) -> dict:
    """One real run of the sync-tenant flow; the summary also for failed or blocked runs."""
    # Imported here: Prefect loads only once a run starts (the demo's own start stays quick).
    from flows.sync_tenant import TenantRunNotCompleted, sync_tenant

    state = sync_tenant(
        tenant=tenant,
        dry_run=dry_run,
        allow_deactivations=allow_deactivations,
        tenants_file=tenants_file,
        return_state=True,
    )
    result = state.result(raise_on_failure=False)
    if isinstance(result, TenantRunNotCompleted):  # failed or blocked: the summary says why
        return result.summary
    if isinstance(result, BaseException):
        raise result
    return result
