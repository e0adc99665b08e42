"""The shape of a scenario file: top level, settings, steps and expect keys (SPEC)."""

from __future__ import annotations

from entrasync.scenario.shapes import (
    Choice,
    Count,
    Fields,
    Flag,
    ListOf,
    MapOf,
    Nullable,
    Number,
    OneKey,
    Scalar,
    Text,
    TextOr,
    optional,
    required,
)
from entrasync.scenario.spec_ops import (
    EMPLY_ADD_EMPLOYEE,
    EMPLY_ADD_USER,
    EMPLY_OPS,
    ENTRA_ADD_USER,
    ENTRA_OPS,
)

RUN_STATES = ("completed", "planned", "blocked", "failed")
CHANGE_KINDS = (
    "link_user", "create_user", "activate_user", "deactivate_user", "set_roles", "set_photo",
    "add_calendar", "remove_calendar", "set_events", "create_entra_event", "update_entra_user",
    "create_entra_user", "add_entra_group_member", "delete_entra_user", "finding",
)  # fmt: skip
# Graph user attributes an expect may compare (`upn` is the scenario's name for the UPN).
ENTRA_ATTRIBUTES = (
    *ENTRA_ADD_USER.fields, "userPrincipalName", "businessPhones", "officeLocation",
    "employeeId", "companyName",
)  # fmt: skip

TEXT = Text()
TEXTS = ListOf(Text())

WRITE = Fields(
    {
        "update": optional(Flag(), False),
        "create": optional(Flag(), False),
        "delete": optional(Flag(), False),
    }
)
SETTINGS = Fields(
    {
        "tenant_id": required(TEXT),
        "domains": required(TEXTS),
        "groups": required(ListOf(Fields({"group": required(TEXT), "role": required(TEXT)}))),
        "sync_roles": optional(Flag(), True),
        "sync_calendars": optional(Flag(), False),
        "transitive_groups": optional(Flag(), False),
        "hybrid": optional(Flag(), False),
        "write": optional(WRITE, WRITE.check({}, "write")),
        "max_deactivations": optional(Count(), 500),
        "max_deactivation_percent": optional(Number(), 20),
        "enabled": optional(Flag(), True),
        # bounded waits; the pipeline checks their ranges (a scenario may try a bad one)
        "retry_after_cap_seconds": optional(Number()),
        "run_deadline_minutes": optional(Number()),
    }
)
# A `settings` step: any settings key, and `write` merged key by key, so nothing is defaulted.
SETTINGS_CHANGE = Fields(
    {**SETTINGS.all_optional().fields, "write": optional(WRITE.all_optional())},
    fill_defaults=False,
)

RUN_EXPECT = Fields(
    {
        "status": optional(Choice(RUN_STATES)),
        "changes": optional(MapOf(Count(), keys=Choice(CHANGE_KINDS))),
    }
)
EMPLY_USER_EXPECT = Fields(
    {
        "exists": optional(Flag()),
        "active": optional(Flag()),
        "roles": optional(TEXTS),
        "employee": optional(Flag()),
        "calendars": optional(
            MapOf(Fields({"enabled": optional(Flag()), "can_disable": optional(Flag())}))
        ),
        "photo_sha256": optional(Nullable(Text())),
    }
)
ENTRA_USER_EXPECT = Fields(
    {
        "exists": optional(Flag()),
        "deleted": optional(Flag()),
        "groups": optional(TEXTS),
        **{name: optional(Scalar()) for name in ENTRA_ATTRIBUTES},
    }
)
EXPECT = Fields(
    {
        "run": optional(RUN_EXPECT),
        "emply": optional(Fields({"users": required(MapOf(EMPLY_USER_EXPECT))})),
        "entra": optional(Fields({"users": required(MapOf(ENTRA_USER_EXPECT))})),
    }
)

STEP = OneKey(
    {
        "sync": Fields(
            {"dry_run": optional(Flag(), False), "allow_deactivations": optional(Flag(), False)}
        ),
        "settings": SETTINGS_CHANGE,
        "entra": ListOf(OneKey(ENTRA_OPS, "entra op")),
        "emply": ListOf(OneKey(EMPLY_OPS, "emply op")),
        "expect": EXPECT,
    },
    "step kind",
)

SCENARIO = Fields(
    {
        "name": required(TEXT),
        "settings": required(SETTINGS),
        "entra": optional(
            Fields(
                {
                    "users": optional(ListOf(ENTRA_ADD_USER), []),
                    "groups": optional(
                        ListOf(Fields({"name": required(TEXT), "members": optional(TEXTS, [])})),
                        [],
                    ),
                }
            )
        ),
        "emply": optional(
            Fields(
                {
                    "roles": optional(
                        ListOf(TextOr(Fields({"name": required(TEXT), "admin": optional(Flag())}))),
                        [],
                    ),
                    "users": optional(ListOf(EMPLY_ADD_USER), []),
                    "employees": optional(ListOf(EMPLY_ADD_EMPLOYEE), []),
                }
            )
        ),
        "steps": required(ListOf(STEP)),
    }
)
