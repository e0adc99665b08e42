"""Round trips and RU against the minimum the data needs, and wall time against its lower bound."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from bench.stack_process import LATENCY_MS, RU_PER_WINDOW, RU_WINDOW_S

PAGE = 999
# The emulator's route names of the Entra directory read (photos and calendars are not).
DIRECTORY_ROUTES = frozenset({
    "GET /users", "GET /users/delta", "GET /users/$count", "GET /groups", "GET /groups/delta",
    "GET /groups/{id}/members", "GET /groups/{id}/transitiveMembers",
    "GET /directory/deletedItems/microsoft.graph.user", "GET /directory/deletedItems/graph.user",
})  # fmt: skip


@dataclass
class ReadFigures:
    """One Entra directory read, as the warehouse recorded it, and its bounds."""

    mode: str
    objects: dict[str, int]
    pages: int
    minimum_pages: int
    minimum_ru: int
    chain_pages: int  # the longest run of requests that must follow one another

    def latency_bound_s(self) -> float:
        return self.chain_pages * LATENCY_MS / 1000

    def sequential_bound_s(self) -> float:
        return self.minimum_pages * LATENCY_MS / 1000


def ru_bound_s(resource_units: int) -> float:
    """Seconds the RU budget forces: the bucket starts full, then refills 800 RU a second."""
    return max(0.0, resource_units - RU_PER_WINDOW) / (RU_PER_WINDOW / RU_WINDOW_S)


def directory_requests(stats: dict[str, Any]) -> int:
    """Graph requests of the directory read (mailbox and $batch routes left out)."""
    return sum(count for route, count in stats["by_path"].items() if route in DIRECTORY_ROUTES)


def _pages(count: int) -> int:
    return max(1, math.ceil(count / PAGE))


def read_figures(warehouse: Path) -> ReadFigures:
    """The latest directory read of a tenant warehouse (opened read-only)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        mode, objects, pages, minimum = con.execute(
            "SELECT mode, objects, pages, minimum_pages FROM entra_directory_reads"
            " ORDER BY read_at DESC LIMIT 1"
        ).fetchone()
        objects = json.loads(objects)
        largest_shard, largest_group = con.execute(
            """
            SELECT (SELECT max(n) FROM (SELECT count(*) n FROM entra_users
                                        GROUP BY lower(left(user_principal_name, 1)))),
                   (SELECT max(n) FROM (SELECT count(*) n FROM entra_memberships
                                        GROUP BY group_id))
            """
        ).fetchone()
    users, groups = objects.get("users", 0), objects.get("groups", 0)
    deleted = objects.get("deleted", 0)
    if mode == "full":
        member_pages = minimum - _pages(users) - _pages(groups) - _pages(deleted)
        minimum_ru = _pages(users) + _pages(groups) + 2 * member_pages + _pages(deleted)
        # latest links and $count, then groups before their members; users split in parallel
        chain = 1 + max(_pages(groups) + _pages(largest_group or 0), _pages(largest_shard or 0))
    else:
        minimum_ru = minimum
        chain = max(_pages(users), _pages(groups), _pages(deleted))
    return ReadFigures(mode, objects, pages, minimum, minimum_ru, chain)
