"""docs/FAULTS.md: every row of the fault matrix names a test or scenario that exists."""

from __future__ import annotations

import re
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
STAGES = {
    "read users", "read groups", "read members", "read mailboxes", "read exports", "token",
    "Emply write", "Entra write", "crash between write and record", "run deadline", "settings",
}  # fmt: skip


def rows() -> list[list[str]]:
    lines = (CHECKOUT / "docs" / "FAULTS.md").read_text(encoding="utf-8").splitlines()
    table = [line for line in lines if line.startswith("| ") and not line.startswith("| stage")]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in table]


def exists(reference: str) -> bool:
    """`path.yaml`, or `path.py::test_name` with that test defined in the file."""
    path, _, test = reference.partition("::")
    file = CHECKOUT / path
    if not file.is_file():
        return False
    return not test or re.search(rf"^def {re.escape(test)}\(", file.read_text(), re.M) is not None


def test_every_row_names_an_existing_test_and_every_stage_has_rows():
    table = rows()
    assert len(table) >= 30
    assert {row[0] for row in table} == STAGES
    missing = [row[-1] for row in table if not exists(row[-1])]
    assert missing == []
    assert all(len(row) == 6 and all(row) for row in table)


def test_a_reference_to_a_missing_test_is_caught():
    assert not exists("tests/unit/test_fault_matrix.py::test_no_such_test")
    assert not exists("tests/scenarios/no_such_scenario.yaml")
    assert exists("tests/unit/test_fault_matrix.py::test_a_reference_to_a_missing_test_is_caught")
