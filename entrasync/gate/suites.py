"""The inputs and plan suites: one Great Expectations suite per frame, each expectation in words."""

from __future__ import annotations

import great_expectations as gx
from great_expectations.expectations import (
    Expectation,
    ExpectColumnValuesToBeInSet,
    ExpectColumnValuesToBeUnique,
    ExpectColumnValuesToMatchRegex,
    ExpectColumnValuesToNotBeInSet,
    ExpectColumnValuesToNotBeNull,
    ExpectTableRowCountToBeBetween,
)

from entrasync.gate.frames import RowCountBaseline
from entrasync.gate.outcome import DEACTIVATION_THRESHOLD_KEY, EMPTIED_READ_SUFFIX
from entrasync.gate.r4 import PERCENT_RULE_MINIMUM, deactivation_limit
from entrasync.settings import TenantSettings

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
ENTRA_WRITE_KINDS = [
    "update_entra_user", "create_entra_user", "add_entra_group_member", "delete_entra_user",
    "create_entra_event",
]  # fmt: skip
# Entra purges soft-deleted users after 30 days: an empty recycle bin is normal, not a bad read.
# Tables that may empty out between two good runs: Entra purges deleted users after 30 days,
# and the last member may really leave the connected groups (R3 must then deactivate it). The
# directories themselves (users, groups, Emply users) never empty without a failure.
ROW_COUNT_EXEMPT = frozenset({"entra_deleted_users", "entra_group_members"})


def _expect(
    expectation_type: type[Expectation],
    key: str,
    words: str,
    sample_columns: tuple[str, ...] = (),
    sample: list[dict] | None = None,
    **arguments,
) -> Expectation:
    """An expectation that carries its words, a stable key and what to show when it fails."""
    meta: dict = {"key": key, "sample_columns": list(sample_columns)}
    if sample is not None:
        meta["sample"] = sample
    return expectation_type(description=words, meta=meta, **arguments)


def _ids_present_and_unique(table: str, column: str, label: str) -> list[Expectation]:
    shown = (column, label)
    return [
        _expect(ExpectColumnValuesToNotBeNull, f"{table}.{column}.not_null",
                f"{table}.{column} is never missing", shown, column=column),
        _expect(ExpectColumnValuesToBeUnique, f"{table}.{column}.unique",
                f"{table}.{column} is unique", shown, column=column),
    ]  # fmt: skip


def _emails_well_formed(table: str, column: str, key_column: str, id_column: str) -> Expectation:
    return _expect(
        ExpectColumnValuesToMatchRegex,
        f"{table}.{column}.well_formed",
        f"{table}.{column} is a well-formed e-mail address where present (trimmed, any case)",
        (id_column, column),
        column=key_column,
        regex=EMAIL_PATTERN,
    )


def _has_rows(baseline: RowCountBaseline) -> Expectation:
    return _expect(
        ExpectTableRowCountToBeBetween,
        f"{baseline.table}{EMPTIED_READ_SUFFIX}",
        f"R4: {baseline.table} has rows, as run {baseline.previous_run_id} had "
        f"{baseline.previous_rows} (a read that comes back empty blocks the run; rerun with "
        "allow_deactivations=true once the source is checked)",
        sample=[{"table": baseline.table, "rows": 0, "previous_run_id": baseline.previous_run_id,
                 "previous_rows": baseline.previous_rows}],
        min_value=1,
    )  # fmt: skip


def _memberships_known() -> list[Expectation]:
    return [
        _expect(
            ExpectColumnValuesToBeInSet,
            "entra_group_members.group_id.known",
            "entra_group_members.group_id is a known group (entra_groups.id)",
            ("group_id", "member_id"),
            column="group_known",
            value_set=[True],
        ),
        _expect(
            ExpectColumnValuesToBeInSet,
            "entra_group_members.member_id.known",
            "entra_group_members.member_id is a known user (entra_users.id, or "
            "entra_deleted_users.id for a soft-deleted one), or for a nested group a known group "
            "(entra_groups.id)",
            ("group_id", "member_id", "member_type"),
            column="member_known",
            value_set=[True],
        ),
    ]


def inputs_suites(
    baselines: list[RowCountBaseline], allow_deactivations: bool = False
) -> dict[str, gx.ExpectationSuite]:
    """Frame name → suite. Tables in `baselines` without a frame of their own get one.

    With allow_deactivations (the operator's release, R4) an emptied read is not checked.
    """
    expectations: dict[str, list[Expectation]] = {
        "entra_users": [
            *_ids_present_and_unique("entra_users", "id", "user_principal_name"),
            _emails_well_formed("entra_users", "mail", "mail_key", "id"),
        ],
        "entra_groups": _ids_present_and_unique("entra_groups", "id", "display_name"),
        "entra_group_members": _memberships_known(),
        "emply_users": [
            *_ids_present_and_unique("emply_users", "user_id", "username"),
            _emails_well_formed("emply_users", "email", "email_key", "user_id"),
        ],
        "emply_employees": [
            *_ids_present_and_unique("emply_employees", "employee_id", "email"),
            _emails_well_formed("emply_employees", "email", "email_key", "employee_id"),
        ],
    }
    for baseline in [] if allow_deactivations else baselines:
        if baseline.table not in ROW_COUNT_EXEMPT:
            expectations.setdefault(baseline.table, []).append(_has_rows(baseline))
    return {
        frame: gx.ExpectationSuite(name=f"inputs.{frame}", expectations=listed)
        for frame, listed in expectations.items()
    }


def _deactivations_within_threshold(settings: TenantSettings, linked_users: int) -> Expectation:
    limit = deactivation_limit(
        settings.max_deactivations, settings.max_deactivation_percent, linked_users
    )
    return _expect(
        ExpectTableRowCountToBeBetween,
        DEACTIVATION_THRESHOLD_KEY,
        f"R4: planned_changes has at most {limit} deactivate_user changes (max_deactivations "
        f"{settings.max_deactivations}; more than {PERCENT_RULE_MINIMUM} only within "
        f"{settings.max_deactivation_percent:g}% of the {linked_users} linked Emply users); "
        "rerun with allow_deactivations=true after checking the plan",
        ("subject", "emply_user_id"),
        max_value=limit,
    )


def _no_entra_writes() -> Expectation:
    return _expect(
        ExpectColumnValuesToNotBeInSet,
        "planned_changes.kind.no_entra_writes",
        f"R7: planned_changes.kind is never a write to Entra ({', '.join(ENTRA_WRITE_KINDS)}), "
        "as the tenant is hybrid",
        ("kind", "subject"),
        column="kind",
        value_set=ENTRA_WRITE_KINDS,
    )


def plan_suites(
    settings: TenantSettings, allow_deactivations: bool, linked_users: int
) -> dict[str, gx.ExpectationSuite]:
    """Frame name → suite for the plan of a run with these settings."""
    change_expectations = [
        _expect(
            ExpectColumnValuesToBeUnique,
            "planned_changes.one_per_object_and_kind",
            "planned_changes has at most one change per object and kind (object: emply_user_id, "
            "else entra_object_id, else subject; findings aside)",
            ("kind_and_object", "subject"),
            column="kind_and_object",
        )
    ]
    if settings.hybrid:
        change_expectations.append(_no_entra_writes())
    expectations: dict[str, list[Expectation]] = {
        "planned_changes": change_expectations,
        "changes_to_emply_users": [
            _expect(
                ExpectColumnValuesToBeInSet,
                "planned_changes.emply_user_id.linked",
                "planned_changes.emply_user_id is a linked Emply user (emply_users.entra_object_id "
                "set, or linked by this plan) for every change but link_user and findings",
                ("kind", "subject", "emply_user_id"),
                column="emply_user_linked",
                value_set=[True],
            )
        ],
        "set_roles_changes": [
            _expect(
                ExpectColumnValuesToBeInSet,
                "planned_changes.set_roles.keeps_admin",
                "R5: every set_roles change in planned_changes keeps the administrator roles "
                "(emply_roles.is_admin) of before.roles in after.roles",
                ("subject", "admin_roles_dropped"),
                column="drops_admin",
                value_set=[False],
            )
        ],
    }
    if not allow_deactivations:
        expectations["deactivations"] = [_deactivations_within_threshold(settings, linked_users)]
    return {
        frame: gx.ExpectationSuite(name=f"plan.{frame}", expectations=listed)
        for frame, listed in expectations.items()
    }
