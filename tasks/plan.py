"""Planning task: check settings against the inputs, then run the rules."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from entrasync.gate.settings_check import check_settings_against_inputs
from entrasync.run.context import RunContext
from entrasync.warehouse import audit
from entrasync.warehouse.db import connect
from rules.runner import plan as plan_run


@task(name="plan", cache_policy=NO_CACHE)
def plan(ctx: RunContext) -> int:
    """Run every rule; the plan lands in planned_changes and in the run's history."""
    with connect(ctx.tenant) as con:
        check_settings_against_inputs(con, ctx.settings)
        planned = plan_run(con, ctx.run_id, ctx.settings, ctx.allow_deactivations)
        audit.record_plan(con, ctx.run_id)
        return planned
