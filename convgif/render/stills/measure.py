"""How wide a line of a still is set: runs of DejaVu Sans glyphs and runs of the shipped CJK subset for what DejaVu
lacks, each at Pillow's anti-aliased advance, which is how `pillow_text.PillowText` draws it, so a line mixing
Chinese and Latin is measured as drawn. (A still's text is measured at the whole pixel size at or above the size
it is drawn at, so a measure is never short of the drawn width.)
"""

from __future__ import annotations

import contextlib
import itertools
from contextvars import ContextVar

from convgif.render.fonts import coverage, dejavu_path, joined_width, text_width


# How many pixels one layout px becomes (a still's `font_scale` zoom). Advances do not scale exactly with the pixel
# size (and the measure rounds it to a whole pixel), so a line zoomed 1.5x can come out a little wider than 1.5x
# its width at 1x: measured at the drawn size and given a little slack, wrapped lines keep inside the margins.
_ZOOM: ContextVar[float] = ContextVar("still_measure_zoom", default=1.0)
HINTING_SLACK = 1.03


@contextlib.contextmanager
def measuring_at(zoom: float):
    """Measure still text as drawn `zoom` times larger (the still's font scale) while inside this block."""
    token = _ZOOM.set(zoom)
    try:
        yield
    finally:
        _ZOOM.reset(token)


def still_text_width(text: str, size: int, bold: bool = False) -> float:
    """Width in layout px of `text` at `size` layout px as a still draws it (runs of DejaVu glyphs, runs of CJK
    glyphs), at the zoom set by `measuring_at`."""
    zoom = _ZOOM.get()
    if zoom == 1:
        return _drawn_width(text, size, bold)
    return _drawn_width(text, max(1, round(size * zoom)), bold) / zoom * HINTING_SLACK


def _drawn_width(text: str, size: int, bold: bool) -> float:
    latin = coverage(dejavu_path(bold))
    if all(ord(ch) in latin for ch in text):  # one font draws it all: the plain measure
        return text_width(text, size, bold, crisp=False)  # stills are drawn anti-aliased
    # a run's width from its characters' and neighbours' cached widths (`joined_width`, exact): wrapping Chinese
    # measures ever longer prefixes of a line, character by character
    return sum(joined_width(list(run), size, bold, crisp=False)
               for _, run in itertools.groupby(text, key=lambda ch: ord(ch) in latin))
