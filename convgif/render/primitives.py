"""What a frame is made of: rectangles, texts and veils in pixel coordinates (y down), plus number text."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from convgif.render.theme import RGB

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels; x1 and y1 exclusive


@dataclass(frozen=True, slots=True)
class Mark:
    """What a primitive stands for, for the layout manifest (convgif.render.manifest); painting ignores it.

    `role`: "text" (then `kind`: "title", "subtitle", "header", "counter", "arithmetic", "note", "caption") or
    "legend" (then `entry`: the label of the legend entry the swatch or word belongs to), or, on a volume's
    polygons, "window" (kind "box") or "marker" (kind "current_kernel", "current_output") with `channels`."""

    role: str
    kind: str | None = None
    entry: str | None = None
    channels: tuple[int, int] | None = None  # a volume's mark: the channels k0..k1 − 1 it goes through


@dataclass(frozen=True, slots=True)
class Rect:
    """A filled box with an optional outline drawn INSIDE the box (so both painters cover the same pixels)."""

    box: Box
    fill: RGB | None = None
    edge: RGB | None = None
    line_width: int = 1
    dashed: bool = False  # static layer only: the fast painter refuses dashes
    meta: Mark | None = None


@dataclass(frozen=True, slots=True)
class Text:
    """One line of text; (x, y) is the anchor on the baseline, `align` picks left/center/right of it."""

    x: float
    y: float
    text: str
    size: int  # pixels (font size in px at the frame's 100 dpi)
    colour: RGB
    align: str = "left"  # "left" | "center" | "right"
    bold: bool = False
    meta: Mark | None = None


@dataclass(frozen=True, slots=True)
class Veil:
    """A translucent colour laid over a box: how channels the current step does not read are dimmed."""

    box: Box
    colour: RGB
    alpha: float
    meta: Mark | None = None


@dataclass(frozen=True, slots=True)
class Polygon:
    """A filled polygon (the faces of a volume) with an optional outline along its edges, centred on them.

    `points` are pixel corners (x, y), y down. `alpha` < 1 lays the fill over what is below, as a Veil does (a
    translucent window box); its outline stays opaque. Its pixels are the ones whose centres lie inside."""

    points: tuple[tuple[float, float], ...]
    fill: RGB | None = None
    edge: RGB | None = None
    line_width: int = 1
    alpha: float = 1.0
    meta: Mark | None = None

    @property
    def box(self) -> Box:
        """The pixel box (x1, y1 exclusive) the polygon's fill lies in."""
        xs = [x for x, _ in self.points]
        ys = [y for _, y in self.points]
        return (math.floor(min(xs)), math.floor(min(ys)), math.ceil(max(xs)) + 1, math.ceil(max(ys)) + 1)


Primitive = Rect | Text | Veil | Polygon

MINUS = "\u2212"
TIMES = "\u00d7"
ELLIPSIS = "\u2026"


@functools.lru_cache(maxsize=8192)  # a frame writes dozens of numbers, most seen on earlier frames (weights, sums)
def fmt_number(value: float) -> str:
    """Compact: integers without '.0', otherwise up to 2 decimals; unicode minus; never '-0'."""
    if not math.isfinite(value):
        return str(value)
    rounded = round(value)
    if abs(value - rounded) < 1e-9:
        text = str(int(rounded))
    else:
        text = f"{value:.2f}".rstrip("0").rstrip(".")
    if text in ("-0", "-0.0"):
        text = "0"
    return text.replace("-", MINUS)


def fmt_factor(value: float) -> str:
    """A number as a factor in a product: negatives in parentheses, `1×(−1)`."""
    text = fmt_number(value)
    return f"({text})" if text.startswith(MINUS) else text


def cell_text_baseline(y0: int, y1: int, size: int) -> float:
    """Baseline that centres digits vertically in [y0, y1): DejaVu's digit height is ~0.73 em."""
    return round((y0 + y1) / 2 + 0.365 * size)
