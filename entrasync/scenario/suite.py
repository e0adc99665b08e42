"""Run scenario files against one emulator stack and print a line per outcome."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from entrasync.emulator_client import EmulatorProcess, EmulatorStartError
from entrasync.scenario import report
from entrasync.scenario.model import Scenario, ScenarioError, load_scenario
from entrasync.scenario.runner import ScenarioResult, SyncTenant, play


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
    stack: EmulatorProcess | None = None,
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
        try:
            results = play_all(scenarios, stack, sync_tenant, out)
        except EmulatorStartError as error:
            print(report.error_line(str(error)), file=out, flush=True)
            return 1
        passed += sum(result.passed for result in results)
        failed += sum(not result.passed for result in results)
    print(report.summary_line(passed, failed), file=out, flush=True)
    return 0 if failed == 0 else 1


def play_all(
    scenarios: list[Scenario],
    stack: EmulatorProcess | None,
    sync_tenant: SyncTenant | None,
    out: TextIO,
) -> list[ScenarioResult]:
    """Play the scenarios one after the other on one stack, printing each outcome as it ends."""
    results = []
    with running_stack(stack) as live_stack, live_stack.control() as control:
        for scenario in scenarios:
            result = play(scenario, live_stack, control, sync_tenant)
            for line in result.lines():
                print(line, file=out, flush=True)
            results.append(result)
    return results


@contextmanager
def running_stack(stack: EmulatorProcess | None) -> Iterator[EmulatorProcess]:
    """The given stack, or one started here and stopped afterwards."""
    if stack is not None:
        yield stack
        return
    own_stack = EmulatorProcess().start()  # EmulatorStartError: shown as one line
    try:
        yield own_stack
    finally:
        own_stack.stop()
