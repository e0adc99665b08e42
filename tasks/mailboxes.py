"""Mailbox extraction task: calendars, events and photos (R8, R9) from both sides."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from entrasync.extract.mailboxes import extract_mailboxes as read_mailboxes
from entrasync.run.clients import emply_client, graph_client
from entrasync.run.context import RunContext
from entrasync.warehouse.db import connect
from tasks.concurrency import graph_request_hook


@task(name="extract-mailboxes", cache_policy=NO_CACHE)
def extract_mailboxes(ctx: RunContext) -> dict[str, int]:
    """Runs after both directory reads: it picks the mailboxes from linked users.

    Its tables may empty out legitimately (calendars removed, no photos), so their counts are
    logged, not given to the inputs gate's "had rows before" check.
    """
    with (
        connect(ctx.tenant) as con,
        graph_client(ctx, graph_request_hook()) as graph,
        emply_client(ctx) as emply,
    ):
        counts = read_mailboxes(con, graph, emply, ctx.settings, ctx.run_id)
    get_run_logger().info("mailboxes read: %s", counts)
    return counts
