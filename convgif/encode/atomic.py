"""Atomic output files: write a hidden `.NAME.XXXXXXXX.part` beside the target, fsync, then rename.

A reader (or a crash) sees either the previous complete file or the new complete file, never half of one.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

# `.NAME.` + 8 hex digits + `.part`; clean_stale_parts matches exactly this and nothing else.
PART_PATTERN = re.compile(r"^\..+\.[0-9a-f]{8}\.part$")


def part_path_for(path: Path) -> Path:
    """A fresh temporary name in the destination folder, so the final rename never crosses filesystems."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not possible on every platform (Windows), hence best effort.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file for writing; on success fsync it and `os.replace` it onto `path`.

    On any exception inside the block the temporary file is removed and `path` is untouched.
    `mode` is "wb" (bytes) or "w" (UTF-8 text).
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write mode must be 'wb' or 'w', not {mode!r}")
    path = Path(path)
    while True:
        part = part_path_for(path)
        try:
            # os.open with 0o666 lets the umask decide the final permissions (mkstemp would force 0o600).
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:  # a 1-in-4-billion name clash: draw another name
            continue
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def clean_stale_parts(directory: str | os.PathLike[str], *, min_age_s: float = 60.0) -> list[Path]:
    """Remove `.*.part` files left in `directory` by killed runs; return the removed paths.

    Only files untouched for `min_age_s` seconds go: a writer streaming into its part file updates the
    modification time with every frame, so a parallel run writing to the same folder keeps its file.
    """
    now = time.time()
    removed = []
    for entry in sorted(Path(directory).iterdir()):
        if not PART_PATTERN.match(entry.name) or not entry.is_file():
            continue
        try:
            if now - entry.stat().st_mtime < min_age_s:
                continue
            entry.unlink()
        except FileNotFoundError:  # its own writer finished or gave up meanwhile
            continue
        removed.append(entry)
    return removed
