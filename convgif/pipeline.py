"""Scene -> trace -> frames -> writer: the one path every render takes, with a progress(i, n) callback."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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
    """The engine trace a scene describes (the scene's view picks one for ops that have several)."""
    from convgif import engine

    kind = scene.op.kind
    geometry = scene.geometry()  # arguments as the engine resolved them (defaults filled, pads explicit)
    if kind in ("conv1d", "conv2d"):
        return engine.conv_trace(
            scene.input_array(), scene.weight_array(), scene.bias_array(),
            stride=geometry.stride, padding=geometry.padding, dilation=geometry.dilation,
            groups=geometry.groups, padding_mode=geometry.padding_mode,
        )
    if kind.startswith("conv_transpose"):
        make = engine.scatter_trace if scene.view_name() == "scatter" else engine.zero_insertion_trace
        return make(
            scene.input_array(), scene.weight_array(), scene.bias_array(), stride=geometry.stride,
            padding=tuple(p for p, _ in geometry.padding), output_padding=geometry.output_padding,
            groups=geometry.groups, dilation=geometry.dilation,
        )
    if "_pool" in kind:
        op = scene.op
        options = {"ceil_mode": geometry.ceil_mode}
        if kind.startswith("avg"):
            options["count_include_pad"] = op.count_include_pad if op.count_include_pad is not None else True
        if kind.startswith("lp"):
            options["norm_type"] = op.norm_type if op.norm_type is not None else 2.0
            return engine.pool_trace(kind, scene.input_array(), geometry.kernel_size, stride=geometry.stride,
                                     **options)
        return engine.pool_trace(kind, scene.input_array(), geometry.kernel_size, stride=geometry.stride,
                                 padding=tuple(p for p, _ in geometry.padding), dilation=geometry.dilation,
                                 **options)
    raise RenderError(f"op.kind: {kind!r} has no renderer")


def build_view(scene, trace):
    from convgif import render

    theme = render.get_theme(scene.render.theme)
    if hasattr(render, "make_view"):
        return render.make_view(trace, view=scene.view_name(), title=scene.title, caption=scene.caption_text(),
                                theme=theme, width=scene.render.width)
    return render.ConvView(trace, title=scene.title, caption=scene.caption_text(), theme=theme,
                           width=scene.render.width)


def render_scene(scene, out_dir: str | os.PathLike, *, progress: Progress | None = None) -> RenderResult:
    """Render one validated scene into `out_dir`, atomically, streaming frames to the writer."""
    from convgif.scene.still import StillScene

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if isinstance(scene, StillScene):
        return render_still(scene, out_dir, progress=progress)
    from convgif.encode import GifWriter, Palette

    started = time.perf_counter()
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


def still_frames(scene) -> list[tuple[np.ndarray, int]]:
    """The (frame, duration_ms) pairs of a still scene, drawn by its kind's renderer."""
    from convgif.render import get_theme
    from convgif.render.stills import shapes, views

    renderers = {**shapes.STILL_RENDERERS, **views.STILL_RENDERERS}
    return renderers[scene.kind](scene.still, theme=get_theme(scene.render.theme), width=scene.render.width,
                                 title=scene.title, caption=scene.caption)


def render_still(scene, out_dir: Path, *, progress: Progress | None = None) -> RenderResult:
    """A still scene: one frame -> `<stem>.png`; several (a short animation) -> `<stem>.gif`.

    Stills are drawn entirely by matplotlib (antialiased lines and curves, not a fixed cell grid), so the
    GIF palette is built once from the frames' own colours rather than from the theme.
    """
    from PIL import Image

    from convgif.encode import GifWriter, Palette, atomic_write

    started = time.perf_counter()
    frames = still_frames(scene)
    if len(frames) == 1:
        path = out_dir / f"{scene.stem}.png"
        with atomic_write(path) as handle:
            Image.fromarray(frames[0][0]).save(handle, format="PNG", optimize=True)
    else:
        path = out_dir / f"{scene.stem}.gif"
        stacked = Image.fromarray(np.concatenate([frame for frame, _ in frames], axis=0))
        quantized = stacked.quantize(colors=255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        colours = np.array(quantized.getpalette()[: 3 * 255], dtype=np.uint8).reshape(-1, 3)
        used = np.unique(np.asarray(quantized))
        palette = Palette([tuple(int(c) for c in colours[i]) for i in used])
        with GifWriter(path, palette) as writer:
            for frame, duration_ms in frames:
                writer.write(frame, duration_ms)
    if progress:
        progress(len(frames), len(frames))
    return RenderResult(scene=scene.source, path=path, frames=len(frames), bytes=path.stat().st_size,
                        seconds=time.perf_counter() - started)
