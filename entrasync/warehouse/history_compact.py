"""`entrasync history compact`: merge each tenant/date partition's small files into one.

Per partition: note the plan in a journal, write the merged file beside its final name, rename
it into place, then remove the inputs. An interrupted compaction is finished (or undone) by the
next one, so the command is safe to rerun. Readers may see a partition's rows twice for the
moment between the rename and the removals, never zero times.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from entrasync.warehouse.history import COMPACTED_PREFIX, audit_dir, sql_text

JOURNAL = ".compacting.json"


def partitions(root: Path, before: date) -> list[Path]:
    """Every `<table>/tenant=*/date=*` folder whose day is before `before`."""
    found = []
    for folder in sorted(root.glob("*/tenant=*/date=*")):
        if folder.is_dir() and date.fromisoformat(folder.name.removeprefix("date=")) < before:
            found.append(folder)
    return found


def compact(root: Path | None = None, before: date | None = None) -> list[Path]:
    """Compact every partition of a day before `before`; returns the merged files.

    By default `before` is today (UTC): today's partitions are still growing.
    """
    root = root or audit_dir()
    before = before or datetime.now(UTC).date()
    merged = [compact_partition(folder) for folder in partitions(root, before)]
    return [path for path in merged if path]


def compact_partition(folder: Path) -> Path | None:
    """Merge the folder's Parquet files into one; None when there was nothing to merge."""
    finish_interrupted(folder)
    inputs = sorted(folder.glob("*.parquet"))
    if len(inputs) < 2:
        return None
    output = folder / f"{COMPACTED_PREFIX}{uuid.uuid4().hex}.parquet"
    scratch = folder / f".{output.name}.tmp"
    journal = folder / JOURNAL
    journal.write_text(json.dumps({"output": output.name, "inputs": [p.name for p in inputs]}))
    files = "[" + ", ".join(sql_text(p) for p in inputs) + "]"
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT * FROM read_parquet({files}, union_by_name = true,"
            f" hive_partitioning = false)) TO {sql_text(scratch)} (FORMAT parquet)"
        )
    os.replace(scratch, output)
    for path in inputs:
        path.unlink(missing_ok=True)
    journal.unlink()
    return output


def finish_interrupted(folder: Path) -> None:
    """Complete a compaction whose merged file landed; forget one that did not."""
    journal = folder / JOURNAL
    if not journal.exists():
        return
    plan = json.loads(journal.read_text())
    if (folder / plan["output"]).exists():
        for name in plan["inputs"]:
            (folder / name).unlink(missing_ok=True)
    else:
        (folder / f".{plan['output']}.tmp").unlink(missing_ok=True)
    journal.unlink()
