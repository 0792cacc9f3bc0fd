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

from convgif.errors import SceneError
from convgif.formats import OutputFormat, output_format
from convgif.sources import (  # noqa: F401  (build_trace, build_view, drawable_view, still_frames: for tests)
    build_trace,
    build_view,
    drawable_view,
    frame_source,
    source_type,
    still_frames,
)

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class RenderResult:
    scene: str
    path: Path
    frames: int  # step frames + the hold frame (a still: its pictures), as written
    bytes: int  # all outputs together
    seconds: float
    paths: tuple[Path, ...] = ()  # every output written: one per format (`path` is the first), then companions


def clean_stale_parts(out_dir: str | os.PathLike) -> list[Path]:
    """Remove the hidden `.part` files killed runs left in `out_dir`; a live run's part files stay."""
    from convgif.encode import atomic

    # With liveness locks a dead writer's file is known at once; without them, wait until it is a minute old.
    return atomic.clean_stale_parts(out_dir, min_age_s=0 if atomic.HAS_LIVENESS_LOCKS else 60)


def check_drawable(scene) -> list[str]:
    """Raise SceneError if a validated scene cannot be drawn at its width (before any file is opened); returns
    notes ("key: what the frames leave out") for a scene that can."""
    return source_type(scene).check_drawable(scene)


def render_scene(scene, out_dir: str | os.PathLike, *, progress: Progress | None = None) -> RenderResult:
    """Render one validated scene into `out_dir`, atomically, streaming frames to the writers."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    asked = [output_format(name) for name in scene.output.formats or ()]
    for fmt in asked:
        fmt.check_available()  # a missing extra fails before anything is drawn
    themes = scene.render.themes()
    variants = [scene] if len(themes) == 1 else [scene.in_theme(name) for name in themes]
    sources = [frame_source(variant) for variant in variants]
    formats = asked or [output_format(name) for name in sources[0].default_formats()]
    problems = format_problems(scene, sources[0], formats)
    if problems:
        raise SceneError(scene.source, problems)
    # each theme's own files (the first theme's named after the scene, the others `<stem>.<theme>.gif`), and the
    # files holding every theme (the html player), written once
    every = [f for f in formats if f.every_theme and len(themes) > 1]
    own = [f for f in formats if f not in every]
    total = sum(source.count(selection) for source in sources for selection in {f.frames for f in formats})
    counter = _Progress(progress, total)
    paths, companions = [], []
    for name, variant, source in zip(themes, variants, sources):
        stem = scene.stem if name == themes[0] else f"{scene.stem}.{name}"
        paths += write_outputs(variant, [source], own, out_dir, stem=stem, progress=counter)
        companions += [p for fmt in own for p in fmt.companion_paths(out_dir, stem)]
        if name == themes[0] and every:
            paths += write_outputs(scene, sources, every, out_dir, stem=scene.stem, progress=counter)
            companions += [p for fmt in every for p in fmt.companion_paths(out_dir, scene.stem)]
    written = paths + companions
    return RenderResult(scene=scene.source, path=paths[0], frames=sources[0].frame_count,
                        bytes=sum(output_bytes(p) for p in written), seconds=time.perf_counter() - started,
                        paths=tuple(written))


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
    return problems


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
    total = sum(source.count(selection) for source in sources for selection in by_selection)
    done = 0
    palette = first.palette() if any(f.indexed for f in formats) else None
    options = WriterOptions(palette=palette, dpi=scene.output.dpi, frame_count=first.frame_count,
                            deck=first.deck())
    paths = {fmt.name: fmt.path(out_dir, stem, first.frame_count) for fmt in formats}
    for selection, group in by_selection.items():
        with ExitStack() as stack:
            writers = [stack.enter_context(fmt.writer_type().open(paths[fmt.name], options)) for fmt in group]
            for source in sources:
                for frame in source.frames(selection):
                    for writer in writers:
                        writer.write_frame(frame)
                    done += 1
                    if progress:
                        progress(done, total)
    return [paths[fmt.name] for fmt in formats]
