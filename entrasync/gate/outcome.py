"""What a suite found: one outcome per expectation, in words an operator can act on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# The R4 threshold: a plan failing only this is "blocked" (rerun with allow_deactivations).
DEACTIVATION_THRESHOLD_KEY = "planned_changes.deactivations_within_threshold"
# R4: a table read empty where the last usable run had rows ("<table>.has_rows"). Alone, it
# holds the run (blocked, released by allow_deactivations) instead of failing it.
EMPTIED_READ_SUFFIX = ".has_rows"
SHOWN_IN_LINE = 3


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's result, as stored in `validation_results`."""

    key: str  # stable id, e.g. "entra_users.id.unique"
    expectation: str  # in words, naming the table and column
    expectation_type: str  # the Great Expectations type, e.g. expect_column_values_to_be_unique
    success: bool
    element_count: int | None  # rows checked
    unexpected_count: int | None  # rows that broke it; None for table-level expectations
    sample: list[dict[str, Any]]  # a few offending rows, by the columns that identify them
    error: str | None = None  # the expectation could not be evaluated

    def describe(self, suite: str) -> str:
        """One line: suite, expectation, what broke it and a few offending values."""
        if self.error:
            found = f"could not be checked: {self.error}"
        elif self.unexpected_count is None:
            found = f"found {self.element_count} rows"
        else:
            found = f"{self.unexpected_count} of {self.element_count} rows break it"
        line = f"{suite}: {self.expectation} — {found}"
        if self.sample and self.element_count:
            shown = "; ".join(_row_text(row) for row in self.sample[:SHOWN_IN_LINE])
            line += f"; e.g. {shown}"
        return line

    def sample_json(self) -> str:
        return json.dumps(self.sample, default=str)


def _row_text(row: dict[str, Any]) -> str:
    return ", ".join(f"{column}={'(missing)' if v is None else v}" for column, v in row.items())


@dataclass(frozen=True)
class SuiteOutcome:
    """The outcome of the 'inputs' or 'plan' suite of one run."""

    suite: str
    run_id: str
    results: tuple[ExpectationOutcome, ...]

    @property
    def success(self) -> bool:
        return all(result.success for result in self.results)

    @property
    def failures(self) -> list[str]:
        return [result.describe(self.suite) for result in self.results if not result.success]

    @property
    def failed_keys(self) -> set[str]:
        return {result.key for result in self.results if not result.success}

    @property
    def blocked(self) -> bool:
        """Only R4's deactivation threshold failed: the run is 'blocked', not 'failed'."""
        return self.failed_keys == {DEACTIVATION_THRESHOLD_KEY}

    @property
    def emptied_reads(self) -> list[dict[str, Any]]:
        """The R4 emptied reads that failed: {table, previous_run_id, previous_rows} each."""
        return [
            result.sample[0]
            for result in self.results
            if not result.success and result.key.endswith(EMPTIED_READ_SUFFIX) and result.sample
        ]

    @property
    def only_emptied_reads(self) -> bool:
        """Every failure is an emptied read: the run is held (blocked), not failed."""
        failed = self.failed_keys
        return bool(failed) and all(key.endswith(EMPTIED_READ_SUFFIX) for key in failed)

    def markdown(self) -> str:
        """A table for the Prefect artifact: every expectation, failures first."""
        lines = [
            f"### Validation `{self.suite}`: {'passed' if self.success else 'FAILED'}",
            "",
            "| result | expectation | rows checked | rows breaking it | sample |",
            "|---|---|---|---|---|",
        ]
        for result in sorted(self.results, key=lambda r: r.success):
            sample = "; ".join(_row_text(row) for row in result.sample[:SHOWN_IN_LINE])
            cells = [
                "passed" if result.success else "**failed**",
                result.expectation
                if not result.error
                else f"{result.expectation} ({result.error})",
                _cell(result.element_count),
                _cell(result.unexpected_count),
                sample if not result.success else "",
            ]
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
        return "\n".join(lines)


def _cell(count: int | None) -> str:
    return "" if count is None else str(count)
