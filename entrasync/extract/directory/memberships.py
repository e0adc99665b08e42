"""Members of the connected groups: which groups to track, and entra_group_members from them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import duckdb

from entrasync.connectors.graph.client import GraphClient
from entrasync.connectors.graph.frames import member_frame
from entrasync.extract.directory.fanout import FanOut, Source
from entrasync.extract.directory.row_batches import RowBatches
from entrasync.settings import TenantSettings

MEMBERSHIPS = "entra_memberships"

# Direct memberships whose member still exists: Graph lists neither deleted users nor groups.
_LIVE_EDGES = """
    SELECT DISTINCT m.group_id, m.member_id, m.member_type
    FROM entra_memberships m
    WHERE (m.member_type = 'user' AND m.member_id IN (SELECT id FROM entra_users))
       OR (m.member_type = 'group' AND m.member_id IN (SELECT id FROM entra_groups))
"""

# The rows a /transitiveMembers read of each root gives: every member below it, once.
_TRANSITIVE_ROWS = f"""
    WITH RECURSIVE live AS ({_LIVE_EDGES}),
    reach(root_id, group_id) AS (
        SELECT group_id, group_id FROM roots
        UNION
        SELECT r.root_id, l.member_id FROM reach r
        JOIN live l ON l.group_id = r.group_id AND l.member_type = 'group'
    )
    SELECT DISTINCT r.root_id, l.member_id, l.member_type, true
    FROM reach r JOIN live l ON l.group_id = r.group_id
    WHERE l.member_id <> r.root_id
"""

_DIRECT_ROWS = f"""
    SELECT l.group_id, l.member_id, l.member_type, false
    FROM ({_LIVE_EDGES}) l JOIN roots USING (group_id)
"""


def connected_group_ids(con: duckdb.DuckDBPyConnection, settings: TenantSettings) -> list[str]:
    """Ids of the Entra groups the settings name (display name, trimmed, any case)."""
    names = [mapping.group.strip().lower() for mapping in settings.groups]
    rows = con.execute(
        "SELECT DISTINCT id FROM entra_groups"
        " WHERE list_contains(?, lower(trim(display_name))) ORDER BY id",
        [names],
    ).fetchall()
    return [row[0] for row in rows]


def member_source(client: GraphClient, group_id: str) -> Source:
    """A group's direct members, page by page (users and nested groups carry @odata.type)."""
    return lambda: client.member_pages(group_id)


def groups_to_track(con: duckdb.DuckDBPyConnection, roots: list[str], transitive: bool) -> set[str]:
    """The roots, and with transitive groups every group below them (as far as known)."""
    if not transitive or not roots:
        return set(roots)
    _set_roots(con, roots)
    rows = con.execute(
        """
        WITH RECURSIVE reach(group_id) AS (
            SELECT group_id FROM roots
            UNION
            SELECT m.member_id FROM reach r JOIN entra_memberships m
              ON m.group_id = r.group_id AND m.member_type = 'group'
            WHERE m.member_id IN (SELECT id FROM entra_groups)
        )
        SELECT group_id FROM reach
        """
    ).fetchall()
    return {row[0] for row in rows}


def tracked_groups(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute("SELECT group_id FROM entra_tracked_groups").fetchall()}


def untrack(con: duckdb.DuckDBPyConnection, group_ids: Iterable[str]) -> None:
    """Forget groups' members (a group no longer needed, or about to be read again in full)."""
    ids = list(group_ids)
    if ids:
        con.execute("DELETE FROM entra_memberships WHERE list_contains(?, group_id)", [ids])
        con.execute("DELETE FROM entra_tracked_groups WHERE list_contains(?, group_id)", [ids])


def track(con: duckdb.DuckDBPyConnection, group_ids: Iterable[str]) -> None:
    ids = sorted(set(group_ids))
    if ids:
        con.execute("INSERT OR IGNORE INTO entra_tracked_groups SELECT unnest(?::VARCHAR[])", [ids])


def derive_group_members(con: duckdb.DuckDBPyConnection, roots: list[str], transitive: bool) -> int:
    """Replace entra_group_members with the members of the roots, as a full read lists them."""
    _set_roots(con, roots)
    con.execute("DELETE FROM entra_group_members")
    con.execute(
        "INSERT INTO entra_group_members " + (_TRANSITIVE_ROWS if transitive else _DIRECT_ROWS)
    )
    return con.execute("SELECT count(*) FROM entra_group_members").fetchone()[0]


def rederive_touched_members(
    con: duckdb.DuckDBPyConnection, roots: list[str], touched_groups: str, touched_members: str
) -> None:
    """Direct members only: replace the rows of the groups in the query `touched_groups` and of
    the members in `touched_members`, so a delta's work follows its changes, not the tenant."""
    _set_roots(con, roots)
    touched = f"group_id IN ({touched_groups}) OR member_id IN ({touched_members})"
    con.execute(f"DELETE FROM entra_group_members WHERE {touched}")
    con.execute(f"INSERT INTO entra_group_members SELECT * FROM ({_DIRECT_ROWS}) WHERE {touched}")


def _set_roots(con: duckdb.DuckDBPyConnection, roots: list[str]) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE roots (group_id VARCHAR)")
    if roots:
        con.execute("INSERT INTO roots SELECT unnest(?::VARCHAR[])", [roots])


class MemberReads:
    """Reads the direct members of groups on a FanOut, each group once, into RowBatches.

    With transitive groups, a nested group met among the members is read as well.
    """

    def __init__(
        self, client: GraphClient, fan: FanOut, batches: RowBatches, transitive: bool
    ) -> None:
        self._client = client
        self._fan = fan
        self._batches = batches
        self._transitive = transitive
        self.queued: set[str] = set()

    def start(self, group_ids: Iterable[str]) -> None:
        for group_id in group_ids:
            if group_id not in self.queued:
                self.queued.add(group_id)
                self._fan.add(("members", group_id), member_source(self._client, group_id))

    def on_page(self, group_id: str, page: list[dict[str, Any]]) -> None:
        frame = member_frame(group_id, page)
        self._batches.add_frame(MEMBERSHIPS, frame)
        if self._transitive:
            self.start(frame.loc[frame["member_type"] == "group", "member_id"].tolist())
