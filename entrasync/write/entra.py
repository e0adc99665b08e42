"""Write planned changes to Entra (R7 write-back, R9 Emply-made events), paced to Graph's budget."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from entrasync.connectors.emply.client import EmplyClient
from entrasync.connectors.graph.client import GraphClient
from entrasync.connectors.graph.errors import GraphError
from entrasync.run.deadline import RunDeadline
from entrasync.warehouse import audit
from entrasync.warehouse.outcomes import Outcome
from entrasync.write.engine import OutcomeLog
from entrasync.write.passwords import temporary_password

ENTRA_KINDS = (
    "create_entra_user", "add_entra_group_member", "update_entra_user", "delete_entra_user",
    "create_entra_event",
)  # fmt: skip
# Microsoft documents about 3,000 directory writes per 2.5 minutes per app and tenant.
WRITES_PER_WINDOW = 3000
WINDOW_S = 150.0
ALREADY_MEMBER = "already exist"


class WriteBudget:
    """A token bucket over Entra writes: full at start, refilled evenly; waits, never fails."""

    def __init__(
        self,
        capacity: int = WRITES_PER_WINDOW,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.capacity, self.rate = float(capacity), capacity / window_s
        self.clock, self.sleep = clock, sleep
        self.tokens, self.at = self.capacity, clock()
        self.waited_s = 0.0

    def take(self) -> None:
        self._refill()
        if self.tokens < 1:
            wait = (1 - self.tokens) / self.rate
            self.sleep(wait)
            self.waited_s += wait
            self._refill()
        self.tokens -= 1

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now


class NotLinkedYet(Exception):
    """A created Entra user whose group memberships failed is not linked in Emply (yet)."""


@dataclass
class EntraWriter:
    """Applies one run's Entra changes in order, each recorded as it goes."""

    con: duckdb.DuckDBPyConnection
    graph: GraphClient
    emply: EmplyClient
    tenant: str
    run_id: str
    budget: WriteBudget = field(default_factory=WriteBudget)
    deadline: RunDeadline = field(default_factory=RunDeadline.unbounded)
    handled: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        # Each outcome recorded as it happens: later steps read them back (progress_failed).
        self.log = OutcomeLog(self.con, self.tenant, self.run_id, flush_every=1)
        self.earlier: dict[str, str] = {}

    def run(self) -> dict[str, int]:
        pending = [
            c for c in audit.pending_changes(self.con, self.run_id) if c["kind"] in ENTRA_KINDS
        ]
        self.earlier = self.log.applied_earlier(pending)
        members: dict[str, list[dict[str, Any]]] = {}
        for change in pending:
            if change["kind"] == "add_entra_group_member":
                members.setdefault(change["emply_user_id"], []).append(change)
        for change in pending:
            if change["kind"] == "create_entra_user":
                groups = members.pop(change["emply_user_id"], [])
                outcome = self.apply(change, lambda c, g=groups: self.create_user(c, g))
                for member in (g for g in groups if g["change_id"] not in self.handled):
                    if outcome == "skipped":  # the create was done before: so may these be
                        self.apply(member, self.add_member)
                    else:
                        self.record(member, "skipped", "its create_entra_user did not complete")
        for changes in members.values():  # their create was applied earlier: only these are left
            for change in changes:
                self.apply(change, self.add_member)
        writers = {
            "update_entra_user": self.update_user,
            "delete_entra_user": self.delete_user,
            "create_entra_event": self.create_event,
        }
        for change in pending:
            if change["kind"] in writers:
                self.apply(change, writers[change["kind"]])
        return self.log.counts

    def apply(self, change: dict[str, Any], write: Callable[[dict], dict | None]) -> str:
        """Write one change unless an earlier run did; returns its outcome."""
        self.deadline.check(f"writing {change['kind']} of {change['subject']}")  # a safe point
        earlier = self.earlier.get(change["change_id"])
        if earlier:
            return self.record(change, "skipped", f"already applied in run {earlier}")
        try:
            result = write(change)
        except Exception as exc:  # recorded per change; the run ends failed
            return self.record(change, "failed", str(exc), self.progress(change))
        return self.record(change, "applied", result=result)

    def record(self, change, outcome: str, error: str | None = None, result=None) -> str:
        self.log.add(Outcome(change["change_id"], outcome, error, result))
        self.handled.add(change["change_id"])
        return outcome

    def progress(self, change: dict[str, Any]) -> dict | None:
        """What a failed change already did (recorded before the step that failed)."""
        row = self.con.execute(
            "SELECT result FROM changes WHERE run_id = ? AND change_id = ?",
            [self.run_id, change["change_id"]],
        ).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def note_progress(self, change: dict[str, Any], result: dict[str, Any]) -> None:
        """Record a step that reached Entra at once, so a rerun resumes instead of repeating it."""
        self.con.execute(
            "UPDATE changes SET result = ? WHERE run_id = ? AND change_id = ?",
            [json.dumps(result), self.run_id, change["change_id"]],
        )

    def earlier_result(self, change: dict[str, Any], key: str) -> str | None:
        """`key` of the result any run recorded for this change (applied or not)."""
        row = self.con.execute(
            "SELECT json_extract_string(result, ?) FROM changes"
            " WHERE change_id = ? AND json_extract_string(result, ?) IS NOT NULL"
            " ORDER BY decided_at DESC LIMIT 1",
            [f"$.{key}", change["change_id"], f"$.{key}"],
        ).fetchone()
        return row[0] if row else None

    # ---- the writes ------------------------------------------------------------------------

    def create_user(self, change: dict[str, Any], groups: list[dict[str, Any]]) -> dict:
        after = change["after"]
        entra_id = change["entra_object_id"] or self.earlier_result(change, "entra_object_id")
        if entra_id is None:
            body = {
                key: after[key]
                for key in ("userPrincipalName", "mail", "mailNickname", "displayName",
                            "givenName", "surname", "jobTitle", "department", "mobilePhone")
                if after.get(key) is not None
            }  # fmt: skip
            body["accountEnabled"] = True
            body["passwordProfile"] = {
                "forceChangePasswordNextSignIn": True,
                "password": temporary_password(),  # never logged, never stored
            }
            self.budget.take()
            entra_id = self.graph.create_user(body)["id"]
        self.note_progress(change, {"entra_object_id": entra_id})
        for member in groups:
            member["entra_object_id"] = entra_id
            self.apply(member, self.add_member)
        if self.progress_failed(groups):
            raise NotLinkedYet(
                f"Entra user {entra_id} was created but not added to all its groups; "
                "not linked in Emply yet (the next run resumes)"
            )
        self.emply.update_user(change["emply_user_id"], external_id=entra_id)
        return {"entra_object_id": entra_id}

    def progress_failed(self, groups: list[dict[str, Any]]) -> bool:
        ids = [g["change_id"] for g in groups]
        if not ids:
            return False
        failed = self.con.execute(
            "SELECT count(*) FROM changes WHERE run_id = ? AND list_contains(?, change_id)"
            " AND outcome = 'failed'",
            [self.run_id, ids],
        ).fetchone()[0]
        return failed > 0

    def add_member(self, change: dict[str, Any]) -> dict:
        user_id = change["entra_object_id"] or self.created_id(change["emply_user_id"])
        self.budget.take()
        try:
            self.graph.add_group_member(change["after"]["group_id"], user_id)
        except GraphError as error:
            if error.status != 400 or ALREADY_MEMBER not in error.message:
                raise
        return {"entra_object_id": user_id}

    def created_id(self, emply_user_id: str) -> str:
        row = self.con.execute(
            "SELECT json_extract_string(result, '$.entra_object_id') FROM changes"
            " WHERE kind = 'create_entra_user' AND emply_user_id = ?"
            " AND json_extract_string(result, '$.entra_object_id') IS NOT NULL"
            " ORDER BY decided_at DESC LIMIT 1",
            [emply_user_id],
        ).fetchone()
        if row is None:
            raise LookupError(f"no Entra user was created for Emply user {emply_user_id}")
        return row[0]

    def update_user(self, change: dict[str, Any]) -> None:
        self.budget.take()
        self.graph.update_user(change["entra_object_id"], change["after"])

    def delete_user(self, change: dict[str, Any]) -> None:
        self.budget.take()
        try:
            self.graph.delete_user(change["entra_object_id"])
        except GraphError as error:
            if error.status != 404:  # already deleted is what we wanted
                raise

    def create_event(self, change: dict[str, Any]) -> dict:
        after = change["after"]
        event_id = self.earlier_result(change, "entra_event_id")
        if event_id is None:
            body = {
                "subject": after["subject"],
                "start": {"dateTime": after["start"].removesuffix("Z"), "timeZone": "UTC"},
                "end": {"dateTime": after["end"].removesuffix("Z"), "timeZone": "UTC"},
                # Graph answers a repeated transactionId with the event it already made.
                "transactionId": after["transaction_id"],
            }
            self.budget.take()
            created = self.graph.create_event(
                change["entra_object_id"], after["entra_calendar_id"], body
            )
            event_id = created["id"]
            self.note_progress(change, {"entra_event_id": event_id})
        self.emply.mark_event_pushed(after["event_id"], event_id)
        return {"entra_event_id": event_id}


def write_entra_changes(
    con: duckdb.DuckDBPyConnection,
    graph: GraphClient,
    emply: EmplyClient,
    tenant: str,
    run_id: str,
    budget: WriteBudget | None = None,
    deadline: RunDeadline | None = None,
) -> dict[str, int]:
    """Apply this run's pending Entra changes; a failing write is recorded and the rest go on."""
    writer = EntraWriter(
        con, graph, emply, tenant, run_id, budget or WriteBudget(),
        deadline or RunDeadline.unbounded(),
    )  # fmt: skip
    return writer.run()
