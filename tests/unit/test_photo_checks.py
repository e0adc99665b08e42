"""R8 photo checks per run: never-checked, mismatched, then the stalest up to the budget."""

from __future__ import annotations

import base64
import hashlib
import threading
from datetime import UTC, datetime, timedelta

from rule_fixtures import Given, emply_user, entra_user, tenant_settings

from entrasync.extract.photos import extract_photos

SETTINGS = tenant_settings({"Employee": "Employee"})
T0 = datetime(2030, 1, 1, tzinfo=UTC)
NAMES = ["ann", "bob", "cat", "dan", "eve", "fay"]  # with a photo each
NO_PHOTO = "zed"


def oid(name: str) -> str:
    return f"oid-{name}"


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class FakeGraph:
    """Photos by Entra id, answered through `batch` as Graph does; records what was read."""

    def __init__(self, photos: dict[str, bytes]) -> None:
        self.photos = photos
        self.lock = threading.Lock()
        self.meta_reads: list[str] = []
        self.downloads: list[str] = []

    def batch(self, requests: list[dict]) -> list[dict]:
        return [self._answer(r) for r in requests]

    def _answer(self, request: dict) -> dict:
        parts = request["url"].split("/")  # ['', 'users', id, 'photo'(, '$value')]
        user_id, value = parts[2], parts[-1] == "$value"
        with self.lock:
            (self.downloads if value else self.meta_reads).append(user_id)
        content = self.photos.get(user_id)
        if content is None:
            return {"id": request["id"], "status": 404, "headers": {}, "body": None}
        if value:
            body = base64.b64encode(content).decode()
        else:
            body = {
                "@odata.mediaEtag": f'"{sha(content)[:8]}"',
                "@odata.mediaContentType": "image/png",
            }
        return {"id": request["id"], "status": 200, "headers": {}, "body": body}

    def take(self) -> tuple[set[str], set[str]]:
        """The ids whose metadata, and whose bytes, were read since the last take."""
        read, downloaded = set(self.meta_reads), set(self.downloads)
        self.meta_reads, self.downloads = [], []
        return read, downloaded


class Tenant:
    """Linked users without an employee profile, in a connected group; runs extract and plan."""

    def __init__(self, names: list[str]) -> None:
        upns = [f"{n}@contoso.com" for n in names]
        self.given = Given().entra(
            [entra_user(u, id=oid(n)) for u, n in zip(upns, names, strict=True)],
            {"Employee": upns},
        )
        self.emply = [
            emply_user(u, entra_object_id=oid(n), roles=["Employee"], photo_sha256=None)
            for u, n in zip(upns, names, strict=True)
        ]
        self.given.emply(self.emply, ["Employee"])
        self.graph = FakeGraph({oid(n): f"{n} v1".encode() for n in names if n != NO_PHOTO})
        self.runs = 0

    def sync(self, budget: int) -> tuple[set[str], set[str], list[dict]]:
        """One run: extract photos, plan, and apply set_photo as the Emply writer would."""
        self.runs += 1
        con = self.given.con
        extract_photos(con, self.graph, f"run-{self.runs}", budget, T0 + timedelta(hours=self.runs))
        read, downloaded = self.graph.take()
        changes = [c for c in self.given.plan(SETTINGS) if c["kind"] == "set_photo"]
        for change in changes:
            con.execute(
                "UPDATE emply_users SET photo_sha256 = (SELECT sha256 FROM entra_photos p"
                " WHERE p.entra_object_id = emply_users.entra_object_id) WHERE username = ?",
                [change["subject"]],
            )
        return read, downloaded, changes

    def photo_rows(self) -> dict[str, tuple]:
        rows = self.given.con.execute(
            "SELECT entra_object_id, media_etag, content_type, sha256, size_bytes FROM entra_photos"
        ).fetchall()
        return {row[0]: row[1:] for row in rows}


def ids(*names: str) -> set[str]:
    return {oid(n) for n in names}


def subjects(changes: list[dict]) -> set[str]:
    return {c["subject"].split("@")[0] for c in changes}


def test_a_budget_reads_new_and_mismatched_then_the_stalest_in_turn():
    tenant = Tenant([*NAMES, NO_PHOTO])
    read, downloaded, changes = tenant.sync(budget=2)
    assert read == ids(*NAMES, NO_PHOTO)  # never checked: all, whatever the budget
    assert downloaded == ids(*NAMES) and subjects(changes) == set(NAMES)
    first_rows = tenant.photo_rows()

    read, downloaded, changes = tenant.sync(budget=2)
    assert read == ids("ann", "bob") and downloaded == set() and changes == []
    # the unread keep the row their last check gave: the photo, or nothing for a 404
    assert tenant.photo_rows() == first_rows
    assert first_rows[oid(NO_PHOTO)] == (None, None, None, None)

    tenant.graph.photos[oid("ann")] = b"ann v2"  # checked in run 2: not due yet
    tenant.given.con.execute(
        "UPDATE emply_users SET photo_sha256 = 'f' || repeat('0', 63) WHERE username LIKE 'fay@%'"
    )  # Emply's picture of fay changed by hand: Entra's must be copied again now
    read, downloaded, changes = tenant.sync(budget=2)
    assert read == ids("cat", "dan", "fay")
    assert downloaded == ids("fay") and subjects(changes) == {"fay"}
    assert tenant.photo_rows()[oid("ann")] == first_rows[oid("ann")]  # not read: no change

    read, _, changes = tenant.sync(budget=2)
    assert read == ids("eve", NO_PHOTO) and changes == []

    read, downloaded, changes = tenant.sync(budget=2)  # ann's turn again
    assert read == ids("ann", "bob")
    assert downloaded == ids("ann") and subjects(changes) == {"ann"}
    assert tenant.photo_rows()[oid("ann")][2] == sha(b"ann v2")


def test_a_new_candidate_is_read_at_once_and_a_budget_of_zero_reads_nothing_else():
    tenant = Tenant(NAMES)
    tenant.sync(budget=0)
    tenant.given.emply(
        [*tenant.emply, emply_user("gus@contoso.com", entra_object_id=oid("gus"),
                                   roles=["Employee"])], ["Employee"],
    )  # fmt: skip
    tenant.given.con.execute("UPDATE emply_users SET photo_sha256 = NULL")
    tenant.given.con.execute("UPDATE emply_users SET photo_sha256 = ? WHERE username LIKE 'eve@%'",
                             [sha(b"eve v1")])  # fmt: skip
    tenant.given.entra(
        [entra_user(f"{n}@contoso.com", id=oid(n)) for n in [*NAMES, "gus"]],
        {"Employee": [f"{n}@contoso.com" for n in [*NAMES, "gus"]]},
    )
    tenant.graph.photos[oid("gus")] = b"gus v1"
    read, downloaded, changes = tenant.sync(budget=0)
    # gus was never checked; the others' Emply pictures are gone, except eve's
    assert read == ids("gus", *(n for n in NAMES if n != "eve"))
    assert downloaded == read
    assert subjects(changes) == {"gus", *(n for n in NAMES if n != "eve")}
    read, _, changes = tenant.sync(budget=0)
    assert read == set() and changes == []
    assert len(tenant.photo_rows()) == len(NAMES) + 1


def test_a_budget_above_the_candidates_reads_every_one_every_run():
    tenant = Tenant(NAMES)
    tenant.sync(budget=len(NAMES))
    tenant.graph.photos[oid("dan")] = b"dan v2"
    read, downloaded, changes = tenant.sync(budget=len(NAMES))
    assert read == ids(*NAMES) and downloaded == ids("dan") and subjects(changes) == {"dan"}


def test_checks_are_recorded_for_every_read_candidate_with_what_it_showed():
    tenant = Tenant(["ann", NO_PHOTO])
    tenant.sync(budget=5)
    rows = tenant.given.con.execute(
        "SELECT entra_object_id, checked_at, has_photo, run_id FROM entra_photo_checks ORDER BY 1"
    ).fetchall()
    assert rows == [
        (oid("ann"), T0 + timedelta(hours=1), True, "run-1"),
        (oid(NO_PHOTO), T0 + timedelta(hours=1), False, "run-1"),
    ]
    seen = tenant.given.con.execute(
        "SELECT entra_object_id, sha256, run_id FROM entra_photo_seen"
    ).fetchall()
    assert seen == [(oid("ann"), sha(b"ann v1"), "run-1")]
