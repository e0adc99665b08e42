"""The SPEC's entra and emply scenario ops: each op's argument names, types and defaults."""

from __future__ import annotations

from entrasync.scenario.shapes import (
    Count,
    Fields,
    Flag,
    ListOf,
    Nullable,
    Text,
    Timestamp,
    optional,
    required,
)

TEXT = Text()
NOTE = Nullable(Text())  # an attribute that may be absent or null
TEXTS = ListOf(Text())

ENTRA_ADD_USER = Fields(
    {
        "upn": required(TEXT),
        "mail": optional(NOTE),
        "displayName": optional(NOTE),
        "givenName": optional(NOTE),
        "surname": optional(NOTE),
        "jobTitle": optional(NOTE),
        "department": optional(NOTE),
        "mobilePhone": optional(NOTE),
        "accountEnabled": optional(Flag(), True),
        "userType": optional(Text(), "Member"),
        "otherMails": optional(TEXTS),
        # Not given: never synced from on-premises, which Graph says with null (not false).
        "onPremisesSyncEnabled": optional(Flag()),
    }
)

ENTRA_OPS: dict[str, Fields] = {
    "add_user": ENTRA_ADD_USER,
    "update_user": Fields({"upn": required(TEXT), "set": required(ENTRA_ADD_USER.all_optional())}),
    "disable_user": Fields({"upn": required(TEXT)}),
    "delete_user": Fields({"upn": required(TEXT)}),
    "add_group": Fields({"name": required(TEXT)}),
    "delete_group": Fields({"name": required(TEXT)}),
    "add_member": Fields({"group": required(TEXT), "user": required(TEXT)}),
    "remove_member": Fields({"group": required(TEXT), "user": required(TEXT)}),
    "add_calendar": Fields(
        {
            "user": required(TEXT),
            "name": required(TEXT),
            "canEdit": optional(Flag(), True),
            "isDefault": optional(Flag(), False),
        }
    ),
    "remove_calendar": Fields({"user": required(TEXT), "name": required(TEXT)}),
    "set_photo": Fields({"user": required(TEXT), "content": required(TEXT)}),
    "fault": Fields(
        {
            "path": required(TEXT),
            "status": required(Count()),
            "times": optional(Count(), 1),
            "retry_after": optional(Count()),
        }
    ),
}

EMPLY_ADD_USER = Fields(
    {
        "username": required(TEXT),
        "email": required(TEXT),
        "roles": optional(TEXTS, []),
        "active": optional(Flag(), True),
    }
)

EMPLY_ADD_EMPLOYEE = Fields(
    {
        "email": required(TEXT),
        "first_name": optional(NOTE),
        "last_name": optional(NOTE),
        "job_title": optional(NOTE),
        "department": optional(NOTE),
        "mobile": optional(NOTE),
        "user": optional(NOTE),
    }
)

EMPLY_OPS: dict[str, Fields] = {
    "add_user": EMPLY_ADD_USER,
    "add_employee": EMPLY_ADD_EMPLOYEE,
    "update_employee": Fields(
        {"email": required(TEXT), "set": required(EMPLY_ADD_EMPLOYEE.all_optional())}
    ),
    "set_roles": Fields({"user": required(TEXT), "roles": required(TEXTS)}),
    "deactivate_user": Fields({"user": required(TEXT)}),
    "delete_user": Fields({"user": required(TEXT)}),
    "archive_employee": Fields({"email": required(TEXT)}),
    "disable_calendar_sync": Fields({"user": required(TEXT)}),
    "set_calendar_enabled": Fields(
        {"user": required(TEXT), "calendar": required(TEXT), "enabled": required(Flag())}
    ),
    "add_event": Fields(
        {
            "user": required(TEXT),
            "calendar": required(TEXT),
            "subject": required(TEXT),
            "start": required(Timestamp()),
            "end": required(Timestamp()),
        }
    ),
    # Not SPEC ops but control-surface ops of DESIGN.md, needed for R4 (failed read) scenarios.
    "add_role": Fields({"name": required(TEXT), "admin": optional(Flag(), False)}),
    "fault": Fields(
        {"path": required(TEXT), "status": required(Count()), "times": optional(Count(), 1)}
    ),
}
