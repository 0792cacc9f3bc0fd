"""Incremental builds: one fingerprint per output, and the small manifest in the output folder that records them.

An output is up to date when the manifest holds it under the same fingerprint and each of its files still has the
size and modification time recorded when it was written. The fingerprint covers everything that changes its bytes:
the scene file's bytes, the bytes of the files the scene uses (`input.image`, `still.image`), the validated scene
(every option, whether the file or a command-line flag gave it), the format, and the convgif package's own files.
`convgif render`, `convgif gallery` and `convgif watch` share the manifest, so one reuses what another wrote.

A render of a scene file exactly as it is (no command-line flag changing it) is also recorded under the file's
`source_fingerprint` (RENDER_PRODUCT): the outputs it made. The next such render finds them up to date from that
alone, without validating the scene (no pydantic, no NumPy): a no-op `convgif render` starts as fast as a no-op
`convgif gallery`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from convgif.cache_folder import user_cache_folder

MANIFEST_NAME = ".convgif-build.json"
MANIFEST_VERSION = 1
RENDER_PRODUCT = "render"  # what `source_fingerprint` names for a render of a scene file as it is
IMAGE_KEYS = ("image",)  # keys, in any table, whose value is a file the scene reads (input.image, still.image)
# a line that may set one of them (outside a comment): `image = ...`, also inside an inline table
_NAMES_A_FILE = re.compile(rb"(?m)^[^#\n]*\b(?:" + b"|".join(k.encode() for k in IMAGE_KEYS) + rb")\b[ \t]*=")


@functools.lru_cache(maxsize=1)
def package_digest() -> str:
    """Digest of the convgif package's files (code, label tables, shipped fonts) and its version."""
    from convgif import __version__

    return hashlib.sha256(f"{__version__}\n{kept_tree_digest(Path(__file__).resolve().parent)}".encode()).hexdigest()


def tree_digest(root: Path) -> str:
    """sha256 over each file's path below `root` and its bytes, in path order (`__pycache__` left out)."""
    digest = hashlib.sha256()
    for path in _tree_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _tree_files(root: Path) -> list[Path]:
    """The files below `root`, `__pycache__` folders left out, in path order."""
    found = []
    for folder, folders, names in os.walk(root):
        folders[:] = [name for name in folders if name != "__pycache__"]
        found.extend(Path(folder, name) for name in names)
    return sorted(found)


DIGEST_CACHE = "package-digest.json"  # in the user's cache folder: a package folder's last digest, by file stamps


def kept_tree_digest(root: Path) -> str:
    """`tree_digest(root)`, kept between processes in the user's cache folder ($XDG_CACHE_HOME or ~/.cache, then
    convgif/) under a stamp of the files' names, sizes and modification times: a process then stats the package's
    files instead of reading and hashing its 6 MB (15-30 ms of every render's start). Any change to a file's stamp
    hashes the bytes again; without a usable cache folder the bytes are hashed every time."""
    stamp = hashlib.sha256()
    for folder, folders, names in os.walk(root):  # any order: a file's stamp names it
        folders[:] = [name for name in folders if name != "__pycache__"]
        for name in names:
            status = os.stat(os.path.join(folder, name))
            stamp.update(f"{os.path.join(folder, name)}\0{status.st_size}\0{status.st_mtime_ns}\n".encode())
    cache = user_cache_folder()
    key, stamp = str(root), stamp.hexdigest()
    try:
        kept = {} if cache is None else json.loads((cache / DIGEST_CACHE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        kept = {}
    entry = kept.get(key) if isinstance(kept, dict) else None
    if isinstance(entry, dict) and entry.get("stamp") == stamp and isinstance(entry.get("digest"), str):
        return entry["digest"]
    digest = tree_digest(root)
    kept = kept if isinstance(kept, dict) else {}
    kept[key] = {"stamp": stamp, "digest": digest}
    if cache is None:
        return digest
    try:  # written whole or not at all (another process may read it meanwhile)
        cache.mkdir(parents=True, exist_ok=True)
        partial = cache / f"{DIGEST_CACHE}.{os.getpid()}.part"
        partial.write_text(json.dumps(kept, sort_keys=True), encoding="utf-8")
        os.replace(partial, cache / DIGEST_CACHE)
    except OSError:
        pass
    return digest


def used_files(document: Any, base_dir: str | os.PathLike[str]) -> list[Path]:
    """The files a scene reads besides itself: every `image` value in its tables, relative to `base_dir` (the
    scene file's folder) unless absolute. Works on the raw document (a broken scene still names its image) and on
    a validated scene's dump (where the paths are already absolute)."""
    found: list[Path] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in IMAGE_KEYS and isinstance(item, str) and item:
                    found.append(Path(os.path.abspath(os.path.join(base_dir, item))))
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(document)
    return list(dict.fromkeys(found))


def scene_fingerprint(scene) -> str | None:
    """The fingerprint of a validated scene loaded from a file: package, file bytes, used files' bytes and the
    validated scene without `output.formats` (a format is added per output, see `output_fingerprint`). None for a
    scene that does not come from a readable file (built in code): nothing to compare it with."""
    try:
        source = Path(scene.source).read_bytes()
    except OSError:
        return None
    dump = scene.model_dump(mode="json")
    if isinstance(dump.get("output"), dict):
        dump["output"].pop("formats", None)
    digest = hashlib.sha256()
    digest.update(package_digest().encode() + b"\0" + hashlib.sha256(source).digest())
    for path in used_files(dump, Path(scene.source).resolve().parent):
        try:
            digest.update(path.as_posix().encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            digest.update(path.as_posix().encode() + b"\0missing")
    digest.update(json.dumps([type(scene).__name__, scene.stem, dump], sort_keys=True, default=str).encode())
    return digest.hexdigest()


def source_fingerprint(path: str | os.PathLike[str], what: str) -> str:
    """The fingerprint of `what` made from a scene file as it is, without validating it: the package, the file's
    name and bytes and the bytes of the files it names. Enough where no command-line option changes the scene
    (the gallery), and cheap: an up-to-date gallery is judged without loading a single scene."""
    path = Path(path)
    data = path.read_bytes()
    digest = hashlib.sha256(f"{package_digest()}\n{path.name}\n{what}\n".encode())
    digest.update(hashlib.sha256(data).digest())
    if _NAMES_A_FILE.search(data):  # only then parse the TOML (its import alone costs more than all the hashing)
        import tomllib

        try:
            document = tomllib.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError):
            document = {}
        for used in used_files(document, path.resolve().parent):
            try:
                digest.update(used.as_posix().encode() + b"\0" + hashlib.sha256(used.read_bytes()).digest())
            except OSError:
                digest.update(used.as_posix().encode() + b"\0missing")
    return digest.hexdigest()


def output_fingerprint(scene_print: str, what: str) -> str:
    """One output's fingerprint: its scene's and the format (or other product, e.g. "gallery-player") it is."""
    return hashlib.sha256(f"{scene_print}\n{what}".encode()).hexdigest()


def _stat(path: Path) -> list[int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def _files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():  # png frames: a folder of files
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        else:
            yield path


class BuildCache:
    """The manifest of one output folder. `force`: nothing counts as up to date, but what is written is recorded.

    Records are plain JSON values, so a worker process can return them and the parent `merge` and `save` them: only
    the parent writes the manifest.
    """

    def __init__(self, out_dir: str | os.PathLike[str], *, force: bool = False):
        self.out_dir = Path(out_dir)
        self.force = force
        self.outputs: dict[str, dict] = {}
        self.defaults: dict[str, list[str]] = {}
        self.sources: dict[str, dict] = {}  # a scene file's source_fingerprint -> the outputs a render made from it
        self.changed = False
        self.added: dict[str, dict] = {"outputs": {}, "defaults": {}, "sources": {}}  # recorded here, for `merge`
        try:
            data = json.loads((self.out_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(data, dict) and data.get("version") == MANIFEST_VERSION:
            self.outputs = data.get("outputs") if isinstance(data.get("outputs"), dict) else {}
            self.defaults = data.get("defaults") if isinstance(data.get("defaults"), dict) else {}
            self.sources = data.get("sources") if isinstance(data.get("sources"), dict) else {}

    def fresh(self, key: str, fingerprint: str) -> dict | None:
        """The record of output `key` when it is up to date (same fingerprint, every file as written), else None."""
        if self.force:
            return None
        record = self.outputs.get(key)
        if not isinstance(record, dict) or record.get("fingerprint") != fingerprint:
            return None
        files = record.get("files")
        if not isinstance(files, dict) or not files:
            return None
        for name, stat in files.items():
            if _stat(self.out_dir / name) != stat:
                return None
        return record

    def record(self, key: str, fingerprint: str, paths: Iterable[Path], **extra: Any) -> dict:
        """A record of output `key` just written to `paths` (files, or folders of files), kept and returned."""
        files = {}
        for path in _files(paths):
            stat = _stat(path)
            if stat is not None:
                files[path.relative_to(self.out_dir).as_posix()] = stat
        entry = {"fingerprint": fingerprint, "files": files, **extra}
        self.outputs[key] = self.added["outputs"][key] = entry
        self.changed = True
        return entry

    def source_record(self, outputs: dict[str, str], paths: Iterable[Path], frames: int) -> dict:
        """What a render of a scene file as it is made: each output's manifest key and fingerprint, every path the
        render reported (relative to the folder, in order) and its frame count; see `reused_render`."""
        return {"outputs": dict(outputs), "paths": [Path(p).relative_to(self.out_dir).as_posix() for p in paths],
                "frames": frames}

    def reused_render(self, source_print: str) -> dict | None:
        """When the render recorded under a scene file's `source_fingerprint` (RENDER_PRODUCT) has every output up
        to date: {"paths": [every path it reported that exists], "frames": n, "bytes": size of its outputs' files};
        else None (the scene is then loaded and rendered, or reused, as usual)."""
        entry = None if self.force else self.sources.get(source_print)
        if not isinstance(entry, dict) or not isinstance(entry.get("outputs"), dict) or not entry["outputs"]:
            return None
        size = 0
        for key, fingerprint in entry["outputs"].items():
            record = self.fresh(key, fingerprint)
            if record is None:
                return None
            size += sum(stat[0] for stat in record["files"].values())
        paths = [self.out_dir / name for name in entry.get("paths") or ()]
        return {"paths": [p for p in paths if p.exists()], "frames": int(entry.get("frames") or 0), "bytes": size}

    def default_formats(self, scene_print: str) -> list[str] | None:
        return None if self.force else self.defaults.get(scene_print)

    def merge(self, records: dict[str, Any]) -> None:
        """Take the records a render returned (`{"outputs": {...}, "defaults": {...}, "sources": {...}}`), e.g. from
        a worker."""
        for name, known in (("outputs", self.outputs), ("defaults", self.defaults), ("sources", self.sources)):
            if records.get(name):
                known.update(records[name])
                self.added[name].update(records[name])
                self.changed = True

    def save(self) -> None:
        """Write the manifest (atomically), if anything was recorded."""
        if not self.changed:
            return
        from convgif.encode.atomic import atomic_write

        keep = 4 * max(1, len(self.outputs))  # old scenes' entries: keep the file small
        if len(self.defaults) > keep:
            self.defaults = dict(list(self.defaults.items())[-keep:])
        if len(self.sources) > keep:
            self.sources = dict(list(self.sources.items())[-keep:])
        document = {"version": MANIFEST_VERSION, "outputs": self.outputs, "defaults": self.defaults}
        if self.sources:
            document["sources"] = self.sources
        # a cache: a manifest lost to a power cut only means the next run draws everything again
        with atomic_write(self.out_dir / MANIFEST_NAME, "w", durable=False) as handle:
            json.dump(document, handle, indent=1, sort_keys=True)
            handle.write("\n")
        self.changed = False
