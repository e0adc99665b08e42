"""Every 30 minutes: one `sync-tenant` deployment run per enabled tenant, all side by side."""

from __future__ import annotations

import time
from dataclasses import asdict
from uuid import UUID

from prefect import flow, runtime, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.states import Completed, Failed, State

from entrasync.ops.cycle import (
    TenantRunResult,
    idempotency_key,
    result_rows,
    tenants_to_start,
    unstartable,
    verdict,
)
from entrasync.ops.names import (
    PIPELINE_TAG,
    SYNC_TENANT_DEPLOYMENT,
    tenant_run_name,
    tenant_tag,
)
from entrasync.settings import default_tenants_file
from entrasync.tenants_file import read_tenants_file
from entrasync.user_error_logs import install_user_error_filter

POLL_S = 2.0

install_user_error_filter()  # an unusable tenants file is logged as its one line


@task(name="start-tenant-runs", cache_policy=NO_CACHE)
def start_tenant_runs(
    allow_deactivations_by_tenant: dict[str, bool], cycle: str, tenants_file: str | None
) -> dict[str, UUID]:
    """Create one `sync-<tenant>` run per tenant without waiting for any of them."""
    started = {}
    for tenant, allow in allow_deactivations_by_tenant.items():
        child = run_deployment(
            SYNC_TENANT_DEPLOYMENT,
            parameters={
                "tenant": tenant,
                "dry_run": False,
                "allow_deactivations": allow,
                "tenants_file": tenants_file,
            },
            flow_run_name=tenant_run_name(tenant),
            tags=[PIPELINE_TAG, tenant_tag(tenant)],
            idempotency_key=idempotency_key(cycle, tenant),
            timeout=0,
        )
        started[tenant] = child.id
    return started


@task(name="wait-for-tenant-runs", cache_policy=NO_CACHE)
def wait_for_tenant_runs(started: dict[str, UUID], wait_minutes: float) -> list[TenantRunResult]:
    """Poll all children together until each is final or the wait is over."""
    deadline = time.monotonic() + wait_minutes * 60
    with get_client(sync_client=True) as client:
        while True:
            children = {tenant: client.read_flow_run(run_id) for tenant, run_id in started.items()}
            final = all(child.state and child.state.is_final() for child in children.values())
            if final or time.monotonic() > deadline:
                return [_result(tenant, child) for tenant, child in children.items()]
            time.sleep(POLL_S)


def _result(tenant: str, child: FlowRun) -> TenantRunResult:
    state = child.state
    return TenantRunResult(
        tenant=tenant,
        flow_run=child.name,
        flow_run_id=str(child.id),
        state=state.name if state else "Unknown",
        state_type=state.type.value if state else "UNKNOWN",
        message=(state.message or "") if state else "",
    )


def report(results: list[TenantRunResult], what: str) -> State:
    """A table of the children, and the parent's state: Failed when any tenant did not complete."""
    ok, message = verdict(results, what)
    create_table_artifact(result_rows(results), key=what, description=message[:500])
    print(message)
    if ok:
        return Completed(message=message, data=[asdict(result) for result in results])
    return Failed(message=message)  # the engine raises a Failed state's data: keep it empty


def cycle_name() -> str:
    return f"cycle-{runtime.flow_run.scheduled_start_time:%Y-%m-%d-%H%M}"


@flow(name="sync-all-tenants", flow_run_name=cycle_name, log_prints=True)
def sync_all_tenants(tenants_file: str | None = None, wait_minutes: float = 120) -> State:
    # one bad entry fails alone: the others run (a file that is no tenants file stops here)
    read = read_tenants_file(tenants_file or default_tenants_file())
    enabled = dict.fromkeys(tenants_to_start(read), False)
    cycle = f"sync-all-tenants/{runtime.flow_run.scheduled_start_time.isoformat()}"
    started = start_tenant_runs(enabled, cycle, tenants_file)
    results = wait_for_tenant_runs(started, wait_minutes) + unstartable(read)
    return report(results, "sync-all-tenants")
