"""The Prefect server on PostgreSQL, as production runs it: Debian's postgresql in a private
cluster on loopback (`make test` installs it), the project deployed, a small cycle run."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from fleet import seed_fleet
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment
from prefect.settings import PREFECT_API_URL, temporary_settings
from test_prefect_server import tenant_runs

from entrasync.ops.children import spawn, stop
from entrasync.ops.local_postgres import LocalPostgres
from entrasync.ops.local_prefect import (
    CHECKOUT,
    LocalPrefect,
    deploy,
    free_port,
    start_server,
    worker_command,
)

TENANTS = ["contoso", "fabrikam"]


def flow_run_names(url: str) -> set[str]:
    """Straight from PostgreSQL: the server really keeps its runs there."""

    async def query() -> set[str]:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            return {row["name"] for row in await connection.fetch("SELECT name FROM flow_run")}
        finally:
            await connection.close()

    return asyncio.run(query())


def test_cycle_on_a_prefect_server_backed_by_postgresql(stack, tmp_path):
    _, _, env = seed_fleet(stack, tmp_path, TENANTS)
    logs = tmp_path / "logs"
    logs.mkdir()
    with LocalPostgres() as postgres:
        port = free_port()
        prefect = LocalPrefect(f"http://127.0.0.1:{port}", tmp_path / "prefect-home", postgres.url)
        server = start_server(prefect, port, (logs / "server.log").open("w"))
        worker = None
        try:
            deploy(prefect, (logs / "deploy.log").open("w"))
            worker_env = prefect.env(**env, ENTRASYNC_CHECKOUT=str(CHECKOUT),
                                     PREFECT_WORKER_QUERY_SECONDS="1")  # fmt: skip
            worker = spawn(worker_command("on-postgres", 4), worker_env,
                           (logs / "worker.log").open("w"), str(CHECKOUT))  # fmt: skip
            with (
                temporary_settings({PREFECT_API_URL: prefect.api_url}),
                get_client(sync_client=True) as client,
            ):
                cycle = run_deployment("sync-all-tenants/sync-all-tenants", as_subflow=False,
                                       timeout=420, poll_interval=2)  # fmt: skip
                log = (logs / "worker.log").read_text()[-4000:]
                assert cycle.state.is_completed(), f"{cycle.state.message}\n{log}"
                runs = tenant_runs(client)
            assert {name: [r.state.name for r in found] for name, found in runs.items()} == {
                f"sync-{t}": ["Completed"] for t in TENANTS}  # fmt: skip
            assert {f"sync-{t}" for t in TENANTS} <= flow_run_names(postgres.url)
            assert not (prefect.home / "prefect.db").exists()  # nothing went to SQLite
        finally:
            if worker is not None:
                stop(worker)
            stop(server)


# starts real servers: one such test at a time across the xdist workers (tests/conftest.py)
pytestmark = [pytest.mark.timeout(900, func_only=True), pytest.mark.real_prefect_servers]
