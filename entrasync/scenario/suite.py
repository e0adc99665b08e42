"""Run scenario files against one emulator stack and print a line per outcome."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from entrasync.scenario import report
from entrasync.scenario.control import ControlSurface
from entrasync.scenario.model import Scenario, ScenarioError, load_scenario
from entrasync.scenario.runner import SyncTenant, play

if TYPE_CHECKING:
    from entrasync.emulators.stack import EmulatorStack


def scenario_files(paths: list[str]) -> list[str]:
    """The files named; a folder stands for its *.yaml files, in name order."""
    files: list[str] = []
    for path in paths:
        folder = Path(path)
        if folder.is_dir():
            files += sorted(str(p) for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))
        else:
            files.append(path)
    return files


def run_files(
    paths: list[str],
    out: TextIO = sys.stdout,
    *,
    stack: EmulatorStack | None = None,
    sync_tenant: SyncTenant | None = None,
) -> int:
    """Run every scenario; 0 only when every expect of every file held."""
    files = scenario_files(paths)
    if not files:
        print(report.error_line("no scenario files given"), file=out)
        return 1
    scenarios: list[Scenario] = []
    failed = passed = 0
    for file in files:
        try:
            scenarios.append(load_scenario(file))
        except ScenarioError as error:
            print(report.error_line(str(error)), file=out, flush=True)
            failed += 1
    if scenarios:
        with running_stack(stack) as live_stack, control_surface(live_stack) as control:
            for scenario in scenarios:
                result = play(scenario, live_stack, control, sync_tenant)
                for line in result.lines():
                    print(line, file=out, flush=True)
                passed, failed = passed + result.passed, failed + (not result.passed)
    print(report.summary_line(passed, failed), file=out, flush=True)
    return 0 if failed == 0 else 1


@contextmanager
def running_stack(stack: EmulatorStack | None) -> Iterator[EmulatorStack]:
    """The given stack, or one started here and stopped afterwards."""
    if stack is not None:
        yield stack
        return
    from entrasync.emulators.stack import EmulatorStack

    own_stack = EmulatorStack().start()
    try:
        yield own_stack
    finally:
        own_stack.stop()


def control_surface(stack: EmulatorStack) -> ControlSurface:
    return ControlSurface(stack.control_url, stack.ca_file)
