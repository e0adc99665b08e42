"""Build the Graph and Emply clients of a run; secrets are resolved here and go nowhere else.

Their waits are the run's: a Retry-After beyond the tenant's cap, or a wait past the run's
deadline, fails the request instead of holding the tenant's slot.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from entrasync.connectors.emply.client import EmplyClient
from entrasync.connectors.graph.client import GraphClient
from entrasync.run.context import RunContext


def graph_client(
    ctx: RunContext, before_request: Callable[[], AbstractContextManager[Any]] | None = None
) -> GraphClient:
    return GraphClient(
        tenant_id=ctx.settings.tenant_id,
        client_id=ctx.settings.client_id,
        client_secret=ctx.settings.credential.resolve(),
        authority_host=ctx.endpoints.authority_host,
        graph_url=ctx.endpoints.graph_url,
        ca_bundle=ctx.endpoints.ca_bundle,
        before_request=before_request,
        retry_after_cap_s=ctx.settings.retry_after_cap_s,
        sleep=ctx.deadline.sleep,
    )


def emply_client(ctx: RunContext) -> EmplyClient:
    return EmplyClient(
        base_url=ctx.endpoints.emply_url,
        customer=ctx.settings.emply.customer,
        api_key=ctx.settings.emply.api_key.resolve(),
        ca_bundle=ctx.endpoints.ca_bundle,
        retry_after_cap_s=ctx.settings.retry_after_cap_s,
        sleep=ctx.deadline.sleep,
    )
