"""Two painters over the same primitives: Pillow (every GIF frame: static layer once, then per frame) and
matplotlib Agg (the reference full redraw, and vector pdf/svg pages).

The GIF path never imports matplotlib: importing it costs ~0.45 s, half of the 1 s start-up budget of a
small render. A test holds the two painters to the same picture within a small tolerance.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable

from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from convgif.errors import RenderError
from convgif.render.fonts import (
    cjk_path, dejavu_path, font_path, ink_bounds, joined_width, pen64, piece_setter, piece_width, pil_font,
)
from convgif.render.primitives import Polygon, Primitive, Rect, Text, Veil
from convgif.render.theme import RGB

DPI = 100
POINTS_PER_PIXEL = 72 / DPI
_PIL_ANCHOR = {"left": "ls", "center": "ms", "right": "rs"}
DASH_ON, DASH_OFF = 2.5, 2.0  # dash pattern in line widths, as the matplotlib painter draws it

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _unit(colour: RGB) -> tuple[float, float, float]:
    return (colour[0] / 255, colour[1] / 255, colour[2] / 255)


def mpl_figure(size: tuple[int, int], background: RGB, primitives: Iterable[Primitive], *,
               dpi: float = DPI, crisp_text: bool = False) -> Figure:
    """A matplotlib Figure of `primitives` in order, `size` px at `dpi` (no canvas attached).

    The vector variant: `savefig(..., format="pdf" / "svg")` keeps every rectangle and text as vectors.
    Text sizes and line widths scale with `dpi`, so the page at any dpi looks like the frame, only
    printed `size / dpi` inches large. `crisp_text` turns text anti-aliasing off when rastered (the reference
    redraw of a crisp frame); vector output ignores it.
    """
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import Rectangle

    width, height = size
    points_per_pixel = 72 / dpi
    figure = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, facecolor=_unit(background))
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, width)
    axes.set_ylim(height, 0)  # y down, like image rows
    axes.set_axis_off()
    # every artist is the figure's own, placed through the axes' data transform (y down): added to the axes, each
    # would be clipped to it and counted in its data limits, which took most of the time of a page of cells
    pixels = axes.transData
    fonts: dict[tuple[int, str], FontProperties] = {}
    z = 1.0
    for layer in _layers(primitives):
        if layer.polygon is not None:
            _add_polygon(figure, pixels, layer.polygon, z, points_per_pixel)
            z += 1e-6
            continue
        if layer.veil is not None:
            x0, y0, x1, y1 = layer.veil.box
            figure.add_artist(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor=_unit(layer.veil.colour),
                                        alpha=layer.veil.alpha, edgecolor="none", linewidth=0, antialiased=False,
                                        zorder=z, transform=pixels))
            z += 1e-6
            continue
        if layer.boxes:
            _add_boxes(figure, pixels, layer.boxes, z)
            z += 1e-6
        for item, x, word in layer.words:
            key = (item.size, font_path(item.bold, item.text))  # the same file Pillow draws this text with
            if key not in fonts:
                fonts[key] = FontProperties(fname=key[1], size=item.size * points_per_pixel)
            figure.text(x, item.y, word, fontproperties=fonts[key], color=_unit(item.colour), transform=pixels,
                        ha="left", va="baseline", zorder=z, antialiased=not crisp_text)
            z += 1e-6
    return figure


TILE = 32  # px: the grid that finds which words a box may cover


class _Layer:
    """Filled boxes drawn first (one collection), then words: a run of primitives in which no box lands on a word
    drawn before it, so drawing all the boxes first paints the same picture as their order did."""

    def __init__(self, veil: Veil | None = None, polygon: Polygon | None = None):
        self.boxes: list[tuple[tuple[float, float, float, float], RGB]] = []
        self.words: list[tuple[Text, float, str]] = []
        self.veil = veil
        self.polygon = polygon  # a layer of its own, in order (few per frame: the faces of a volume)
        self._tiles: dict[tuple[int, int], list[tuple[float, float, float, float]]] = {}

    def add_word(self, item: Text, x: float, word: str, width: float) -> None:
        self.words.append((item, x, word))
        box = (x - 1, item.y - 1.2 * item.size, x + width + 1, item.y + 0.5 * item.size)  # ascent to descent
        for tile in _tiles(box):
            self._tiles.setdefault(tile, []).append(box)

    def covers_a_word(self, box) -> bool:
        x0, y0, x1, y1 = box
        return any(x0 < wx1 and wx0 < x1 and y0 < wy1 and wy0 < y1
                   for tile in _tiles(box) for wx0, wy0, wx1, wy1 in self._tiles.get(tile, ()))


def _tiles(box) -> list[tuple[int, int]]:
    x0, y0, x1, y1 = box
    return [(tx, ty) for tx in range(int(x0 // TILE), int(x1 // TILE) + 1)
            for ty in range(int(y0 // TILE), int(y1 // TILE) + 1)]


def _layers(primitives: Iterable[Primitive]) -> list[_Layer]:
    """The primitives as layers of boxes-then-words, in order (a veil is a layer of its own): hundreds of cells
    with their numbers become a few collections instead of one per cell."""
    layers = [_Layer()]
    for item in primitives:
        if isinstance(item, Rect):
            boxes = rect_boxes(item)
            if layers[-1].veil is not None or layers[-1].polygon is not None or any(layers[-1].covers_a_word(box) for box, _ in boxes):
                layers.append(_Layer())
            layers[-1].boxes += boxes
        elif isinstance(item, Text):
            if layers[-1].veil is not None or layers[-1].polygon is not None:
                layers.append(_Layer())
            font = pil_font(item.size, item.bold, item.text)
            for x, word in word_positions(item):
                layers[-1].add_word(item, x, word, font.getlength(word))
        elif isinstance(item, Veil):
            layers.append(_Layer(item))
        elif isinstance(item, Polygon):
            layers.append(_Layer(polygon=item))
        else:
            raise RenderError(f"cannot paint {type(item).__name__}")
    return layers


def rect_boxes(rect: Rect) -> list[tuple[tuple[float, float, float, float], RGB]]:
    """A rectangle as the filled pixel boxes both painters fill: its fill, then its outline's strips (solid: four
    strips inside the box, pixel-exact like Pillow's `outline`; dashed: `dash_strips`)."""
    x0, y0, x1, y1 = rect.box
    boxes = [] if rect.fill is None else [(rect.box, rect.fill)]
    if rect.edge is not None:
        lw = rect.line_width
        strips = dash_strips(rect.box, lw) if rect.dashed else [
            (x0, y0, x1, y0 + lw), (x0, y1 - lw, x1, y1), (x0, y0, x0 + lw, y1), (x1 - lw, y0, x1, y1)]
        boxes += [(strip, rect.edge) for strip in strips]
    return boxes


def _add_boxes(figure, transform, boxes, z: float) -> None:
    """Filled boxes, in order, as one collection: a page of a few thousand cells draws and saves in a fraction of
    the time one patch per box takes (antialiasing off: a fill covers exactly the pixels whose centres lie in its
    box, as Pillow does)."""
    from matplotlib.collections import PolyCollection

    verts = [((x0, y0), (x1, y0), (x1, y1), (x0, y1)) for (x0, y0, x1, y1), _ in boxes]
    collection = PolyCollection(verts, facecolors=[_unit(colour) for _, colour in boxes], edgecolors="none",
                                linewidths=0, antialiaseds=False, zorder=z, transform=transform)
    figure.add_artist(collection)


def _add_polygon(figure, transform, polygon: Polygon, z: float, points_per_pixel: float) -> None:
    """A polygon's fill (translucent at its alpha) and its outline centred on its edges, not antialiased (as
    Pillow draws them)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Polygon as PolygonPatch

    if polygon.fill is not None:
        figure.add_artist(PolygonPatch(polygon.points, closed=True, facecolor=_unit(polygon.fill), alpha=polygon.alpha,
                                       edgecolor="none", linewidth=0, antialiased=False, zorder=z, transform=transform))
    if polygon.edge is not None:
        xs = [x for x, _ in polygon.points] + [polygon.points[0][0]]
        ys = [y for _, y in polygon.points] + [polygon.points[0][1]]
        figure.add_artist(Line2D(xs, ys, color=_unit(polygon.edge), linewidth=polygon.line_width * points_per_pixel,
                                 antialiased=False, solid_joinstyle="miter", zorder=z + 1e-7, transform=transform))


def word_positions(item: Text) -> list[tuple[float, str]]:
    """Each word of a text line with the x where Pillow's advances put it (left-aligned).

    matplotlib places the words of a long line with slightly different advances than Pillow, and the
    difference grows along the line; drawing word by word at Pillow's positions keeps the reference redraw
    (and vector pages) in step with the GIF frames.
    """
    font = pil_font(item.size, item.bold, item.text)  # the font the whole line is set in
    left = item.x - {"left": 0.0, "center": 0.5, "right": 1.0}[item.align] * font.getlength(item.text)
    positions, start = [], 0
    for word in item.text.split(" "):
        if word:
            positions.append((left + font.getlength(item.text[:start]), word))
        start += len(word) + 1
    return positions


def mpl_render(size: tuple[int, int], background: RGB, primitives: Iterable[Primitive], *,
               crisp_text: bool = False) -> np.ndarray:
    """Draw `primitives` in order on a fresh Agg figure of `size` px; return RGB uint8 (H, W, 3)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    width, height = size
    figure = mpl_figure(size, background, primitives, crisp_text=crisp_text)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[:height, :width, :3]
    if pixels.shape[:2] != (height, width):
        raise RenderError(f"matplotlib drew {pixels.shape[1]}x{pixels.shape[0]} px, expected {width}x{height}")
    return np.ascontiguousarray(pixels)


def dash_strips(box, width: int) -> list[tuple[int, int, int, int]]:
    """The dashes of a dashed outline inside `box` as filled pixel boxes (x0, y0, x1, y1; x1/y1 exclusive).

    Both painters fill these same boxes, so dashed outlines are pixel-identical in the fast and the
    reference picture. Dashes run clockwise from the top-left corner, DASH_ON on and DASH_OFF off (in line
    widths), the pattern carrying on round the corners.
    """
    x0, y0, x1, y1 = box
    on, period = DASH_ON * width, (DASH_ON + DASH_OFF) * width
    half = width / 2
    corners = [(x0 + half, y0 + half), (x1 - half, y0 + half), (x1 - half, y1 - half), (x0 + half, y1 - half)]
    strips = []
    travelled = 0.0
    for (ax, ay), (bx, by) in zip(corners, corners[1:] + corners[:1]):
        length = abs(bx - ax) + abs(by - ay)
        position = -(travelled % period)  # the dash under way at this corner, started before it
        while position < length:
            a, b = max(position, 0.0), min(position + on, length)
            if b > a:
                sx, sy = ax + (bx - ax) * a / length, ay + (by - ay) * a / length
                ex, ey = ax + (bx - ax) * b / length, ay + (by - ay) * b / length
                strips.append((round(min(sx, ex) - half), round(min(sy, ey) - half),
                               round(max(sx, ex) + half), round(max(sy, ey) + half)))
            position += period
        travelled += length
    return [strip for strip in strips if strip[2] > strip[0] and strip[3] > strip[1]]


def pil_paint(image: Image.Image, primitives: Iterable[Primitive], *, crisp_text: bool = False,
              by_word: bool = False) -> None:
    """Draw primitives onto `image` in place (the static layer once, then each frame's changes).

    `crisp_text` draws glyphs one-bit (no anti-aliasing): sharp at 1:1 and far cheaper for GIF's LZW, since a
    glyph's rows then repeat instead of each carrying its own grey edge pixels. One-bit lines are drawn glyph by
    glyph from kept masks (`draw_pieces`, the same pixels), which the glyph store keeps from one render to the next.
    `by_word`: anti-aliased long lines are drawn word by word from kept masks too: for a step's marks and cells,
    whose lines are new each frame but made of words seen before; a line drawn once (a title) is cheaper whole.
    """
    draw = ImageDraw.Draw(image)
    if crisp_text:
        draw.fontmode = "1"
    inks: dict[RGB, int] = {}  # what `draw.rectangle` draws a colour with, asked of Pillow once a colour

    def ink(colour: RGB) -> int:
        found = inks.get(colour)
        if found is None:
            found = inks[colour] = draw._getink(colour)[0]  # noqa: SLF001 - as `draw.rectangle` asks for it
        return found

    rectangle = draw.draw.draw_rectangle  # `draw.rectangle` without its per-call set-up: the same fills and outlines
    for item in primitives:
        if isinstance(item, Rect):
            x0, y0, x1, y1 = item.box
            if x1 <= x0 or y1 <= y0:
                continue
            if item.fill is not None:
                rectangle((x0, y0, x1 - 1, y1 - 1), ink(item.fill), 1)
            if item.edge is not None and item.dashed:
                for sx0, sy0, sx1, sy1 in dash_strips(item.box, item.line_width):
                    rectangle((sx0, sy0, sx1 - 1, sy1 - 1), ink(item.edge), 1)
            elif item.edge is not None and item.line_width != 0:
                rectangle((x0, y0, x1 - 1, y1 - 1), ink(item.edge), 0, item.line_width)
        elif isinstance(item, Text):
            font = pil_font(item.size, item.bold, item.text)
            if "\n" in item.text:  # lines below lines: Pillow's multi-line text
                draw.text((item.x, item.y), item.text, fill=item.colour, font=font, anchor=_PIL_ANCHOR[item.align])
            elif not (item.x >= 0 and (crisp_text or by_word and len(item.text) > SHORT_TEXT and " " in item.text)
                      and draw_pieces(draw, item)):
                draw_line(draw, item.x, item.y, item.text, item.colour, font, _PIL_ANCHOR[item.align])
        elif isinstance(item, Veil):
            veil_box(image, tuple(map(int, map(round, item.box))), veil_table(item.colour, item.alpha))
        elif isinstance(item, Polygon):
            pil_polygon(image, draw, item)
        else:
            raise RenderError(f"cannot paint {type(item).__name__}")


def draw_line(draw: ImageDraw.ImageDraw, x: float, y: float, text: str, colour: RGB,
              font: ImageFont.FreeTypeFont, anchor: str) -> None:
    """`draw.text((x, y), text, fill=colour, font=font, anchor=anchor)` for one line of plain text, without the
    per-call set-up of Pillow's general text (multi-line splitting, stroke and colour-glyph handling): the same
    mask at the same place (the mask from `font.getmask2` at the fractional start, as `ImageDraw.text` asks for it),
    a step frame draws dozens of lines. tests/test_render_speed.py holds it to `draw.text`."""
    ink = draw._getink(colour)[0]  # noqa: SLF001 - the ink ImageDraw.text draws with
    left, top = int(x), int(y)
    mask, offset = font.getmask2(text, draw.fontmode, None, None, None, 0, anchor, ink,
                                 (math.modf(x)[0], math.modf(y)[0]), stroke_filled=True)
    draw.draw.draw_bitmap((left + offset[0], top + offset[1]), mask, ink)


def draw_pieces(draw: ImageDraw.ImageDraw, item: Text) -> bool:
    """A line of `item` drawn piece by piece from kept masks, pixel for pixel what `draw.text` draws for the whole
    line; False (nothing drawn) for a line this cannot match.

    An arithmetic line ("1×2 + 3×(−1) + … = 7"), a sum or a cell's value is new text on most steps, so Pillow would
    render its glyphs afresh each frame (most of a short scene's drawing time), while its pieces recur: one-bit text
    is cut into single glyphs (a few dozen masks serve every number), anti-aliased text into words. Pillow's basic
    layout puts glyph j of a line at whole pixel PIXEL(round(start × 64) + P_j) past the line's origin, P_j its pen
    position in 1/64 px (advances plus kerning, as `piece_width` and `kerning` measure them), so a piece drawn from
    an origin whose 1/64 px are that start plus its own pen position puts each glyph on the same pixel. Vertically
    Pillow lines a mask up by the top of its glyph boxes but places the glyphs by the top of their bitmaps, which
    one-bit rendering rounds differently; a piece is moved by the difference between its and the line's
    (`fonts.mask_tops`). tests/test_render_speed.py holds this to `draw.text` exactly."""
    crisp = draw.fontmode == "1"
    path = font_path(item.bold, item.text)  # the font the whole line is set in
    if path != dejavu_path(item.bold) and path != cjk_path(item.bold):  # glyphs no shipped font has: Pillow's way
        return False
    setter = piece_setter(path, item.size, crisp)
    whole, whole_y = math.floor(item.x), math.floor(item.y)
    composed_key = None
    if crisp and len(item.text) <= LONGEST_KEPT_LINE:
        # a one-bit line's glyphs fall on pixels fixed by its text, alignment and origin's fraction of a pixel
        composed_key = (item.text, item.align, item.x - whole, item.y - whole_y)
        kept = _sighting(setter.lines, composed_key)
        if kept is not True:
            if kept and _draw_kept(draw.draw.draw_bitmap, kept, whole, whole_y, whole * 64, item.y,
                                   draw._getink(item.colour)[0]):  # noqa: SLF001
                return True
            composed_key = None  # the first time (or where a glyph would fall off the image): glyph by glyph
    elif crisp and _draw_words(draw, item, setter):  # a longer one-bit line: new each step, its words are not
        return True
    pieces = setter.pieces(item.text)
    if pieces is None:
        return False
    pens, pen = setter.pens(pieces)  # each piece's pen position, in 1/64 px
    trailing = len(item.text) - len(item.text.rstrip(" "))
    if trailing:  # spaces after the last piece: no ink, but part of the line's advance
        pen += setter.kern64(pieces[-1].last + " ") + pen64(piece_width(path, item.size, " " * trailing, crisp))
    box_top = max([piece.box_top for piece in pieces])
    bitmap_top = max([piece.bitmap_top for piece in pieces])
    origin = _origin(item, pen)
    ink = draw._getink(item.colour)[0]  # noqa: SLF001 - the ink ImageDraw.text draws with
    paint_mask = draw.draw.draw_bitmap
    placed = []  # the second time a line is seen: (x, y, mask, start, baseline) of each glyph, to keep as one mask
    for piece, at in zip(pieces, pens):
        if piece.blank:  # spaces: an advance, no ink
            continue
        start, y = origin + at, item.y + (bitmap_top - piece.bitmap_top) - (box_top - piece.box_top)
        if piece.whole_pens and start >= 0 and y >= 0:  # one-bit, whole-pixel pens: one of four kept masks
            glyph = _placed(piece, start, y)
            if composed_key is None:
                paint_mask(glyph[:2], glyph[2], ink)
            else:
                placed.append(glyph)
        else:  # smooth text always; a one-bit glyph this cannot place (then the line is not kept whole)
            draw_line(draw, start / 64, y, piece.text, item.colour, setter.font, "ls")
            composed_key = None
    if composed_key is not None and placed:  # seen before, every glyph from a kept mask: one mask from now on
        _keep(setter.lines, composed_key, placed, whole, whole_y, whole * 64, item.y, paint_mask, ink)
    else:  # (one-bit masks of one ink: the order they are drawn in does not change a pixel)
        for x, y, mask, _, _ in placed:
            paint_mask((x, y), mask, ink)
    return True


def _origin(item: Text, advance: int) -> int:
    """Where Pillow's basic layout starts the pen of `item`'s line, in 1/64 px, for a line `advance` (1/64 px) long:
    its anchor moved back by the whole pixels its alignment asks, plus the anchor's fraction of a pixel rounded as
    C rounds it."""
    whole = math.floor(item.x)
    anchor = {"left": 0, "center": (advance // 2 + 32) >> 6, "right": (advance + 32) >> 6}[item.align]
    return (whole - anchor) * 64 + math.floor((item.x - whole) * 64 + 0.5)


def _placed(piece, start: int, y: float) -> tuple:
    """(x, y, mask, start, baseline) of a one-bit glyph whose pen starts at `start` (1/64 px) on baseline `y`: one
    of its four kept masks (`fonts.Piece.mask`), where Pillow puts it."""
    top = int(y)
    mask, (dx, dy) = piece.mask(start & 63 >= 32, (y - top) * 64 >= 32.5)
    return (start >> 6) + dx, top + dy, mask, start, y


def _sighting(kept: dict, key: tuple):
    """What `kept` (a font size's one-bit lines or words, each set as one mask) holds for `key`: its mask (drawn with
    `_draw_kept`), True when it came once before (keep it now: `_keep`), or False the first time (noted: most
    numbers come once, and setting their glyphs as one mask would cost more than it saves)."""
    found = kept.get(key, False)
    if found is False:
        if len(kept) >= KEPT_LINES:  # bounded: memory stays flat however many numbers a scene shows
            kept.clear()
        kept[key] = None
    return True if found is None else found


def _keep(kept: dict, key: tuple, placed: list[tuple], x: int, y: int, start: int, baseline: float, paint_mask,
          ink) -> None:
    """Set the `placed` glyphs (`_placed`) as one mask, keep it under `key` by where it lies from (x, y) and how far
    its glyphs' starts and baselines reach from `start` and `baseline` (`_draw_kept`), and draw it."""
    x0, y0, union = _one_mask(placed)
    kept[key] = (x0 - x, y0 - y, union, min(glyph[3] for glyph in placed) - start,
                 min(glyph[4] for glyph in placed) - baseline)
    paint_mask((x0, y0), union, ink)


def _draw_kept(paint_mask, found: tuple, x: int, y: int, start: int, baseline: float, ink) -> bool:
    """Draw a kept mask (`_keep`) for a line or word at (x, y), its pens from `start`, on `baseline`; False (nothing
    drawn) where a glyph's start or baseline would be left of or above the image, where Pillow's rounding differs."""
    dx, dy, union, lowest_start, lowest_baseline = found
    if start + lowest_start < 0 or baseline + lowest_baseline < 0:
        return False
    paint_mask((x + dx, y + dy), union, ink)
    return True


def _one_mask(placed: list[tuple]) -> tuple[int, int, object]:
    """One-bit glyph masks placed at (x, y) (the first two of each of `placed`, the mask third) set into one mask:
    its top left corner and the mask. One-bit masks are 0 or 255, so drawn at once each pixel is inked or not as
    the glyphs drawn one by one ink it."""
    x0, y0 = min(glyph[0] for glyph in placed), min(glyph[1] for glyph in placed)
    x1 = max(glyph[0] + glyph[2].size[0] for glyph in placed)
    y1 = max(glyph[1] + glyph[2].size[1] for glyph in placed)
    union = Image.core.fill("L", (max(x1 - x0, 1), max(y1 - y0, 1)), 0)
    pen = Image.core.draw(union, 0)
    for glyph in placed:
        pen.draw_bitmap((glyph[0] - x0, glyph[1] - y0), glyph[2], 255)
    return x0, y0, union


def _draw_words(draw: ImageDraw.ImageDraw, item: Text, setter) -> bool:
    """A longer one-bit line drawn word by word (`draw_pieces` for the same pixels, a word at a time): each word
    whose glyphs all come from kept masks is drawn glyph by glyph the first time it comes at a start's 1/64 px, set
    as one mask the second, and drawn at once from then on. Its glyphs fall on pixels fixed by its text, its
    start's 1/64 px and its line's baseline and tops. False (nothing drawn) for a line with a word this cannot
    place whole (then it goes glyph by glyph)."""
    words, pen, last = [], 0, None  # (word, its pen position in 1/64 px, its measures)
    box_top = bitmap_top = _LOWEST_TOP
    for token in _TOKENS.findall(item.text.rstrip(" ")):
        word = setter.word(token)
        if word is None:
            return False
        if last is not None:
            pen += setter.kern64(last + token[0])
        words.append((token, pen, word))
        pen += word[0]
        last = token[-1]
        box_top, bitmap_top = max(box_top, word[1]), max(bitmap_top, word[2])
    trailing = len(item.text) - len(item.text.rstrip(" "))
    if trailing:  # spaces after the last word: no ink, but part of the line's advance
        pen += setter.kern64(last + " ") + pen64(piece_width(setter.path, item.size, " " * trailing, True))
    whole_y = math.floor(item.y)
    origin = _origin(item, pen)
    ink = draw._getink(item.colour)[0]  # noqa: SLF001 - the ink ImageDraw.text draws with
    paint_mask, kept_words, fraction_y = draw.draw.draw_bitmap, setter.word_masks, item.y - whole_y
    for token, at, (_, _, _, glyphs) in words:
        if not glyphs:  # spaces: an advance, no ink
            continue
        start = origin + at
        key = (token, start & 63, fraction_y, bitmap_top, box_top)
        kept = _sighting(kept_words, key) if len(glyphs) > 1 else False
        if kept is not True and kept and _draw_kept(paint_mask, kept, start >> 6, whole_y, start, item.y, ink):
            continue
        placed = []  # (x, y, mask, start, baseline) of each glyph drawn from a kept mask
        for piece, offset in glyphs:
            glyph_start, y = start + offset, item.y + (bitmap_top - piece.bitmap_top) - (box_top - piece.box_top)
            if piece.whole_pens and glyph_start >= 0 and y >= 0:  # one of the glyph's four kept masks
                placed.append(_placed(piece, glyph_start, y))
            else:
                draw_line(draw, glyph_start / 64, y, piece.text, item.colour, setter.font, "ls")
                kept = False  # a glyph placed apart: the word is not kept whole
        if kept is True:  # seen before, every glyph from a kept mask: one mask from now on
            _keep(kept_words, key, placed, start >> 6, whole_y, start, item.y, paint_mask, ink)
            continue
        for x, y, mask, _, _ in placed:  # (one-bit masks of one ink: the order does not change a pixel)
            paint_mask((x, y), mask, ink)
    return True


_TOKENS = re.compile(r" +|[^ ]+")  # a line's words and the spaces between them
_LOWEST_TOP = -(1 << 20)  # below any glyph's top (spaces have none)


KEPT_LINES = 4096  # one-bit lines kept as one mask each, per font file and size
LONGEST_KEPT_LINE = 24  # characters: a cell's number, a word or a short label; a longer line is new each frame


def pil_paint_undoable(image: Image.Image, primitives: list[Primitive], *, crisp_text: bool = False,
                       covers: list[tuple[int, int, int, int]] | None = None):
    """`pil_paint`, returning the boxes it may have painted in (`painted_boxes`) and a function that puts back the
    pixels it painted over: a frame's marks are painted onto the running image and taken off again once the frame is
    read, where copying the whole image for each frame was the largest part of a small frame's drawing time.
    `covers`: the primitives' `mark_covers`, when the caller has them."""
    if covers is None:
        covers = mark_covers(image.size, primitives, crisp=crisp_text)
    boxes = merged_boxes(covers)
    image.load()
    kept = [(box, image.im.crop(box)) for box in boxes]  # the core image: a Pillow Image round each costs more
    pil_paint(image, primitives, crisp_text=crisp_text, by_word=True)

    def undo() -> None:
        for box, pixels in kept:
            image.im.paste(pixels, box)
    return boxes, undo


def read_box(image: Image.Image, box: tuple[int, int, int, int]) -> np.ndarray:
    """The RGB pixels of `image` inside `box` as a (h, w, 3) array, read straight from the image (what
    `np.asarray(image.crop(box))` gives, without making the cropped image)."""
    x0, y0, x1, y1 = box
    encoder = Image.core.raw_encoder("RGB", "RGB")
    try:
        encoder.setimage(image.im, box)
        _, status, data = encoder.encode(max((x1 - x0) * (y1 - y0) * 3, 65536))  # all of it in one piece
    finally:
        encoder.cleanup()
    if status != 1:
        raise RenderError(f"reading pixels {box}: encoder status {status}")
    return np.frombuffer(data, np.uint8).reshape(y1 - y0, x1 - x0, 3)


def painted_boxes(size: tuple[int, int], primitives: Iterable[Primitive], *, crisp: bool | None = None
                  ) -> list[tuple[int, int, int, int]]:
    """A few boxes (x1, y1 exclusive) inside an image of `size` that hold every pixel `pil_paint` may paint for
    `primitives`: a box round each primitive, larger than what it can cover, overlapping ones merged."""
    return merged_boxes(mark_covers(size, primitives, crisp=crisp))


def mark_covers(size: tuple[int, int], primitives: Iterable[Primitive], *, crisp: bool | None = None
                ) -> list[tuple[int, int, int, int]]:
    """A box (x1, y1 exclusive) round each primitive, holding every pixel `pil_paint` may paint for it."""
    return [_cover(size, item, crisp) for item in primitives]


def ink_covers(size: tuple[int, int], primitives: Iterable[Primitive], *, crisp: bool
               ) -> list[tuple[int, int, int, int]]:
    """`mark_covers`, but a line of text boxed by its own glyphs (Pillow's `getbbox` in the mode it is drawn in, 2 px
    more for its start's fraction of a pixel) instead of by the room any glyph of its font could take: for telling
    whether two marks can touch, where the room round a cell's number reaches the next column."""
    width, height = size
    out = []
    for item in primitives:
        if isinstance(item, Text) and "\n" not in item.text:
            x0, y0, x1, y1 = _text_ink(item.text, item.size, item.bold, item.align, crisp)
            out.append((max(0, math.floor(item.x + x0) - 2), max(0, math.floor(item.y + y0) - 2),
                        min(width, math.ceil(item.x + x1) + 2), min(height, math.ceil(item.y + y1) + 2)))
        else:
            out.append(_cover(size, item, crisp))
    return out


def text_ink(item: Text, *, crisp: bool) -> tuple[int, int, int, int]:
    """The box (x1, y1 exclusive) of the pixels Pillow inks for one line of text, where the frame draws it."""
    x0, y0, x1, y1 = _text_ink(item.text, item.size, item.bold, item.align, crisp)
    return (math.floor(item.x + x0), math.floor(item.y + y0), math.ceil(item.x + x1), math.ceil(item.y + y1))


@functools.lru_cache(maxsize=8192)  # a cell's number, a label: the same texts frame after frame
def _text_ink(text: str, px: int, bold: bool, align: str, crisp: bool) -> tuple[int, int, int, int]:
    """The box Pillow inks for one line of text drawn from its anchor (0, 0)."""
    return pil_font(px, bold, text).getbbox(text, mode="1" if crisp else "L", anchor=_PIL_ANCHOR[align])


SHORT_TEXT = 16  # characters: a word or number is measured (cached) to bound its box; a longer line gets its band


def _cover(size: tuple[int, int], item: Primitive, crisp: bool | None) -> tuple[int, int, int, int]:
    """A box (x1, y1 exclusive) holding every pixel `item` can paint, clipped to the image."""
    width, height = size
    if type(item) is Rect:  # most marks (every cell's fill): first; its box is whole pixels (ints, NumPy's too)
        x0, y0, x1, y1 = map(int, item.box)
        return (max(0, x0 - 1), max(0, y0 - 1), min(width, x1 + 1), min(height, y1 + 1))
    if isinstance(item, Text):
        if "\n" in item.text:  # Pillow sets lines below lines: anywhere
            return (0, 0, width, height)
        left, up, right, down = _text_reach(item.text, item.size, item.bold, item.align, crisp)
        x0, x1 = (item.x + left, item.x + right) if right is not None else (0, width)
        y0, y1 = item.y + up, item.y + down
    elif isinstance(item, Polygon):
        x0, y0, x1, y1 = item.box
        grow = item.line_width + 2
        x0, y0, x1, y1 = x0 - grow, y0 - grow, x1 + grow, y1 + grow
    else:  # Rect, Veil: inside their box
        x0, y0, x1, y1 = item.box
        x0, y0, x1, y1 = x0 - 1, y0 - 1, x1 + 1, y1 + 1
    return (max(0, math.floor(x0)), max(0, math.floor(y0)), min(width, math.ceil(x1)), min(height, math.ceil(y1)))


@functools.lru_cache(maxsize=8192)  # a frame's cells and words recur: one lookup a text instead of several
def _text_reach(text: str, px: int, bold: bool, align: str, crisp: bool | None
                ) -> tuple[float, float, float | None, float]:
    """How far left, up, right and down of its origin one line of text can ink (right None: a long line, across the
    image). Every glyph inks inside its font's glyph box round its origin (fonts.ink_bounds); the origins run from
    the line's left end to its advance (as `crisp` sets it; None: the larger of the smooth and crisp ones), and 2 px
    more cover hinting and sub-pixel starts."""
    gx0, gy0, gx1, gy1 = ink_bounds(font_path(bold, text))
    if len(text) <= SHORT_TEXT:
        # from its glyphs' kept widths (a new number measures nothing new), as `crisp` sets it (None: the larger)
        advance = joined_width(text, px, bold, crisp=crisp)
        start = -{"left": 0.0, "center": 0.5, "right": 1.0}[align] * advance
        left, right = start + min(gx0, 0.0) * px - 2, start + advance + max(gx1, 0.0) * px + 2
    else:
        left, right = 0.0, None
    return left, -gy1 * px - 2, right, -gy0 * px + 2


def merged_boxes(boxes: Iterable[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """The boxes, top to bottom, with each run whose rows overlap replaced by the box round it (a frame's marks
    become a box or two: a grid's window and cells, the arithmetic lines under the grids)."""
    out: list[list[int]] = []
    for x0, y0, x1, y1 in sorted((box for box in boxes if box[2] > box[0] and box[3] > box[1]), key=lambda b: b[1]):
        if out and y0 < out[-1][3]:
            last = out[-1]
            last[0], last[2], last[3] = min(last[0], x0), max(last[2], x1), max(last[3], y1)
        else:
            out.append([x0, y0, x1, y1])
    return [tuple(box) for box in out]


def overlap_merged_boxes(boxes: Iterable[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """The boxes with every group that overlaps (in x and in y, directly or through others) replaced by the box
    round it: apart from `merged_boxes`, two marks side by side in the same rows stay two boxes (a volume's input
    and output faces), so what lies between them is not in either."""
    out: list[list[int]] = []
    for box in boxes:
        if box[2] <= box[0] or box[3] <= box[1]:
            continue
        x0, y0, x1, y1 = box
        merged = True
        while merged:
            merged = False
            for other in out:
                if x0 < other[2] and other[0] < x1 and y0 < other[3] and other[1] < y1:
                    x0, y0, x1, y1 = min(x0, other[0]), min(y0, other[1]), max(x1, other[2]), max(y1, other[3])
                    out.remove(other)
                    merged = True
                    break
        out.append([x0, y0, x1, y1])
    return [tuple(box) for box in sorted(out, key=lambda b: (b[1], b[0]))]


def pil_polygon(image: Image.Image, draw: ImageDraw.ImageDraw, polygon: Polygon) -> None:
    """A polygon onto `image`: its points are continuous pixel coordinates (pixel i spans [i, i + 1)), so Pillow,
    which puts pixel i's centre at i, draws them half a pixel up and left; a translucent fill goes through the same
    exact table as a Veil, inside a mask of the polygon."""
    points = [(x - 0.5, y - 0.5) for x, y in polygon.points]
    if polygon.fill is not None and polygon.alpha >= 1.0:
        draw.polygon(points, fill=polygon.fill)
    elif polygon.fill is not None:
        x0, y0, x1, y1 = polygon.box
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, image.width), min(y1, image.height)
        if x1 > x0 and y1 > y0:
            mask = polygon_mask((x1 - x0, y1 - y0), tuple((x - x0, y - y0) for x, y in points))
            veil_box(image, (x0, y0, x1, y1), veil_table(polygon.fill, polygon.alpha), mask)
    if polygon.edge is not None:
        draw.line([*points, points[0]], fill=polygon.edge, width=polygon.line_width)


@functools.lru_cache(maxsize=256)  # a window box keeps its shape from step to step: the same mask, moved
def polygon_mask(size: tuple[int, int], points: tuple[tuple[float, float], ...]) -> Image.Image:
    """A one-bit mask of `size` with the polygon of `points` (Pillow's coordinates, in the mask) filled: read only."""
    mask = Image.new("1", size, 0)
    ImageDraw.Draw(mask).polygon(list(points), fill=1)
    return mask


def veil_box(image: Image.Image, box: tuple[int, int, int, int], table: tuple[int, ...],
             mask: Image.Image | None = None) -> None:
    """`image.paste(image.crop(box).point(table), box, mask)` on the core image: the same operations without the
    Image wrappers, whose `point` rounds all 768 table entries again on every call (most of a volume frame's
    drawing time, a translucent polygon or two per frame)."""
    image.load()
    veiled = image.im.crop(box).point(table, None)
    if mask is None:
        image.im.paste(veiled, box)
    else:
        mask.load()
        image.im.paste(veiled, box, mask.im)


@functools.lru_cache(maxsize=64)  # a scene has a few veils (one colour, one strength), painted every frame
def veil_table(colour: RGB, alpha: float) -> tuple[int, ...]:
    """Pillow `point` table (R, G, B x 256) laying `colour` at `alpha` over any pixel, rounded exactly as
    `theme.mix(pixel, colour, 1 - alpha)`: the palette lists dimmed colours by that formula, so a veiled pixel is
    always a palette colour (Image.blend truncates in float32 and was one level off)."""
    amount = 1.0 - alpha
    return tuple(int(round(level * amount + channel * (1.0 - amount))) for channel in colour for level in range(256))
