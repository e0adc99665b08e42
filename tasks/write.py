"""Write tasks: apply the plan to Emply (and, per R7, to Entra)."""

from __future__ import annotations

import os

from prefect import task
from prefect.cache_policies import NO_CACHE

from entrasync.run.clients import emply_client
from entrasync.run.context import RunContext
from entrasync.warehouse.db import connect
from entrasync.write.emply import WRITE_WORKERS, write_emply_changes


def _crash_after(limit: int):
    """Test hook (ENTRASYNC_CRASH_AFTER_WRITES=N): kill the process after N writes."""

    def check(written: int) -> None:
        if written >= limit:
            os._exit(86)

    return check


@task(name="write-emply", cache_policy=NO_CACHE)
def write_emply(ctx: RunContext) -> dict[str, int]:
    crash_after = os.environ.get("ENTRASYNC_CRASH_AFTER_WRITES")
    with connect(ctx.tenant) as con, emply_client(ctx) as client:
        return write_emply_changes(
            con,
            client,
            ctx.tenant,
            ctx.run_id,
            on_written=_crash_after(int(crash_after)) if crash_after else None,
            workers=1 if crash_after else WRITE_WORKERS,  # the kill lands after exactly N writes
            deadline=ctx.deadline,
        )
