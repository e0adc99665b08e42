"""The names ops see in Prefect: flow-run names, tags, artifact keys and limit names."""

from __future__ import annotations

import re

SYNC_TENANT_DEPLOYMENT = "sync-tenant/sync-tenant"
RERUN_FAILED_DEPLOYMENT = "rerun-failed-tenants/rerun-failed-tenants"
GRAPH_REQUESTS_LIMIT = "graph-requests"
PIPELINE_TAG = "entrasync"


def key_safe(text: str) -> str:
    """Lowercase letters, digits and single dashes: what Prefect accepts in an artifact key."""
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", text.lower())).strip("-") or "x"


def tenant_run_name(tenant: str) -> str:
    return f"sync-{tenant}"


def tenant_tag(tenant: str) -> str:
    return f"tenant:{tenant}"


def tenant_artifact_key(tenant: str) -> str:
    """Table artifact of a tenant's runs; the markdown and progress keys extend it."""
    return f"sync-{key_safe(tenant)}"


def tenant_slot_name(tenant: str) -> str:
    """The global concurrency limit (size 1) a tenant's run holds from start to end."""
    return "sync-tenant:" + re.sub(r"[/%&<>]", "-", tenant)  # characters Prefect bans in names
