"""Extract the Entra directory: a delta read when the stored links allow it, else a full read."""

from __future__ import annotations

import logging

import duckdb

from entrasync.connectors.graph.client import GraphClient
from entrasync.connectors.graph.delta import DeltaExpired
from entrasync.connectors.graph.pacing import ResourceUnitPacer, identity_budget
from entrasync.extract.directory.delta import DeltaIncomplete, read_delta
from entrasync.extract.directory.full import read_full
from entrasync.extract.directory.read_stats import ReadStats
from entrasync.settings import TenantSettings
from entrasync.warehouse import delta_state

logger = logging.getLogger(__name__)

# Requests in flight at once; the pacer keeps them inside Graph's resource-unit budget.
READ_WORKERS = 16
DIRECTORY_TABLES = ("entra_users", "entra_groups", "entra_group_members", "entra_deleted_users")


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {
        table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in DIRECTORY_TABLES
    }


def extract_entra(
    con: duckdb.DuckDBPyConnection,
    client: GraphClient,
    settings: TenantSettings,
    workers: int = READ_WORKERS,
) -> dict[str, int]:
    """Users, groups, the members of the connected groups and soft-deleted users.

    Returns the rows each table holds. A failed or partial read raises and leaves the tables
    as they were (R4: the run stops before planning).
    """
    if client.pacer is None:
        client.pacer = ResourceUnitPacer()
    fingerprint = delta_state.fingerprint(settings, client.graph_url)
    links = delta_state.load_links(con, fingerprint)
    if links is None:
        reason = "no deltaLinks yet" if delta_state.stored_fingerprint(con) is None else (
            "settings or endpoint changed since the links were stored")  # fmt: skip
    else:
        users = con.execute("SELECT count(*) FROM entra_users").fetchone()[0]
        client.pacer.set_capacity(identity_budget(users))
        stats = ReadStats("delta", None)
        try:
            applied = read_delta(con, client, settings, links, fingerprint, workers, stats)
        except (DeltaExpired, DeltaIncomplete) as error:
            reason = str(error)
        else:
            stats.record(con)
            logger.info("Entra delta read for %s: %s %s", settings.name, stats.summary(), applied)
            return table_counts(con)
    stats = ReadStats("full", reason)
    read_full(con, client, settings, fingerprint, workers, stats)
    stats.record(con)
    logger.info("Entra full read for %s: %s", settings.name, stats.summary())
    return table_counts(con)
