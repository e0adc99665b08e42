"""What one flow run's process does: the project's flows imported, then Prefect's engine.

Warm, it runs in a child the warm server forked from a process that imported everything
already (`run_forked`); cold, a fresh interpreter runs it as `python -m
entrasync.warm.engine_child` and pays the imports first. Either way the flow run itself is
Prefect's own `python -m prefect.engine` main, unchanged, so its states, logs, artifacts,
cancellation and crash reporting are Prefect's.
"""

from __future__ import annotations

import os
import resource
import runpy
import sys
import time

from entrasync.warm.launch import record

PROFILE_ENV = "ENTRASYNC_WARM_PROFILE"  # a folder: each run's cProfile stats (bench/fleet.py)

# What every run imports: Prefect's engine and the deployments' flows (with their tasks, GX
# and DuckDB). The warm server imports them once; a cold child imports them per run.
PRELOAD = (
    "prefect.engine",
    "prefect.flow_engine",
    "prefect.task_engine",
    "prefect.flows",
    "prefect.deployments.steps",
    "prefect._internal.states",
    "prefect.utilities.visualization",
    "anyio._backends._asyncio",
    "anyio.streams.tls",
    "anyio.streams.stapled",
    "netrc",
    "rich._emoji_codes",
    "flows.sync_tenant",
    "flows.sync_all_tenants",
    "flows.rerun_failed",
)


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def preload() -> None:
    import importlib

    for module in PRELOAD:
        importlib.import_module(module)


def refresh_prefect() -> None:
    """Prefect reads its settings and logging set-up at import: read them again for this run."""
    import prefect.context
    import prefect.logging.configuration

    prefect.context.refresh_global_settings_context()
    prefect.logging.configuration.setup_logging(incremental=False)


def run_engine() -> int:
    """Prefect's engine main for PREFECT__FLOW_RUN_ID; its exit code."""
    try:
        runpy.run_module("prefect.engine", run_name="__main__", alter_sys=True)
    except SystemExit as done:
        code = done.code
        if code is None:
            return 0
        return code if isinstance(code, int) else 1
    return 0


def run(mode: str, setup_cpu_s: float, started_at: float) -> int:
    modules_before = set(sys.modules)
    engine_started = cpu_s()
    profile_dir = os.environ.get(PROFILE_ENV)
    try:
        code = _profiled(run_engine, profile_dir) if profile_dir else run_engine()
    finally:
        imported = sorted(set(sys.modules) - modules_before)
        record("child", {"mode": mode, "pid": os.getpid(), "started_at": started_at,
                         "setup_cpu_s": setup_cpu_s, "engine_cpu_s": cpu_s() - engine_started,
                         "modules_imported_by_run": len(imported),
                         **({"imported": imported} if profile_dir else {})})  # fmt: skip
    return code


def _profiled(call, profile_dir: str) -> int:
    """The bench's --profile: the run under cProfile, its stats saved by flow run id."""
    import cProfile

    profiler = cProfile.Profile(time.process_time)  # CPU, not wall: the bench counts CPU
    try:
        return profiler.runcall(call)
    finally:
        name = os.environ.get("PREFECT__FLOW_RUN_ID", str(os.getpid()))
        profiler.dump_stats(os.path.join(profile_dir, f"{name}.prof"))


def run_forked(argv: list[str], cwd: str, env: dict[str, str]) -> int:
    """In a child just forked from the warm server: become the launcher's run, then run it."""
    started_at = time.time()
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    sys.argv = ["prefect.engine", *argv]
    refresh_prefect()
    return run("warm", cpu_s(), started_at)


def main() -> None:
    started_at = time.time()
    preload()
    sys.argv = ["prefect.engine", *sys.argv[1:]]
    code = run("cold", cpu_s(), started_at)
    sys.stdout.flush()
    sys.stderr.flush()
    raise SystemExit(code)


if __name__ == "__main__":
    main()
