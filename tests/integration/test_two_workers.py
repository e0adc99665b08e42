"""Scale-out: two `entrasync worker`s that share only the Prefect API and the data folder, as
two machines would. The cycle's tenants are split between them; a tenant whose next run lands
on the other worker finds its warehouse and state; no tenant ever runs twice at once."""

from __future__ import annotations

import os
import signal

import duckdb
import pytest
from fleet import seed_fleet
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect_stack import deploy_project, prefect_server
from test_prefect_server import tenant_runs
from test_warm_worker import stats_lines
from warm_worker import start_warm_worker

TENANTS = ["contoso", "fabrikam", "northwind", "tailspin", "adatum", "litware"]
CYCLE = "sync-all-tenants/sync-all-tenants"
RUN_TIMEOUT_S = 420


def worker_by_run(stats) -> dict[str, str]:
    return {line["flow_run_id"]: line["worker"] for line in stats_lines(stats)
            if line["source"] == "launch"}  # fmt: skip


def warehouse_runs(data_dir, tenant: str) -> list[tuple]:
    path = data_dir / "warehouse" / f"{tenant}.duckdb"
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql("SELECT run_id, started_at, ended_at, status FROM runs "
                       "ORDER BY started_at").fetchall()  # fmt: skip


def planned_kinds(data_dir, tenant: str, run_id: str) -> set[str]:
    path = data_dir / "warehouse" / f"{tenant}.duckdb"
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("SELECT DISTINCT kind FROM changes WHERE run_id = ?", [run_id])
        return {kind for (kind,) in rows.fetchall()}


def test_two_workers_share_the_fleet_and_its_state(stack, tmp_path):
    _, _, env = seed_fleet(stack, tmp_path, TENANTS)
    data_dir = tmp_path / "data"  # the one folder both workers mount
    stats = tmp_path / "warm-stats.jsonl"
    with (
        prefect_server(tmp_path) as server,
        temporary_settings({PREFECT_API_URL: server.api_url}),
        get_client(sync_client=True) as client,
    ):
        deploy_project(server)
        first = start_warm_worker(server, env, name="machine-a", stats=stats)
        start_warm_worker(server, env, name="machine-b", stats=stats)

        # the cycle, and meanwhile an operator's manual run of one tenant: they take turns
        manual = run_deployment("sync-tenant/sync-tenant", parameters={"tenant": TENANTS[0]},
                                as_subflow=False, timeout=0)  # fmt: skip
        cycle = run_deployment(CYCLE, as_subflow=False, timeout=RUN_TIMEOUT_S, poll_interval=2)
        log = server.log("worker-machine-a")[-3000:] + server.log("worker-machine-b")[-3000:]
        assert cycle.state.is_completed(), f"{cycle.state.message}\n{log}"
        runs = tenant_runs(client)
        workers = worker_by_run(stats)
        first_cycle = {t: workers[str(runs[f"sync-{t}"][-1].id)] for t in TENANTS}
        assert set(first_cycle.values()) == {"machine-a", "machine-b"}, first_cycle

        # machine A goes away; its tenants' next runs land on machine B
        os.kill(first.pid, signal.SIGTERM)
        first.wait(timeout=90)
        cycle = run_deployment(CYCLE, as_subflow=False, timeout=RUN_TIMEOUT_S, poll_interval=2)
        assert cycle.state.is_completed(), f"{cycle.state.message}\n{log}"
        manual_state = client.read_flow_run(manual.id).state
        assert manual_state.is_completed(), manual_state.message

        runs, workers = tenant_runs(client), worker_by_run(stats)
        moved = [t for t in TENANTS if first_cycle[t] == "machine-a"]
        assert moved
        for tenant in moved:
            latest = runs[f"sync-{tenant}"][-1]
            assert workers[str(latest.id)] == "machine-b"
            # it found its state (the links of its first run): nothing to create or link again
            assert latest.state.name == "Completed", latest.state.message
            assert planned_kinds(data_dir, tenant, str(latest.id)) <= {"finding"}

        # no tenant ever ran twice at once: each warehouse's runs follow one another
        for tenant in TENANTS:
            history = warehouse_runs(data_dir, tenant)
            assert {status for *_, status in history} == {"completed"}, history
            for before, after in zip(history, history[1:], strict=False):
                assert before[2] <= after[1], f"{tenant}: runs overlap: {before} {after}"
            # one warehouse file held all of them, whichever worker ran them (and the manual run)
            assert len(history) == (3 if tenant == TENANTS[0] else 2), history


# starts real servers: one such test at a time across the xdist workers (tests/conftest.py)
pytestmark = [pytest.mark.timeout(900, func_only=True), pytest.mark.real_prefect_servers]
