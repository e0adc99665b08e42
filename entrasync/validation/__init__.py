"""Great Expectations gates on a run's inputs and on its plan: a failed suite writes nothing."""

from entrasync.validation.gate import validate_inputs, validate_plan
from entrasync.validation.outcome import (
    DEACTIVATION_THRESHOLD_KEY,
    ExpectationOutcome,
    SuiteOutcome,
)

__all__ = [
    "DEACTIVATION_THRESHOLD_KEY",
    "ExpectationOutcome",
    "SuiteOutcome",
    "validate_inputs",
    "validate_plan",
]
