"""A still's words drawn by Pillow: a matplotlib `Text` whose `draw` stamps one anti-aliased bitmap of the line,
rasterised by Pillow, instead of matplotlib's glyph-by-glyph text pipeline (~10 ms a line; this is ~0.1 ms).

It stays a `Text` artist in the figure: z-order, `remove()`, `get_text()`, `get_position()`, `ax.texts` and a
`bbox=` patch behind it work as before, and `get_window_extent` gives the box it draws (advance width by
the ink height of the line or of "lp", whichever is taller, matplotlib's own box), without a matplotlib layout.

The line is set as `measure.still_text_width` measures it: runs of DejaVu Sans glyphs and runs of the shipped CJK
subset for what DejaVu lacks, each run advancing by Pillow's anti-aliased length, at the text's exact pixel size
(points × the figure's dpi / 72, so `font_scale` zooms it), snapped to whole pixels as matplotlib snaps text.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np
from matplotlib.text import Text
from matplotlib.transforms import Bbox, IdentityTransform
from PIL import Image, ImageDraw, ImageFont

from convgif.render.fonts import cjk_path, coverage, dejavu_path


@functools.lru_cache(maxsize=64)
def _font(path: str, size: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.BASIC)


def _runs(text: str, size: float, bold: bool) -> list[tuple[str, ImageFont.FreeTypeFont]]:
    """`text` as (characters, font) runs: DejaVu where it has the glyph, the CJK subset elsewhere (bold falling back
    to regular when the bold subset lacks a glyph), as `measure.still_text_width` sets it."""
    latin = coverage(dejavu_path(bold))
    if all(ord(ch) in latin for ch in text):
        return [(text, _font(dejavu_path(bold), size))]
    runs = []
    for in_dejavu, chars in itertools.groupby(text, key=lambda ch: ord(ch) in latin):
        part = "".join(chars)
        if in_dejavu:
            path = dejavu_path(bold)
        else:
            path = cjk_path(bold) if all(ord(ch) in coverage(cjk_path(bold)) for ch in part) else cjk_path(False)
        runs.append((part, _font(path, size)))
    return runs


@dataclass(frozen=True, slots=True)
class Line:
    """One line rasterised: its coverage mask (0..255, row 0 on top), where the pen starts in the mask (the
    baseline's left end), its advance width, and the box matplotlib would give it: height and descent in px."""

    mask: np.ndarray
    origin: tuple[int, int]
    advance: float
    height: float
    descent: float


def _ink(text: str, size: float, bold: bool) -> tuple[float, float, float, float]:
    """(left, ascent, right, descent) in px of `text`'s ink around its pen start on the baseline (y up)."""
    x, boxes = 0.0, []
    for part, font in _runs(text, size, bold):
        x0, y0, x1, y1 = font.getbbox(part, anchor="ls")
        boxes.append((x + x0, -y0, x + x1, y1))
        x += font.getlength(part)
    return (min(b[0] for b in boxes), max(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


@functools.lru_cache(maxsize=1024)  # numbers and labels repeat within a still and from picture to picture (a
# 700 px line is ~20 KB of mask: 1024 kept lines stay under ~20 MB in a warm `watch` process)
def rasterise(text: str, size: float, bold: bool) -> Line:
    """`text` at `size` px (fractional sizes are exact) as one anti-aliased coverage mask."""
    runs = _runs(text, size, bold)
    advance = sum(font.getlength(part) for part, font in runs)
    left, ascent, right, descent = _ink(text, size, bold)
    _, lp_ascent, _, lp_descent = _ink("lp", size, bold)
    # matplotlib's box of a line: as tall as its ink or that of "lp", as deep as the deeper of the two
    height = max(ascent + descent, lp_ascent + lp_descent)
    depth = max(descent, lp_descent)
    ox, oy = math.ceil(max(0.0, -left)) + 1, math.ceil(max(ascent, 0.0)) + 1
    width = ox + math.ceil(max(right, advance)) + 2
    mask = Image.new("L", (width, oy + math.ceil(max(descent, 0.0)) + 2), 0)
    draw, x = ImageDraw.Draw(mask), float(ox)
    for part, font in runs:
        draw.text((x, oy), part, fill=255, font=font, anchor="ls")
        x += font.getlength(part)
    pixels = np.asarray(mask)
    pixels.flags.writeable = False
    return Line(pixels, (ox, oy), advance, height, depth)


H_SHIFT = {"left": 0.0, "center": 0.5, "right": 1.0}


class PillowText(Text):
    """A matplotlib text artist drawn as one Pillow bitmap (one line, not rotated). A text with several lines or
    with mathtext ($...$) is left to matplotlib's own pipeline."""

    def __init__(self, x, y, text, *, bold: bool = False, **kwargs):
        super().__init__(x, y, text, fontweight="bold" if bold else "normal", **kwargs)
        self._bold = bold

    def _line(self, dpi: float) -> Line:
        return rasterise(self.get_text(), self.get_fontsize() * dpi / 72, self._bold)

    def _baseline(self, line: Line, dpi: float, at: tuple[float, float] | None = None) -> tuple[float, float]:
        """The display position (y up) of the pen's start on the baseline, the line aligned as asked (`at`: the
        text's anchor in display px, when the caller has it)."""
        x, y = self.get_transform().transform(self.get_unitless_position()) if at is None else at
        x -= H_SHIFT[self.get_horizontalalignment()] * line.advance
        va = self.get_verticalalignment()
        if va == "top":
            y -= line.height - line.descent
        elif va in ("center", "center_baseline"):
            y -= line.height / 2 - line.descent
        elif va == "bottom":
            y += line.descent
        return x, y

    def get_window_extent(self, renderer=None, dpi=None):
        """The line's box in display px: its advance wide, from its descent to the top of its ink (or of "lp")."""
        if not self.get_visible():
            return Bbox.unit()
        if self._matplotlibs():
            return super().get_window_extent(renderer, dpi)
        dpi = self.get_figure(root=True).dpi if dpi is None else dpi
        line = self._line(dpi)
        x, y = self._baseline(line, dpi)
        return Bbox.from_extents(x, y - line.descent, x + line.advance, y - line.descent + line.height)

    def display_box(self, matrix: np.ndarray, dpi: float) -> tuple[float, float, float, float] | None:
        """`get_window_extent`'s box as (x0, y0, x1, y1) for a visible one-line text whose transform is the affine
        `matrix` (3×3), without building transforms and a Bbox per text (a sheet measures a few hundred);
        None for a text matplotlib draws itself."""
        if not self.get_visible() or self._matplotlibs():
            return None
        line = self._line(dpi)
        u, v = self.get_unitless_position()
        x, y = self._baseline(line, dpi, (matrix[0, 0] * u + matrix[0, 1] * v + matrix[0, 2],
                                          matrix[1, 0] * u + matrix[1, 1] * v + matrix[1, 2]))
        return x, y - line.descent, x + line.advance, y - line.descent + line.height

    def draw(self, renderer):
        if renderer is not None:
            self._renderer = renderer
        if not self.get_visible() or self.get_text() == "":
            return
        if self._matplotlibs():
            return super().draw(renderer)
        dpi = renderer.dpi
        line = self._line(dpi)
        x, y = self._baseline(line, dpi)
        if not (np.isfinite(x) and np.isfinite(y)):
            return
        renderer.open_group("text", self.get_gid())
        if self._bbox_patch:  # a box behind the words (bbox=dict(...)), padded as matplotlib pads it
            self._bbox_patch.set_bounds(x, y - line.descent, line.advance, line.height)
            self._bbox_patch.set_transform(IdentityTransform())
            self._bbox_patch.set_mutation_scale(renderer.points_to_pixels(self.get_size()))
            self._bbox_patch.draw(renderer)
        r, g, b, a = self._rgba()
        mask = line.mask[::-1]  # draw_image takes the image's bottom row first
        image = np.empty(mask.shape + (4,), dtype=np.uint8)
        image[..., 0], image[..., 1], image[..., 2] = r, g, b
        image[..., 3] = mask if a == 255 else (mask.astype(np.uint16) * a // 255).astype(np.uint8)
        # the pen start snapped to a whole pixel (as matplotlib snaps glyphs); draw_image takes the lower-left
        # corner in display px
        left = round(x) - line.origin[0]
        bottom = round(y) + line.origin[1] - mask.shape[0]
        gc = renderer.new_gc()
        self._set_gc_clip(gc)  # in a plot axes, clipped to it as a matplotlib Text is; a sheet's words are not
        renderer.draw_image(gc, left, bottom, image)
        gc.restore()
        renderer.close_group("text")
        self.stale = False

    def _matplotlibs(self) -> bool:
        """Whether matplotlib draws this text itself: several lines, mathtext or a rotation."""
        text = self.get_text()
        return "\n" in text or "$" in text or self.get_rotation() != 0

    def _rgba(self) -> tuple[int, int, int, int]:
        from matplotlib.colors import to_rgba

        rgba = to_rgba(self.get_color(), self.get_alpha())
        return tuple(round(v * 255) for v in rgba)  # type: ignore[return-value]


def line_box(text: str, points: float, bold: bool, dpi: float) -> tuple[float, float, float]:
    """(advance width, height, descent) in display px of `text` at `points` drawn at `dpi` (see PillowText)."""
    line = rasterise(text, points * dpi / 72, bold)
    return line.advance, line.height, line.descent
