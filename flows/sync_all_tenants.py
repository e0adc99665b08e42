"""Every 30 minutes: one `sync-tenant` deployment run per enabled tenant, all side by side."""

from __future__ import annotations

import time
from dataclasses import asdict
from uuid import UUID

import httpx
from prefect import flow, runtime, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.exceptions import PrefectHTTPStatusError
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
CREATE_ATTEMPTS = 3  # per tenant run, on top of the Prefect client's own retries
CREATE_RETRY_S = 5.0
PAGE = 200  # the API's default page size

install_user_error_filter()  # an unusable tenants file is logged as its one line


@task(name="start-tenant-runs", cache_policy=NO_CACHE)
def start_tenant_runs(
    allow_deactivations_by_tenant: dict[str, bool], cycle: str, tenants_file: str | None
) -> dict[str, UUID | str]:
    """Create one `sync-<tenant>` run per tenant without waiting for any of them.

    A tenant whose run cannot be created (a busy server answering 503 after the client's own
    retries) gets the error instead of a run id, and the others are still started.
    """
    started: dict[str, UUID | str] = {}
    for tenant, allow in allow_deactivations_by_tenant.items():
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            try:
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
                    idempotency_key=idempotency_key(cycle, tenant),  # a retry finds its run
                    timeout=0,
                )
                started[tenant] = child.id
                break
            except (PrefectHTTPStatusError, httpx.HTTPError) as error:
                started[tenant] = f"its run could not be created: {error}"[:500]
                if attempt < CREATE_ATTEMPTS:
                    time.sleep(CREATE_RETRY_S * attempt)
    return started


@task(name="wait-for-tenant-runs", cache_policy=NO_CACHE)
def wait_for_tenant_runs(
    started: dict[str, UUID | str], wait_minutes: float
) -> list[TenantRunResult]:
    """Poll the children until each is final or the wait is over: the unfinished ones only,
    a page of them per request (a fleet's cycle polls hundreds)."""
    deadline = time.monotonic() + wait_minutes * 60
    not_started = {tenant: error for tenant, error in started.items() if isinstance(error, str)}
    started = {tenant: run_id for tenant, run_id in started.items() if tenant not in not_started}
    children: dict[UUID, FlowRun] = {}
    never_run = [
        TenantRunResult(tenant, tenant_run_name(tenant), "", "Not started", "FAILED", error)
        for tenant, error in not_started.items()
    ]
    if not started:
        return never_run
    with get_client(sync_client=True) as client:
        while True:
            waiting = [i for i in started.values() if not _is_final(children.get(i))]
            for page in range(0, len(waiting), PAGE):
                ids = FlowRunFilterId(any_=waiting[page : page + PAGE])
                for child in client.read_flow_runs(flow_run_filter=FlowRunFilter(id=ids)):
                    children[child.id] = child
            final = all(_is_final(children.get(run_id)) for run_id in started.values())
            if final or time.monotonic() > deadline:
                ran = [_result(tenant, children[run_id]) for tenant, run_id in started.items()]
                return ran + never_run
            time.sleep(POLL_S)


def _is_final(child: FlowRun | None) -> bool:
    return bool(child and child.state and child.state.is_final())


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
