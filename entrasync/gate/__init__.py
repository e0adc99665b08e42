"""Gate stage: Great Expectations on a run's inputs and on its plan (a failed suite writes
nothing), the settings checked against the inputs, and R4's block reasons."""

from entrasync.gate.outcome import (
    DEACTIVATION_THRESHOLD_KEY,
    ExpectationOutcome,
    SuiteOutcome,
)
from entrasync.gate.validate import validate_inputs, validate_plan

__all__ = [
    "DEACTIVATION_THRESHOLD_KEY",
    "ExpectationOutcome",
    "SuiteOutcome",
    "validate_inputs",
    "validate_plan",
]
