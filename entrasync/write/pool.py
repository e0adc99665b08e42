"""Run a plan's writes on a bounded thread pool; outcomes are recorded from the calling thread."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

import duckdb

from entrasync.warehouse.outcomes import Outcome
from entrasync.write.engine import OutcomeLog

Change = dict[str, Any]
WriteOne = Callable[[Change, duckdb.DuckDBPyConnection], dict[str, Any] | None]


def units(changes: Iterable[Change]) -> list[list[Change]]:
    """Changes grouped per Emply user (in plan order): one user's writes never overlap."""
    grouped: dict[Hashable, list[Change]] = {}
    for change in changes:
        grouped.setdefault(change["emply_user_id"] or change["change_id"], []).append(change)
    return list(grouped.values())


def run_unit(
    unit: list[Change], write_one: WriteOne, cursor: Callable[[], duckdb.DuckDBPyConnection]
) -> list[Outcome]:
    outcomes = []
    for change in unit:
        try:
            result = write_one(change, cursor())
        except Exception as exc:  # recorded per change; the run ends failed
            outcomes.append(Outcome(change["change_id"], "failed", str(exc)))
        else:
            outcomes.append(Outcome(change["change_id"], "applied", result=result))
    return outcomes


def run_phase(
    con: duckdb.DuckDBPyConnection,
    log: OutcomeLog,
    changes: list[Change],
    write_one: WriteOne,
    workers: int,
    stop: Callable[[], bool] = lambda: False,
) -> None:
    """Write one phase's changes, `workers` at a time; each thread reads through its own cursor.

    When `stop()` says so (the run's deadline), no further user is started: the writes in
    flight end and are recorded, the rest stay planned for the rerun.
    """
    local = threading.local()

    def cursor() -> duckdb.DuckDBPyConnection:
        if not hasattr(local, "cursor"):
            local.cursor = con.cursor()  # DuckDB connections are not shared between threads
        return local.cursor

    todo = deque(units(changes))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="emply-write") as pool:
        running: set[Future[list[Outcome]]] = set()
        while todo or running:
            if todo and stop():
                todo.clear()
            while todo and len(running) < workers * 2:
                running.add(pool.submit(run_unit, todo.popleft(), write_one, cursor))
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                for outcome in future.result():
                    log.add(outcome)
    log.flush()
