"""Glyph measurements kept on disk between renders, like a font cache: what Pillow answers about single glyphs and
pairs (advances, one-bit masks, rises, a font file's code points) is the same in every render, and measuring it
again was a third of a short scene's step-frame drawing (a 9-step scene asked Pillow ~1,100 times in every process).

A function decorated with `kept_on_disk` looks its answer up in the store before computing it, and a new answer
about a short text (a glyph, a pair, a glyph with a low one) is added to it. `save()` writes what a process added
(`pipeline.render_scene` calls it after each render), merged with what other processes wrote meanwhile, whole or
not at all. An answer can only be read back where it is still Pillow's:
- the store file is named after Pillow's and FreeType's versions and the code of the modules whose functions are
  kept (an upgrade or an edit starts a new store);
- answers are grouped by font file and size, and a group is named after its font file's size and modification
  time (a changed font file is measured again; its old groups are dropped at the next save).
Without a usable cache folder, or with a file that does not read back as a store, everything is measured as before:
the store only ever saves time.

`marshal` holds the store (plain tuples, numbers, strings and bytes): it reads ~10x faster than JSON, and unlike
pickle it runs no code when it loads a file. Each group is kept as its own marshalled bytes, decoded only when a
render first asks about that font and size.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import marshal
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from convgif.cache_folder import user_cache_folder

STORE_VERSION = 1
STORE_PREFIX = "glyphs-"
KEPT_STORES = 4  # newest store files kept in the cache folder (other installs, older versions): the rest removed
LONGEST_KEPT_TEXT = 3  # a glyph, a pair ("0  " and "5." too): scene-specific words are not kept
MOST_KEPT = 20_000  # answers per font file and size: a bound on what a render reads, however many scenes it saw

_MISSING = object()
_CODE_FILES: set[str] = {__file__}  # this module and those whose functions are kept: their code names the store

Stamp = tuple[str, int, int]  # a font file's path, size and modification time (ns)


def _stamp(path: str) -> Stamp | None:
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    return path, status.st_size, status.st_mtime_ns


class _Store:
    """The answers of one process, by group: a font file's stamp and a size (or the stamp alone, for answers about
    a whole file), each group `(function name, *other arguments) -> answer`."""

    def __init__(self, path: Path | None, blobs: dict[tuple, bytes]):
        self.path, self.blobs = path, blobs
        self.groups: dict[tuple, tuple[tuple | None, dict]] = {}  # (file, size) -> (group name, answers)
        self.added: dict[tuple, dict] = {}  # what this process measured, by group name

    def group(self, args: tuple) -> tuple[tuple | None, dict]:
        """The group name and answers of the font file and size that `args` start with (no name: a file that
        cannot be stamped, whose answers are not kept)."""
        head = args[:2]
        found = self.groups.get(head)
        if found is None:
            stamp = _stamp(args[0])
            name = None if stamp is None else (*stamp, *head[1:])
            found = self.groups[head] = (name, {} if name is None else _decoded(self.blobs.get(name)))
        return found

    def get(self, function: str, args: tuple) -> Any:
        return self.group(args)[1].get((function, *args[2:]), _MISSING)

    def add(self, function: str, args: tuple, value: Any) -> None:
        name, answers = self.group(args)
        if name is not None and len(answers) < MOST_KEPT:
            answers[function, *args[2:]] = self.added.setdefault(name, {})[function, *args[2:]] = value

    def save(self) -> None:
        """Write the answers this process added, merged into the store file as it is now (another process may have
        added others meanwhile) and without the groups of font files changed since, whole or not at all; nothing
        when it added none or there is no cache folder."""
        if not self.added or self.path is None:
            return
        blobs = _read(self.path)
        for name, added in self.added.items():
            answers = _decoded(blobs.get(name))
            for answer, value in added.items():
                if len(answers) < MOST_KEPT:
                    answers[answer] = value
            blobs[name] = marshal.dumps(answers)
        stamps = {stamp: _stamp(stamp[0]) for stamp in {name[:3] for name in blobs}}
        blobs = {name: blob for name, blob in blobs.items() if stamps[name[:3]] == name[:3]}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.part")
            partial.write_bytes(marshal.dumps(blobs))
            os.replace(partial, self.path)
        except (OSError, ValueError):
            return
        self.blobs, self.added = blobs, {}
        _remove_old(self.path)


def _decoded(blob: bytes | None) -> dict:
    """A group's answers from its bytes; empty for none, or for bytes that do not read back as answers."""
    if blob is None:
        return {}
    # thousands of new tuples at once: with the collector on, they set off collections over a render's whole heap
    # (zh_transposed_conv's 13 groups, 4,800 answers, took 4-28 ms to read, 2 ms without)
    collecting = gc.isenabled()
    gc.disable()
    try:
        answers = marshal.loads(blob)
    except (EOFError, ValueError, TypeError):
        return {}
    finally:
        if collecting:
            gc.enable()
    return answers if isinstance(answers, dict) else {}


def store_path() -> Path | None:
    """The store file for this Pillow, FreeType and measuring code; None without a cache folder."""
    from PIL import __version__ as pillow_version, features

    key = hashlib.sha256(f"{STORE_VERSION}\0{pillow_version}\0{features.version('freetype2')}\n".encode())
    for code in sorted(_CODE_FILES):
        try:
            key.update(hashlib.sha256(Path(code).read_bytes()).digest())
        except OSError:
            return None  # code that cannot be read cannot vouch for an answer
    folder = user_cache_folder()
    return None if folder is None else folder / f"{STORE_PREFIX}{key.hexdigest()[:24]}.marshal"


def _read(path: Path | None) -> dict[tuple, bytes]:
    """The groups of the store file at `path`, each still as its bytes; empty when it is missing or does not read
    back as a store."""
    if path is None:
        return {}
    try:
        blobs = marshal.loads(path.read_bytes())  # (marshal.load of a file object reads it piece by piece)
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if not isinstance(blobs, dict) or not all(isinstance(name, tuple) and len(name) >= 3 and isinstance(name[0], str)
                                              and isinstance(blob, bytes) for name, blob in blobs.items()):
        return {}
    return blobs


@functools.cache  # the process's store (`render_bench.cold_caches` empties it: the next use reads the file again)
def _store() -> _Store:
    path = store_path()
    return _Store(path, _read(path))


def kept_on_disk(encode: Callable[[Any], Any] | None = None,
                 decode: Callable[[Any], Any] | None = None) -> Callable[[Callable], Callable]:
    """Decorate a function of a font file's path and then plain hashable arguments (a size, a text, flags) whose
    answer depends on nothing else: an answer about a short text is kept in the store (`encode`d to plain data,
    `decode`d when read back). The first string argument after the path is the text; without one (a whole font file,
    a size) every answer is kept."""

    def decorate(function: Callable) -> Callable:
        name = function.__name__
        _CODE_FILES.add(sys.modules[function.__module__].__file__)

        @functools.wraps(function)
        def kept(*args):
            store = _store()
            found = store.get(name, args)
            if found is not _MISSING:
                return decode(found) if decode else found
            value = function(*args)
            texts = [a for a in args[1:] if isinstance(a, str)]
            if not texts or len(texts[0]) <= LONGEST_KEPT_TEXT:
                store.add(name, args, encode(value) if encode else value)
            return value

        return kept

    return decorate


def save() -> None:
    """Write the answers this process added to the store file (`_Store.save`)."""
    _store().save()


def _remove_old(current: Path) -> None:
    """Remove all but the KEPT_STORES newest store files beside `current` (stores of past versions and edits)."""
    try:
        stores = sorted(current.parent.glob(f"{STORE_PREFIX}*.marshal"), key=lambda p: p.stat().st_mtime_ns,
                        reverse=True)
        for old in stores[KEPT_STORES:]:
            if old != current:
                old.unlink(missing_ok=True)
    except OSError:
        pass
