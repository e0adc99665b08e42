"""Extraction tasks: read one side into the tenant's warehouse."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from entrasync.extract.emply import extract_emply as read_emply
from entrasync.extract.entra import extract_entra as read_entra
from entrasync.run.clients import emply_client, graph_client
from entrasync.run.context import RunContext
from entrasync.warehouse import audit
from entrasync.warehouse.db import connect
from tasks.artifacts import report_extract_progress
from tasks.concurrency import graph_request_hook


@task(name="extract-entra", cache_policy=NO_CACHE)
def extract_entra(ctx: RunContext) -> dict[str, int]:
    with connect(ctx.tenant) as con, graph_client(ctx, graph_request_hook()) as client:
        counts = read_entra(con, client, ctx.settings)
        audit.record_extract_counts(con, ctx.run_id, counts)
    report_extract_progress(ctx, "Entra", _rows(counts))
    return counts


@task(name="extract-emply", cache_policy=NO_CACHE)
def extract_emply(ctx: RunContext) -> dict[str, int]:
    with connect(ctx.tenant) as con, emply_client(ctx) as client:
        counts = read_emply(con, client, ctx.settings)
        audit.record_extract_counts(con, ctx.run_id, counts)
    report_extract_progress(ctx, "Emply", _rows(counts))
    return counts


def _rows(counts: dict[str, int]) -> str:
    return "(" + ", ".join(f"{table} {rows}" for table, rows in counts.items()) + ")"
