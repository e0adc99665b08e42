"""Great Expectations validation results turned into outcomes with readable samples."""

from __future__ import annotations

import math
from typing import Any

import great_expectations as gx
import pandas as pd
from great_expectations.core.expectation_validation_result import (
    ExpectationSuiteValidationResult,
    ExpectationValidationResult,
)

from entrasync.gate.engine import SAMPLE_SIZE
from entrasync.gate.outcome import ExpectationOutcome


def _plain(value: Any) -> Any:
    """A JSON-ready value: numpy scalars unwrapped, NaN and NA as None."""
    if hasattr(value, "item"):
        value = value.item()
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _distinct_rows(rows: list[dict[str, Any]], columns: list[str]) -> list[dict[str, Any]]:
    picked: list[dict[str, Any]] = []
    for row in rows:
        shown = {column: _plain(row.get(column)) for column in columns}
        if shown not in picked:
            picked.append(shown)
    return picked[:SAMPLE_SIZE]


def _error(checked: ExpectationValidationResult) -> str | None:
    """The exception message when GX could not evaluate the expectation (flat or per metric)."""
    info = checked.exception_info or {}
    reports = [info] if "raised_exception" in info else list(info.values())
    for report in reports:
        if isinstance(report, dict) and report.get("raised_exception"):
            return str(report.get("exception_message") or "unknown error")
    return None


def _table_sample(meta: dict, frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """The sample the suite gave (an empty table has no rows to show), else the first rows."""
    if "sample" in meta or not columns:
        return meta.get("sample", [])
    return _distinct_rows(frame[columns].head(SAMPLE_SIZE).to_dict("records"), columns)


def _outcome(checked: ExpectationValidationResult, frame: pd.DataFrame) -> ExpectationOutcome:
    config = checked.expectation_config
    meta = config.meta or {}
    columns: list[str] = meta.get("sample_columns", [])
    details: dict[str, Any] = dict(checked.result or {})
    error = _error(checked)
    if error:
        element_count, unexpected_count, sample = len(frame), None, []
    elif "element_count" in details:  # a column expectation: GX names the offending rows
        element_count, unexpected_count = details["element_count"], details["unexpected_count"]
        rows = details.get("partial_unexpected_index_list") or [
            {config.kwargs["column"]: value} for value in details.get("partial_unexpected_list", [])
        ]
        sample = _distinct_rows(rows, columns or [config.kwargs["column"]])
    else:  # a table expectation: the frame's first rows, or the sample the suite gave
        element_count, unexpected_count = details.get("observed_value", len(frame)), None
        sample = [] if checked.success else _table_sample(meta, frame, columns)
    return ExpectationOutcome(
        key=meta["key"],
        expectation=config.description or config.type,
        expectation_type=config.type,
        success=bool(checked.success) and error is None,
        element_count=_plain(element_count),
        unexpected_count=_plain(unexpected_count),
        sample=sample,
        error=error,
    )


def outcomes_of(
    suite: gx.ExpectationSuite, result: ExpectationSuiteValidationResult, frame: pd.DataFrame
) -> list[ExpectationOutcome]:
    """One outcome per expectation, in the suite's order."""
    order = {expectation.meta["key"]: index for index, expectation in enumerate(suite.expectations)}
    outcomes = [_outcome(checked, frame) for checked in result.results]
    return sorted(outcomes, key=lambda outcome: order.get(outcome.key, len(order)))
