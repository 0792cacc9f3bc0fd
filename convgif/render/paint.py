"""Two painters over the same primitives: matplotlib Agg (static layer, reference frames) and Pillow (per frame)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle
from PIL import Image, ImageDraw

from convgif.errors import RenderError
from convgif.render.fonts import font_path, pil_font
from convgif.render.primitives import Primitive, Rect, Text, Veil
from convgif.render.theme import RGB

DPI = 100
POINTS_PER_PIXEL = 72 / DPI
_PIL_ANCHOR = {"left": "ls", "center": "ms", "right": "rs"}


def _unit(colour: RGB) -> tuple[float, float, float]:
    return (colour[0] / 255, colour[1] / 255, colour[2] / 255)


def mpl_figure(size: tuple[int, int], background: RGB, primitives: Iterable[Primitive], *,
               dpi: float = DPI) -> Figure:
    """A matplotlib Figure of `primitives` in order, `size` px at `dpi` (no canvas attached).

    The vector variant: `savefig(..., format="pdf" / "svg")` keeps every rectangle and text as vectors.
    Text sizes and line widths scale with `dpi`, so the page at any dpi looks like the frame, only
    printed `size / dpi` inches large.
    """
    width, height = size
    points_per_pixel = 72 / dpi
    figure = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, facecolor=_unit(background))
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, width)
    axes.set_ylim(height, 0)  # y down, like image rows
    axes.set_axis_off()
    fonts: dict[tuple[int, str], FontProperties] = {}
    for order, item in enumerate(primitives):
        z = 1 + order * 1e-6  # artists draw by zorder; keep the primitives' order
        if isinstance(item, Rect):
            _mpl_rect(axes, item, z, points_per_pixel)
        elif isinstance(item, Text):
            key = (item.size, font_path(item.bold, item.text))  # the same file Pillow draws this text with
            if key not in fonts:
                fonts[key] = FontProperties(fname=key[1], size=item.size * points_per_pixel)
            axes.text(item.x, item.y, item.text, fontproperties=fonts[key], color=_unit(item.colour),
                      ha=item.align, va="baseline", zorder=z)
        elif isinstance(item, Veil):
            x0, y0, x1, y1 = item.box
            axes.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor=_unit(item.colour), alpha=item.alpha,
                                     edgecolor="none", linewidth=0, antialiased=False, zorder=z))
        else:
            raise RenderError(f"cannot paint {type(item).__name__}")
    return figure


def mpl_render(size: tuple[int, int], background: RGB, primitives: Iterable[Primitive]) -> np.ndarray:
    """Draw `primitives` in order on a fresh Agg figure of `size` px; return RGB uint8 (H, W, 3)."""
    width, height = size
    figure = mpl_figure(size, background, primitives)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[:height, :width, :3]
    if pixels.shape[:2] != (height, width):
        raise RenderError(f"matplotlib drew {pixels.shape[1]}x{pixels.shape[0]} px, expected {width}x{height}")
    return np.ascontiguousarray(pixels)


def _mpl_rect(axes, rect: Rect, z: float, points_per_pixel: float = POINTS_PER_PIXEL) -> None:
    x0, y0, x1, y1 = rect.box
    if rect.fill is not None:
        # antialiasing off: the fill covers exactly the pixels whose centres lie in the box, as Pillow does
        axes.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor=_unit(rect.fill), edgecolor="none",
                                 linewidth=0, antialiased=False, zorder=z))
    if rect.edge is None:
        return
    lw = rect.line_width
    if rect.dashed:
        axes.add_patch(Rectangle((x0 + lw / 2, y0 + lw / 2), x1 - x0 - lw, y1 - y0 - lw, fill=False,
                                 edgecolor=_unit(rect.edge), linewidth=lw * points_per_pixel,
                                 linestyle=(0, (2.5, 2)), antialiased=False, zorder=z))
        return
    # a solid outline is four filled strips inside the box: pixel-exact, like Pillow's `outline`
    for sx0, sy0, sx1, sy1 in ((x0, y0, x1, y0 + lw), (x0, y1 - lw, x1, y1),
                               (x0, y0, x0 + lw, y1), (x1 - lw, y0, x1, y1)):
        axes.add_patch(Rectangle((sx0, sy0), sx1 - sx0, sy1 - sy0, facecolor=_unit(rect.edge), edgecolor="none",
                                 linewidth=0, antialiased=False, zorder=z))


def pil_paint(image: Image.Image, primitives: Iterable[Primitive]) -> None:
    """Draw solid primitives onto `image` in place (the per-frame fast path)."""
    draw = ImageDraw.Draw(image)
    for item in primitives:
        if isinstance(item, Rect):
            x0, y0, x1, y1 = item.box
            if item.dashed:
                raise RenderError("dashed outlines belong to the static layer")
            if x1 <= x0 or y1 <= y0:
                continue
            if item.fill is not None:
                draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=item.fill)
            if item.edge is not None:
                draw.rectangle((x0, y0, x1 - 1, y1 - 1), outline=item.edge, width=item.line_width)
        elif isinstance(item, Text):
            draw.text((item.x, item.y), item.text, fill=item.colour, font=pil_font(item.size, item.bold, item.text),
                      anchor=_PIL_ANCHOR[item.align])
        elif isinstance(item, Veil):
            region = image.crop(item.box)
            solid = Image.new("RGB", region.size, item.colour)
            image.paste(Image.blend(region, solid, item.alpha), item.box[:2])
        else:
            raise RenderError(f"cannot paint {type(item).__name__}")
