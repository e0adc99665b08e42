"""A delta read of the Entra directory: Graph's changes since the stored links, applied in place."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

import duckdb

from entrasync.connectors.graph import models as graph_models
from entrasync.connectors.graph.client import GraphClient
from entrasync.connectors.graph.delta import DeltaRound
from entrasync.connectors.graph.errors import GraphDataError
from entrasync.extract.directory import memberships
from entrasync.extract.directory.fanout import FanOut
from entrasync.extract.directory.full import deleted_users_source
from entrasync.extract.directory.read_stats import ReadStats
from entrasync.extract.directory.row_batches import RowBatches
from entrasync.settings import TenantSettings
from entrasync.warehouse import delta_state
from entrasync.warehouse.load import table_columns

# Graph property -> entra_users / entra_groups column (models.py maps the values).
USER_COLUMNS = {name: column for name, (column, _) in graph_models.USER_FIELDS.items()}
GROUP_COLUMNS = {"id": "id", "displayName": "display_name"}
# Stand-ins for required properties an update may leave out; a left-out column is never written.
_USER_STAND_INS = {"userPrincipalName": "", "accountEnabled": False}
_GROUP_STAND_INS = {"displayName": ""}
# What a new object must carry to be inserted.
REQUIRED_NEW = {"entra_users": ("user_principal_name", "account_enabled"),
                "entra_groups": ("display_name",)}  # fmt: skip


class DeltaIncomplete(GraphDataError):
    """A delta answer the tables cannot take (a new object without a required property)."""


def _stage_tables(con: duckdb.DuckDBPyConnection) -> None:
    for stage, table in (("delta_users", "entra_users"), ("delta_groups", "entra_groups")):
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {stage} AS SELECT *, []::VARCHAR[] AS present,"
            f" false AS removed, 0::BIGINT AS seq FROM {table} LIMIT 0"
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE delta_members (group_id VARCHAR, member_id VARCHAR,"
        " member_type VARCHAR, removed BOOLEAN, seq BIGINT)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE delta_deleted_users AS"
        " SELECT * FROM entra_deleted_users LIMIT 0"
    )


def _change_row(
    obj: dict[str, Any], seq: int, columns: dict[str, str], stand_ins: dict[str, Any], to_row
) -> dict[str, Any]:
    if "@removed" in obj:
        object_id = obj.get("id")
        if not isinstance(object_id, str) or not object_id:
            raise GraphDataError(f"Graph delta: a removed object without an id: {str(obj)[:80]}")
        return {"id": object_id, "present": [], "removed": True, "seq": seq}
    row = to_row({**stand_ins, **obj})
    row.update(present=[columns[key] for key in obj if key in columns], removed=False, seq=seq)
    return row


def user_changes(page: Iterable[dict[str, Any]], seq: Iterator[int]) -> list[dict[str, Any]]:
    return [
        _change_row(obj, next(seq), USER_COLUMNS, _USER_STAND_INS, graph_models.entra_user_row)
        for obj in page
    ]


def group_changes(
    page: Iterable[dict[str, Any]], seq: Iterator[int]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Group rows and membership changes (members@delta) of one groups delta page."""
    groups, members = [], []
    for obj in page:
        row = _change_row(
            obj, next(seq), GROUP_COLUMNS, _GROUP_STAND_INS, graph_models.entra_group_row
        )
        groups.append(row)
        for entry in obj.get("members@delta") or []:
            member = graph_models.entra_member_row(row["id"], entry, transitive=False)
            if member is not None:
                member.update(removed="@removed" in entry, seq=next(seq))
                members.append(member)
    return groups, members


def _merge_sql(stage: str, columns: list[str]) -> str:
    """One row per object: for each column the latest value Graph sent, and whether it sent one."""
    picks = ",\n".join(
        f"arg_max_null({c}, CASE WHEN list_contains(present, '{c}') THEN seq END) AS {c},"
        f" bool_or(list_contains(present, '{c}')) AS has_{c}"
        for c in columns
        if c != "id"
    )
    return (
        f"CREATE OR REPLACE TEMP TABLE {stage}_merged AS SELECT id,"
        f" arg_max(removed, seq) AS removed, {picks} FROM {stage} GROUP BY id"
    )


def _apply_objects(con: duckdb.DuckDBPyConnection, stage: str, table: str) -> int:
    """Remove, patch and insert `table` rows from the staged changes; returns objects changed."""
    columns = table_columns(con, table)
    con.execute(_merge_sql(stage, columns))
    merged = f"{stage}_merged"
    required = " AND ".join(f"has_{c}" for c in REQUIRED_NEW[table])
    incomplete = con.execute(
        f"SELECT id FROM {merged} WHERE NOT removed AND NOT ({required})"
        f" AND id NOT IN (SELECT id FROM {table}) LIMIT 1"
    ).fetchone()
    if incomplete:
        raise DeltaIncomplete(
            f"Graph delta of {table}: new object {incomplete[0]!r} lacks a required property"
        )
    con.execute(f"DELETE FROM {table} WHERE id IN (SELECT id FROM {merged} WHERE removed)")
    sets = ", ".join(
        f"{c} = CASE WHEN m.has_{c} THEN m.{c} ELSE t.{c} END" for c in columns if c != "id"
    )
    con.execute(
        f"UPDATE {table} AS t SET {sets} FROM {merged} m WHERE t.id = m.id AND NOT m.removed"
    )
    con.execute(
        f"INSERT INTO {table} SELECT {', '.join(columns)} FROM {merged}"
        f" WHERE NOT removed AND id NOT IN (SELECT id FROM {table})"
    )
    return con.execute(f"SELECT count(*) FROM {merged}").fetchone()[0]


def _apply_memberships(con: duckdb.DuckDBPyConnection) -> int:
    """The last reported state of each (group, member) pair, for the groups we track."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE delta_members_last AS SELECT * FROM delta_members"
        " QUALIFY row_number() OVER (PARTITION BY group_id, member_id ORDER BY seq DESC) = 1"
    )
    con.execute(
        "DELETE FROM entra_memberships m USING delta_members_last d"
        " WHERE m.group_id = d.group_id AND m.member_id = d.member_id"
    )
    con.execute(
        "INSERT INTO entra_memberships SELECT group_id, member_id, member_type"
        " FROM delta_members_last WHERE NOT removed"
        " AND group_id IN (SELECT group_id FROM entra_tracked_groups)"
    )
    removed_groups = [
        row[0] for row in con.execute("SELECT id FROM delta_groups_merged WHERE removed").fetchall()
    ]
    memberships.untrack(con, removed_groups)
    return con.execute("SELECT count(*) FROM delta_members_last").fetchone()[0]


def _read_rounds(
    con: duckdb.DuckDBPyConnection,
    client: GraphClient,
    links: delta_state.DeltaLinks,
    workers: int,
    stats: ReadStats,
) -> delta_state.DeltaLinks:
    """Both delta rounds and the deleted users, staged in temp tables; returns the next links."""
    users = DeltaRound(client, "users", links.users)
    groups = DeltaRound(client, "groups", links.groups)
    seq = itertools.count()
    batches = RowBatches(con)
    with FanOut(workers) as fan:
        fan.add(("users",), lambda: users)
        fan.add(("groups",), lambda: groups)
        fan.add(("deleted",), deleted_users_source(client))
        for key, page in fan.pages():
            if page is None:
                continue
            if key[0] == "users":
                stats.add("users", len(page))
                batches.add("delta_users", user_changes(page, seq))
            elif key[0] == "groups":
                group_rows, member_rows = group_changes(page, seq)
                stats.add("groups", len(group_rows) + len(member_rows))
                batches.add("delta_groups", group_rows)
                batches.add("delta_members", member_rows)
            else:
                stats.add("deleted", len(page))
                batches.add("delta_deleted_users", map(graph_models.entra_deleted_user_row, page))
        batches.flush()
    assert users.delta_link is not None and groups.delta_link is not None
    return delta_state.DeltaLinks(users=users.delta_link, groups=groups.delta_link)


# What a delta touched: the groups whose members or selves changed, and the changed members.
TOUCHED_GROUPS = "SELECT group_id FROM delta_members_last UNION SELECT id FROM delta_groups_merged"
TOUCHED_MEMBERS = "SELECT id FROM delta_users_merged UNION SELECT id FROM delta_groups_merged"


def _reconcile_tracked(
    con: duckdb.DuckDBPyConnection,
    client: GraphClient,
    settings: TenantSettings,
    workers: int,
    stats: ReadStats,
) -> tuple[list[str], bool]:
    """Read in full the groups now needed but not tracked (a recreated or newly nested group).

    Returns the connected groups, and whether the tracked groups stayed the same."""
    transitive = settings.transitive_groups
    roots = memberships.connected_group_ids(con, settings)
    tracked = memberships.tracked_groups(con)
    missing = memberships.groups_to_track(con, roots, transitive) - tracked
    if missing:
        memberships.untrack(con, missing)
        batches = RowBatches(con)
        with FanOut(workers) as fan:
            reads = memberships.MemberReads(client, fan, batches, transitive)
            reads.queued |= tracked
            reads.start(sorted(missing))
            for key, page in fan.pages():
                if page is not None:
                    stats.add(key, len(page))
                    reads.on_page(key[1], page)
            batches.flush()
        memberships.track(con, reads.queued - tracked)
    needed = memberships.groups_to_track(con, roots, transitive)
    extra = memberships.tracked_groups(con) - needed
    memberships.untrack(con, extra)
    return roots, not missing and not extra


def read_delta(
    con: duckdb.DuckDBPyConnection,
    client: GraphClient,
    settings: TenantSettings,
    links: delta_state.DeltaLinks,
    fingerprint: str,
    workers: int,
    stats: ReadStats,
) -> dict[str, Any]:
    """Apply Graph's changes since `links` in one transaction, with the new links.

    Raises DeltaExpired (410) or DeltaIncomplete before anything is changed: then read in full.
    """
    _stage_tables(con)
    with stats.phase("read"):
        next_links = _read_rounds(con, client, links, workers, stats)
    con.execute("BEGIN TRANSACTION")
    try:
        with stats.phase("apply"):
            users_changed = _apply_objects(con, "delta_users", "entra_users")
            groups_changed = _apply_objects(con, "delta_groups", "entra_groups")
            member_changes = _apply_memberships(con)
            con.execute("DELETE FROM entra_deleted_users")
            con.execute("INSERT INTO entra_deleted_users SELECT * FROM delta_deleted_users")
        with stats.phase("reconcile groups"):
            roots, same_groups = _reconcile_tracked(con, client, settings, workers, stats)
        with stats.phase("derive members"):
            if same_groups and not settings.transitive_groups:
                memberships.rederive_touched_members(con, roots, TOUCHED_GROUPS, TOUCHED_MEMBERS)
            else:
                memberships.derive_group_members(con, roots, settings.transitive_groups)
            delta_state.save_links(con, next_links, fingerprint)
        with stats.phase("commit"):
            con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return {
        "mode": "delta",
        "users_changed": users_changed,
        "groups_changed": groups_changed,
        "member_changes": member_changes,
    }
