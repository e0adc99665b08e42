"""Scenario files (SPEC "Scenario files"): set both sides up, run real syncs, check outcomes."""

from entrasync.scenario.model import Scenario, ScenarioError, load_scenario
from entrasync.scenario.runner import ScenarioResult, run_scenario
from entrasync.scenario.suite import run_files

__all__ = [
    "Scenario",
    "ScenarioError",
    "ScenarioResult",
    "load_scenario",
    "run_files",
    "run_scenario",
]
