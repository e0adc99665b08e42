"""Applying Graph delta pages to the directory tables, and deriving members from memberships."""

from __future__ import annotations

import itertools

import pytest

from entrasync.extract.directory import delta, memberships
from entrasync.extract.directory.row_batches import RowBatches
from entrasync.warehouse.db import connect_memory

USER = "#microsoft.graph.user"
GROUP = "#microsoft.graph.group"


def _user(object_id: str, **props) -> dict:
    base = {
        "id": object_id, "userPrincipalName": f"{object_id}@contoso.com", "mail": None,
        "otherMails": [], "displayName": object_id.title(), "givenName": None, "surname": None,
        "jobTitle": None, "department": None, "mobilePhone": None, "accountEnabled": True,
        "userType": "Member", "onPremisesSyncEnabled": None,
    }  # fmt: skip
    return base | props


@pytest.fixture
def con():
    con = connect_memory()
    batches = RowBatches(con)
    batches.add("entra_users", [delta.graph_models.entra_user_row(_user(u)) for u in "abc"])
    batches.add("entra_groups", [{"id": "g1", "display_name": "Sales"},
                                 {"id": "g2", "display_name": "Team"}])  # fmt: skip
    batches.add(memberships.MEMBERSHIPS, [
        {"group_id": "g1", "member_id": "a", "member_type": "user"},
        {"group_id": "g1", "member_id": "b", "member_type": "user"},
        {"group_id": "g2", "member_id": "c", "member_type": "user"},
    ])  # fmt: skip
    batches.flush()
    memberships.track(con, ["g1"])
    delta._stage_tables(con)
    yield con
    con.close()


def _stage(con, users=(), groups=()) -> None:
    seq = itertools.count()
    batches = RowBatches(con)
    batches.add("delta_users", delta.user_changes(list(users), seq))
    group_rows, member_rows = delta.group_changes(list(groups), seq)
    batches.add("delta_groups", group_rows)
    batches.add("delta_members", member_rows)
    batches.flush()


def _users(con) -> dict:
    rows = con.execute("SELECT id, display_name, job_title, account_enabled FROM entra_users")
    return {row[0]: row[1:] for row in rows.fetchall()}


def test_users_are_patched_removed_and_added(con):
    _stage(con, users=[
        {"id": "a", "jobTitle": "Lead"},  # only what changed: the rest stays
        {"id": "b", "@removed": {"reason": "changed"}},
        _user("d", displayName="Dee"),
        {"id": "c", "accountEnabled": False, "displayName": None},
    ])  # fmt: skip
    assert delta._apply_objects(con, "delta_users", "entra_users") == 4
    assert _users(con) == {
        "a": ("A", "Lead", True), "c": (None, None, False), "d": ("Dee", None, True),
    }  # fmt: skip


def test_later_values_win_and_a_new_object_must_be_whole(con):
    _stage(con, users=[{"id": "a", "jobTitle": "One"}, {"id": "a", "jobTitle": "Two"}])
    delta._apply_objects(con, "delta_users", "entra_users")
    assert _users(con)["a"][1] == "Two"
    delta._stage_tables(con)
    _stage(con, users=[{"id": "new", "displayName": "No UPN"}])
    with pytest.raises(delta.DeltaIncomplete, match="new"):
        delta._apply_objects(con, "delta_users", "entra_users")


def test_member_changes_apply_to_tracked_groups_only(con):
    _stage(con, groups=[
        {"id": "g1", "members@delta": [
            {"@odata.type": USER, "id": "c"},
            {"@odata.type": USER, "id": "a", "@removed": {"reason": "deleted"}},
            {"@odata.type": "#microsoft.graph.device", "id": "dev"},
        ]},
        {"id": "g2", "displayName": "Team renamed",
         "members@delta": [{"@odata.type": USER, "id": "a"}]},
    ])  # fmt: skip
    delta._apply_objects(con, "delta_groups", "entra_groups")
    delta._apply_memberships(con)
    edges = con.execute("SELECT group_id, member_id FROM entra_memberships ORDER BY ALL")
    assert edges.fetchall() == [("g1", "b"), ("g1", "c"), ("g2", "c")]
    names = con.execute("SELECT id, display_name FROM entra_groups ORDER BY id").fetchall()
    assert names == [("g1", "Sales"), ("g2", "Team renamed")]


def test_a_removed_group_loses_its_members(con):
    _stage(con, groups=[{"id": "g1", "@removed": {"reason": "deleted"}}])
    delta._apply_objects(con, "delta_groups", "entra_groups")
    delta._apply_memberships(con)
    assert memberships.tracked_groups(con) == set()
    assert con.execute(
        "SELECT count(*) FROM entra_memberships WHERE group_id = 'g1'"
    ).fetchone() == (0,)


def test_transitive_members_are_a_closure_without_cycles(con):
    con.execute("INSERT INTO entra_memberships VALUES ('g1', 'g2', 'group'), ('g2', 'g1', 'group')")
    assert memberships.groups_to_track(con, ["g1"], transitive=True) == {"g1", "g2"}
    memberships.derive_group_members(con, ["g1"], transitive=True)
    rows = con.execute("SELECT * FROM entra_group_members ORDER BY member_id").fetchall()
    assert rows == [("g1", "a", "user", True), ("g1", "b", "user", True),
                    ("g1", "c", "user", True), ("g1", "g2", "group", True)]  # fmt: skip
    memberships.derive_group_members(con, ["g1"], transitive=False)
    rows = con.execute("SELECT member_id FROM entra_group_members ORDER BY 1").fetchall()
    assert rows == [("a",), ("b",), ("g2",)]


def test_members_that_no_longer_exist_are_not_listed(con):
    con.execute("DELETE FROM entra_users WHERE id = 'b'")
    memberships.derive_group_members(con, ["g1"], transitive=False)
    rows = con.execute("SELECT member_id FROM entra_group_members").fetchall()
    assert rows == [("a",)]
