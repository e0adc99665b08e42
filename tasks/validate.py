"""Validation tasks: Great Expectations suites on the inputs and on the plan."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from entrasync.errors import EntrasyncError
from entrasync.gate import validate_inputs as inputs_suite
from entrasync.gate import validate_plan as plan_suite
from entrasync.gate.r4 import deactivation_block_reason, emptied_read_reason
from entrasync.run.context import RunContext
from entrasync.warehouse.db import connect


class ValidationFailed(EntrasyncError):
    """A suite failed: the run writes nothing (the message names what broke it)."""


@task(name="validate-inputs", cache_policy=NO_CACHE)
def validate_inputs(ctx: RunContext) -> str | None:
    """None when the inputs may be planned; the R4 reason when a read came back emptied (the
    run plans, so the operator can check it, and ends blocked); raises otherwise."""
    with connect(ctx.tenant) as con:
        outcome = inputs_suite(con, ctx.run_id, ctx.allow_deactivations)
    if outcome.success:
        return None
    if outcome.only_emptied_reads:
        return emptied_read_reason(outcome.emptied_reads)
    raise ValidationFailed("validation of the inputs failed: " + "; ".join(outcome.failures))


@task(name="validate-plan", cache_policy=NO_CACHE)
def validate_plan(ctx: RunContext) -> str | None:
    """None when the plan may be written; the R4 reason when it is blocked; raises otherwise."""
    with connect(ctx.tenant) as con:
        outcome = plan_suite(con, ctx.run_id, ctx.settings, ctx.allow_deactivations)
        if outcome.success:
            return None
        if outcome.blocked:
            return deactivation_block_reason(con, ctx.settings)
    raise ValidationFailed("validation of the plan failed: " + "; ".join(outcome.failures))
