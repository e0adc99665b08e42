"""`entrasync worker`: flow runs forked from a warm server, each still its own Prefect flow run.

A cycle of two tenants, plus a probe flow that reports what its process saw, one that crashes
hard (SIGKILL, as a segfault would) and one that is cancelled while it runs; then the worker
stops and leaves nothing running.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from fleet import seed_fleet
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterId,
)
from prefect.deployments import run_deployment
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.states import Cancelling
from prefect_stack import deploy_project, prefect_server
from processes import alive, command_line, descendants
from test_prefect_server import tenant_runs, wait_for
from warm_worker import PROBE_ENV, deploy_probe, start_warm_worker

TENANTS = ["contoso", "fabrikam"]
RUN_TIMEOUT_S = 300


def warm_server_pid(worker_pid: int) -> int:
    (pid,) = [p for p in descendants(worker_pid) if "entrasync.warm.zygote" in command_line(p)]
    return pid


def stats_lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_warm_runs_are_flow_runs_that_crash_and_cancel_alone(stack, tmp_path):
    _, _, env = seed_fleet(stack, tmp_path, TENANTS)
    stats = tmp_path / "warm-stats.jsonl"
    with (
        prefect_server(tmp_path) as server,
        temporary_settings({PREFECT_API_URL: server.api_url}),
        get_client(sync_client=True) as client,
    ):
        deploy_project(server)
        deploy_probe(client)
        worker = start_warm_worker(server, env, stats=stats)
        assert wait_for(lambda: any("entrasync.warm.zygote" in command_line(p)
                                    for p in descendants(worker.pid)), 60)  # fmt: skip
        zygote = warm_server_pid(worker.pid)

        def probe(action: str):
            return run_deployment("warm-probe/warm-probe", parameters={"action": action},
                                  timeout=0, as_subflow=False)  # fmt: skip

        sleeper, crasher = probe("sleep"), probe("crash")
        cycle = run_deployment("sync-all-tenants/sync-all-tenants", as_subflow=False,
                               timeout=RUN_TIMEOUT_S, poll_interval=2)  # fmt: skip
        log = server.log("worker-warm")[-6000:]
        assert cycle.state.is_completed(), f"{cycle.state.name}: {cycle.state.message}\n{log}"
        ok = run_deployment("warm-probe/warm-probe", parameters={"action": "ok"},
                            timeout=RUN_TIMEOUT_S, poll_interval=2, as_subflow=False)  # fmt: skip
        assert ok.state.is_completed(), f"{ok.state.name}: {ok.state.message}\n{log}"

        # the tenants: each its own flow run, with its tasks and artifacts, forked warm
        runs = tenant_runs(client)
        for tenant in TENANTS:
            (run,) = runs[f"sync-{tenant}"]
            assert run.state.name == "Completed", run.state.message
            tasks = {task.name.rsplit("-", 1)[0] for task in client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))}  # fmt: skip
            assert {"extract-entra", "plan", "write-emply", "audit"} <= tasks
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[f"sync-{t}" for t in TENANTS] + ["warm-probe-ok"])
            )
        )
        by_key = {artifact.key: artifact for artifact in artifacts}
        assert {f"sync-{t}" for t in TENANTS} <= set(by_key)

        # the probe ran in a child of the warm server, with its run's own settings and env
        seen = json.loads(by_key["warm-probe-ok"].data)
        assert seen["parent"] == zygote and seen["pid"] != zygote
        assert seen["api_url"] == server.api_url
        assert seen["task_retries"] == 3 and seen["probe_env"] == PROBE_ENV["ENTRASYNC_PROBE"]

        # a hard crash ends only its own run: Crashed, while the cycle above completed
        assert wait_for(lambda: client.read_flow_run(crasher.id).state.is_final(), 120)
        assert client.read_flow_run(crasher.id).state.name == "Crashed"

        # cancelling a running run ends its forked process
        assert wait_for(lambda: client.read_flow_run(sleeper.id).state.is_running(), 120), log
        running_children = descendants(zygote)
        client.set_flow_run_state(sleeper.id, Cancelling(), force=True)
        assert wait_for(lambda: client.read_flow_run(sleeper.id).state.is_final(), 120)
        assert client.read_flow_run(sleeper.id).state.name == "Cancelled"
        assert wait_for(lambda: not alive(running_children), 30), running_children

        children = [line for line in stats_lines(stats) if line["source"] == "child"]
        tenant_ids = {str(runs[f"sync-{t}"][0].id) for t in TENANTS}
        assert {line["flow_run_id"] for line in children} >= tenant_ids
        assert {line["mode"] for line in children} == {"warm"}

        # the worker stops its Prefect worker and its warm server; nothing is left running
        tree = descendants(worker.pid)
        os.kill(worker.pid, signal.SIGTERM)
        worker.wait(timeout=90)
        time.sleep(1)
        assert not alive(tree), {pid: command_line(pid) for pid in alive(tree)}


# starts real servers: one such test at a time across the xdist workers (tests/conftest.py)
pytestmark = [pytest.mark.timeout(600, func_only=True), pytest.mark.real_prefect_servers]
