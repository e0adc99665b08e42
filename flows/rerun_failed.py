"""Rerun just the tenants whose latest run in the last hours failed, crashed or was blocked."""

from __future__ import annotations

from prefect import flow, runtime, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, State

from entrasync.ops.failed_tenants import TenantToRerun, tenants_to_rerun
from entrasync.settings import default_tenants_file
from entrasync.tenants_file import read_tenants_file
from entrasync.user_error_logs import install_user_error_filter
from flows.sync_all_tenants import report, start_tenant_runs, wait_for_tenant_runs

install_user_error_filter()  # an unusable tenants file is logged as its one line


@task(name="find-failed-tenants", cache_policy=NO_CACHE)
def find_failed_tenants(
    tenants_file: str | None, hours: float, allow_deactivations: bool, only: list[str] | None
) -> list[TenantToRerun]:
    """From each tenant's audit `runs`; deactivations only for blocked ones, only when asked."""
    read = read_tenants_file(tenants_file or default_tenants_file())
    # a tenant whose entry is still invalid reruns too: its run records why it fails again
    named = [*read.tenants, *(entry for entry in read.invalid if entry.name)]
    found = tenants_to_rerun(named, hours, allow_deactivations, only)
    for tenant in found:
        allow = " with allow_deactivations" if tenant.allow_deactivations else ""
        print(f"rerun {tenant.tenant}{allow}: run {tenant.run_id} {tenant.status}: {tenant.error}")
    return found


def rerun_name() -> str:
    return f"rerun-failed-last-{runtime.flow_run.parameters.get('hours', 24):g}h"


@flow(name="rerun-failed-tenants", flow_run_name=rerun_name, log_prints=True)
def rerun_failed_tenants(
    hours: float = 24,
    allow_deactivations: bool = False,
    tenants: list[str] | None = None,
    tenants_file: str | None = None,
    wait_minutes: float = 120,
) -> State:

    found = find_failed_tenants(tenants_file, hours, allow_deactivations, tenants)
    if not found:
        return Completed(message=f"rerun-failed-tenants: no failed tenant in the last {hours:g} h")
    allow_by_tenant = {tenant.tenant: tenant.allow_deactivations for tenant in found}
    rerun = f"rerun-failed/{runtime.flow_run.id}"
    started = start_tenant_runs(allow_by_tenant, rerun, tenants_file)
    return report(wait_for_tenant_runs(started, wait_minutes), "rerun-failed-tenants")
