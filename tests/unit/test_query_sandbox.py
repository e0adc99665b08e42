"""`entrasync query` is read-only by construction: each attack fails in one line, no file changes.

The data folder holds two tenants' warehouses and their exported history. Every attack runs
through the real command (`entrasync query [--tenant t] SQL`); the whole data folder is hashed
before and after, and the attack must end with exit code 2 and one line on stderr.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from test_history_export import given_platform, run

from entrasync.cli import main
from entrasync.warehouse.history import export_run
from entrasync.warehouse.paths import history_root, warehouse_file
from entrasync.warehouse.query_sandbox import ReadOnlyFolder


def entrasync(*argv: str) -> int:
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    return exit_.value.code


def tree(folder: Path) -> dict[str, str]:
    """Every entry under `folder`: files by content hash, links by target, folders by mode."""
    found = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            found[name] = f"-> {os.readlink(path)}"
        elif path.is_file():
            found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[name] = f"folder {path.stat().st_mode:o}"
    return found


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Warehouses of tenants `t` and `other` (a failed run), the history of `t` exported."""
    data = tmp_path / "data"
    monkeypatch.setenv("ENTRASYNC_DATA_DIR", str(data))
    given = given_platform()
    for started_at in ("2024-05-01 10:00:00+00", "2024-05-02 10:00:00+00"):
        export_run(given.con, run(given, started_at), history_root(data))
    warehouse_file("t", data).parent.mkdir()
    given.con.execute(f"ATTACH '{warehouse_file('t', data)}' AS saved")
    given.con.execute("COPY FROM DATABASE memory TO saved")
    given.con.execute("DETACH saved")
    given.con.execute("UPDATE runs SET status = 'failed'")
    given.con.execute(f"ATTACH '{warehouse_file('other', data)}' AS saved")
    given.con.execute("COPY FROM DATABASE memory TO saved")
    given.con.execute("DETACH saved")
    # A link inside the history that leads to the warehouses: the read-only folder refuses it.
    (history_root(data) / "shortcut").symlink_to(warehouse_file("t", data).parent)
    return data


def history_file(data: Path) -> Path:
    return next((history_root(data) / "runs").rglob("run-1.parquet"))


def attacks(data: Path) -> dict[str, str]:
    """Each attack the issue names, and others: the SQL an analyst would type."""
    other, mine = warehouse_file("other", data), warehouse_file("t", data)
    target = history_file(data)
    in_history = f"entrasync-history://{target.relative_to(history_root(data)).as_posix()}"
    return {
        "attach another warehouse for writing, then update it": (
            f"ATTACH '{other}' AS o (READ_WRITE); UPDATE o.runs SET status = 'completed'"
        ),
        "attach another warehouse read-only": f"ATTACH '{other}' AS o (READ_ONLY)",
        "attach the own warehouse for writing": f"ATTACH '{mine}' AS w (READ_WRITE)",
        "attach a new database file": f"ATTACH '{data / 'new.duckdb'}' AS n",
        "attach a memory database, then write": "ATTACH ':memory:' AS m; CREATE TABLE m.x (a INT)",
        "attach a database in the history for writing": (
            "ATTACH 'entrasync-history://new.duckdb' AS n (READ_WRITE)"
        ),
        "copy over a history file (its path)": (
            f"COPY (SELECT * REPLACE ('completed' AS status) FROM runs) TO '{target}'"
            " (FORMAT parquet)"
        ),
        "copy over a history file (read-only folder)": (
            f"COPY (SELECT * FROM runs) TO '{in_history}' (FORMAT parquet)"
        ),
        "copy a new file into the history": (
            "COPY (SELECT * FROM runs) TO 'entrasync-history://runs/evil.parquet' (FORMAT parquet)"
        ),
        "copy into the history, partitioned": (
            "COPY (SELECT * FROM runs) TO 'entrasync-history://runs' "
            "(FORMAT parquet, PARTITION_BY (tenant), OVERWRITE_OR_IGNORE)"
        ),
        "copy elsewhere": f"COPY (SELECT 1) TO '{data.parent / 'out.csv'}'",
        "copy to a relative path": "COPY (SELECT 1) TO 'out.csv'",
        "export the database": f"EXPORT DATABASE '{data.parent / 'dump'}'",
        "export the database into the history": "EXPORT DATABASE 'entrasync-history://dump'",
        "import a database": f"IMPORT DATABASE '{data.parent}'",
        "read /etc/passwd as CSV": "SELECT * FROM read_csv('/etc/passwd', sep = ':')",
        "read /etc/passwd as text": "SELECT * FROM read_text('/etc/passwd')",
        "read a file by its name": "SELECT * FROM '/etc/passwd'",
        "list the root folder": "SELECT * FROM glob('/*')",
        "read another warehouse's bytes": f"SELECT * FROM read_blob('{other}')",
        "read out of the history with ..": (
            "SELECT * FROM read_blob('entrasync-history://../warehouse/other.duckdb')"
        ),
        "read out of the history through a link": (
            "SELECT * FROM read_blob('entrasync-history://shortcut/other.duckdb')"
        ),
        "run a statement through query()": f"SELECT * FROM query('ATTACH ''{other}'' AS o')",
        "install an extension": "INSTALL httpfs",
        "install an extension from a URL": "INSTALL httpfs FROM 'http://127.0.0.1:9/'",
        "load an extension": "LOAD httpfs",
        "load an extension file": f"LOAD '{data.parent / 'evil.duckdb_extension'}'",
        "read over HTTP": "SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')",
        "switch external access back on": "SET enable_external_access = true",
        "reset external access": "RESET enable_external_access",
        "allow every folder": "SET allowed_directories = ['/']",
        "enable the local file system": "SET disabled_filesystems = ''",
        "unlock the configuration": "SET lock_configuration = false",
        "spill into the data folder": f"SET temp_directory = '{data}'",
        "write a profile file": f"PRAGMA profiling_output = '{data / 'profile.json'}'",
        "pragma that changes a setting": "PRAGMA enable_profiling",
        "log to a file": f"CALL enable_logging(storage = 'file', storage_path = '{data}')",
        "create a persistent secret": "CREATE PERSISTENT SECRET s (TYPE http, BEARER_TOKEN 'x')",
        "create a table": "CREATE TABLE x AS SELECT * FROM runs",
        "drop a view": "DROP VIEW runs",
        "replace a view": "CREATE OR REPLACE VIEW runs AS SELECT 1 AS status",
        "insert into a view": "INSERT INTO runs (run_id) VALUES ('forged')",
        "update a view": "UPDATE runs SET status = 'completed'",
        "delete from a view": "DELETE FROM runs",
        "read the environment": "SELECT getenv('HOME')",
    }


TENANT_ATTACKS = {
    "update the own warehouse": "UPDATE runs SET status = 'completed'",
    "delete from the own warehouse": "DELETE FROM runs",
    "drop a table": "DROP TABLE runs",
    "create a table": "CREATE TABLE x (a INT)",
    "attach a memory database, then write": "ATTACH ':memory:' AS m; CREATE TABLE m.x (a INT)",
}


def attempt(capsys: pytest.CaptureFixture, *argv: str) -> str:
    code = entrasync("query", *argv)
    err = capsys.readouterr().err
    assert code == 2, f"{argv[-1]!r} was not refused"
    assert err.startswith("entrasync: query failed:") and err.count("\n") == 1, err
    return err


def test_every_attack_on_the_history_fails_in_one_line_and_changes_nothing(
    data: Path, capsys: pytest.CaptureFixture
) -> None:
    before = tree(data.parent)
    refused = {what: attempt(capsys, sql) for what, sql in attacks(data).items()}
    assert tree(data.parent) == before
    assert refused["copy over a history file (read-only folder)"].endswith(
        "PermissionError: runs/tenant=t/date=2024-05-01/tmp_run-1.parquet: the history is"
        " read-only here\n"
    )
    assert "disabled" in refused["read /etc/passwd as CSV"]
    assert "locked" in refused["switch external access back on"]
    # and the history still says what it said
    assert entrasync("query", "SELECT string_agg(status, ',') FROM runs") == 0
    assert "completed,completed" in capsys.readouterr().out


def test_every_attack_through_one_tenants_warehouse_fails_and_changes_nothing(
    data: Path, capsys: pytest.CaptureFixture
) -> None:
    before = tree(data.parent)
    everything = attacks(data) | TENANT_ATTACKS
    everything["read the history beside it"] = f"SELECT * FROM read_parquet('{history_file(data)}')"
    for sql in everything.values():
        attempt(capsys, "--tenant", "t", sql)
    assert tree(data.parent) == before
    with duckdb.connect(str(warehouse_file("other", data)), read_only=True) as con:
        assert con.execute("SELECT DISTINCT status FROM runs").fetchall() == [("failed",)]


def test_a_query_only_reads(data: Path, capsys: pytest.CaptureFixture) -> None:
    before = tree(data.parent)
    assert entrasync("query", "SELECT 'n=' || count(*) FROM changes") == 0
    assert "n=6" in capsys.readouterr().out
    assert entrasync("query", "--tenant", "t", "SELECT 'n=' || count(*) FROM changes") == 0
    assert "n=6" in capsys.readouterr().out
    assert tree(data.parent) == before


def test_a_tenant_name_that_is_a_path_is_refused(data: Path, capsys) -> None:
    assert entrasync("query", "--tenant", "../warehouse/other", "SELECT 1") == 2
    assert "not a valid tenant name" in capsys.readouterr().err


def test_the_read_only_folder_refuses_writes_and_escapes(tmp_path: Path) -> None:
    (tmp_path / "inside").mkdir()
    (tmp_path / "inside" / "a.parquet").write_bytes(b"PAR1")
    (tmp_path / "secret").write_text("no")
    folder = ReadOnlyFolder(tmp_path / "inside")

    assert folder.cat_file("entrasync-history://a.parquet") == b"PAR1"
    assert folder.ls("entrasync-history://", detail=False) == ["a.parquet"]
    for write in (
        lambda: folder.open("entrasync-history://a.parquet", "wb"),
        lambda: folder.pipe_file("entrasync-history://b.parquet", b"x"),
        lambda: folder.rm_file("entrasync-history://a.parquet"),
        lambda: folder.mv("entrasync-history://a.parquet", "entrasync-history://c.parquet"),
        lambda: folder.mkdir("entrasync-history://d"),
        lambda: folder.touch("entrasync-history://e.parquet"),
        lambda: folder.cat_file("entrasync-history://../secret"),
    ):
        with pytest.raises(PermissionError):
            write()
    assert sorted(p.name for p in (tmp_path / "inside").iterdir()) == ["a.parquet"]
    shutil.rmtree(tmp_path / "inside")
