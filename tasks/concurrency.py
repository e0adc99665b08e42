"""Limits shared by every worker: one run per tenant at a time, and a cap on Graph requests.

Both live on the Prefect server as global concurrency limits. A run without a server (the CLI,
the demo, scenarios: Prefect's temporary local server) takes neither.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import Any

from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency, rate_limit
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.settings import get_current_settings

from entrasync.ops.names import GRAPH_REQUESTS_LIMIT, tenant_slot_name

TENANT_WAIT_S = 3600
# The slot is leased and renewed while the run lives; a killed worker's slot frees after this.
TENANT_LEASE_S = 300
_told_no_graph_limit: list[bool] = []  # say it once per process, not once per task


def on_prefect_server() -> bool:
    return bool(get_current_settings().api.url)


@contextmanager
def one_run_per_tenant(tenant: str) -> Iterator[None]:
    """Hold the tenant's slot for the whole run: a second run of the tenant waits for it."""
    if not on_prefect_server():
        yield
        return
    name = tenant_slot_name(tenant)
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:  # the tenant's first run on this server
            with suppress(ObjectAlreadyExists):
                limit = GlobalConcurrencyLimitCreate(name=name, limit=1)
                client.create_global_concurrency_limit(limit)
    try:
        with concurrency(
            name,
            occupy=1,
            timeout_seconds=TENANT_WAIT_S,
            lease_duration=TENANT_LEASE_S,
            strict=True,
            raise_on_lease_renewal_failure=False,
        ):
            yield
    except TimeoutError:
        raise RuntimeError(
            f"tenant {tenant}: another run held the tenant's slot {name!r} for "
            f"{TENANT_WAIT_S // 60} minutes; this run did not start"
        ) from None


def graph_request_hook() -> Callable[[], AbstractContextManager[Any]] | None:
    """What the Graph client holds around each request, when the `graph-requests` limit exists.

    A limit with slot decay is a rate (requests per second across workers); without decay it
    caps the requests in flight.
    """
    if not on_prefect_server():
        return None
    with get_client(sync_client=True) as client:
        try:
            limit = client.read_global_concurrency_limit_by_name(GRAPH_REQUESTS_LIMIT)
        except ObjectNotFound:
            if not _told_no_graph_limit:
                _told_no_graph_limit.append(True)
                get_run_logger().info(
                    "no global concurrency limit %r: Graph requests are not capped across "
                    "workers", GRAPH_REQUESTS_LIMIT,
                )  # fmt: skip
            return None
    if limit.slot_decay_per_second:
        return _rate_limited_request
    return _limited_request


@contextmanager
def _rate_limited_request() -> Iterator[None]:
    rate_limit(GRAPH_REQUESTS_LIMIT, occupy=1, strict=True)
    yield


def _limited_request() -> AbstractContextManager[None]:
    return concurrency(GRAPH_REQUESTS_LIMIT, occupy=1, strict=True)
