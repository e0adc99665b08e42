"""`entrasync stack up`: the whole stack on this machine in one command, until Ctrl-C.

The emulators (login, Graph, Emply) seeded with a handful of demo tenants, one of which fails
on purpose (its tenants file names an Entra group that does not exist: an operator's typo);
a Prefect server; the work pool and prefect.yaml's deployments; an `entrasync worker`; then
the first `sync-all-tenants` cycle. It prints the UI's address and the cycle's outcome, and on
Ctrl-C (or SIGTERM) stops the worker, the server and the emulators, leaving nothing running.
It starts from nothing each time: `--state-dir` is emptied first.
"""

from __future__ import annotations

import argparse
import copy
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from entrasync.ops.children import spawn, stop
from entrasync.ops.local_prefect import CHECKOUT, LocalPrefect, deploy, start_server, worker_command

DEMO_TENANTS = ("contoso", "fabrikam", "northwind", "tailspin")
FAILING_TENANT = "adatum"  # its settings name a group Entra does not have
MISSING_GROUP = "Employes"  # the typo
CYCLE_DEPLOYMENT = "sync-all-tenants/sync-all-tenants"


def add_stack_commands(commands: argparse._SubParsersAction) -> None:
    stack = commands.add_parser("stack", help="the whole stack on this machine")
    stack_commands = stack.add_subparsers(dest="stack_command", required=True)
    up = stack_commands.add_parser(
        "up", help="emulators, Prefect server, deployments, a worker, demo tenants, first cycle"
    )
    up.add_argument("--port", type=int, default=4200, help="the Prefect UI and API (4200)")
    up.add_argument("--state-dir", type=Path, default=CHECKOUT / "data" / "stack",
                    help="Prefect's database, logs and the warehouses (emptied first)")  # fmt: skip
    up.set_defaults(handler=stack_up)


def demo_tenants(tenants_file: Path) -> list[dict[str, Any]]:
    """The demo tenant once per name (own Entra tenant and Emply customer), plus the failing one."""
    from entrasync.demo import DEMO_DIR

    template = yaml.safe_load((DEMO_DIR / "tenants.yaml").read_text())["tenants"][0]
    entries = []
    for index, name in enumerate((*DEMO_TENANTS, FAILING_TENANT)):
        entry = copy.deepcopy(template)
        variable = name.upper()
        entry |= {
            "name": name,
            "tenant_id": f"6c1f9a2e-0d4b-4c53-9a35-stack{index:07d}",
            "credential": {"env": f"ENTRASYNC_{variable}_SECRET"},
            "emply": {"customer": name, "api_key": {"env": f"ENTRASYNC_{variable}_EMPLY_KEY"}},
        }
        if name == FAILING_TENANT:
            entry["groups"] = [{"group": MISSING_GROUP, "role": "Employee"}, *entry["groups"][1:]]
        entries.append(entry)
    tenants_file.write_text(yaml.safe_dump({"tenants": entries}, sort_keys=False))
    return entries


class Stopping:
    """Ctrl-C and SIGTERM ask the command to stop; it then stops its children in order."""

    def __init__(self) -> None:
        self.asked = False
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._ask)

    def _ask(self, signum: int, frame: object) -> None:
        self.asked = True

    def sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.asked and time.monotonic() < deadline:
            time.sleep(0.2)


def stack_up(args: argparse.Namespace) -> int:
    from entrasync.demo import seed_emulators
    from entrasync.emulator_client import EmulatorProcess

    stopping = Stopping()
    state = args.state_dir.resolve()
    shutil.rmtree(state, ignore_errors=True)
    (state / "logs").mkdir(parents=True)
    say = print
    with EmulatorProcess() as emulators:
        tenants_file = state / "tenants.yaml"
        demo_tenants(tenants_file)
        env = emulators.env() | seed_emulators(
            emulators.control_url, emulators.ca_file, tenants_file
        )
        say(
            f"emulators up (Graph {emulators.graph_url}); tenants {', '.join(DEMO_TENANTS)} and "
            f"{FAILING_TENANT} (fails on purpose: group {MISSING_GROUP!r} is not in Entra)"
        )
        prefect = LocalPrefect(f"http://127.0.0.1:{args.port}", state / "prefect")
        server = worker = None
        try:
            say("starting the Prefect server ...", flush=True)
            server = start_server(prefect, args.port, (state / "logs" / "server.log").open("w"))
            with (state / "logs" / "deploy.log").open("w") as log:
                deploy(prefect, log)
            worker_env = prefect.env(**env, ENTRASYNC_CHECKOUT=str(CHECKOUT),
                                     ENTRASYNC_TENANTS_FILE=str(tenants_file),
                                     ENTRASYNC_DATA_DIR=str(state / "data"),
                                     PREFECT_WORKER_QUERY_SECONDS="2")  # fmt: skip
            worker = spawn(worker_command("stack-worker", 8), worker_env,
                           (state / "logs" / "worker.log").open("w"), str(CHECKOUT))  # fmt: skip
            cycle = start_cycle(prefect)
            say(f"Prefect UI: {prefect.url}")
            say(f"first cycle: {cycle.name} {prefect.url}/runs/flow-run/{cycle.id}")
            say(f"logs: {state / 'logs'}; Ctrl-C stops everything", flush=True)
            watch(prefect, cycle.id, worker, stopping)
        finally:
            say("stopping ...", flush=True)
            if worker is not None:
                stop(worker, grace_s=60)
            if server is not None:
                stop(server)
    say("stopped")
    return 0


def start_cycle(prefect: LocalPrefect):
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: prefect.api_url}):
        return run_deployment(CYCLE_DEPLOYMENT, as_subflow=False, timeout=0)


def watch(prefect: LocalPrefect, cycle_id, worker, stopping: Stopping) -> None:
    """Until Ctrl-C: say how the first cycle ended; say so if the worker dies."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    told = False
    with temporary_settings({PREFECT_API_URL: prefect.api_url}), \
            get_client(sync_client=True) as client:  # fmt: skip
        while not stopping.asked:
            if worker.poll() is not None:
                print(f"the worker exited ({worker.returncode}); see its log", file=sys.stderr)
                return
            if not told:
                cycle = client.read_flow_run(cycle_id)
                if cycle.state and cycle.state.is_final():
                    print(f"cycle {cycle.name}: {cycle.state.name}: {cycle.state.message}",
                          flush=True)  # fmt: skip
                    told = True
            stopping.sleep(2)
