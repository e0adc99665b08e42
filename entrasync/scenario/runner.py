"""Play one scenario against a running emulator stack: set both sides up, run its steps."""

from __future__ import annotations

import os
import secrets
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from entrasync.emulator_client import ControlSurface, ControlSurfaceError
from entrasync.errors import EntrasyncError
from entrasync.scenario import report
from entrasync.scenario.applied import Sides, applied_changes, check_applied
from entrasync.scenario.expect import Outcome, check_expect
from entrasync.scenario.model import Scenario, Step, load_scenario
from entrasync.scenario.tenants_file import (
    EMPLY_KEY_ENV,
    SECRET_ENV,
    merge_settings,
    slug,
    tenant_entry,
    write_tenants_file,
)

if TYPE_CHECKING:
    from entrasync.emulator_client import EmulatorProcess

SyncTenant = Callable[..., dict[str, Any]]


@dataclass
class ScenarioResult:
    name: str
    source: str
    checks: int = 0  # expect keys compared
    failures: list[str] = field(default_factory=list)  # one printed line each

    @property
    def passed(self) -> bool:
        return not self.failures

    def lines(self) -> list[str]:
        return self.failures or [report.pass_line(self.name, self.checks)]


def run_scenario(
    path: str | Path, stack: EmulatorProcess, *, sync_tenant: SyncTenant | None = None
) -> ScenarioResult:
    """Load and play one scenario file (ScenarioError when the file itself is wrong)."""
    scenario = load_scenario(path)
    with stack.control() as control:
        return play(scenario, stack, control, sync_tenant)


def play(
    scenario: Scenario,
    stack: EmulatorProcess,
    control: ControlSurface,
    sync_tenant: SyncTenant | None = None,
) -> ScenarioResult:
    """Reset and seed both sides, then run the steps in order until one cannot go on."""
    with tempfile.TemporaryDirectory(prefix="entrasync-scenario-") as workdir:
        run = ScenarioRun(scenario, control, Path(workdir), sync_tenant)
        with patched_environ(run.environment(stack.env())):
            run.play()
        return run.result


class ScenarioRun:
    """The state of one scenario while it plays: credentials, current settings, last run."""

    def __init__(
        self,
        scenario: Scenario,
        control: ControlSurface,
        workdir: Path,
        sync_tenant: SyncTenant | None,
    ) -> None:
        self.scenario, self.control, self.workdir = scenario, control, workdir
        self.sync_tenant = sync_tenant
        self.settings = scenario.settings
        self.tenant_name = slug(scenario.settings["tenant_id"])
        self.customer = self.tenant_name
        self.client_id = str(uuid.uuid4())
        self.client_secret = secrets.token_urlsafe(24)
        self.emply_api_key = secrets.token_urlsafe(24)
        self.graph_tenants: set[str] = set()
        self.tenants_file = workdir / "tenants.yaml"
        self.last_run: dict[str, Any] | None = None
        self.result = ScenarioResult(scenario.name, scenario.source)

    def environment(self, stack_env: dict[str, str]) -> dict[str, str]:
        return {
            **stack_env,
            SECRET_ENV: self.client_secret,
            EMPLY_KEY_ENV: self.emply_api_key,
            "ENTRASYNC_DATA_DIR": str(self.workdir),
            "ENTRASYNC_TENANTS_FILE": str(self.tenants_file),
        }

    @property
    def graph_tenant(self) -> str:
        return self.settings["tenant_id"]

    def fail(self, where: str, message: str) -> None:
        line = report.failure_line(self.scenario.name, where, message)
        self.result.failures.append(report.redact(line, [self.client_secret, self.emply_api_key]))

    def play(self) -> None:
        try:
            self.set_up()
        except (ControlSurfaceError, httpx.HTTPError) as error:
            self.fail("set-up", _reason(error))
            return
        for step in self.scenario.steps:
            try:
                if not self.run_step(step):
                    return
            except (ControlSurfaceError, httpx.HTTPError) as error:
                self.fail(step.label, _reason(error))
                return

    def set_up(self) -> None:
        scenario = self.scenario
        self.add_graph_tenant(self.graph_tenant)
        self.control.seed_graph(self.graph_tenant, scenario.entra_users, scenario.entra_groups)
        self.control.reset_emply(self.customer, self.emply_api_key, scenario.emply_roles)
        self.control.seed_emply(self.customer, scenario.emply_users, scenario.emply_employees)
        self.write_tenants_file()

    def add_graph_tenant(self, tenant_id: str) -> None:
        """An empty Entra tenant with this scenario's app registration."""
        domains = self.settings["domains"]
        self.control.reset_graph(tenant_id, domains, self.client_id, self.client_secret)
        self.graph_tenants.add(tenant_id)

    def write_tenants_file(self) -> None:
        entry = tenant_entry(self.tenant_name, self.customer, self.client_id, self.settings)
        write_tenants_file(self.tenants_file, entry)

    def run_step(self, step: Step) -> bool:
        """Run one step; False when the scenario cannot go on."""
        if step.kind == "sync":
            return self.sync(step)
        if step.kind == "settings":
            self.settings = merge_settings(self.settings, step.body)
            if self.graph_tenant not in self.graph_tenants:
                self.add_graph_tenant(self.graph_tenant)  # "tenant id changed" (R3)
            self.write_tenants_file()
            return True
        if step.kind in ("entra", "emply"):
            return self.apply_ops(step)
        self.check(step)
        return True

    def sync(self, step: Step) -> bool:
        before = self.snapshot()
        try:
            sync_tenant = self.sync_tenant or _flow_sync_tenant()
            summary = sync_tenant(
                tenant=self.tenant_name,
                dry_run=step.body["dry_run"],
                allow_deactivations=step.body["allow_deactivations"],
                tenants_file=str(self.tenants_file),
            )
        except EntrasyncError as error:  # the user's to fix (a bad setting): a failed run
            summary = {"tenant": self.tenant_name, "status": "failed", "changes": {},
                       "outcomes": {}, "error": f"{type(error).__name__}: {error}"}  # fmt: skip
        except Exception as error:  # noqa: BLE001 - any other failure of the run fails the step
            self.fail(step.label, f"raised {type(error).__name__}: {error}")
            return False
        if not isinstance(summary, dict):
            self.fail(step.label, f"returned {type(summary).__name__}, expected a run summary")
            return False
        self.last_run = summary
        self.check_applied(step, summary, before)
        return True

    def snapshot(self) -> tuple[dict[str, dict], dict[str, dict]]:
        """Every Emply user by user id and every Entra user by object id, as they are now."""
        emply = {u["user_id"]: u for u in self.control.emply_users(self.customer)}
        entra = {u["id"]: u for u in self.control.graph_users(self.graph_tenant)}
        return emply, entra

    def check_applied(self, step: Step, summary: dict[str, Any], before: tuple[dict, dict]) -> None:
        """Each change the sync counted applied must show in its target; nothing else changed."""
        emply_after, entra_after = self.snapshot()
        sides = Sides(before[0], emply_after, before[1], entra_after)
        outcome = check_applied(applied_changes(self.tenant_name, summary.get("run_id")), sides)
        self.result.checks += outcome.checks
        self.record_misses(step, outcome)

    def apply_ops(self, step: Step) -> bool:
        for index, op in enumerate(step.body):
            try:
                if step.kind == "entra":
                    self.control.graph_op(self.graph_tenant, op.name, op.args)
                else:
                    self.control.emply_op(self.customer, op.name, op.args)
            except ControlSurfaceError as error:
                self.fail(step.label, f"{step.kind}[{index}].{op.name}: {error}")
                return False
        return True

    def check(self, step: Step) -> None:
        outcome = check_expect(
            step.body,
            self.last_run,
            emply_user=lambda username: self.control.emply_user(self.customer, username),
            entra_user=lambda upn: self.control.graph_user(self.graph_tenant, upn),
        )
        self.result.checks += outcome.checks
        self.record_misses(step, outcome)

    def record_misses(self, step: Step, outcome: Outcome) -> None:
        for miss in outcome.misses:
            line = report.miss_line(self.scenario.name, step.label, miss)
            self.result.failures.append(
                report.redact(line, [self.client_secret, self.emply_api_key])
            )


def _reason(error: Exception) -> str:
    """A control-surface failure as one line (httpx errors can have an empty message)."""
    if isinstance(error, ControlSurfaceError):
        return str(error)
    return f"control surface unreachable: {type(error).__name__}: {error}".rstrip(": ")


def _flow_sync_tenant() -> SyncTenant:
    # the real flow (flows.sync_tenant), imported only once a scenario syncs; run_sync also
    # returns the summary of blocked and failed runs, which Prefect reports as Failed states
    from flows.launch import run_sync

    return run_sync


@contextmanager
def patched_environ(values: dict[str, str]) -> Iterator[None]:
    """os.environ with these values set, restored afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
