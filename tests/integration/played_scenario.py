"""Play a SPEC scenario and keep its warehouse: for tests that look inside after the runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from entrasync.emulator_client import ControlSurface, EmulatorProcess
from entrasync.scenario.model import load_scenario
from entrasync.scenario.runner import ScenarioRun, patched_environ
from entrasync.warehouse.paths import warehouse_file


class Played:
    """A played scenario: its runner state, the control surface and the tenant's warehouse."""

    def __init__(self, run: ScenarioRun, control: ControlSurface, workdir: Path) -> None:
        self.run, self.control, self.workdir = run, control, workdir

    @property
    def tenant(self) -> str:
        return self.run.tenant_name

    @property
    def tenants_file(self) -> str:
        return str(self.run.tenants_file)

    @property
    def last_run(self) -> dict:
        assert self.run.last_run is not None, "the scenario ran no sync"
        return self.run.last_run

    def warehouse(self) -> duckdb.DuckDBPyConnection:
        path = warehouse_file(self.tenant, self.workdir)
        return duckdb.connect(str(path), read_only=True)

    def emply_user(self, username: str) -> dict:
        return self.control.emply_user(self.run.customer, username)

    def emply_writes(self) -> int:
        return self.control.emply_stats(self.run.customer)["writes"]


@contextmanager
def played(stack: EmulatorProcess, scenario_yaml: str, workdir: Path) -> Iterator[Played]:
    """Set up and play the scenario; inside the block the run's environment stays set."""
    source = workdir / "scenario.yaml"
    source.write_text(scenario_yaml, encoding="utf-8")
    scenario = load_scenario(source)
    with stack.control() as control:
        run = ScenarioRun(scenario, control, workdir, None)
        with patched_environ(run.environment(stack.env())):
            run.play()
            assert run.result.passed, "\n".join(run.result.lines())
            yield Played(run, control, workdir)
