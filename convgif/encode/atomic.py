"""Atomic output files: write a hidden `.NAME.XXXXXXXX.part` beside the target, fsync, then rename.

A reader (or a crash) sees either the previous complete file or the new complete file, never half of one.
While a writer is alive it holds an exclusive `flock` on its part file (POSIX); the kernel drops the lock
when the process dies, even by SIGKILL, which is how `clean_stale_parts` tells a dead run's leftovers from
a parallel worker's live file without guessing from ages.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # Windows: no flock; clean_stale_parts falls back to the files' age
    fcntl = None

HAS_LIVENESS_LOCKS = fcntl is not None  # whether clean_stale_parts can tell a live writer's file by its lock

# `.NAME.` + 8 hex digits + `.part`; clean_stale_parts matches exactly this and nothing else.
PART_PATTERN = re.compile(r"^\..+\.[0-9a-f]{8}\.part$")


def part_path_for(path: Path) -> Path:
    """A fresh temporary name in the destination folder, so the final rename never crosses filesystems."""
    return path.with_name(f".{path.name}.{os.urandom(4).hex()}.part")  # (secrets.token_hex: 10 ms to import)


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
def atomic_write(path: str | os.PathLike[str], mode: str = "wb", *, durable: bool = True) -> Iterator[IO]:
    """Open a temporary file for writing; on success fsync it and `os.replace` it onto `path`.

    On any exception inside the block the temporary file is removed and `path` is untouched.
    `mode` is "wb" (bytes) or "w" (UTF-8 text). `durable=False` skips both fsyncs (~3 ms each): still atomic for
    every reader and for a killed process, but a power cut may lose the file; for files that are only a cache.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write mode must be 'wb' or 'w', not {mode!r}")
    path = Path(path)
    part: Path | None = None
    try:
        while True:
            # named before it exists, so that an interrupt (Ctrl-C in a -j worker) arriving anywhere from here on
            # removes it: between creating the file and entering the block was once a window that leaked it
            part = part_path_for(path)
            try:
                # os.open with 0o666 lets the umask decide the final permissions (mkstemp would force 0o600).
                fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            except FileExistsError:  # a 1-in-4-billion name clash with another writer's file: draw another name
                part = None
                continue
            if _lock_as_live(fd):
                break
            os.close(fd)  # a cleaner removed the file between its creation and our lock: draw another name
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as file:
            yield file
            file.flush()
            if durable:
                os.fsync(file.fileno())
        os.replace(part, path)
    except BaseException:
        if part is not None:
            part.unlink(missing_ok=True)
        raise
    if durable:
        _fsync_directory(path.parent)


def _lock_as_live(fd: int) -> bool:
    """Mark an open part file as belonging to a live writer; False if it was unlinked before the lock."""
    if fcntl is None:
        return True
    fcntl.flock(fd, fcntl.LOCK_EX)  # our own fresh file: only a cleaner probing it can hold it, briefly
    return os.fstat(fd).st_nlink > 0


def _writer_alive(entry: Path) -> bool:
    """True while some process holds the part file's lock (its writer is still running)."""
    try:
        fd = os.open(entry, os.O_RDONLY)
    except OSError:
        return True  # vanished or unreadable: not ours to remove
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops our probe lock, if we got it
    return False


def clean_dead_parts(directory: str | os.PathLike[str]) -> list[Path]:
    """Remove the part files killed runs left in `directory` (a live run's stay); return the removed paths."""
    # With liveness locks a dead writer's file is known at once; without them, wait until it is a minute old.
    return clean_stale_parts(directory, min_age_s=0 if HAS_LIVENESS_LOCKS else 60)


def clean_stale_parts(directory: str | os.PathLike[str], *, min_age_s: float = 60.0) -> list[Path]:
    """Remove `.*.part` files left in `directory` by killed runs; return the removed paths.

    A part file goes when it is untouched for `min_age_s` seconds (a streaming writer touches its file
    with every frame) and, where flock exists (POSIX, see HAS_LIVENESS_LOCKS), no process holds its lock.
    With locks a caller can pass `min_age_s=0`: a killed run's file is then cleaned by the very next run,
    while a parallel worker's live file is kept however slowly it is written.
    """
    now = time.time()
    removed = []
    directory = Path(directory)
    if not directory.is_dir():
        return removed
    for entry in sorted(directory.iterdir()):
        if not PART_PATTERN.match(entry.name) or not entry.is_file():
            continue
        try:
            if now - entry.stat().st_mtime < min_age_s or (fcntl is not None and _writer_alive(entry)):
                continue
            entry.unlink()
        except FileNotFoundError:  # its own writer finished or gave up meanwhile
            continue
        removed.append(entry)
    return removed
