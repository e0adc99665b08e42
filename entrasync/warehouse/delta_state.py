"""The stored Graph deltaLinks of a tenant, and what the directory tables were read under."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import duckdb

from entrasync.settings import TenantSettings

# Bump when the way the directory tables are kept changes: old links then force a full read.
STATE_VERSION = 1
COLLECTIONS = ("users", "groups")


@dataclass(frozen=True)
class DeltaLinks:
    users: str
    groups: str


def fingerprint(settings: TenantSettings, graph_url: str) -> str:
    """What a delta read must share with the read it continues: else a full read is due."""
    basis = {
        "version": STATE_VERSION,
        "tenant_id": settings.tenant_id,
        "graph_url": graph_url.rstrip("/"),
        "groups": sorted({mapping.group.strip().lower() for mapping in settings.groups}),
        "transitive": settings.transitive_groups,
    }
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()[:32]


def load_links(con: duckdb.DuckDBPyConnection, expected_fingerprint: str) -> DeltaLinks | None:
    """The stored links when both exist and were made under the same fingerprint."""
    rows = dict(
        con.execute(
            "SELECT collection, delta_link FROM entra_delta_links WHERE fingerprint = ?",
            [expected_fingerprint],
        ).fetchall()
    )
    if set(rows) != set(COLLECTIONS):
        return None
    return DeltaLinks(users=rows["users"], groups=rows["groups"])


def stored_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    row = con.execute("SELECT any_value(fingerprint) FROM entra_delta_links").fetchone()
    return row[0] if row else None


def save_links(con: duckdb.DuckDBPyConnection, links: DeltaLinks, fingerprint_: str) -> None:
    """Replace the stored links (call inside the transaction that updated the tables)."""
    con.execute("DELETE FROM entra_delta_links")
    con.executemany(
        "INSERT INTO entra_delta_links VALUES (?, ?, ?, now())",
        [("users", links.users, fingerprint_), ("groups", links.groups, fingerprint_)],
    )


def forget_links(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DELETE FROM entra_delta_links")
