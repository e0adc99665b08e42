"""Ops on a real Prefect server: deploy prefect.yaml, a worker, a cycle where one tenant fails,
the automation's webhook, `entrasync rerun-failed` rerunning only that tenant, the artifacts."""

from __future__ import annotations

import contextvars
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from fleet import UNSET_VARIABLE, seed_fleet, write_tenants
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterKey,
    DeploymentFilter,
    DeploymentFilterName,
)
from prefect.client.schemas.objects import FlowRun
from prefect.client.schemas.sorting import FlowRunSort
from prefect.deployments import run_deployment
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect_stack import deploy_project, prefect_server, start_worker

from entrasync.ops.automations import AUTOMATION_NAME, NOTIFY_ON
from entrasync.ops.names import GRAPH_REQUESTS_LIMIT, tenant_slot_name
from tasks.concurrency import one_run_per_tenant

GOOD, BROKEN = "contoso", "fabrikam-eu"
RUN_TIMEOUT_S = 240


@contextmanager
def webhook_receiver() -> Iterator[tuple[str, list[dict]]]:
    """A loopback HTTP endpoint; yields its URL and the JSON bodies posted to it."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()


def tenant_runs(client: SyncPrefectClient) -> dict[str, list[FlowRun]]:
    """The sync-tenant deployment's runs by flow-run name, oldest first."""
    runs = client.read_flow_runs(
        deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["sync-tenant"])),
        sort=FlowRunSort.EXPECTED_START_TIME_ASC,
    )
    by_name: dict[str, list[FlowRun]] = {}
    for run in runs:
        by_name.setdefault(run.name, []).append(run)
    return by_name


def wait_for(condition: Callable[[], object], timeout_s: float = 60) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(1)
    return False


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with prefect_server(tmp_path_factory.mktemp("prefect")) as running:
        yield running


def test_cycle_with_a_failing_tenant_then_rerun_failed(stack, server, tmp_path):
    tenants_file, entries, env = seed_fleet(stack, tmp_path, [GOOD, BROKEN])
    write_tenants(tenants_file, entries, broken=BROKEN)
    # and an entry without a name: it owns no warehouse, so the cycle lists it as failed
    with_nameless = yaml.safe_load(tenants_file.read_text())
    with_nameless["tenants"].append({"tenant_id": "an-entry-without-a-name"})
    tenants_file.write_text(yaml.safe_dump(with_nameless, sort_keys=False))
    control = stack.control()
    with (
        webhook_receiver() as (webhook_url, notifications),
        temporary_settings({PREFECT_API_URL: server.api_url}),
        get_client(sync_client=True) as client,
    ):
        deploy_project(server)
        entrasync = [sys.executable, "-m", "entrasync"]
        server.run("automation", [*entrasync, "automations", "install"], server.env(),
                   input=webhook_url + "\n")  # fmt: skip
        # a rate limit that barely decays: after the runs it holds one slot per Graph request
        client.create_global_concurrency_limit(
            GlobalConcurrencyLimitCreate(
                name=GRAPH_REQUESTS_LIMIT, limit=100_000, slot_decay_per_second=0.001
            )
        )
        graph_requests_before = control.graph_stats()["http_requests"]
        start_worker(server, env)

        cycle = run_deployment(
            "sync-all-tenants/sync-all-tenants", as_subflow=False, timeout=RUN_TIMEOUT_S,
            poll_interval=2,
        )  # fmt: skip
        worker_log = server.log("worker")[-6000:]
        assert cycle.state.is_final(), f"cycle still {cycle.state.name}\n{worker_log}"
        assert cycle.state.is_failed(), cycle.state.message
        assert BROKEN in cycle.state.message and f"{GOOD} " not in cycle.state.message
        assert "tenants[2] Failed: " in cycle.state.message
        assert "tenants[2].name: missing (expected text)" in cycle.state.message

        runs = tenant_runs(client)
        assert [r.state.name for r in runs[f"sync-{GOOD}"]] == ["Completed"], worker_log
        assert [r.state.name for r in runs[f"sync-{BROKEN}"]] == ["Failed"], worker_log
        assert UNSET_VARIABLE in runs[f"sync-{BROKEN}"][0].state.message
        assert {"entrasync", f"tenant:{BROKEN}"} <= set(runs[f"sync-{BROKEN}"][0].tags)
        assert runs[f"sync-{GOOD}"][0].parent_task_run_id  # shown under the cycle in the UI

        # every Graph HTTP request of both tenants ($batch: one) took a slot of the shared limit
        graph_requests = control.graph_stats()["http_requests"] - graph_requests_before
        slots = client.read_global_concurrency_limit_by_name(GRAPH_REQUESTS_LIMIT).active_slots
        assert graph_requests > 0 and graph_requests - 2 <= slots <= graph_requests
        tenant_slot = client.read_global_concurrency_limit_by_name(tenant_slot_name(GOOD))
        assert (tenant_slot.limit, tenant_slot.active_slots) == (1, 0)

        automation = client.read_automations_by_name(AUTOMATION_NAME)[0]
        assert automation.trigger.expect == set(NOTIFY_ON)
        assert automation.trigger.match_related.root == {
            "prefect.resource.role": "flow", "prefect.resource.name": "sync-tenant"}  # fmt: skip
        assert wait_for(lambda: notifications), "the automation never called the webhook"
        assert notifications[0]["flow_run"] == f"sync-{BROKEN}"
        assert notifications[0]["state"] == "Failed" and UNSET_VARIABLE in notifications[0]["text"]

        write_tenants(tenants_file, entries)  # the operator fixes the tenant's settings
        output = server.run("rerun-failed", [*entrasync, "rerun-failed", "--hours", "1"],
                            server.env(PREFECT_LOGGING_LEVEL="WARNING"))  # fmt: skip
        assert "Completed" in output and "the 1 tenant completed" in output, output

        runs = tenant_runs(client)
        assert [r.state.name for r in runs[f"sync-{GOOD}"]] == ["Completed"]
        assert [r.state.name for r in runs[f"sync-{BROKEN}"]] == ["Failed", "Completed"]
        assert runs[f"sync-{BROKEN}"][1].parameters["allow_deactivations"] is False

        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[
                f"sync-{GOOD}", f"sync-{GOOD}-extract", "sync-fabrikam-eu",
                "sync-fabrikam-eu-outcome", "sync-all-tenants", "rerun-failed-tenants"]))
        )  # fmt: skip
        by_key: dict[str, list] = {}
        for artifact in sorted(artifacts, key=lambda a: a.created):
            by_key.setdefault(artifact.key, []).append(artifact)
        good_table = json.loads(by_key[f"sync-{GOOD}"][-1].data)
        assert {"kind": "create_user", "planned": 141, "applied": 141, "failed": 0,
                "skipped": 0} in good_table  # fmt: skip
        assert by_key[f"sync-{GOOD}"][-1].flow_run_id == runs[f"sync-{GOOD}"][0].id
        progress = by_key[f"sync-{GOOD}-extract"][-1]  # both sides read, at once, in any order
        assert progress.data == 100 and "Emply read (emply_users" in progress.description
        assert "Entra read (entra_users" in progress.description
        failed_words, fixed_words = (a.data for a in by_key["sync-fabrikam-eu-outcome"])
        assert "# Tenant fabrikam-eu: failed" in failed_words and UNSET_VARIABLE in failed_words
        assert "# Tenant fabrikam-eu: completed" in fixed_words
        assert json.loads(by_key["sync-fabrikam-eu"][-1].data)[-1]["applied"] > 0
        cycle_table = json.loads(by_key["sync-all-tenants"][-1].data)
        assert [(row["tenant"], row["state"]) for row in cycle_table] == [
            (BROKEN, "Failed"), ("tenants[2]", "Failed"), (GOOD, "Completed")]  # fmt: skip
        rerun_table = json.loads(by_key["rerun-failed-tenants"][-1].data)
        assert [(row["tenant"], row["state"]) for row in rerun_table] == [(BROKEN, "Completed")]


def test_a_second_run_of_a_tenant_waits_for_the_first(server):
    """The tenant slot: two runs of one tenant (say a cycle's and a rerun) take turns."""
    events: list[tuple[str, str]] = []

    def run(label: str) -> None:
        with one_run_per_tenant("northwind"):
            events.append((label, "starts"))
            time.sleep(2)
            events.append((label, "ends"))

    with temporary_settings({PREFECT_API_URL: server.api_url}):
        runs = [  # each thread runs in a copy of this context: the settings point at the server
            threading.Thread(target=contextvars.copy_context().run, args=(run, label))
            for label in ("first", "second")
        ]
        for thread in runs:
            thread.start()
        for thread in runs:
            thread.join(timeout=60)
        with get_client(sync_client=True) as client:
            slot = client.read_global_concurrency_limit_by_name(tenant_slot_name("northwind"))
    first, second = events[0][0], events[2][0]
    assert events == [(first, "starts"), (first, "ends"), (second, "starts"), (second, "ends")]
    assert {first, second} == {"first", "second"} and (slot.limit, slot.active_slots) == (1, 0)


# starts real servers: one such test at a time across the xdist workers (tests/conftest.py)
pytestmark = [pytest.mark.timeout(420, func_only=True), pytest.mark.real_prefect_servers]
