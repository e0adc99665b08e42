"""Entra write task: R7 write-back and R9 Emply-made events, paced to Graph's write budget."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from entrasync.run.clients import emply_client, graph_client
from entrasync.run.context import RunContext
from entrasync.warehouse.db import connect
from entrasync.write.entra import write_entra_changes
from tasks.concurrency import graph_request_hook


@task(name="write-entra", cache_policy=NO_CACHE)
def write_entra(ctx: RunContext) -> dict[str, int]:
    with (
        connect(ctx.tenant) as con,
        graph_client(ctx, graph_request_hook()) as graph,
        emply_client(ctx) as emply,
    ):
        counts = write_entra_changes(
            con, graph, emply, ctx.tenant, ctx.run_id, deadline=ctx.deadline
        )
    get_run_logger().info("Entra writes: %s", counts)
    return counts
