"""A full read of the Entra directory, several requests at once, stored with fresh deltaLinks."""

from __future__ import annotations

import logging
from collections.abc import Hashable

import duckdb

from entrasync.connectors.graph import frames as page_frames
from entrasync.connectors.graph import models as graph_models
from entrasync.connectors.graph.client import GraphClient
from entrasync.connectors.graph.delta import latest_link
from entrasync.connectors.graph.pacing import identity_budget
from entrasync.extract.directory import memberships
from entrasync.extract.directory.fanout import FanOut, Source, run_together
from entrasync.extract.directory.read_stats import ReadStats
from entrasync.extract.directory.row_batches import RowBatches
from entrasync.settings import TenantSettings
from entrasync.warehouse import delta_state

logger = logging.getLogger(__name__)

# Characters a UPN may start with (Microsoft: A-Z a-z 0-9 ' . - _ ! # ^ ~). A /users read is
# split by them when the tenant is large; the $count check catches anything they miss.
UPN_FIRST_CHARACTERS = tuple("abcdefghijklmnopqrstuvwxyz0123456789") + tuple("'.-_!#^~")
SHARD_FROM_USERS = 5 * 999
DIRECTORY_TABLES = (
    "entra_users", "entra_groups", "entra_deleted_users", "entra_memberships",
    "entra_tracked_groups",
)  # fmt: skip


def user_sources(client: GraphClient, user_count: int) -> list[tuple[Hashable, Source]]:
    """One /users read, or one per first UPN character for a large tenant."""
    if user_count < SHARD_FROM_USERS:
        return [(("users", ""), client.user_pages)]
    return [
        (("users", c), lambda c=c: client.user_pages(first_character=c))
        for c in UPN_FIRST_CHARACTERS
    ]


def deleted_users_source(client: GraphClient) -> Source:
    return client.deleted_user_pages


def _read_everything(
    con: duckdb.DuckDBPyConnection,
    client: GraphClient,
    settings: TenantSettings,
    batches: RowBatches,
    user_count: int,
    workers: int,
    stats: ReadStats,
) -> set[str]:
    """Users, groups, deleted users and the tracked groups' members; returns the tracked ids."""
    with FanOut(workers) as fan:
        members = memberships.MemberReads(client, fan, batches, settings.transitive_groups)
        for key, source in user_sources(client, user_count):
            fan.add(key, source)
        fan.add(("groups",), client.group_pages)
        fan.add(("deleted",), deleted_users_source(client))
        for key, page in fan.pages():
            kind = key[0]
            if page is None:
                if kind == "groups":  # the connected groups resolve once every group is in
                    batches.flush("entra_groups")
                    members.start(memberships.connected_group_ids(con, settings))
                continue
            stats.add(key if kind == "members" else kind, len(page))
            if kind == "users":
                batches.add_frame("entra_users", page_frames.user_frame(page))
            elif kind == "groups":
                batches.add("entra_groups", map(graph_models.entra_group_row, page))
            elif kind == "deleted":
                batches.add("entra_deleted_users", map(graph_models.entra_deleted_user_row, page))
            else:
                members.on_page(key[1], page)
        batches.flush()
    return members.queued


def _reread_users(con: duckdb.DuckDBPyConnection, client: GraphClient, counted: int) -> None:
    read = con.execute("SELECT count(*) FROM entra_users").fetchone()[0]
    logger.warning("split /users read gave %d users, $count %d: reading again", read, counted)
    con.execute("DELETE FROM entra_users")
    batches = RowBatches(con)
    for page in client.user_pages():
        batches.add_frame("entra_users", page_frames.user_frame(page))
    batches.flush()


def read_full(
    con: duckdb.DuckDBPyConnection,
    client: GraphClient,
    settings: TenantSettings,
    fingerprint: str,
    workers: int,
    stats: ReadStats,
) -> None:
    """Replace the directory tables in one transaction; a failure leaves them as they were.

    The deltaLinks are taken (`$deltatoken=latest`) before anything is read, so a change made
    during the read is replayed by the next delta read rather than lost.
    """
    with stats.phase("links and count"):
        users_link, groups_link, user_count = run_together(
            workers,
            lambda: latest_link(client, "users", graph_models.USER_SELECT),
            lambda: latest_link(client, "groups", ("displayName", "members")),
            client.count_users,
        )
    if client.pacer is not None:
        client.pacer.set_capacity(identity_budget(user_count))
    con.execute("BEGIN TRANSACTION")
    try:
        with stats.phase("clear"):
            for table in DIRECTORY_TABLES:
                con.execute(f"DELETE FROM {table}")
            delta_state.forget_links(con)
        batches = RowBatches(con)
        with stats.phase("read"):
            tracked = _read_everything(con, client, settings, batches, user_count, workers, stats)
        if user_count >= SHARD_FROM_USERS and batches.inserted.get("entra_users", 0) != user_count:
            with stats.phase("read /users again"):
                _reread_users(con, client, user_count)
        with stats.phase("derive members"):
            memberships.track(con, tracked)
            roots = memberships.connected_group_ids(con, settings)
            memberships.derive_group_members(con, roots, settings.transitive_groups)
            links = delta_state.DeltaLinks(users=users_link, groups=groups_link)
            delta_state.save_links(con, links, fingerprint)
        with stats.phase("commit"):
            con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
