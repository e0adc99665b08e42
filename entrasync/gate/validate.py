"""The two gates of a run: validate_inputs after extraction, validate_plan after planning."""

from __future__ import annotations

import duckdb
import great_expectations as gx
import pandas as pd

from entrasync.gate import frames, suites
from entrasync.gate.engine import validate_frame
from entrasync.gate.gx_results import outcomes_of
from entrasync.gate.outcome import ExpectationOutcome, SuiteOutcome
from entrasync.gate.r4 import linked_user_count
from entrasync.gate.store import store_outcome
from entrasync.settings import TenantSettings


def _sample_columns(suite: gx.ExpectationSuite) -> list[str]:
    columns: list[str] = []
    for expectation in suite.expectations:
        for column in expectation.meta.get("sample_columns", []):
            if column not in columns:
                columns.append(column)
    return columns


def _run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    suite_name: str,
    checked: dict[str, tuple[pd.DataFrame, gx.ExpectationSuite]],
) -> SuiteOutcome:
    results: list[ExpectationOutcome] = []
    for frame, suite in checked.values():
        validation = validate_frame(frame, suite, _sample_columns(suite))
        results.extend(outcomes_of(suite, validation, frame))
    outcome = SuiteOutcome(suite_name, run_id, tuple(results))
    store_outcome(con, outcome)
    return outcome


def validate_inputs(
    con: duckdb.DuckDBPyConnection, run_id: str, allow_deactivations: bool = False
) -> SuiteOutcome:
    """The 'inputs' suite on the raw extracts of `run_id`; its results are stored."""
    input_frames = frames.input_frames(con)
    baselines = frames.row_count_baselines(con, run_id)
    by_frame = suites.inputs_suites(baselines, allow_deactivations)
    for name in by_frame.keys() - input_frames.keys():  # a raw table checked for rows only
        input_frames[name] = frames.table_rows_frame(con, name)
    checked = {name: (input_frames[name], suite) for name, suite in by_frame.items()}
    return _run(con, run_id, "inputs", checked)


def validate_plan(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    settings: TenantSettings,
    allow_deactivations: bool,
) -> SuiteOutcome:
    """The 'plan' suite on `planned_changes` of `run_id`; its results are stored."""
    plan_frames = frames.plan_frames(con)
    by_frame = suites.plan_suites(settings, allow_deactivations, linked_user_count(con))
    checked = {name: (plan_frames[name], suite) for name, suite in by_frame.items()}
    return _run(con, run_id, "plan", checked)
