"""The one drawing toolkit of the still figures: a matplotlib sheet in layout px with y pointing down (rectangles,
cells batched into one artist, words, lines, images, grids of numbers, arrows; `plot` draws line and bar plots
on it), text measured and wrapped as drawn, and the page around a figure's body (title above, caption below)
placed by the page style of the figure's family.

Renderers draw only what they are handed: every number a still shows comes from the scene layer
(convgif.scene.stills_shapes, convgif.scene.stills_views); the toolkit adds none.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np
from matplotlib.artist import Artist
from matplotlib.collections import PolyCollection
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Rectangle
from matplotlib.path import Path
from matplotlib.transforms import IdentityTransform, TransformedPatchPath

from convgif.render.labels import label
from convgif.render.layout_common import greedy_wrap
from convgif.render.primitives import fmt_number
from convgif.render.stills.measure import still_text_width
from convgif.render.stills.pillow_text import PillowText, line_box
from convgif.render.stills.zoom import BASE_DPI, scaled_figure
from convgif.render.theme import RGB, Theme, get_theme

Frames = list[tuple[np.ndarray, int]]  # (RGB uint8 frame, duration_ms) pairs; one pair for a still

STILL_MS = 4000  # a still is one frame; its duration matters only when it ends up in a GIF
TITLE_PT = 13
# Unicode subscript glyphs come out about 60% of the text's size (rₗ reads as n on a projector): a still draws
# them as ordinary characters, smaller and lowered, at no less than SUBSCRIPT_MIN_PT (10.4 px at 1x)
# (ₗ becomes the script ℓ: a plain l set small reads as | or 1)
SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜ", "0123456789+−=()aeoxhkℓmnpst")
SUBSCRIPT_MIN_PT = 7.5
SUBSCRIPT_DROP = 0.25  # how far a subscript's baseline sits below the line's, in the line's size


def subscript_pt(points: float) -> float:
    return max(0.75 * points, SUBSCRIPT_MIN_PT)


def script_runs(text: str) -> list[tuple[str, bool]]:
    """`text` as (characters, is a subscript) runs, the subscripts written as ordinary characters."""
    grouped = itertools.groupby(text, key=lambda ch: ch.translate(SUBSCRIPTS) != ch)
    return [("".join(chars).translate(SUBSCRIPTS), low) for low, chars in grouped]


def px(points: float) -> float:
    """Points to pixels at matplotlib's 100 dpi."""
    return points * 100 / 72


def unit(colour: RGB) -> tuple[float, float, float]:
    """A 0..255 colour as matplotlib's 0..1."""
    return (colour[0] / 255, colour[1] / 255, colour[2] / 255)


def words(theme: Theme) -> Callable[..., str]:
    """`say(key, **values)`: a still's word in the theme's language (see convgif.render.labels)."""
    return lambda key, **values: label(theme.language, key, **values)


def resolve_theme(theme: Theme | str) -> Theme:
    return get_theme(theme) if isinstance(theme, str) else theme


def flow(widths: list[float], limit: float, *, start: float = 0.0, gap: float = 0.0) -> list[tuple[int, float]]:
    """(row, x) of items of `widths` laid left to right from `start`, `gap` apart, a new row when the next would
    end past `limit` (a row's first item stays, however wide)."""
    places, row, x = [], 0, start
    for width in widths:
        if x > start and x + width > limit:
            row, x = row + 1, start
        places.append((row, x))
        x += width + gap
    return places


@dataclass(frozen=True, slots=True)
class PageStyle:
    """How one family of stills sets its page: margin, the pixel size text is measured at, where the title and
    caption go and how the page's height is rounded. The two families differ only in these values."""

    margin: float
    measure_px: Callable[[float], int]  # a point size's pixels -> the whole pixel size text is measured at
    title_centred: bool
    title_top: float
    title_line: float
    title_gap: float  # between the last title line and the body
    caption_pt: float
    caption_line: float
    caption_gap: float  # between the body and the caption
    bottom: float  # under the caption
    round_height: Callable[[float], int]

    def measure(self, text: str, points: float, bold: bool = False) -> float:
        """Width in layout px of `text` at `points` as drawn (see `measure.still_text_width`), subscripts at their
        own size."""
        return sum(still_text_width(run, max(1, self.measure_px(px(subscript_pt(points) if low else points))), bold)
                   for run, low in script_runs(text))

    def wrap(self, text: str, points: float, width: float, bold: bool = False) -> list[str]:
        """`text` in lines no wider than `width` layout px at `points`, as measured."""
        return greedy_wrap(text, lambda trial: self.measure(trial, points, bold) <= width)

    def title_lines(self, title: str | None, width: float) -> list[str]:
        """The title wrapped into as few lines as fit, their lengths balanced: a last line of one word ("7×7") reads
        as a stray label."""
        if not title:
            return []
        room = width - 2 * self.margin
        lines = self.wrap(title, TITLE_PT, room, bold=True)
        if len(lines) > 1:
            narrow, wide = room / len(lines), room  # the narrowest width that still takes len(lines) lines
            while wide - narrow > 1:
                middle = (narrow + wide) / 2
                if len(self.wrap(title, TITLE_PT, middle, bold=True)) == len(lines):
                    wide = middle
                else:
                    narrow = middle
            lines = self.wrap(title, TITLE_PT, wide, bold=True)
        return lines

    def caption_lines(self, caption: str | None, width: float) -> list[str]:
        return self.wrap(caption, self.caption_pt, width - 2 * self.margin) if caption else []

    def body_top(self, title: str | None, width: float) -> float:
        """Where a page `width` layout px wide with `title` on top starts its body."""
        count = len(self.title_lines(title, width))
        return self.title_top + self.title_line * count + (self.title_gap if count else 0)

    def page_height(self, body_end: float, caption: str | None, width: float) -> int:
        """The height of a page whose body ends at `body_end`, with `caption` under it."""
        count = len(self.caption_lines(caption, width))
        return self.round_height(body_end + (self.caption_gap + self.caption_line * count if count else 0)
                                 + self.bottom)


class Sheet:
    """A still's figure in layout px (y down): `width` layout px, drawn `zoom` pixels per layout px."""

    def __init__(self, width: float, height: int, theme: Theme, style: PageStyle, zoom: float | None = None):
        """`zoom`: the theme's font scale unless the figure needs less to fit."""
        self.width, self.height, self.theme, self.style = width, height, theme, style
        zoom = theme.font_scale if zoom is None else zoom
        self.figure, self.x_extent, self.y_extent = scaled_figure(width, height, zoom, unit(theme.background))
        self.canvas = FigureCanvasAgg(self.figure)
        self.ax = self.figure.add_axes((0, 0, 1, 1))
        self.ax.set_xlim(0, self.x_extent)
        self.ax.set_ylim(self.y_extent, 0)
        self.ax.set_axis_off()
        self.ax.set_autoscale_on(False)
        self._page_clip = TransformedPatchPath(self.ax.patch)  # the axes is the page: nothing is clipped to it
        self.display_matrix: np.ndarray | None = None  # layout px -> display px while `frame` draws (SheetRect)
        self.plots: list = []  # a record of each plot drawn on the sheet (plot.PlotRecord)

    def rect(self, x, y, w, h, *, fill: RGB | None = None, edge: RGB | None = None, lw: float = 1.0,
             dashed: bool = False, hatch: str | None = None, z: float = 1.0):
        """A rectangle; no fill or no edge when not given."""
        patch = SheetRect(self, (x, y), w, h, facecolor=unit(fill) if fill else "none",
                          edgecolor=unit(edge) if edge else "none", linewidth=lw,
                          linestyle=(0, (3, 2)) if dashed else "-", hatch=hatch, zorder=z)
        return self._add(patch)

    def text(self, x, y, s: str, *, pt: float = 10, colour: RGB | None = None, bold: bool = False, ha: str = "left",
             va: str = "top", z: float = 6.0, **kw):
        """Words, above the shapes, drawn by Pillow (see pillow_text); `kw` goes to the matplotlib Text (a bbox).
        Subscripts are set as smaller, lowered runs (see SUBSCRIPTS); the returned artist's `remove()` takes the
        whole line away."""
        runs = script_runs(s)
        colour = unit(colour or self.theme.text)
        if not any(low for _, low in runs):
            return self._add(PillowText(x, y, s, fontsize=pt, color=colour, ha=ha, va=va, bold=bold, zorder=z,
                                             **kw))
        sizes = [subscript_pt(pt) if low else pt for _, low in runs]
        widths = [self._drawn_size(run, size, bold)[0] for (run, _), size in zip(runs, sizes)]  # butted exactly
        baseline = y + self._baseline_offset(pt, va, bold)
        x -= {"left": 0.0, "center": 0.5, "right": 1.0}[ha] * sum(widths)
        parts = []
        for (run, low), size, width in zip(runs, sizes, widths):
            parts.append(self._add(PillowText(x, baseline + (SUBSCRIPT_DROP * px(pt) if low else 0), run,
                                                   fontsize=size, color=colour, ha="left", va="baseline", bold=bold,
                                                   zorder=z, **kw)))
            x += width
        return TextRuns(parts)

    def _add(self, artist):
        """`artist` onto the sheet's axes, in its z-order. Not `add_patch`/`plot`: they also grow the axes' data
        limits from the artist's path (Bezier extents, ~2 ms a patch) for autoscaling, which a sheet's fixed limits
        never use. The artist is not clipped (the axes is the whole page), and is handed the sheet's one clip path
        so `add_artist` does not build a transform per artist to clip it to the axes."""
        artist.set_clip_path(self._page_clip)
        artist.set_clip_on(False)
        return self.ax.add_artist(artist)

    def _drawn_size(self, text: str, points: float, bold: bool) -> tuple[float, float, float]:
        """(width, height, descent) in layout px of `text` as drawn on this sheet (see pillow_text.PillowText)."""
        scale = self.figure.dpi / BASE_DPI  # pixels per layout px
        return tuple(size / scale for size in line_box(text, points, bold, self.figure.dpi))

    def _baseline_offset(self, points: float, va: str, bold: bool) -> float:
        """How far below y a line's baseline sits when aligned `va` at y (its box is that of "lp", as matplotlib's)."""
        if va == "baseline":
            return 0.0
        _, height, descent = self._drawn_size("lp", points, bold)
        return {"top": height - descent, "center": height / 2 - descent, "bottom": -descent}[va]

    def text_boxes(self, pad: float = 0.0) -> list[tuple[float, float, float, float]]:
        """(x0, y0, x1, y1) in layout px of every text on the sheet as drawn, grown by `pad` on each side."""
        renderer = self.canvas.get_renderer()
        data = self.ax.transData
        matrix, dpi = data.get_matrix(), self.figure.dpi
        corners = []  # display px (x0, y0, x1, y1) of each text
        for artist in self.ax.texts:
            if artist.get_text():
                box = artist.display_box(matrix, dpi) if (isinstance(artist, PillowText)
                                                          and artist.get_transform() is data) else None
                corners.append(box if box is not None else tuple(artist.get_window_extent(renderer).extents))
        if not corners:
            return []
        points = data.inverted().transform(np.array(corners, dtype=float).reshape(-1, 2)).reshape(-1, 4)
        return [(min(xa, xb) - pad, min(ya, yb) - pad, max(xa, xb) + pad, max(ya, yb) + pad)
                for xa, ya, xb, yb in points.tolist()]

    def lines_clear_of_text(self, segments: Iterable[tuple[float, float, float, float]], *, colour: RGB,
                            lw: float = 1.0, z: float = 5.0, dashed: bool = False, pad: float = 2.0) -> list:
        """Straight segments (x0, y0, x1, y1), each drawn only where it crosses no text already on the sheet
        (`pad` px clear of it): lines that would run through digits and labels break around them."""
        boxes = self.text_boxes(pad + lw / 2)
        return [self.line([xa, xb], [ya, yb], colour=colour, lw=lw, z=z, dashed=dashed)
                for segment in segments for xa, ya, xb, yb in outside_boxes(segment, boxes)]

    def centred_text(self, centre: float, y, s: str, *, inset: float, pt: float = 10, bold: bool = False, **kw):
        """Text centred on `centre` but moved inwards so it stays `inset` inside the sheet's edges."""
        half = self.style.measure(s, pt, bold) / 2
        centre = min(max(centre, inset + half), self.width - inset - half)
        return self.text(centre, y, s, pt=pt, bold=bold, ha="center", **kw)

    def line(self, xs, ys, *, colour: RGB, lw: float = 1.0, z: float = 5.0, dashed: bool = False):
        return self._add(Line2D(xs, ys, color=unit(colour), linewidth=lw, zorder=z,
                                linestyle=(0, (4, 3)) if dashed else "-", solid_capstyle="butt"))

    def arrow(self, x0, y0, x1, y1, *, colour: RGB | None = None, lw: float = 1.6):
        self._add(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=14,
                                          color=unit(colour or self.theme.muted_text), linewidth=lw, zorder=3))

    def image(self, array: np.ndarray, x, y, w, h, **kwargs):
        return self.ax.imshow(array, extent=(x, x + w, y + h, y), origin="upper", aspect="auto", zorder=2, **kwargs)

    def cells(self, cells: list[Cell], *, z: float = 1.0) -> SheetCells:
        """Many rectangles at one z-order as one artist, drawn in the order given (see SheetCells)."""
        return self._add(SheetCells(cells, self.ax.transData, zorder=z))

    def grid(self, x, y, cell, values: np.ndarray | None, *, fill: RGB | np.ndarray, text_colour: RGB | None = None,
             pt: float = 9, edge: RGB | None = None, z: float = 1.0, shown: np.ndarray | None = None) -> list:
        """A grid of cells (fills, lines, numbers); `fill` is one colour or an (H, W, 3) array of colours. The
        cells are one SheetCells artist (first in the returned list), the numbers one text each."""
        rows, cols = (values.shape if values is not None else fill.shape[:2])  # type: ignore[union-attr]
        edge = edge or self.theme.grid
        artists: list = [self.cells([Cell(x + c * cell, y + r * cell, cell, cell,
                                          tuple(int(v) for v in fill[r, c]) if isinstance(fill, np.ndarray) else fill,
                                          edge, 0.8) for r, c in np.ndindex(rows, cols)], z=z)]
        for r, c in np.ndindex(rows, cols):
            if values is not None and (shown is None or shown[r, c]):
                artists.append(self.text(x + (c + 0.5) * cell, y + (r + 0.5) * cell, fmt_number(values[r, c]),
                                         pt=pt, colour=text_colour or self.theme.input_text, ha="center",
                                         va="center", z=z + 0.5))
        return artists

    def draw_title(self, title: str | None) -> None:
        style = self.style
        x, ha = (self.width / 2, "center") if style.title_centred else (style.margin, "left")
        for i, line in enumerate(style.title_lines(title, self.width)):
            self.text(x, style.title_top + style.title_line * i, line, pt=TITLE_PT, bold=True, ha=ha)

    def draw_caption(self, caption: str | None, body_end: float) -> None:
        """The caption's lines, under a body that ends at `body_end`."""
        style = self.style
        top = body_end + style.caption_gap
        for i, line in enumerate(style.caption_lines(caption, self.width)):
            self.text(style.margin, top + style.caption_line * i, line, pt=style.caption_pt,
                      colour=self.theme.muted_text)

    def frame(self) -> np.ndarray:
        """The sheet as drawn now: an RGB uint8 array."""
        self.display_matrix = self.ax.transData.get_matrix()  # built once, not once per rectangle
        try:
            self.canvas.draw()
        finally:
            self.display_matrix = None
        return np.ascontiguousarray(np.asarray(self.canvas.buffer_rgba())[..., :3])


_RECTANGLE_CODES = Path.unit_rectangle().codes


class SheetRect(Rectangle):
    """A sheet's rectangle (unrotated, in the axes' data coordinates), drawn by transforming its four corners
    straight to display px: the same path Agg fills and strokes (snapped the same way), without building
    Rectangle's patch-transform chain at every draw (~3x faster; a conv-matrix picture draws a few hundred)."""

    def __init__(self, sheet: Sheet, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sheet = sheet

    def draw(self, renderer):
        if not self.get_visible():
            return
        m = self._sheet.display_matrix
        if m is None:  # drawn other than by Sheet.frame
            m = Artist.get_transform(self).get_matrix()  # the data transform, without the patch transform
        (a, b, e), (c, d, f) = m[0], m[1]
        x0, y0, x1, y1 = self._x0, self._y0, self._x0 + self._width, self._y0 + self._height
        corners = np.array([(a * x + b * y + e, c * x + d * y + f)
                            for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))])
        self._draw_paths_with_artist_properties(
            renderer, [(Path(corners, _RECTANGLE_CODES), IdentityTransform(),
                        self._facecolor if self._facecolor[3] else None)])


@dataclass(frozen=True, slots=True)
class Cell:
    """One rectangle of a SheetCells: its box in layout px (x, y top-left), fill and edge (None: none), the edge's
    width in points and whether it is dashed."""

    x: float
    y: float
    w: float
    h: float
    fill: RGB | None
    edge: RGB | None
    lw: float = 1.0
    dashed: bool = False


_NONE = (0.0, 0.0, 0.0, 0.0)


class SheetCells(PolyCollection):
    """Many unrotated rectangles (a grid's cells, a card's) as one collection: Agg fills and strokes them in one
    call, in the order given, as it would each Rectangle (same path, snapping, dash pattern), without an artist
    per rectangle (~0.35 ms each to create and draw). `cells` keeps what each rectangle is, for reading back."""

    def __init__(self, cells: list[Cell], transform, **kwargs):
        self.cells = tuple(cells)
        verts = np.array([((c.x, c.y), (c.x + c.w, c.y), (c.x + c.w, c.y + c.h), (c.x, c.y + c.h))
                          for c in self.cells], dtype=float).reshape(-1, 4, 2)
        super().__init__(verts, closed=True, transform=transform,
                         facecolors=[(*unit(c.fill), 1.0) if c.fill else _NONE for c in self.cells],
                         edgecolors=[(*unit(c.edge), 1.0) if c.edge else _NONE for c in self.cells],
                         linewidths=[c.lw for c in self.cells],
                         linestyles=[(0, (3, 2)) if c.dashed else "-" for c in self.cells], **kwargs)


class TextRuns:
    """A line drawn as several text artists (subscripts set apart): removed together."""

    def __init__(self, parts: list):
        self.parts = parts

    def remove(self) -> None:
        for part in self.parts:
            part.remove()


def outside_boxes(segment: tuple[float, float, float, float],
                  boxes: list[tuple[float, float, float, float]]) -> list[tuple[float, float, float, float]]:
    """The pieces of `segment` (x0, y0, x1, y1) outside every box (x0, y0, x1, y1)."""
    xa, ya, xb, yb = segment
    dx, dy = xb - xa, yb - ya
    inside = []  # (t_in, t_out) along the segment, t in 0..1
    for bx0, by0, bx1, by1 in boxes:
        low, high = 0.0, 1.0
        for delta, start, lo, hi in ((dx, xa, bx0, bx1), (dy, ya, by0, by1)):
            if delta == 0:
                if not lo <= start <= hi:
                    low, high = 1.0, 0.0
                continue
            t0, t1 = sorted(((lo - start) / delta, (hi - start) / delta))
            low, high = max(low, t0), min(high, t1)
        if low < high:
            inside.append((low, high))
    pieces, t = [], 0.0
    for low, high in sorted(inside):
        if low > t:
            pieces.append((t, low))
        t = max(t, high)
    if t < 1.0:
        pieces.append((t, 1.0))
    length = math.hypot(dx, dy)
    return [(xa + dx * t0, ya + dy * t0, xa + dx * t1, ya + dy * t1) for t0, t1 in pieces if (t1 - t0) * length > 1]


def page(width: float, theme: Theme, style: PageStyle, title: str | None, caption: str | None, body_end: float,
         zoom: float | None = None) -> Sheet:
    """A sheet holding `title` above a body that ends at `body_end` (drawn by the caller) and `caption` below."""
    sheet = Sheet(width, style.page_height(body_end, caption, width), theme, style, zoom)
    sheet.draw_title(title)
    sheet.draw_caption(caption, body_end)
    return sheet


def line_height(points: float) -> float:
    """The line step of text at `points` in the shape-and-count stills."""
    return px(points) * 1.45


# The shape-and-count stills (weight tensor, pipeline, ReLU map, parameter charts): title left, 16 px margin.
SHAPES_PAGE = PageStyle(margin=16, measure_px=math.ceil, title_centred=False, title_top=16,
                        title_line=line_height(TITLE_PT), title_gap=8, caption_pt=9, caption_line=line_height(9),
                        caption_gap=10, bottom=16, round_height=math.ceil)
# The view stills (receptive field, conv matrix, upsampling, 3D window, feature maps): title centred, 20 px margin.
# (text measured at the whole px size above its own: 9 pt is 12.5 px, measured at 12 it came out 6% short)
VIEWS_PAGE = PageStyle(margin=20, measure_px=math.ceil, title_centred=True, title_top=12, title_line=22, title_gap=6,
                       caption_pt=9.5, caption_line=17, caption_gap=0, bottom=14, round_height=int)
