"""Tamper-evident history: per tenant, a hash chain of manifests of what each write left.

Every write of a tenant's history (a run's export, an export again, a compaction) appends one
link to `<history>/manifests/<tenant>/<seq>.json`: the sha256 of each file it wrote (or null for
a file it removed), the sha256 of each file it read to write them (compaction's inputs), and
the sha256 of the tenant's previous link. Folding the links gives what every `*.parquet` file
of the tenant must hold; `verify` compares that with the disk. A link is created with a hard
link from a scratch file, so two writers of one tenant never take the same number; tenants
never touch each other's chains, so no lock spans tenants.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from entrasync.errors import EntrasyncError
from entrasync.tenant_names import check_tenant_name, is_tenant_name
from entrasync.warehouse import paths
from entrasync.warehouse.owner_only import private_folder, write_private

FORMAT = "entrasync-history-chain/1"
LINK_NAME = re.compile(r"(\d{8})\.json")
APPEND_ATTEMPTS = 50


class TamperedHistory(EntrasyncError):
    """A history file differs from what its tenant's chain recorded: it is left as found."""


@dataclass(frozen=True)
class Link:
    seq: int
    name: str  # e.g. manifests/demo/00000003.json
    digest: str  # sha256 of the manifest's bytes: what the next link records as `previous`
    body: dict


@dataclass
class Chain:
    """A tenant's links folded: what each file must hold, and what broke on the way."""

    tenant: str
    links: list[Link] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # relative path -> sha256
    recorded_by: dict[str, int] = field(default_factory=dict)  # relative path -> link seq
    problems: list[str] = field(default_factory=list)

    @property
    def head(self) -> str | None:
        return self.links[-1].digest if self.links else None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def relative_name(root: Path, path: Path) -> str:
    """A history file as the chain names it: relative to the history folder, with `/`."""
    return path.resolve().relative_to(root.resolve()).as_posix()


def owned_by(tenant: str, name: str) -> bool:
    """Whether `name` is a file of the tenant's partitions: `<table>/tenant=<t>/date=<d>/<f>`."""
    parts = name.split("/")
    return (
        len(parts) == 4
        and parts[1] == paths.tenant_partition_name(tenant)
        and paths.TABLE_NAME.fullmatch(parts[0]) is not None
        and paths.DAY.fullmatch(parts[2].removeprefix("date=")) is not None
        and parts[2].startswith("date=")
        and parts[3].endswith(".parquet")
    )


def link_files(root: Path, tenant: str) -> list[tuple[int, Path]]:
    """The tenant's manifest files by number (scratch files left by a crash are skipped)."""
    folder = paths.manifest_folder(root, tenant)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = LINK_NAME.fullmatch(path.name)
        if match:
            found.append((int(match.group(1)), path))
        elif not path.name.startswith("."):
            found.append((-1, path))  # not a manifest name: reported by `fold`
    return sorted(found, key=lambda item: (item[0], item[1].name))


def newest_link(root: Path, tenant: str) -> tuple[int, str] | None:
    """(number, sha256) of the tenant's newest manifest: what a run leaves in its log, off the
    storage, so that a chain rewritten from its start can still be caught."""
    numbered = [item for item in link_files(root, tenant) if item[0] > 0]
    if not numbered:
        return None
    seq, path = numbered[-1]
    return seq, hashlib.sha256(path.read_bytes()).hexdigest()


def fold(root: Path, tenant: str) -> Chain:
    """Walk the tenant's links in order: each must name the one before; apply their files."""
    chain = Chain(tenant)
    folder_name = f"{paths.MANIFESTS_FOLDER}/{tenant}"
    previous: Link | None = None
    for seq, path in link_files(root, tenant):
        name = f"{folder_name}/{path.name}"
        if seq < 1:
            chain.problems.append(f"{name}: not a manifest of the chain (added out of band)")
            continue
        expected_seq = previous.seq + 1 if previous else 1
        if seq != expected_seq:
            missing = f"{folder_name}/{expected_seq:08d}.json"
            chain.problems.append(f"{missing}: manifest removed out of band (the chain jumps "
                                  f"to {path.name})")  # fmt: skip
        data = path.read_bytes()
        try:
            body = json.loads(data)
        except ValueError:
            chain.problems.append(f"{name}: manifest edited out of band (not JSON any more)")
            break
        problem = _link_problem(body, tenant, seq, previous)
        if problem:
            chain.problems.append(f"{name}: {problem}")
            break
        link = Link(seq, name, hashlib.sha256(data).hexdigest(), body)
        for file_name, digest in sorted(body["read"].items()):
            held = chain.files.get(file_name)
            if held != digest:
                chain.problems.append(
                    f"{file_name}: {_changed(held, digest)} out of band before link {seq} "
                    f"read it ({_short(held)} recorded, {_short(digest)} read)"
                )
        for file_name, digest in sorted(body["files"].items()):
            if digest is None:
                chain.files.pop(file_name, None)
                chain.recorded_by.pop(file_name, None)
            else:
                chain.files[file_name] = digest
                chain.recorded_by[file_name] = seq
        chain.links.append(link)
        previous = link
    return chain


def _link_problem(body: object, tenant: str, seq: int, previous: Link | None) -> str | None:
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        return "manifest edited out of band (not a chain manifest)"
    if body.get("tenant") != tenant or body.get("seq") != seq:
        return (f"manifest moved or reordered out of band (it says tenant "
                f"{body.get('tenant')!r} link {body.get('seq')})")  # fmt: skip
    recorded = previous.digest if previous else None
    if body.get("previous") != recorded:
        if previous is None:
            return "manifest edited out of band (the first link names a previous one)"
        return (f"the chain breaks here: {previous.name} was edited or replaced out of band, "
                f"or this link was ({_short(body.get('previous'))} recorded, "
                f"{_short(recorded)} found)")  # fmt: skip
    files, read = body.get("files"), body.get("read")
    if not isinstance(files, dict) or not isinstance(read, dict):
        return "manifest edited out of band (no files or read mapping)"
    for file_name in [*files, *read]:
        if not owned_by(tenant, file_name):
            return f"names {file_name!r}, not a file of tenant {tenant}'s history"
    return None


def _changed(held: str | None, digest: str | None) -> str:
    return "added" if held is None else "removed" if digest is None else "edited"


def _short(digest: object) -> str:
    return f"sha256 {digest[:12]}…" if isinstance(digest, str) else "nothing"


def append_link(
    root: Path,
    tenant: str,
    action: str,
    files: dict[str, str | None],
    read: dict[str, str] | None = None,
    run_id: str | None = None,
) -> Link:
    """Add the next link of the tenant's chain; retried when another writer took the number."""
    folder = private_folder(paths.manifest_folder(root, tenant), root)
    for _ in range(APPEND_ATTEMPTS):
        numbered = link_files(root, tenant)
        last = next((item for item in reversed(numbered) if item[0] > 0), None)
        seq = last[0] + 1 if last else 1
        previous = hashlib.sha256(last[1].read_bytes()).hexdigest() if last else None
        body = {
            "format": FORMAT, "tenant": tenant, "seq": seq, "previous": previous,
            "action": action, "run_id": run_id, "at": datetime.now(UTC).isoformat(),
            "read": dict(sorted((read or {}).items())), "files": dict(sorted(files.items())),
        }  # fmt: skip
        data = json.dumps(body, indent=1).encode()
        scratch = folder / f".{seq:08d}.{uuid.uuid4().hex}.tmp"
        target = folder / f"{seq:08d}.json"
        write_private(scratch, data)
        try:
            os.link(scratch, target)  # fails if another writer made this number first
        except FileExistsError:
            continue
        finally:
            with contextlib.suppress(FileNotFoundError):
                scratch.unlink()
        return Link(seq, relative_name(root, target), hashlib.sha256(data).hexdigest(), body)
    raise EntrasyncError(f"{folder}: could not append a manifest ({APPEND_ATTEMPTS} tries)")


@dataclass
class LinkDraft:
    """What one write of a tenant's history changed, gathered as it goes, then appended."""

    root: Path
    tenant: str
    action: str
    run_id: str | None = None
    files: dict[str, str | None] = field(default_factory=dict)
    read: dict[str, str] = field(default_factory=dict)
    _chain: Chain | None = None

    def wrote(self, path: Path, digest: str) -> None:
        """`path` now holds the bytes whose sha256 is `digest` (hashed before its rename)."""
        self.files[relative_name(self.root, path)] = digest

    def removed(self, path: Path) -> None:
        self.files[relative_name(self.root, path)] = None

    def vouch_for(self, files: list[Path]) -> None:
        """Before merging files: each must be as the chain recorded it (else TamperedHistory)."""
        if self._chain is None:
            self._chain = fold(self.root, self.tenant)
        self.read |= check_read(self._chain, self.root, files)

    def append(self) -> Link | None:
        if not self.files:
            return None
        return append_link(self.root, self.tenant, self.action, self.files, self.read, self.run_id)


def check_read(chain: Chain, root: Path, files: list[Path]) -> dict[str, str]:
    """The sha256 of each file a writer is about to merge; refused unless the chain vouches."""
    read = {}
    for path in files:
        name, digest = relative_name(root, path), file_sha256(path)
        held = chain.files.get(name)
        if held != digest:
            raise TamperedHistory(
                f"{name}: {_changed(held, digest)} out of band ({_short(held)} recorded, "
                f"{_short(digest)} found); left as it is, see `entrasync history verify`"
            )
        read[name] = digest
    return read


def tenants_on_disk(root: Path) -> list[str]:
    """Every tenant with a chain or with a `tenant=` folder (valid name or not)."""
    found = set()
    manifests = root / paths.MANIFESTS_FOLDER
    if manifests.is_dir():
        found |= {path.name for path in manifests.iterdir() if path.is_dir()}
    for folder in root.glob("*/tenant=*"):
        if folder.parent.name != paths.MANIFESTS_FOLDER and folder.is_dir():
            found.add(folder.name.removeprefix("tenant="))
    return sorted(found)


def files_on_disk(root: Path, tenant: str) -> dict[str, Path]:
    """Every `*.parquet` below the tenant's `tenant=` folders, hidden ones included."""
    found = {}
    for folder in sorted(root.glob(f"*/{paths.tenant_partition_name(tenant)}")):
        if folder.parent.name == paths.MANIFESTS_FOLDER:
            continue
        for path in folder.rglob("*.parquet"):
            found[path.relative_to(root).as_posix()] = path
    return found


def verify_tenant(root: Path, tenant: str, attempts: int = 3) -> Chain:
    """The tenant's chain folded and compared with the disk; `problems` in chain order first.

    A run that writes meanwhile renames its files just before its link lands: when the
    chain grew during the check, it is done again.
    """
    for _ in range(attempts):
        chain = _verify_once(root, tenant)
        if not chain.problems or not is_tenant_name(tenant):
            return chain
        if fold(root, tenant).head == chain.head:
            return chain
    return chain


def _verify_once(root: Path, tenant: str) -> Chain:
    if not is_tenant_name(tenant):
        chain = Chain(tenant)
        chain.problems.append(f"{tenant!r}: not a tenant name (a folder added out of band)")
        return chain
    chain = fold(root, tenant)
    on_disk = files_on_disk(root, tenant)
    file_problems = []
    last = len(chain.links) + 1
    for name in sorted(set(chain.files) | set(on_disk)):
        held = chain.files.get(name)
        digest = file_sha256(on_disk[name]) if name in on_disk else None
        if held != digest:
            recorded = chain.recorded_by.get(name)
            since = f" (recorded by link {recorded})" if recorded else " (in no link)"
            file_problems.append(
                (recorded or last, f"{name}: {_changed(held, digest)} out of band{since}")
            )
    chain.problems += [problem for _, problem in sorted(file_problems)]
    return chain


def verify(root: Path, tenant: str | None = None) -> list[Chain]:
    """Every tenant's chain (or one) checked against the disk."""
    tenants = [check_tenant_name(tenant)] if tenant else tenants_on_disk(root)
    return [verify_tenant(root, name) for name in tenants]
