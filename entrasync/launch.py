"""Start flows from the CLI and the scenario runner, and return the run summary."""

from __future__ import annotations

import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# A first start migrates a fresh SQLite file; on a busy 2-core machine that takes > 20 s.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")


def run_sync(
    tenant: str,
    dry_run: bool = False,
    allow_deactivations: bool = False,
    tenants_file: str | None = None,
) -> dict:
    """One real run of the sync-tenant flow; the summary also for failed or blocked runs."""
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
