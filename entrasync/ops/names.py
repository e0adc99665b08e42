"""The names ops see in Prefect: flow-run names, tags, artifact keys and limit names.

A tenant name is a DNS label (`entrasync.tenant_names`), which every one of these accepts as it
is: each name below is the tenant name itself, so two tenants never share one.
"""

from __future__ import annotations

from entrasync.tenant_names import check_tenant_name

SYNC_TENANT_DEPLOYMENT = "sync-tenant/sync-tenant"
RERUN_FAILED_DEPLOYMENT = "rerun-failed-tenants/rerun-failed-tenants"
GRAPH_REQUESTS_LIMIT = "graph-requests"
PIPELINE_TAG = "entrasync"


def tenant_run_name(tenant: str) -> str:
    return f"sync-{check_tenant_name(tenant)}"


def tenant_tag(tenant: str) -> str:
    return f"tenant:{check_tenant_name(tenant)}"


def tenant_artifact_key(tenant: str) -> str:
    """Table artifact of a tenant's runs; the markdown and progress keys extend it."""
    return f"sync-{check_tenant_name(tenant)}"


def tenant_slot_name(tenant: str) -> str:
    """The global concurrency limit (size 1) a tenant's run holds from start to end."""
    return f"sync-tenant:{check_tenant_name(tenant)}"
