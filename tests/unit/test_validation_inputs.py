"""The inputs suite: each expectation fails on a small warehouse that breaks it."""

from __future__ import annotations

import json

import duckdb
import great_expectations as gx
import pandas as pd
import pytest
from rule_fixtures import emply_user, entra_user

from entrasync.gate import SuiteOutcome, validate_inputs
from entrasync.gate.engine import validate_frame
from entrasync.gate.gx_results import outcomes_of
from entrasync.warehouse.db import connect_memory
from entrasync.warehouse.load import insert_rows

RUN = "run-2"


def employee(email: str, **fields) -> dict:
    return {"employee_id": fields.pop("employee_id", f"e-{email}"), "email": email,
            "archived": False, **fields}  # fmt: skip


def member(group_id: str, member_id: str, member_type: str = "user") -> dict:
    return {"group_id": group_id, "member_id": member_id, "member_type": member_type,
            "transitive": False}  # fmt: skip


def warehouse() -> duckdb.DuckDBPyConnection:
    """Inputs that pass every expectation: two Entra users in one group, two Emply users."""
    con = connect_memory()
    insert_rows(con, "entra_users", [entra_user("a@contoso.com"), entra_user("b@contoso.com")])
    insert_rows(con, "entra_groups", [{"id": "g-1", "display_name": "Employee"}])
    insert_rows(con, "entra_group_members", [member("g-1", "oid-a@contoso.com"),
                                             member("g-1", "oid-b@contoso.com")])  # fmt: skip
    insert_rows(con, "emply_users", [emply_user("a@contoso.com"), emply_user("b@contoso.com")])
    insert_rows(con, "emply_employees", [employee("a@contoso.com")])
    insert_rows(con, "emply_roles", [{"role_id": "1", "name": "Employee", "is_admin": False}])
    return con


def without_keys(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Drop the table's primary key and NOT NULLs, so a broken export can be given."""
    con.execute(f"ALTER TABLE {table} RENAME TO {table}_keyed")
    con.execute(f"CREATE TABLE {table} AS SELECT * FROM {table}_keyed")
    con.execute(f"DROP TABLE {table}_keyed")


def stored(con: duckdb.DuckDBPyConnection, expectation: str) -> dict:
    rows = con.execute(
        "SELECT success, element_count, unexpected_count, sample FROM validation_results"
        " WHERE run_id = ? AND suite = 'inputs' AND expectation = ?",
        [RUN, expectation],
    ).fetchall()
    assert len(rows) == 1, f"one stored row for {expectation!r}, got {rows}"
    success, elements, unexpected, sample = rows[0]
    return {"success": success, "element_count": elements, "unexpected_count": unexpected,
            "sample": json.loads(sample)}  # fmt: skip


def assert_fails_only(outcome: SuiteOutcome, expectation: str) -> None:
    assert not outcome.success
    assert len(outcome.failures) == 1, outcome.failures
    assert outcome.failures[0].startswith(f"inputs: {expectation} — ")


def test_clean_inputs_pass_and_every_expectation_is_stored():
    con = warehouse()
    outcome = validate_inputs(con, RUN)
    assert outcome.success, outcome.failures
    assert outcome.failures == []
    count = con.execute("SELECT count(*) FROM validation_results WHERE success").fetchone()[0]
    assert count == len(outcome.results) == 13


ID_CASES = [
    ("entra_users", "id", "user_principal_name",
     lambda key: entra_user(f"{key}@contoso.com", id="oid-dup")),
    ("entra_groups", "id", "display_name", lambda key: {"id": "oid-dup", "display_name": key}),
    ("emply_users", "user_id", "username",
     lambda key: emply_user(f"{key}@contoso.com", user_id="oid-dup")),
    ("emply_employees", "employee_id", "email",
     lambda key: employee(f"{key}@contoso.com", employee_id="oid-dup")),
]  # fmt: skip


@pytest.mark.parametrize(("table", "column", "label", "row"), ID_CASES)
def test_duplicate_ids_fail(table, column, label, row):
    con = warehouse()
    without_keys(con, table)
    insert_rows(con, table, [row("x"), row("y")])
    outcome = validate_inputs(con, RUN)
    assert_fails_only(outcome, f"{table}.{column} is unique")
    result = stored(con, f"{table}.{column} is unique")
    assert result["unexpected_count"] == 2
    assert {r[column] for r in result["sample"]} == {"oid-dup"}
    assert len(result["sample"]) == 2  # both rows, told apart by their label column
    assert "2 of " in outcome.failures[0] and "oid-dup" in outcome.failures[0]


@pytest.mark.parametrize(("table", "column", "label", "row"), ID_CASES)
def test_missing_ids_fail(table, column, label, row):
    con = warehouse()
    without_keys(con, table)
    given = row("nobody")
    given[column] = None
    insert_rows(con, table, [given])
    outcome = validate_inputs(con, RUN)
    assert_fails_only(outcome, f"{table}.{column} is never missing")
    result = stored(con, f"{table}.{column} is never missing")
    assert result["unexpected_count"] == 1
    assert result["sample"] == [{column: None, label: given[label]}]
    assert f"{column}=(missing)" in outcome.failures[0]


EMAIL_CASES = [
    ("entra_users", "mail", "id",
     lambda mail: entra_user(f"{abs(hash(mail))}@contoso.com", mail=mail)),
    ("emply_users", "email", "user_id",
     lambda mail: emply_user(f"{abs(hash(mail))}@contoso.com", email=mail)),
    ("emply_employees", "email", "employee_id",
     lambda mail: employee(mail, employee_id=f"e-{abs(hash(mail))}")),
]  # fmt: skip


@pytest.mark.parametrize(("table", "column", "id_column", "row"), EMAIL_CASES)
def test_malformed_emails_fail_while_padded_upper_case_and_missing_ones_pass(
    table, column, id_column, row
):
    con = warehouse()
    bad = row("megan at contoso.com")
    insert_rows(con, table, [bad, row("  Megan.Jordan@Contoso.COM "), row(None), row("")])
    outcome = validate_inputs(con, RUN)
    words = f"{table}.{column} is a well-formed e-mail address where present (trimmed, any case)"
    assert_fails_only(outcome, words)
    result = stored(con, words)
    assert result["unexpected_count"] == 1
    assert result["sample"] == [{id_column: bad[id_column], column: "megan at contoso.com"}]


def test_membership_of_an_unknown_group_fails():
    con = warehouse()
    insert_rows(con, "entra_group_members", [member("g-gone", "oid-a@contoso.com")])
    outcome = validate_inputs(con, RUN)
    words = "entra_group_members.group_id is a known group (entra_groups.id)"
    assert_fails_only(outcome, words)
    result = stored(con, words)
    assert result["unexpected_count"] == 1
    assert result["sample"] == [{"group_id": "g-gone", "member_id": "oid-a@contoso.com"}]


def test_membership_of_an_unknown_user_fails_but_soft_deleted_and_nested_groups_are_known():
    con = warehouse()
    insert_rows(con, "entra_deleted_users", [{"id": "oid-deleted", "user_principal_name": "d"}])
    insert_rows(con, "entra_groups", [{"id": "g-2", "display_name": "Nested"}])
    insert_rows(
        con,
        "entra_group_members",
        [member("g-1", "oid-deleted"), member("g-1", "g-2", "group"),
         member("g-1", "oid-stranger"), member("g-1", "g-stranger", "group")],
    )  # fmt: skip
    outcome = validate_inputs(con, RUN)
    words = next(r.expectation for r in outcome.results if r.key.endswith("member_id.known"))
    assert words.startswith("entra_group_members.member_id is a known user")
    assert_fails_only(outcome, words)
    result = stored(con, words)
    assert result["element_count"] == 6
    assert result["unexpected_count"] == 2
    assert result["sample"] == [
        {"group_id": "g-1", "member_id": "oid-stranger", "member_type": "user"},
        {"group_id": "g-1", "member_id": "g-stranger", "member_type": "group"},
    ]


def record_run(con, run_id: str, minutes_ago: int, status: str, counts: dict[str, int]) -> None:
    con.execute(
        "INSERT INTO runs (run_id, tenant, started_at, status, dry_run, allow_deactivations)"
        " VALUES (?, 't', now() - to_minutes(?), ?, false, false)",
        [run_id, minutes_ago, status],
    )
    con.executemany(
        "INSERT INTO extract_counts VALUES (?, ?, ?)",
        [(run_id, table, rows) for table, rows in counts.items()],
    )


def test_empty_table_fails_when_the_previous_usable_run_had_rows():
    con = warehouse()
    for table in ("entra_users", "entra_group_members", "emply_roles"):
        con.execute(f"DELETE FROM {table}")
    record_run(con, "run-0", 60, "completed", {"entra_users": 120, "emply_roles": 4,
                                               "entra_deleted_users": 3})  # fmt: skip
    record_run(con, "run-1", 30, "failed", {"entra_users": 0, "emply_roles": 0})
    record_run(con, RUN, 0, "running", {"entra_users": 0, "emply_roles": 0,
                                        "entra_deleted_users": 0})  # fmt: skip
    outcome = validate_inputs(con, RUN)
    assert not outcome.success
    release = "(a read that comes back empty blocks the run; rerun with allow_deactivations=true"
    users = f"R4: entra_users has rows, as run run-0 had 120 {release} once the source is checked)"
    roles = f"R4: emply_roles has rows, as run run-0 had 4 {release} once the source is checked)"
    assert outcome.failures == [
        f"inputs: {users} — found 0 rows",
        f"inputs: {roles} — found 0 rows",
    ]
    result = stored(con, users)
    assert result["element_count"] == 0 and result["unexpected_count"] is None
    assert result["sample"] == [
        {"table": "entra_users", "rows": 0, "previous_run_id": "run-0", "previous_rows": 120}
    ]
    # the recycle bin of soft-deleted users empties by itself after 30 days
    assert "entra_deleted_users.has_rows" not in {r.key for r in outcome.results}
    assert outcome.only_emptied_reads  # held (blocked), not failed
    assert [read["table"] for read in outcome.emptied_reads] == ["entra_users", "emply_roles"]
    # the operator's release: the emptied reads are not checked
    assert validate_inputs(con, RUN, allow_deactivations=True).success


def test_a_run_held_by_an_emptied_read_is_no_baseline_until_a_completed_run_releases_it():
    con = warehouse()
    con.execute("DELETE FROM entra_groups")
    con.execute("DELETE FROM entra_group_members")
    record_run(con, "first", 90, "completed", {"entra_groups": 1})
    record_run(con, "held", 60, "blocked", {"entra_groups": 0})  # held: the groups emptied
    record_run(con, "dry", 45, "planned", {"entra_groups": 0})  # a dry run, held too
    record_run(con, RUN, 0, "running", {"entra_groups": 0})
    outcome = validate_inputs(con, RUN)
    assert outcome.only_emptied_reads
    assert outcome.emptied_reads == [
        {"table": "entra_groups", "rows": 0, "previous_run_id": "first", "previous_rows": 1}
    ]
    record_run(con, "released", 30, "completed", {"entra_groups": 0})  # released
    assert validate_inputs(con, RUN).success  # an empty directory is the new normal


def test_a_mixed_failure_is_not_held():
    con = warehouse()
    con.execute("DELETE FROM entra_users")
    insert_rows(con, "entra_group_members", [member("g-gone", "oid-a@contoso.com")])
    record_run(con, "run-0", 60, "completed", {"entra_users": 2})
    record_run(con, RUN, 0, "running", {"entra_users": 0})
    outcome = validate_inputs(con, RUN)
    assert outcome.emptied_reads and not outcome.only_emptied_reads


def test_empty_table_passes_when_the_previous_run_had_none_too():
    con = warehouse()
    con.execute("DELETE FROM emply_employees")
    record_run(con, "run-1", 30, "planned", {"emply_employees": 0, "entra_users": 2})
    record_run(con, RUN, 0, "running", {"emply_employees": 0, "entra_users": 2})
    outcome = validate_inputs(con, RUN)
    assert outcome.success, outcome.failures
    checked = [r.expectation for r in outcome.results if r.key.endswith("has_rows")]
    assert checked == ["R4: entra_users has rows, as run run-1 had 2 (a read that comes back empty "
                       "blocks the run; rerun with allow_deactivations=true once the source is "
                       "checked)"]  # fmt: skip


def test_rerun_replaces_the_stored_results():
    con = warehouse()
    insert_rows(con, "entra_group_members", [member("g-gone", "oid-a@contoso.com")])
    assert not validate_inputs(con, RUN).success
    con.execute("DELETE FROM entra_group_members WHERE group_id = 'g-gone'")
    outcome = validate_inputs(con, RUN)
    assert outcome.success
    rows = con.execute("SELECT count(*), count(*) FILTER (WHERE success) FROM validation_results")
    assert rows.fetchone() == (13, 13)


def test_an_expectation_that_cannot_be_evaluated_fails_with_the_reason():
    suite = gx.ExpectationSuite(
        name="broken",
        expectations=[
            gx.expectations.ExpectColumnValuesToBeUnique(
                column="absent", description="t.absent is unique", meta={"key": "t.absent"}
            )
        ],
    )
    frame = pd.DataFrame({"id": ["a"]})
    [outcome] = outcomes_of(suite, validate_frame(frame, suite, []), frame)
    assert not outcome.success
    assert outcome.sample == []
    assert outcome.describe("inputs").startswith(
        "inputs: t.absent is unique — could not be checked"
    )
    assert "absent" in outcome.error


def test_markdown_lists_failures_first_for_the_prefect_artifact():
    con = warehouse()
    insert_rows(con, "entra_group_members", [member("g-gone", "oid-a@contoso.com")])
    text = validate_inputs(con, RUN).markdown()
    lines = text.splitlines()
    assert lines[0] == "### Validation `inputs`: FAILED"
    assert lines[4].startswith("| **failed** | entra_group_members.group_id is a known group")
    assert "group_id=g-gone, member_id=oid-a@contoso.com" in lines[4]
    assert len(lines) == 4 + 13
