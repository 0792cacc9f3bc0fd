"""Scene -> trace -> frames -> writer: the one path every render takes, with a progress(i, n) callback."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from convgif.errors import RenderError, SceneError

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class RenderResult:
    scene: str
    path: Path
    frames: int  # step frames + the hold frame, as written
    bytes: int  # all outputs together
    seconds: float
    paths: tuple[Path, ...] = ()  # every output written, one per format (`path` is the first)


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
            # torch's lp_pool1d takes plain ints (the engine follows it); lp_pool2d takes pairs
            one_d = len(geometry.kernel_size) == 1
            return engine.pool_trace(kind, scene.input_array(),
                                     geometry.kernel_size[0] if one_d else geometry.kernel_size,
                                     stride=geometry.stride[0] if one_d else geometry.stride, **options)
        return engine.pool_trace(kind, scene.input_array(), geometry.kernel_size, stride=geometry.stride,
                                 padding=tuple(p for p, _ in geometry.padding), dilation=geometry.dilation,
                                 **options)
    raise RenderError(f"op.kind: {kind!r} has no renderer")


def scene_theme(scene):
    """The scene's look (op and still scenes alike): its `[render] theme`, in its label `language`, at its
    `[render] font_scale` and `[render] text` style, with its `[render] colours` overrides."""
    from convgif.render import get_theme

    colours = getattr(scene.render, "colours", None)
    return get_theme(scene.render.theme, language=getattr(scene, "language", "en"), colours=dict(colours or ()),
                     font_scale=getattr(scene.render, "font_scale", 1.0),
                     crisp_text=getattr(scene.render, "text", "crisp") == "crisp",
                     fill_dense_taps=getattr(scene.render, "taps", "auto") == "fill")


def scene_caption(scene) -> str:
    """The caption frames show: the scene's own, or the default one for its kind with the default's two words
    ("Input", "Output") in the scene's label language (the scene layer knows no labels: render owns them)."""
    language = getattr(scene, "language", "en")
    if scene.caption is not None or language == "en":
        return scene.caption_text()
    from convgif.render.labels import label
    from convgif.scene import caption as captions

    template = captions.default_caption(scene.op.kind)
    template = template.replace("Input", label(language, "caption_input")).replace("Output",
                                                                                   label(language, "caption_output"))
    return captions.fill(template, captions.values(scene.op, scene.geometry()))


def build_view(scene, trace):
    from convgif import render

    theme = scene_theme(scene)
    caption = scene_caption(scene)
    if hasattr(render, "make_view"):
        return render.make_view(trace, view=scene.view_name(), title=scene.title, caption=caption,
                                theme=theme, width=scene.render.width)
    return render.ConvView(trace, title=scene.title, caption=caption, theme=theme, width=scene.render.width)


def clean_stale_parts(out_dir: str | os.PathLike) -> list[Path]:
    """Remove the hidden `.part` files killed runs left in `out_dir`; a live run's part files stay."""
    from convgif.encode import atomic

    # With liveness locks a dead writer's file is known at once; without them, wait until it is a minute old.
    return atomic.clean_stale_parts(out_dir, min_age_s=0 if atomic.HAS_LIVENESS_LOCKS else 60)


MAX_WIDTH = 4096  # render.width's upper bound: the widest frame a scene may ask for


def drawable_view(scene, trace=None):
    """The view that draws `scene`; a valid scene too big to draw is a SceneError naming the key to change.

    Layouts only find out whether the grids fit once they measure them; that happens here, before any
    file is opened, so `convgif check` and `convgif render` report it like any other scene problem.
    """
    trace = build_trace(scene) if trace is None else trace
    try:
        return build_view(scene, trace)
    except RenderError as error:
        raise SceneError(scene.source, [_drawing_problem(scene, trace, error)]) from None


def check_drawable(scene) -> None:
    """Raise SceneError if a validated scene cannot be drawn (stills draw whatever validates)."""
    from convgif.scene.still import StillScene

    if not isinstance(scene, StillScene):
        drawable_view(scene)


def _drawing_problem(scene, trace, error: RenderError) -> tuple[str, str]:
    width = scene.render.width
    if "frame width" in str(error):
        return "render.width", f"{width} px is too narrow to draw {scene.op.kind} (at least 320 px)"
    if "does not fit" not in str(error):
        return "render", str(error)
    font_scale = getattr(scene.render, "font_scale", 1.0)
    scaled = f" at font_scale {font_scale:g}" if font_scale != 1.0 else ""
    narrowest = _narrowest_fitting_width(scene, trace, width)
    if narrowest is not None:
        smaller_text = ", a smaller font_scale" if font_scale > 1.0 else ""
        return "render.width", (f"{error}{scaled}: it needs render.width = {narrowest} or more "
                                f"(up to {MAX_WIDTH}){smaller_text}, or a smaller input")
    remedies = "a smaller input, fewer channels or a smaller font_scale" if font_scale > 1.0 else (
        "a smaller input or fewer channels")
    widest = ", the widest frame" if width >= MAX_WIDTH else f", nor in {MAX_WIDTH} px, the widest frame"
    return "input.shape", f"{error}{scaled}{widest} (use {remedies})"


def _narrowest_fitting_width(scene, trace, width: int) -> int | None:
    """The narrowest frame width (px, a multiple of 10, up to MAX_WIDTH) this scene fits in, or None.

    Whether grids fit grows with the width, so a bisection over widths finds the edge in about ten layouts.
    """
    def fits(candidate: int) -> bool:
        render = scene.render.model_copy(update={"width": candidate})
        try:
            build_view(scene.model_copy(update={"render": render}), trace)
        except RenderError:
            return False
        return True

    if width >= MAX_WIDTH or not fits(MAX_WIDTH):
        return None
    low, high = width // 10, MAX_WIDTH // 10  # low*10 does not fit, high*10 does
    while high - low > 1:
        middle = (low + high) // 2
        if fits(middle * 10):
            high = middle
        else:
            low = middle
    return high * 10


def render_scene(scene, out_dir: str | os.PathLike, *, progress: Progress | None = None) -> RenderResult:
    """Render one validated scene into `out_dir`, atomically, streaming frames to the writer."""
    from convgif.scene.still import StillScene

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if isinstance(scene, StillScene):
        return render_still(scene, out_dir, progress=progress)
    from convgif.scene.rules import output_step_problems

    started = time.perf_counter()
    formats = scene.output_formats()
    check_formats_available(formats)  # a missing extra fails before anything is drawn
    trace = build_trace(scene)
    problems = output_step_problems(scene.output, len(trace))
    if problems:
        raise SceneError(scene.source, problems)
    view = drawable_view(scene, trace)
    indices = scene.step_indices(len(trace))
    paths = write_outputs(scene, view, indices, out_dir, formats, progress=progress)
    return RenderResult(
        scene=scene.source, path=paths[0], frames=len(indices) + 1, bytes=sum(output_bytes(p) for p in paths),
        seconds=time.perf_counter() - started, paths=tuple(paths),
    )


# ---- output formats -------------------------------------------------------------------------------------

OUTPUT_NAMES = {  # file (or, for png frames, folder) name of each format, from the scene's stem
    "gif": "{stem}.gif", "png": "{stem}", "strip": "{stem}_strip.png", "pdf": "{stem}.pdf", "svg": "{stem}.svg",
    "webp": "{stem}.webp", "apng": "{stem}.apng", "mp4": "{stem}.mp4",
}


# An SVG is sized in CSS pixels (96 per inch), one per frame pixel: it drops into a web page at the frame's
# width and scales freely, so output.dpi (a print size) does not apply to it.
SVG_DPI = 96


def output_path(out_dir: Path, stem: str, fmt: str) -> Path:
    return Path(out_dir) / OUTPUT_NAMES[fmt].format(stem=stem)


def output_bytes(path: Path) -> int:
    """Size of an output file, or of every file in an output folder (png frames)."""
    if path.is_dir():
        return sum(entry.stat().st_size for entry in path.iterdir() if entry.is_file())
    return path.stat().st_size


def check_formats_available(formats) -> None:
    """Raise the named error of a format whose optional dependency is missing (mp4: the mp4 extra)."""
    if "mp4" in formats:
        from convgif.encode.mp4 import load_ffmpeg

        load_ffmpeg()


def animation_writer(fmt: str, path: Path, palette):
    """The writer of an animated format, given the scene's palette (used by the palette-based formats)."""
    from convgif import encode

    if fmt in ("gif", "png", "apng"):
        return encode.get_writer(fmt)(path, palette)
    return encode.get_writer(fmt)(path)


def vector_figure(view, step_index: int | None, *, dpi: int):
    """A matplotlib Figure of one frame, drawn as vectors (for pdf and svg pages)."""
    from convgif.render.paint import mpl_figure

    return mpl_figure(view.size, view.theme.background, view.primitives(step_index), dpi=dpi)


def write_outputs(scene, view, indices: list[int], out_dir: Path, formats, *,
                  progress: Progress | None = None) -> list[Path]:
    """Write every format of an op scene; animations share one pass over the frames. Returns the paths."""
    from contextlib import ExitStack

    from convgif.encode import ANIMATED_FORMATS, Palette, PdfWriter, StripWriter, SvgWriter

    animated = [f for f in formats if f in ANIMATED_FORMATS]
    keys = scene.key_steps(len(view.trace))
    dpi = scene.output.dpi
    total = (len(indices) + 1 if animated else 0) + len(keys) * (("strip" in formats) + ("pdf" in formats)) \
        + ("svg" in formats)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    if animated:
        palette = Palette(view.palette_colors()) if {"gif", "png", "apng"} & set(animated) else None
        with ExitStack() as stack:
            writers = [stack.enter_context(animation_writer(f, output_path(out_dir, scene.stem, f), palette))
                       for f in animated]
            for frame in view.frames(indices):
                for writer in writers:
                    writer.write(frame, scene.render.duration_ms)
                tick()
            final = view.final_frame()
            for writer in writers:
                writer.write(final, scene.render.hold_ms)
            tick()
    if "strip" in formats:
        with StripWriter(output_path(out_dir, scene.stem, "strip"), dpi=dpi) as writer:
            for key in keys:
                writer.write(view.final_frame() if key is None else next(iter(view.frames([key]))))
                tick()
    if "pdf" in formats:
        with PdfWriter(output_path(out_dir, scene.stem, "pdf"), dpi=dpi) as writer:
            for key in keys:
                writer.write_figure(vector_figure(view, key, dpi=dpi))
                tick()
    if "svg" in formats:
        with SvgWriter(output_path(out_dir, scene.stem, "svg")) as writer:
            writer.write_figure(vector_figure(view, scene.svg_step(len(view.trace)), dpi=SVG_DPI))
            tick()
    return [output_path(out_dir, scene.stem, f) for f in formats]


def still_frames(scene) -> list[tuple[np.ndarray, int]]:
    """The (frame, duration_ms) pairs of a still scene, drawn by its kind's renderer."""
    from convgif.render.stills import shapes, views
    from convgif.render.stills.measure import measuring_at

    renderers = {**shapes.STILL_RENDERERS, **views.STILL_RENDERERS}
    theme = scene_theme(scene)
    with measuring_at(theme.font_scale):  # text is measured as drawn at the scale's pixel size
        return renderers[scene.kind](scene.still, theme=theme, width=scene.render.width,
                                     title=scene.title, caption=scene.caption)


def render_still(scene, out_dir: Path, *, progress: Progress | None = None) -> RenderResult:
    """A still scene: by default one frame -> `<stem>.png`; several (a short animation) -> `<stem>.gif`.

    `output.formats` may ask for others: png, pdf and svg suit a single picture (png is then one file,
    pdf and svg embed the picture at `output.dpi`); animations and the strip need several pictures.
    Stills are drawn entirely by matplotlib (antialiased lines and curves, not a fixed cell grid), so the
    GIF palette is built once from the frames' own colours rather than from the theme.
    """
    from PIL import Image

    from convgif.encode import ANIMATED_FORMATS, PdfWriter, StripWriter, SvgWriter, atomic_write

    started = time.perf_counter()
    check_formats_available(scene.output.formats or ())
    frames = still_frames(scene)
    # no output.formats: a single picture is a png, several are a gif
    formats = scene.output.formats or (("png",) if len(frames) == 1 else ("gif",))
    problems = still_format_problems(scene, formats, len(frames))
    if problems:
        raise SceneError(scene.source, problems)
    paths = []
    animated = [f for f in formats if f in ANIMATED_FORMATS and not (f == "png" and len(frames) == 1)]
    if animated:
        palette = still_palette(frames) if {"gif", "png", "apng"} & set(animated) else None
        for fmt in animated:
            with animation_writer(fmt, output_path(out_dir, scene.stem, fmt), palette) as writer:
                for frame, duration_ms in frames:
                    writer.write(frame, duration_ms)
    for fmt in formats:
        path = output_path(out_dir, scene.stem, fmt)
        if fmt == "png" and len(frames) == 1:
            path = out_dir / f"{scene.stem}.png"
            with atomic_write(path) as handle:
                Image.fromarray(frames[0][0]).save(handle, format="PNG", optimize=True)
        elif fmt in ("strip", "pdf"):
            writer_type = StripWriter if fmt == "strip" else PdfWriter
            with writer_type(path, dpi=scene.output.dpi) as writer:
                for frame, _ in frames:
                    writer.write(frame)
        elif fmt == "svg":  # the last picture: where a short still animation ends
            with SvgWriter(path) as writer:
                writer.write(frames[-1][0])
        paths.append(path)
    if progress:
        progress(len(frames), len(frames))
    return RenderResult(scene=scene.source, path=paths[0], frames=len(frames),
                        bytes=sum(output_bytes(p) for p in paths), seconds=time.perf_counter() - started,
                        paths=tuple(paths))


def still_format_problems(scene, formats, count: int) -> list[tuple[str, str]]:
    """Formats that make no sense for this still (animations of one picture), and step keys a still lacks."""
    problems = []
    if count == 1:
        refused = [f for f in formats if f in ("gif", "webp", "apng", "mp4", "strip")]
        if refused:
            verb = "needs" if len(refused) == 1 else "need"
            problems.append(("output.formats", f"{', '.join(refused)} {verb} several pictures, but this "
                             f"{scene.kind} still is a single picture (use png, pdf or svg)"))
    for key in ("key_steps", "svg_step"):
        if getattr(scene.output, key) is not None:
            problems.append((f"output.{key}", "a still scene has no steps (its strip and pdf show every "
                             "picture, its svg the last one): remove this key"))
    return problems


def still_palette(frames):
    """One GIF palette for all of a still's frames, from their own colours (median cut, no dithering)."""
    from PIL import Image

    from convgif.encode import Palette

    stacked = Image.fromarray(np.concatenate([frame for frame, _ in frames], axis=0))
    quantized = stacked.quantize(colors=255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    colours = np.array(quantized.getpalette()[: 3 * 255], dtype=np.uint8).reshape(-1, 3)
    used = np.unique(np.asarray(quantized))
    return Palette([tuple(int(c) for c in colours[i]) for i in used])
