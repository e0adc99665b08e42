"""The data folder is its owner's alone: folders 0700 and files 0600, whatever the umask.

They hold employees' personal data. DuckDB creates some files itself (a warehouse's `.wal`,
COPY's output), so before any write the process umask is tightened to 077 (never loosened:
threads may write at once), and what we create is also chmod-ed, which fixes files an older
version left readable.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600
OTHERS = 0o077


def tighten_umask() -> None:
    """At least umask 077 from now on for this process; a stricter one is kept."""
    current = os.umask(OTHERS)
    os.umask(current | OTHERS)


def private_folder(path: Path, top: Path) -> Path:
    """Create `path` (and parents); it and every folder up to `top` (included) get 0700."""
    tighten_umask()
    path.mkdir(parents=True, exist_ok=True)
    folder = path
    while True:
        os.chmod(folder, FOLDER_MODE)
        if folder == top or folder == folder.parent or not folder.is_relative_to(top):
            return path
        folder = folder.parent


def private_file(path: Path) -> Path:
    """0600 for a file we (or DuckDB for us) created; nothing when it is not there (yet)."""
    with contextlib.suppress(FileNotFoundError):
        os.chmod(path, FILE_MODE)
    return path


def write_private(path: Path, content: bytes) -> None:
    """Write a new file readable by its owner only, from its first byte."""
    tighten_umask()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(descriptor, "wb") as file:
        os.fchmod(file.fileno(), FILE_MODE)
        file.write(content)
