"""The history's manifest chains: clean history verifies, every edit out of band is named."""

from __future__ import annotations

import json
import shutil
import threading
from datetime import date
from pathlib import Path

import duckdb
import pytest
from test_history_export import given_platform, run

from entrasync.cli import main
from entrasync.warehouse.history import export_run
from entrasync.warehouse.history_chain import TamperedHistory, append_link, fold, verify
from entrasync.warehouse.history_compact import JOURNAL, compact, compact_partition
from entrasync.warehouse.paths import history_root, manifest_folder

STARTS = ("2024-05-01 08:00:00+00", "2024-05-01 09:00:00+00", "2024-05-02 08:00:00+00")
DAY_1 = "tenant=t/date=2024-05-01"


def exported(root: Path, tenant: str = "t", starts: tuple[str, ...] = STARTS):
    given = given_platform()
    if tenant != "t":
        given.con.execute("UPDATE runs SET tenant = ?", [tenant])
    for started_at in starts:
        run_id = run(given, started_at)
        given.con.execute("UPDATE runs SET tenant = ?", [tenant])
        export_run(given.con, run_id, root)
    return given


def problems(root: Path, tenant: str = "t") -> list[str]:
    [chain] = verify(root, tenant)
    return chain.problems


def link(root: Path, seq: int, tenant: str = "t") -> Path:
    return manifest_folder(root, tenant) / f"{seq:08d}.json"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    exported(tmp_path)
    return tmp_path


def test_a_clean_history_verifies(root: Path) -> None:
    [chain] = verify(root)
    assert chain.problems == [] and len(chain.links) == 3
    assert chain.links[1].body["previous"] == chain.links[0].digest
    assert set(chain.files) == {p.relative_to(root).as_posix() for p in root.rglob("*.parquet")}


def test_an_edited_byte_is_named(root: Path) -> None:
    target = root / "changes" / DAY_1 / "run-2.parquet"
    content = bytearray(target.read_bytes())
    content[len(content) // 2] ^= 1
    target.write_bytes(bytes(content))
    assert problems(root) == [
        f"changes/{DAY_1}/run-2.parquet: edited out of band (recorded by link 2)"
    ]


def test_a_rewritten_file_with_other_rows_is_named(root: Path) -> None:
    """The issue's attack: a failed run shown as completed by a COPY over its file."""
    target = root / "runs" / DAY_1 / "run-1.parquet"
    duckdb.sql(
        f"COPY (SELECT * REPLACE ('failed' AS status) FROM '{target}') TO '{target}.x'"
        " (FORMAT parquet)"
    )
    Path(f"{target}.x").replace(target)
    assert problems(root) == [
        f"runs/{DAY_1}/run-1.parquet: edited out of band (recorded by link 1)"
    ]


def test_a_removed_file_is_named(root: Path) -> None:
    (root / "runs" / DAY_1 / "run-2.parquet").unlink()
    assert problems(root) == [
        f"runs/{DAY_1}/run-2.parquet: removed out of band (recorded by link 2)"
    ]


def test_added_files_are_named_hidden_ones_and_new_tenants_too(root: Path) -> None:
    source = root / "runs" / DAY_1 / "run-1.parquet"
    shutil.copy(source, root / "runs" / DAY_1 / "run-9.parquet")
    shutil.copy(source, root / "runs" / DAY_1 / ".hidden.parquet")
    (root / "runs" / "tenant=ghost" / "date=2024-05-01").mkdir(parents=True)
    shutil.copy(source, root / "runs" / "tenant=ghost" / "date=2024-05-01" / "run-1.parquet")

    assert problems(root) == [
        f"runs/{DAY_1}/.hidden.parquet: added out of band (in no link)",
        f"runs/{DAY_1}/run-9.parquet: added out of band (in no link)",
    ]
    by_tenant = {chain.tenant: chain.problems for chain in verify(root)}
    assert by_tenant["ghost"] == [
        "runs/tenant=ghost/date=2024-05-01/run-1.parquet: added out of band (in no link)"
    ]
    (root / "runs" / "tenant=Bad_Name").mkdir()
    by_tenant = {chain.tenant: chain.problems for chain in verify(root)}
    assert by_tenant["Bad_Name"] == ["'Bad_Name': not a tenant name (a folder added out of band)"]


def test_a_removed_last_manifest_leaves_its_files_unvouched(root: Path) -> None:
    link(root, 3).unlink()
    found = problems(root)
    assert found and all("run-3.parquet: added out of band (in no link)" in p for p in found)


def test_a_removed_manifest_in_the_middle_is_named(root: Path) -> None:
    link(root, 2).unlink()
    assert problems(root)[0].startswith(
        "manifests/t/00000002.json: manifest removed out of band (the chain jumps to 00000003.json)"
    )


def test_an_altered_manifest_breaks_the_chain_at_the_next_link(root: Path) -> None:
    body = json.loads(link(root, 1).read_text())
    name = next(iter(body["files"]))
    body["files"][name] = "0" * 64  # to cover up an edit of that file
    link(root, 1).write_text(json.dumps(body, indent=1))
    assert problems(root)[0].startswith(
        "manifests/t/00000002.json: the chain breaks here: manifests/t/00000001.json was edited"
    )


def test_an_altered_last_manifest_no_longer_matches_its_files(root: Path) -> None:
    body = json.loads(link(root, 3).read_text())
    name = sorted(body["files"])[0]
    body["files"][name] = "0" * 64
    link(root, 3).write_text(json.dumps(body, indent=1))
    assert problems(root) == [f"{name}: edited out of band (recorded by link 3)"]


def test_reordered_manifests_are_named(root: Path) -> None:
    first, second = link(root, 1).read_bytes(), link(root, 2).read_bytes()
    link(root, 1).write_bytes(second)
    link(root, 2).write_bytes(first)
    assert problems(root)[0] == (
        "manifests/t/00000001.json: manifest moved or reordered out of band "
        "(it says tenant 't' link 2)"
    )


def test_a_manifest_copied_from_another_tenant_is_named(tmp_path: Path) -> None:
    exported(tmp_path, "t", STARTS[:1])
    exported(tmp_path, "u", STARTS[:1])
    shutil.copy(link(tmp_path, 1, "u"), link(tmp_path, 2, "t"))
    assert problems(tmp_path, "t")[0].startswith("manifests/t/00000002.json: manifest moved")
    assert problems(tmp_path, "u") == []  # chains are per tenant


def test_a_compacted_history_verifies_and_records_what_it_merged(root: Path) -> None:
    before = {p.name for p in (root / "runs" / DAY_1).glob("*.parquet")}

    merged = compact(root, before=date(2024, 5, 3))

    [chain] = verify(root)
    assert chain.problems == [] and merged
    runs_link = next(
        link.body for link in chain.links[3:]
        if any(name.startswith(f"runs/{DAY_1}/") for name in link.body["files"])
    )  # fmt: skip
    assert runs_link["action"] == "compact"
    assert {name.rsplit("/", 1)[1] for name in runs_link["read"]} == before
    written = {name for name, digest in runs_link["files"].items() if digest}
    assert written == {f"runs/{DAY_1}/{p.name}" for p in (root / "runs" / DAY_1).glob("*.parquet")}


def test_compaction_refuses_a_file_edited_out_of_band_and_leaves_it(root: Path) -> None:
    target = root / "changes" / DAY_1 / "run-1.parquet"
    target.write_bytes(target.read_bytes()[:-1] + b"!")
    edited = target.read_bytes()

    with pytest.raises(TamperedHistory, match=f"changes/{DAY_1}/run-1.parquet: edited"):
        compact(root, before=date(2024, 5, 3))

    assert target.read_bytes() == edited
    assert f"changes/{DAY_1}/run-1.parquet: edited out of band" in problems(root)[0]


def test_exporting_a_run_again_appends_a_link(root: Path) -> None:
    given = given_platform()
    for started_at in STARTS:
        run(given, started_at)
    given.con.execute("UPDATE changes SET error = 'looked at again' WHERE run_id = 'run-1'")
    export_run(given.con, "run-1", root)
    [chain] = verify(root)
    assert chain.problems == [] and len(chain.links) == 4
    assert chain.links[-1].body["run_id"] == "run-1"


def test_exporting_a_compacted_run_again_verifies(root: Path) -> None:
    given = given_platform()
    for started_at in STARTS:
        run(given, started_at)
    compact(root, before=date(2024, 5, 3))
    given.con.execute("UPDATE runs SET error = 'checked by hand' WHERE run_id = 'run-2'")
    export_run(given.con, "run-2", root)
    assert problems(root) == []
    read = verify(root)[0].links[-1].body["read"]
    assert read and all("compacted-" in name for name in read)


def test_an_export_killed_before_its_link_is_named_then_mended_by_exporting_again(
    root: Path,
) -> None:
    link(root, 3).unlink()  # as if the process died between its renames and its link
    assert problems(root)
    given = given_platform()
    for started_at in STARTS:
        run(given, started_at)
    export_run(given.con, "run-3", root)
    assert problems(root) == []


def test_a_compaction_killed_before_its_link_is_finished_by_the_next(root: Path) -> None:
    folder = root / "runs" / DAY_1
    inputs = sorted(p.name for p in folder.glob("*.parquet"))
    merged = compact_partition(folder, root)
    # Killed after the rename, before its link and the removals: undo the link and removals.
    last = max(manifest_folder(root, "t").glob("*.json"))
    body = json.loads(last.read_text())
    last.unlink()
    for name in inputs:
        shutil.copy(merged, folder / name)  # content is irrelevant: they are removed
    (folder / JOURNAL).write_text(
        json.dumps({"output": merged.name, "inputs": inputs, "read": body["read"]})
    )

    compact(root, before=date(2024, 5, 3))

    assert problems(root) == []
    assert sorted(p.name for p in folder.glob("*.parquet")) == [merged.name]


def test_writers_of_one_tenant_never_take_the_same_link(tmp_path: Path) -> None:
    name = f"runs/{DAY_1}/run-1.parquet"

    def writer(number: int) -> None:
        for index in range(15):
            append_link(tmp_path, "t", "export", {name: f"{number:02d}{index:062d}"})

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    chain = fold(tmp_path, "t")
    assert chain.problems == [] and [link.seq for link in chain.links] == list(range(1, 61))


def entrasync(*argv: str) -> int:
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    return exit_.value.code


def test_history_verify_command(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ENTRASYNC_DATA_DIR", str(tmp_path))
    root = history_root()
    exported(root, "t", STARTS[:2])
    exported(root, "u", STARTS[:1])

    assert entrasync("history", "verify") == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == ["tenant t", "tenant u"]
    assert all(line.endswith(": ok") for line in out) and "2 links, head " in out[0]

    (root / "runs" / DAY_1 / "run-1.parquet").unlink()
    assert entrasync("history", "verify") == 1
    out = capsys.readouterr().out
    assert f"  runs/{DAY_1}/run-1.parquet: removed out of band (recorded by link 1)" in out
    assert entrasync("history", "verify", "--tenant", "u") == 0
    assert entrasync("history", "verify", "--tenant", "../u") == 2
    assert "not a valid tenant name" in capsys.readouterr().err
