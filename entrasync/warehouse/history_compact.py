"""`entrasync history compact`: merge each tenant/date partition's small files into one.

Per partition: check that the tenant's manifest chain vouches for every input (a file edited
out of band is left as found, for `history verify` to name), note the plan in a journal, write
the merged file beside its final name, rename it into place, append a link recording the
inputs and their hashes → the merged file and its hash, then remove the inputs. An interrupted
compaction is finished (or undone) by the next one, so the command is safe to rerun. Readers
may see a partition's rows twice for the moment between the rename and the removals, never
zero times.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from entrasync.warehouse import paths
from entrasync.warehouse.history import COMPACTED_PREFIX, audit_dir, sql_text
from entrasync.warehouse.history_chain import LinkDraft, file_sha256, fold, relative_name
from entrasync.warehouse.owner_only import private_file, write_private

JOURNAL = ".compacting.json"


def partitions(root: Path, before: date) -> list[Path]:
    """Every `<table>/tenant=*/date=*` folder whose day is before `before`."""
    found = []
    for folder in sorted(root.glob("*/tenant=*/date=*")):
        if not folder.is_dir():
            continue
        _, _, day = paths.partition_parts(root, folder)  # refuses a folder out of place
        if date.fromisoformat(day) < before:
            found.append(folder)
    return found


def compact(root: Path | None = None, before: date | None = None) -> list[Path]:
    """Compact every partition of a day before `before`; returns the merged files.

    By default `before` is today (UTC): today's partitions are still growing.
    """
    root = root or audit_dir()
    before = before or datetime.now(UTC).date()
    merged = [compact_partition(folder, root) for folder in partitions(root, before)]
    return [path for path in merged if path]


def compact_partition(folder: Path, root: Path | None = None) -> Path | None:
    """Merge the folder's Parquet files into one; None when there was nothing to merge."""
    root = root or folder.parent.parent.parent
    _, tenant, _ = paths.partition_parts(root, folder)
    finish_interrupted(folder, root, tenant)
    inputs = sorted(folder.glob("*.parquet"))
    if len(inputs) < 2:
        return None
    link = LinkDraft(root, tenant, "compact")
    link.vouch_for(inputs)
    output = paths.history_file(folder, f"{COMPACTED_PREFIX}{uuid.uuid4().hex}.parquet")
    scratch = paths.history_file(folder, f".{output.name}.tmp")
    journal = paths.history_file(folder, JOURNAL)
    plan = {"output": output.name, "inputs": [p.name for p in inputs], "read": link.read}
    write_private(journal, json.dumps(plan).encode())
    files = "[" + ", ".join(sql_text(p) for p in inputs) + "]"
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT * FROM read_parquet({files}, union_by_name = true,"
            f" hive_partitioning = false)) TO {sql_text(scratch)} (FORMAT parquet)"
        )
    link.wrote(output, file_sha256(private_file(scratch)))
    os.replace(scratch, output)
    for path in inputs:
        link.removed(path)
    link.append()
    for path in inputs:
        path.unlink(missing_ok=True)
    journal.unlink()
    return output


def finish_interrupted(folder: Path, root: Path, tenant: str) -> None:
    """Complete a compaction whose merged file landed; forget one that did not."""
    journal = folder / JOURNAL
    if not journal.exists():
        return
    plan = json.loads(journal.read_text())
    output = paths.history_file(folder, plan["output"])
    inputs = [paths.history_file(folder, name) for name in plan["inputs"]]
    if output.exists():
        chain = fold(root, tenant)
        if relative_name(root, output) not in chain.files:  # killed before its link landed
            link = LinkDraft(root, tenant, "compact", read=plan.get("read", {}))
            link.wrote(output, file_sha256(output))
            for path in inputs:
                link.removed(path)
            link.append()
        for path in inputs:
            path.unlink(missing_ok=True)
    else:
        (folder / f".{plan['output']}.tmp").unlink(missing_ok=True)
    journal.unlink()
