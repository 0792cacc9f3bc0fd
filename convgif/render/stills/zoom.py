"""The font scale of a still (`[render] font_scale`): the figure is laid out `font_scale` times narrower and drawn
at `font_scale` times matplotlib's 100 dpi, so every text, cell, gap and line grows together (the layout makes
room by itself) and the picture keeps the pixel width the scene asks for.
"""

from __future__ import annotations

import math

from matplotlib.figure import Figure

from convgif.render.theme import Theme

BASE_DPI = 100  # a still's coordinates are pixels at this dpi; its point sizes are meant for it


def layout_width(width: int, theme: Theme, needs: float = 0) -> float:
    """The width a still lays itself out in: the pixel width at font scale 1, narrower above.

    A figure whose grids need `needs` layout px is zoomed only as far as that still fits in `width` pixels.
    """
    if theme.font_scale == 1:
        return width
    return max(width / theme.font_scale, min(needs, width))


def _inches(pixels: int, dpi: float) -> float:
    """Figure inches giving exactly `pixels` at `dpi`: Agg truncates the product, so it may not fall short."""
    inches = pixels / dpi
    while inches * dpi < pixels:
        inches = math.nextafter(inches, math.inf)
    return inches


def scaled_figure(width: float, height: float, scale: float, facecolor) -> tuple[Figure, float, float]:
    """A figure for a still laid out in `width` x `height` (layout px) and drawn `scale` times larger:
    (figure, x extent, y extent).

    The figure is round(width x scale) px wide (the asked width); set the axes' limits to the extents so one
    layout px is `scale` pixels.
    """
    if scale == 1:
        return Figure(figsize=(width / BASE_DPI, height / BASE_DPI), dpi=BASE_DPI, facecolor=facecolor), width, height
    dpi = BASE_DPI * scale
    px_w, px_h = round(width * scale), math.ceil(height * scale)
    figure = Figure(figsize=(_inches(px_w, dpi), _inches(px_h, dpi)), dpi=dpi, facecolor=facecolor)
    return figure, px_w / scale, px_h / scale


def pixel_size(figure: Figure) -> tuple[int, int]:
    """(width, height) in pixels the figure draws at."""
    w, h = figure.bbox.size
    return int(w), int(h)
