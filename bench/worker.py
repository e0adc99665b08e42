"""The pipeline under measurement, in its own process: syncs, extraction alone, plan alone."""

from __future__ import annotations

import contextlib
import cProfile
import io
import multiprocessing
import os
import pstats
import resource
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _profiled(call: Callable[[], Any], profile: bool) -> tuple[Any, str | None]:
    if not profile:
        return call(), None
    profiler = cProfile.Profile()
    result = profiler.runcall(call)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
    return result, out.getvalue()


def _task_seconds(run_id: str) -> tuple[dict[str, float], float]:
    """Wall time of each task of a flow run, read back from Prefect, and the time any task ran
    (the extract tasks overlap, so their sum is more than the time they took)."""
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(run_id)]))
        )
    seconds: dict[str, float] = {}
    spans = sorted((r.start_time, r.end_time) for r in runs if r.start_time and r.end_time)
    for run in runs:
        if run.start_time and run.end_time:
            name = run.name.rsplit("-", 1)[0]
            seconds[name] = seconds.get(name, 0.0) + (run.end_time - run.start_time).total_seconds()
    busy, reach = 0.0, None
    for start, end in spans:  # the union of the task intervals
        start = max(start, reach) if reach else start
        if end > start:
            busy += (end - start).total_seconds()
            reach = end
    return seconds, busy


def sync(tenant: str, tenants_file: str, allow_deactivations: bool, profile: bool) -> dict:
    from flows.launch import run_sync

    started = time.perf_counter()
    summary, profile_text = _profiled(
        lambda: run_sync(
            tenant, allow_deactivations=allow_deactivations, tenants_file=tenants_file
        ),
        profile,
    )
    wall = time.perf_counter() - started
    tasks, busy = _task_seconds(summary["run_id"])
    return {
        "wall_s": wall, "status": summary["status"], "error": summary["error"],
        "changes": summary["changes"], "outcomes": summary.get("outcomes"),
        "tasks": tasks, "tasks_busy_s": busy, "peak_rss_mib": peak_rss_mib(),
        "profile": profile_text,
    }  # fmt: skip


def extract_only(tenant: str, tenants_file: str, profile: bool, workers: int | None = None) -> dict:
    """Our Entra extraction alone, a full read into a scratch copy of the schema."""
    from entrasync.endpoints import Endpoints
    from entrasync.extract.entra import extract_entra
    from entrasync.run.clients import graph_client
    from entrasync.run.context import RunContext
    from entrasync.settings import data_dir, load_tenant
    from entrasync.warehouse.db import connect

    settings = load_tenant(tenants_file, tenant)
    ctx = RunContext(settings, "bench-extract", Endpoints.from_env())
    path = data_dir() / "bench-extract.duckdb"
    path.unlink(missing_ok=True)
    with connect("bench-extract", path) as con, graph_client(ctx) as client:
        client.count_users()  # the token, so both sides start with one
        started = time.perf_counter()
        counts, profile_text = _profiled(
            lambda: extract_entra(
                con, client, settings, **({"workers": workers} if workers else {})
            ),
            profile,
        )
        wall = time.perf_counter() - started
    return {"wall_s": wall, "rows": counts, "profile": profile_text}


def plan_only(tenant: str, tenants_file: str, profile: bool) -> dict:
    """The plan stage alone (settings check, run settings, every rule) on the synced warehouse."""
    from bench.plan_profile import rule_file_seconds
    from entrasync.gate.settings_check import check_settings_against_inputs
    from entrasync.settings import load_tenant
    from entrasync.warehouse.db import connect
    from rules.runner import plan

    settings = load_tenant(tenants_file, tenant)
    with connect(tenant) as con:

        def run() -> int:
            check_settings_against_inputs(con, settings)
            return plan(con, "bench-plan", settings, True)

        started = time.perf_counter()
        planned, profile_text = _profiled(run, profile)
        wall = time.perf_counter() - started
        files = rule_file_seconds(con)
    return {"wall_s": wall, "planned": planned, "profile": profile_text, "files": files}


def baseline(tenant: str, tenants_file: str) -> dict:
    from bench.baseline import straightforward_extract

    return straightforward_extract(tenant, tenants_file)


def sdk_baseline(tenant: str, tenants_file: str) -> dict:
    from bench.sdk_baseline import sdk_extract  # the `bench` dependency group

    return sdk_extract(tenant, tenants_file)


def _warm_up() -> float:
    """Imports and Prefect's temporary server, which a long-lived worker pays once, not per run.

    Returns the seconds the imports took (a process per run would pay them every time).
    """
    started = time.perf_counter()
    import great_expectations  # noqa: F401
    from prefect import flow

    import flows.sync_tenant  # noqa: F401  (the flow and everything its tasks import)

    imports_s = time.perf_counter() - started

    @flow(name="bench-warm-up")
    def warm_up() -> int:
        return 1

    warm_up()
    return imports_s


COMMANDS: dict[str, Callable[..., dict]] = {
    "sync": sync, "extract": extract_only, "plan": plan_only, "baseline": baseline,
    "sdk_baseline": sdk_baseline,
}  # fmt: skip


def _serve(conn: Connection, env: dict[str, str]) -> None:
    os.environ.update(env)
    imports_s = _warm_up()  # Prefect's temporary server starts here, not in a measured run
    conn.send({"ready": True, "peak_rss_mib": peak_rss_mib(), "imports_s": imports_s})
    while True:
        message = conn.recv()
        if message is None:
            return
        name, kwargs = message
        try:
            conn.send({"ok": COMMANDS[name](**kwargs)})
        except Exception as error:  # reported to the bench, which stops
            conn.send({"error": f"{type(error).__name__}: {error}"})


class Worker:
    """A pipeline process with Prefect warmed up; `call` runs one command in it."""

    def __init__(self, env: dict[str, str]) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, env), name="bench-pipeline")
        self._process.start()
        started = self._conn.recv()
        self.baseline_rss_mib = started["peak_rss_mib"]
        self.imports_s = started["imports_s"]

    def call(self, name: str, **kwargs: Any) -> dict:
        self._conn.send((name, kwargs))
        answer = self._conn.recv()
        if "error" in answer:
            raise RuntimeError(f"bench worker {name}: {answer['error']}")
        return answer["ok"]

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.send(None)
        self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.terminate()
