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
    source = frame_source(scene)
    formats = asked or [output_format(name) for name in source.default_formats()]
    problems = format_problems(scene, source, formats)
    if problems:
        raise SceneError(scene.source, problems)
    paths = write_outputs(scene, source, formats, out_dir, progress=progress)
    written = paths + [p for fmt in formats for p in fmt.companion_paths(out_dir, scene.stem)]
    return RenderResult(scene=scene.source, path=paths[0], frames=source.frame_count,
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


def write_outputs(scene, source, formats: list[OutputFormat], out_dir: Path, *,
                  progress: Progress | None = None) -> list[Path]:
    """Write every format; formats handed the same frames share one pass over them. Returns the paths."""
    from convgif.encode import WriterOptions

    by_selection: dict[str, list[OutputFormat]] = {}
    for fmt in formats:
        by_selection.setdefault(fmt.frames, []).append(fmt)
    total = sum(source.count(selection) for selection in by_selection)
    done = 0
    palette = source.palette() if any(f.indexed for f in formats) else None
    options = WriterOptions(palette=palette, dpi=scene.output.dpi, frame_count=source.frame_count,
                            deck=source.deck())
    paths = {fmt.name: fmt.path(out_dir, scene.stem, source.frame_count) for fmt in formats}
    for selection, group in by_selection.items():
        with ExitStack() as stack:
            writers = [stack.enter_context(fmt.writer_type().open(paths[fmt.name], options)) for fmt in group]
            for frame in source.frames(selection):
                for writer in writers:
                    writer.write_frame(frame)
                done += 1
                if progress:
                    progress(done, total)
    return [paths[fmt.name] for fmt in formats]
