"""`entrasync worker` in the tests: warm flow runs on the project's pool, and a probe deployment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from prefect.client.orchestration import SyncPrefectClient
from prefect_stack import CHECKOUT, POOL, PrefectServer

RUN_COMMAND = {"command": "python -m entrasync.warm.launch"}  # as prefect.yaml sets it
PROBE_ENV = {"ENTRASYNC_PROBE": "from-the-deployment", "PREFECT_TASKS_DEFAULT_RETRIES": "3"}


def start_warm_worker(
    server: PrefectServer, env: dict[str, str], name: str = "warm", stats: Path | None = None
) -> subprocess.Popen:
    """`entrasync worker` (warm server + process worker) running this checkout's flows."""
    worker_env = server.env(
        ENTRASYNC_CHECKOUT=str(CHECKOUT),
        PREFECT_WORKER_QUERY_SECONDS="1",
        PREFECT_WORKER_PREFETCH_SECONDS="5",
        PREFECT_LOGGING_LEVEL="INFO",
        **({"ENTRASYNC_WARM_STATS": str(stats)} if stats else {}),
        **env,
    )
    args = [sys.executable, "-m", "entrasync", "worker", "--pool", POOL, "--name", name,
            "--limit", "8"]  # fmt: skip
    return server.start(f"worker-{name}", args, worker_env, cwd=CHECKOUT)


def deploy_probe(client: SyncPrefectClient) -> None:
    """warm-probe/warm-probe on the tenants queue, started like the project's deployments."""
    flow_id = client.create_flow_from_name("warm-probe")
    client.create_deployment(
        flow_id=flow_id, name="warm-probe", work_pool_name=POOL, work_queue_name="tenants",
        entrypoint="tests/integration/warm_probe.py:warm_probe",
        pull_steps=[{"prefect.deployments.steps.set_working_directory": {
            "directory": str(CHECKOUT)}}],
        job_variables=RUN_COMMAND | {"env": PROBE_ENV},
    )  # fmt: skip
