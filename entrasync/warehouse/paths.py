"""Every file and folder made from a tenant name, made here: the name checked, the path confined.

A tenant's warehouse file, its history partitions and its manifest chain are each named by the
tenant name itself (a DNS label, `entrasync.tenant_names`). Each path is built from the resolved
data folder (or history folder) and must resolve to itself: no `..`, no absolute name, and no
symlink below the folder, so no tenant can reach another tenant's file or anything outside.
"""

from __future__ import annotations

import re
from pathlib import Path

from entrasync.errors import PathError
from entrasync.settings import data_dir
from entrasync.tenant_names import check_tenant_name

WAREHOUSE_FOLDER = "warehouse"
HISTORY_FOLDER = "audit"
VIEWS_FILE = "audit.duckdb"
MANIFESTS_FOLDER = "manifests"  # inside the history folder: one chain folder per tenant
TABLE_NAME = re.compile(r"[a-z][a-z0-9_]*")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def data_root(data: Path | None = None) -> Path:
    """The data folder, resolved (ENTRASYNC_DATA_DIR, else the checkout's `data/`)."""
    return (data or data_dir()).resolve()


def confined(root: Path, *parts: str) -> Path:
    """`root/parts...`, refused unless it resolves to exactly that path (no link, no escape)."""
    base = root.resolve()
    for part in parts:
        if not part or part in (".", "..") or "/" in part or "\\" in part or "\0" in part:
            raise PathError(f"{part!r} is not a plain file or folder name (under {base})")
    path = base.joinpath(*parts)
    real = path.resolve()
    if real != path:
        raise PathError(f"{path} resolves to {real}: a link leads out of its place in {base}")
    return path


def warehouse_file(tenant: str, data: Path | None = None) -> Path:
    """`<data>/warehouse/<tenant>.duckdb`: only this tenant's run writes it."""
    name = check_tenant_name(tenant)
    return confined(data_root(data), WAREHOUSE_FOLDER, f"{name}.duckdb")


def history_root(data: Path | None = None) -> Path:
    """`<data>/audit/`: the analysts' history (Parquet) and its manifest chains."""
    return confined(data_root(data), HISTORY_FOLDER)


def views_file(data: Path | None = None) -> Path:
    """`<data>/audit.duckdb`: views over the history for DuckDB clients other than ours."""
    return confined(data_root(data), VIEWS_FILE)


def tenant_partition_name(tenant: str) -> str:
    return f"tenant={check_tenant_name(tenant)}"


def history_table(root: Path, table: str) -> Path:
    """`<root>/<table>`: every tenant's files of one table."""
    return confined(root, check_table(table))


def tenant_history(root: Path, table: str, tenant: str) -> Path:
    """`<root>/<table>/tenant=<tenant>`: one tenant's files of one table, every day."""
    return confined(root, check_table(table), tenant_partition_name(tenant))


def history_partition(root: Path, table: str, tenant: str, day: str) -> Path:
    """`<root>/<table>/tenant=<tenant>/date=<day>`: one tenant's files of one table and day."""
    if not DAY.fullmatch(day):
        raise PathError(f"{day!r} is not a day (YYYY-MM-DD)")
    return confined(root, check_table(table), tenant_partition_name(tenant), f"date={day}")


def history_file(partition: Path, name: str) -> Path:
    """A file of a partition folder (a run's file, a merged file, a scratch file)."""
    if not FILE_NAME.fullmatch(name.lstrip(".")):
        raise PathError(f"{name!r} is not a history file name")
    return confined(partition, name)


def manifest_folder(root: Path, tenant: str) -> Path:
    """`<root>/manifests/<tenant>/`: the tenant's chain of manifests."""
    return confined(root, MANIFESTS_FOLDER, check_tenant_name(tenant))


def partition_parts(root: Path, folder: Path) -> tuple[str, str, str]:
    """(table, tenant, day) of a partition folder found on disk; refused unless well formed."""
    relative = folder.relative_to(root) if folder.is_absolute() else folder
    parts = relative.parts
    if len(parts) != 3 or not parts[1].startswith("tenant=") or not parts[2].startswith("date="):
        raise PathError(f"{folder} is not a <table>/tenant=<tenant>/date=<day> folder of {root}")
    table, tenant, day = parts[0], parts[1].removeprefix("tenant="), parts[2].removeprefix("date=")
    history_partition(root, table, tenant, day)  # checks each part and that it stays in place
    return table, tenant, day


def check_table(table: str) -> str:
    if not TABLE_NAME.fullmatch(table):
        raise PathError(f"{table!r} is not a history table name")
    return table
