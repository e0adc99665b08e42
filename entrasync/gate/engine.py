"""One quiet, cached Great Expectations context that validates pandas frames."""

from __future__ import annotations

import logging
import threading

import great_expectations as gx
import pandas as pd
from great_expectations.core.batch_definition import BatchDefinition
from great_expectations.core.expectation_validation_result import (
    ExpectationSuiteValidationResult,
)
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.execution_engine import pandas_execution_engine

SAMPLE_SIZE = 5
# GX fingerprints every in-memory frame below this size (a full pandas hash plus md5, twice per
# validation: 0.6 s of 1.1 s for a 100k-user tenant) only to label the batch; our batches are
# built per run and never looked up again, so no frame is fingerprinted.
pandas_execution_engine.HASH_THRESHOLD = 0

_context_lock = threading.Lock()
_batch_definition: BatchDefinition | None = None


def _whole_frame_batches() -> BatchDefinition:
    """The process-wide ephemeral context's batch definition (built once, on first use)."""
    global _batch_definition
    if _batch_definition is None:
        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        context = gx.get_context(mode="ephemeral")
        # tqdm bars would land on stderr of every flow run
        context.variables.progress_bars = ProgressBarsConfig(
            globally=False, metric_calculations=False
        )
        asset = context.data_sources.add_pandas("entrasync").add_dataframe_asset("frame")
        _batch_definition = asset.add_batch_definition_whole_dataframe("whole frame")
    return _batch_definition


def validate_frame(
    frame: pd.DataFrame, suite: gx.ExpectationSuite, sample_columns: list[str]
) -> ExpectationSuiteValidationResult:
    """Run `suite` on `frame`; offending rows are reported by their `sample_columns`."""
    result_format: dict = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE}
    if sample_columns:
        result_format["unexpected_index_column_names"] = sample_columns
    # the context is shared by every flow run in this process; GX is not thread-safe
    with _context_lock:
        batch = _whole_frame_batches().get_batch(batch_parameters={"dataframe": frame})
        return batch.validate(suite, result_format=result_format)
