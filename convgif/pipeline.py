"""Scene -> trace -> frames -> writer: the one path every render takes, with a progress(i, n) callback."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from convgif.errors import RenderError

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class RenderResult:
    scene: str
    path: Path
    frames: int  # step frames + the hold frame, as written
    bytes: int
    seconds: float


def build_trace(scene):
    """The engine trace a scene describes (views choose which trace for ops that have several)."""
    from convgif.engine import conv_trace

    kind = scene.op.kind
    geometry = scene.geometry()  # arguments as the engine resolved them (defaults filled, pads explicit)
    if kind in ("conv1d", "conv2d"):
        return conv_trace(
            scene.input_array(), scene.weight_array(), scene.bias_array(),
            stride=geometry.stride, padding=geometry.padding, dilation=geometry.dilation,
            groups=geometry.groups, padding_mode=geometry.padding_mode,
        )
    raise RenderError(f"op.kind: {kind!r} has no renderer yet")


def build_view(scene, trace):
    from convgif.render import ConvView, get_theme

    return ConvView(
        trace, title=scene.title, caption=scene.caption_text(), theme=get_theme(scene.render.theme),
        width=scene.render.width,
    )


def render_scene(scene, out_dir: str | os.PathLike, *, progress: Progress | None = None) -> RenderResult:
    """Render one validated scene to `out_dir/<stem>.gif`, atomically, streaming frames to the writer."""
    from convgif.encode import GifWriter, Palette

    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    trace = build_trace(scene)
    view = build_view(scene, trace)
    indices = scene.step_indices(len(trace))
    total = len(indices) + 1
    path = out_dir / f"{scene.stem}.gif"
    with GifWriter(path, Palette(view.palette_colors())) as writer:
        for done, frame in enumerate(view.frames(indices), start=1):
            writer.write(frame, scene.render.duration_ms)
            if progress:
                progress(done, total)
        writer.write(view.final_frame(), scene.render.hold_ms)
        if progress:
            progress(total, total)
    return RenderResult(
        scene=scene.source, path=path, frames=total, bytes=path.stat().st_size,
        seconds=time.perf_counter() - started,
    )
