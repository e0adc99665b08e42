"""Append each run's audit rows to the analysts' history: Parquet under `data/audit/`.

Layout: `<table>/tenant=<tenant>/date=<YYYY-MM-DD>/<run_id>.parquet`, the date being the UTC day
the run started. Every file is written beside its final name and renamed into place, so readers
never see half a file. A rerun of the same run id replaces that run's files and nothing else.
Each export appends a link to the tenant's manifest chain (`history_chain`): what it wrote.
Folders are made owner-only (0700), files 0600.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import duckdb

from entrasync.errors import EntrasyncError
from entrasync.warehouse import paths, snapshots
from entrasync.warehouse.history_chain import LinkDraft, file_sha256
from entrasync.warehouse.owner_only import private_file, private_folder

# Each table's rows of one run. `runs` goes last: a run's row appears once its other rows are in.
EXPORTS: dict[str, str] = {
    "changes": "SELECT * FROM changes WHERE run_id = $run_id ORDER BY kind, subject",
    "review_queue": "SELECT * FROM review_queue WHERE run_id = $run_id ORDER BY subject",
    "validation_results": "SELECT * FROM validation_results WHERE run_id = $run_id",
    "entra_user_snapshots": snapshots.ENTRA_USERS,
    "emply_user_snapshots": snapshots.EMPLY_USERS,
    "runs": "SELECT * FROM runs WHERE run_id = $run_id",
}
SNAPSHOT_TABLES = ("entra_user_snapshots", "emply_user_snapshots")
COMPACTED_PREFIX = "compacted-"


def audit_dir() -> Path:
    """Where the history's Parquet files live (`data/audit/`, moved by ENTRASYNC_DATA_DIR)."""
    return paths.history_root()


def partition_dir(root: Path, table: str, tenant: str, day: str) -> Path:
    return paths.history_partition(root, table, tenant, day)


def sql_text(value: str | Path) -> str:
    """A string as a SQL literal (file paths in COPY and read_parquet)."""
    return "'" + str(value).replace("'", "''") + "'"


def export_run(
    con: duckdb.DuckDBPyConnection, run_id: str, root: Path | None = None
) -> dict[str, int]:
    """Write one run's rows of every table; returns the rows written per table.

    Snapshots are written only while the warehouse's raw tables are this run's complete inputs
    (the run is the latest and it planned); otherwise any earlier snapshot files are kept.
    """
    root = root or audit_dir()
    run = con.execute(
        "SELECT tenant, strftime(timezone('UTC', started_at), '%Y-%m-%d') FROM runs"
        " WHERE run_id = ?",
        [run_id],
    ).fetchone()
    if run is None:
        raise EntrasyncError(f"no run {run_id!r} in this tenant's warehouse")
    tenant, day = run
    with_snapshots = snapshots.snapshot_ready(con, run_id)
    written: dict[str, int] = {}
    link = LinkDraft(root, tenant, "export", run_id)
    for table, select in EXPORTS.items():
        if table in SNAPSHOT_TABLES and not with_snapshots:
            continue
        directory = partition_dir(root, table, tenant, day)
        written[table] = write_run_file(con, select, run_id, directory, link)
    link.append()
    return written


def write_run_file(
    con: duckdb.DuckDBPyConnection, select: str, run_id: str, directory: Path, link: LinkDraft
) -> int:
    """`<directory>/<run_id>.parquet` holds exactly this run's rows (no file when it has none)."""
    private_folder(directory, link.root)
    target = paths.history_file(directory, f"{run_id}.parquet")
    scratch = paths.history_file(directory, f".{run_id}.parquet.tmp")
    rows = con.execute(
        f"COPY ({select}) TO {sql_text(scratch)} (FORMAT parquet)", {"run_id": run_id}
    ).fetchone()[0]
    if rows:
        link.wrote(target, file_sha256(private_file(scratch)))
        os.replace(scratch, target)
    else:
        scratch.unlink(missing_ok=True)
        if target.exists():
            target.unlink()
            link.removed(target)
    forget_run_in_compacted(con, directory, run_id, link)
    with contextlib.suppress(OSError):  # removes the folder only when it is empty
        directory.rmdir()
    return rows


def forget_run_in_compacted(
    con: duckdb.DuckDBPyConnection, directory: Path, run_id: str, link: LinkDraft
) -> None:
    """A rerun replaces its rows that compaction already merged (rare: a rerun of an old run).

    The merged file is rewritten from its own rows, so the chain must vouch for it first."""
    for merged in sorted(directory.glob(f"{COMPACTED_PREFIX}*.parquet")):
        source = f"read_parquet({sql_text(merged)}, hive_partitioning = false)"
        held = con.execute(f"SELECT count(*) FROM {source} WHERE run_id = ?", [run_id]).fetchone()
        if not held[0]:
            continue
        link.vouch_for([merged])
        scratch = paths.history_file(directory, f".{merged.name}.tmp")
        kept = con.execute(
            f"COPY (SELECT * FROM {source} WHERE run_id <> ?) TO {sql_text(scratch)}"
            " (FORMAT parquet)",
            [run_id],
        ).fetchone()[0]
        if kept:
            link.wrote(merged, file_sha256(private_file(scratch)))
            os.replace(scratch, merged)
        else:
            scratch.unlink()
            merged.unlink()
            link.removed(merged)


def tables_with_files(root: Path | None = None) -> list[str]:
    """The exported tables that have at least one Parquet file."""
    root = root or audit_dir()
    return [table for table in EXPORTS if next((root / table).glob("*/*/*.parquet"), None)]


def exported_run_ids(con: duckdb.DuckDBPyConnection, tenant: str, root: Path) -> set[str]:
    """Runs of the tenant whose export finished (their `runs` file is written last)."""
    files = sorted(paths.tenant_history(root, "runs", tenant).glob("*/*.parquet"))
    if not files:
        return set()
    listed = "[" + ", ".join(sql_text(path) for path in files) + "]"
    rows = con.execute(
        f"SELECT DISTINCT run_id FROM read_parquet({listed}, hive_partitioning = false)"
    ).fetchall()
    return {row[0] for row in rows}


def export_missing_runs(
    con: duckdb.DuckDBPyConnection, tenant: str, root: Path | None = None
) -> list[str]:
    """Export the tenant's runs the history lacks (older runs, or an export that failed)."""
    root = root or audit_dir()
    done = exported_run_ids(con, tenant, root)
    runs = con.execute(
        "SELECT run_id FROM runs WHERE tenant = ? ORDER BY started_at", [tenant]
    ).fetchall()
    missing = [run_id for (run_id,) in runs if run_id not in done]
    for run_id in missing:
        export_run(con, run_id, root)
    return missing
