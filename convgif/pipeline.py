"""Scene -> frames -> writers: the one path every render takes, with a progress(i, n) callback.

What a scene shows comes from its frame source (`convgif.sources`: op scenes through their op family's view,
still scenes through their still kind's renderer); where it goes comes from the output-format records
(`convgif.formats`). Nothing here branches on an op kind, a scene type or a format name.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from convgif.errors import SceneError

if TYPE_CHECKING:
    from convgif.build_cache import BuildCache
    from convgif.encode import Frame
    from convgif.formats import OutputFormat
    from convgif.sources import build_trace, build_view, drawable_view, frame_source, source_type, still_frames

# the frame sources' functions, imported from convgif.sources on first use (it imports NumPy and the renderer:
# a no-op render needs neither); build_trace, build_view, drawable_view and still_frames are
# here for tests
_FROM_SOURCES = ("build_trace", "build_view", "drawable_view", "frame_source", "source_type", "still_frames")


def __getattr__(name: str):
    if name in _FROM_SOURCES:
        from convgif import sources

        return getattr(sources, name)
    raise AttributeError(f"module 'convgif.pipeline' has no attribute {name!r}")

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class RenderResult:
    scene: str
    path: Path
    frames: int  # step frames + the hold frame (a still: its pictures), as written
    bytes: int  # all outputs together
    seconds: float
    paths: tuple[Path, ...] = ()  # every output written: one per format (`path` is the first), then companions
    reused: bool = False  # every output was up to date (see convgif.build_cache): nothing was drawn
    records: dict | None = None  # what was written, for the output folder's manifest (`BuildCache.merge`)


def check_drawable(scene) -> list[str]:
    """Raise SceneError if a validated scene cannot be drawn at its width (before any file is opened); returns
    notes ("key: what the frames leave out") for a scene that can."""
    from convgif.sources import source_type

    return source_type(scene).check_drawable(scene)


def render_scene(scene, out_dir: str | os.PathLike, *, progress: Progress | None = None,
                 cache: BuildCache | None = None, preview: Callable[[Frame], None] | None = None,
                 source_print: str | None = None) -> RenderResult:
    """Render one validated scene into `out_dir`, atomically, streaming frames to the writers.

    `cache` (the output folder's manifest, see `convgif.build_cache`): outputs it holds up to date are not drawn
    again (when all are, nothing is: `RenderResult.reused`), and the result's `records` say what was written, for
    the caller to merge and save. `source_print`: the scene file's `build_cache.source_fingerprint`, given when the
    scene is that file exactly as it is (no flag changed it); the records then say which outputs it makes, so a
    later render of the unchanged file is judged up to date without loading it (`BuildCache.reused_render`).
    `preview` is handed each step frame of the first theme once, as it is drawn (the
    watch page shows the first one at once); raising from it stops the render with nothing half-written.
    """
    from convgif.formats import output_format
    from convgif.sources import frame_source

    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    asked = [output_format(name) for name in scene.output.formats or ()]
    for fmt in asked:
        fmt.check_available()  # a missing extra fails before anything is drawn
    themes = scene.render.themes()
    variants = [scene] if len(themes) == 1 else [scene.in_theme(name) for name in themes]
    stems = [scene.stem if name == themes[0] else f"{scene.stem}.{name}" for name in themes]
    prints = _Prints(scene, variants, cache)
    if cache is not None and preview is None and prints.scene:
        reused = _reused(scene, asked, themes, stems, prints, cache, started, source_print)
        if reused is not None:
            return reused
    sources = [frame_source(variant) for variant in variants]
    formats = asked or [output_format(name) for name in sources[0].default_formats()]
    problems = format_problems(scene, sources[0], formats)
    if problems:
        raise SceneError(scene.source, problems)
    if preview is not None:
        sources[0] = _Tee(sources[0], preview)
    # each theme's own files (the first theme's named after the scene, the others `<stem>.<theme>.gif`), and the
    # files holding every theme (the html player), written once
    every = [f for f in formats if f.every_theme and len(themes) > 1]
    own = [f for f in formats if f not in every]
    # an output already up to date is kept (a render that differs from the last one in one format writes that one)
    fresh = {(stem, fmt.name) for stem, fmt, key in _keys(own, every, stems, prints)
             if preview is None and cache is not None and key and cache.fresh(*key)}
    selections = {f.frames for stem in stems for f in own + every if (stem, f.name) not in fresh}
    total = sum(_count(scene, source, selection) for source in sources for selection in selections)
    counter = _Progress(progress, total)
    frame_count = sources[0].frame_count
    paths, companions, records = [], [], {"outputs": {}, "defaults": {}}
    if prints.scene:
        records["defaults"][prints.scene] = list(sources[0].default_formats())
    for name, stem, variant, source in zip(themes, stems, variants, sources):
        todo = [f for f in own if (stem, f.name) not in fresh]
        paths += write_outputs(variant, [source], todo, out_dir, stem=stem, progress=counter)
        paths += [f.path(out_dir, stem, frame_count) for f in own if (stem, f.name) in fresh]
        companions += [p for fmt in own for p in fmt.companion_paths(out_dir, stem)]
        if name == themes[0] and every:
            todo = [f for f in every if (stem, f.name) not in fresh]
            paths += write_outputs(scene, sources, todo, out_dir, stem=scene.stem, progress=counter)
            paths += [f.path(out_dir, stem, frame_count) for f in every if (stem, f.name) in fresh]
            companions += [p for fmt in every for p in fmt.companion_paths(out_dir, scene.stem)]
    if isinstance(sources[0], _Tee):
        sources[0].finish()  # no format took the step frames: the preview still gets them
    if cache is not None:
        for stem, fmt, key in _keys(own, every, stems, prints):
            if key and (stem, fmt.name) not in fresh:
                files = [fmt.path(out_dir, stem, frame_count), *fmt.companion_paths(out_dir, stem)]
                records["outputs"][f"{stem}|{fmt.name}"] = cache.record(f"{stem}|{fmt.name}", key[1], files,
                                                                        frames=frame_count)
        cache.merge(records)
    # the result lists each format's file in the order asked (a kept file where it would have been written)
    order = [f.path(out_dir, stem, frame_count) for stem in stems for f in own]
    order[len(own):len(own)] = [f.path(out_dir, scene.stem, frame_count) for f in every]
    paths = sorted(paths, key=lambda p: order.index(p) if p in order else len(order))
    written = paths + companions
    if cache is not None and source_print and prints.scene:  # for `BuildCache.reused_render`
        made = {key[0]: key[1] for _, _, key in _keys(own, every, stems, prints)}
        records["sources"] = {source_print: cache.source_record(made, written, frame_count)}
        cache.merge({"sources": records["sources"]})
    from convgif.render import glyph_store

    glyph_store.save()  # the glyphs this render measured first, for the next render's process
    return RenderResult(scene=scene.source, path=paths[0], frames=frame_count,
                        bytes=sum(output_bytes(p) for p in written), seconds=time.perf_counter() - started,
                        paths=tuple(written), reused=False, records=records)


class _Prints:
    """The fingerprints of a scene and of each theme's variant (None without a cache, or for a scene built in
    code)."""

    def __init__(self, scene, variants, cache):
        from convgif.build_cache import scene_fingerprint

        self.scene = scene_fingerprint(scene) if cache is not None else None
        self.variants = [self.scene if v is scene else scene_fingerprint(v) for v in variants] \
            if self.scene else [None] * len(variants)


def _keys(own, every, stems, prints):
    """(stem, format, (manifest key, fingerprint) or None) for each output of a render."""
    from convgif.build_cache import output_fingerprint

    for stem, variant_print in zip(stems, prints.variants):
        for fmt in own:
            yield stem, fmt, (f"{stem}|{fmt.name}", output_fingerprint(variant_print, fmt.name)) \
                if variant_print else None
    for fmt in every:
        yield stems[0], fmt, (f"{stems[0]}|{fmt.name}", output_fingerprint(prints.scene, fmt.name)) \
            if prints.scene else None


def _reused(scene, asked, themes, stems, prints, cache, started, source_print=None) -> RenderResult | None:
    """The result of a render whose every output is up to date (nothing drawn), or None."""
    from convgif.formats import output_format

    names = [f.name for f in asked] or cache.default_formats(prints.scene)
    if not names:
        return None
    formats = [output_format(name) for name in names]
    every = [f for f in formats if f.every_theme and len(themes) > 1]
    own = [f for f in formats if f not in every]
    records, keys = [], {}
    for _, _, key in _keys(own, every, stems, prints):
        record = cache.fresh(*key)
        if record is None:
            return None
        records.append(record)
        keys[key[0]] = key[1]
    out = cache.out_dir
    files = [out / name for record in records for name in record["files"]]
    first = next(iter(records[0]["files"]))
    frame_count = int(records[0].get("frames") or 0)
    main = [f.path(out, stem, frame_count) for stem in stems for f in own]
    main[len(own):len(own)] = [f.path(out, scene.stem, frame_count) for f in every]
    companions = [p for stem in stems for f in formats for p in f.companion_paths(out, stem) if p.exists()]
    made = None
    if source_print:  # the file as it is makes these outputs: recorded (once) for `BuildCache.reused_render`
        entry = cache.source_record(keys, main + companions, frame_count)
        if cache.sources.get(source_print) != entry:
            made = {"sources": {source_print: entry}}
    return RenderResult(scene=scene.source, path=main[0] if main else out / first, frames=frame_count,
                        bytes=sum(p.stat().st_size for p in files if p.is_file()),
                        seconds=time.perf_counter() - started, paths=tuple(main + companions), reused=True,
                        records=made)


class _Tee:
    """A frame source that hands the first pass over its step frames to `preview` as well."""

    def __init__(self, source, preview: Callable[[Frame], None]):
        self.source, self.preview, self.done = source, preview, False

    def __getattr__(self, name):
        return getattr(self.source, name)

    def frames(self, selection: str):
        if selection != "steps" or self.done:
            yield from self.source.frames(selection)
            return
        for frame in self.source.frames(selection):
            self.preview(frame)
            yield frame
        self.done = True

    def finish(self) -> None:
        if not self.done:
            for _ in self.frames("steps"):
                pass


def format_problems(scene, source, formats: list[OutputFormat]) -> list[tuple[str, str]]:
    """Formats this scene cannot be written in: an animation or strip of a single picture, or a scene type the
    format does not take."""
    problems = []
    if source.frame_count == 1:
        refused = [f.name for f in formats if f.several_pictures]
        if refused:
            verb = "needs" if len(refused) == 1 else "need"
            problems.append(("output.formats", f"{', '.join(refused)} {verb} several pictures, but this "
                             f"{scene.kind} still is a single picture (use png, pdf or svg)"))
    refused = [f.name for f in formats if scene.scene_type not in f.scene_types]
    if refused:
        problems.append(("output.formats", f"{', '.join(refused)} cannot show a {scene.scene_type} scene"))
    variants = getattr(scene.output, "variants", None)
    if variants is not None and not any(f.frames == VARIANTS for f in formats):
        takers = [f.name for f in _all_formats() if f.frames == VARIANTS]
        problems.append(("output.variants", f"only {', '.join(takers)} output makes variants, and this render "
                         f"writes {', '.join(f.name for f in formats)}"))
    return problems + [problem for f in formats if f.name not in refused for problem in f.problems(scene)]


VARIANTS = "variants"  # the selection whose frames are the scene's value redraws, not pictures (the worksheet)


def _all_formats() -> list[OutputFormat]:
    from convgif.formats import format_names, output_format

    return [output_format(name) for name in format_names()]


def _count(scene, source, selection: str) -> int:
    """How many frames a pass over `selection` hands out (variants: `output.variants`, default 1)."""
    return (scene.output.variants or 1) if selection == VARIANTS else source.count(selection)


def _frames(scene, source, selection: str):
    """The frames of one pass: the source's pictures, or for "variants" one frame per redraw of the scene's values,
    built from its traces (`convgif.worksheet`), each carrying its printed sheet instead of pixels."""
    if selection == VARIANTS:
        from convgif.worksheet import variant_frames

        return variant_frames(scene)
    return source.frames(selection)


def output_bytes(path: Path) -> int:
    """Size of an output file, or of every file in an output folder (png frames)."""
    if path.is_dir():
        return sum(entry.stat().st_size for entry in path.iterdir() if entry.is_file())
    return path.stat().st_size


class _Progress:
    """progress(done, total) over several passes, counting on from one pass to the next."""

    def __init__(self, progress: Progress | None, total: int):
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self, done: int, total: int) -> None:
        del done, total
        self.done += 1
        if self.progress:
            self.progress(self.done, self.total)


def write_outputs(scene, sources: list, formats: list[OutputFormat], out_dir: Path, *, stem: str | None = None,
                  progress: Progress | None = None) -> list[Path]:
    """Write every format; formats handed the same frames share one pass over them (with several sources, one
    per theme, a pass hands every frame of each in turn). Returns the paths, named after `stem` (default the
    scene's)."""
    from convgif.encode import WriterOptions

    if not formats:
        return []
    stem = stem or scene.stem
    first = sources[0]
    by_selection: dict[str, list[OutputFormat]] = {}
    for fmt in formats:
        by_selection.setdefault(fmt.frames, []).append(fmt)
    total = sum(_count(scene, source, selection) for selection in by_selection
                for source in (sources[:1] if selection == VARIANTS else sources))
    done = 0
    palette = first.palette() if any(f.indexed for f in formats) else None
    options = WriterOptions(palette=palette, dpi=scene.output.dpi, frame_count=first.frame_count,
                            deck=first.deck())
    paths = {fmt.name: fmt.path(out_dir, stem, first.frame_count) for fmt in formats}
    for selection, group in by_selection.items():
        with ExitStack() as stack:
            writers = [stack.enter_context(fmt.writer_type().open(paths[fmt.name], options)) for fmt in group]
            for source in sources[:1] if selection == VARIANTS else sources:  # variants: drawn in no theme
                for frame in _frames(scene, source, selection):
                    for writer in writers:
                        writer.write_frame(frame)
                    done += 1
                    if progress:
                        progress(done, total)
    return [paths[fmt.name] for fmt in formats]
