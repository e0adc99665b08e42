"""Given rows for rule tests: a small in-memory warehouse built from dicts."""

from __future__ import annotations

from typing import Any

import duckdb

from entrasync.settings import CredentialRef, EmplySettings, GroupMapping, TenantSettings
from entrasync.warehouse.db import connect_memory
from entrasync.warehouse.load import insert_rows
from rules.runner import plan


def entra_user(upn: str, **fields: Any) -> dict:
    return {
        "id": fields.pop("id", f"oid-{upn}"),
        "user_principal_name": upn,
        "mail": fields.pop("mail", upn),
        "other_mails": fields.pop("other_mails", []),
        "account_enabled": fields.pop("account_enabled", True),
        "user_type": fields.pop("user_type", "Member"),
        **fields,
    }


def emply_user(username: str, **fields: Any) -> dict:
    return {
        "user_id": fields.pop("user_id", f"u-{username}"),
        "username": username,
        "email": fields.pop("email", username),
        "active": fields.pop("active", True),
        "roles": fields.pop("roles", []),
        "calendar_sync_enabled": True,
        **fields,
    }


def tenant_settings(groups: dict[str, str], **fields: Any) -> TenantSettings:
    return TenantSettings(
        name="t",
        tenant_id="tid",
        client_id="cid",
        credential=CredentialRef(env="X"),
        domains=("contoso.com",),
        groups=tuple(GroupMapping(g, r) for g, r in groups.items()),
        emply=EmplySettings(customer="t", api_key=CredentialRef(env="Y")),
        **fields,
    )


class Given:
    """Builds the inputs of one plan and runs the rules."""

    def __init__(self) -> None:
        self.con: duckdb.DuckDBPyConnection = connect_memory()
        self.run_number = 0

    def entra(self, users: list[dict], groups: dict[str, list[str]]) -> Given:
        for table in ("entra_users", "entra_groups", "entra_group_members"):
            self.con.execute(f"DELETE FROM {table}")
        insert_rows(self.con, "entra_users", users)
        ids = {u["user_principal_name"]: u["id"] for u in users}
        insert_rows(self.con, "entra_groups", [{"id": f"g-{g}", "display_name": g} for g in groups])
        insert_rows(
            self.con,
            "entra_group_members",
            [
                {
                    "group_id": f"g-{g}",
                    "member_id": ids[m],
                    "member_type": "user",
                    "transitive": False,
                }
                for g, members in groups.items()
                for m in members
            ],
        )
        return self

    def emply(self, users: list[dict], roles: list[str] = (), admin: list[str] = ()) -> Given:
        for table in ("emply_users", "emply_roles"):
            self.con.execute(f"DELETE FROM {table}")
        insert_rows(self.con, "emply_users", users)
        insert_rows(
            self.con,
            "emply_roles",
            [{"role_id": r, "name": r, "is_admin": r in admin} for r in [*roles, *admin]],
        )
        return self

    def employees(self, employees: list[dict]) -> Given:
        self.con.execute("DELETE FROM emply_employees")
        insert_rows(self.con, "emply_employees", employees)
        return self

    def plan(self, settings: TenantSettings, allow_deactivations: bool = False) -> list[dict]:
        self.run_number += 1
        run_id = f"run-{self.run_number}"
        self.con.execute(
            "INSERT INTO runs (run_id, tenant, started_at, status, dry_run, allow_deactivations)"
            " VALUES (?, 't', now() + to_seconds(?), 'running', false, false)",
            [run_id, self.run_number],
        )
        plan(self.con, run_id, settings, allow_deactivations)
        return self.changes()

    def changes(self) -> list[dict]:
        cursor = self.con.execute("SELECT * FROM planned_changes ORDER BY kind, subject")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# Mailbox inputs (R8, R9): raw rows as the mailbox extraction writes them.


def given_rows(given: Given, table: str, rows: list[dict]) -> Given:
    """Replace a raw table's rows (entra_calendars, emply_events, entra_photos, ...)."""
    given.con.execute(f"DELETE FROM {table}")
    insert_rows(given.con, table, rows)
    return given


def calendar_window(
    given: Given, on: bool = True, start: str = "2030-01-01T00:00:00Z",
    end: str = "2030-01-31T00:00:00Z",
) -> Given:  # fmt: skip
    """What extract_mailboxes records: calendar sync on/off and the event window."""
    given.con.execute("DELETE FROM run_calendar_window")
    given.con.execute("INSERT INTO run_calendar_window VALUES ('run', ?, ?, ?)", [on, start, end])
    return given


def calendars_read(given: Given, *entra_object_ids: str) -> Given:
    """The mailboxes whose calendar list Graph answered (200) this run."""
    return given_rows(
        given,
        "mailbox_reads",
        [{"entra_object_id": i, "what": "calendars", "status": 200} for i in entra_object_ids],
    )
