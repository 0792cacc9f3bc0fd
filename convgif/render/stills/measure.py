"""How wide matplotlib sets a line of a still: glyph by glyph from the family list the stills use (DejaVu Sans
first, the shipped CJK subset for what DejaVu lacks), so a line mixing Chinese and Latin is measured as drawn.
"""

from __future__ import annotations

import itertools

from convgif.render.fonts import coverage, dejavu_path, pil_font, text_width


def still_text_width(text: str, size: int, bold: bool = False) -> float:
    """Width in px of `text` at `size` px as a still draws it (runs of DejaVu glyphs, runs of CJK glyphs)."""
    latin = coverage(dejavu_path(bold))
    if all(ord(ch) in latin for ch in text):  # one font draws it all: the plain measure
        return text_width(text, size, bold)
    total = 0.0
    for in_dejavu, run in itertools.groupby(text, key=lambda ch: ord(ch) in latin):
        part = "".join(run)
        font = pil_font(size, bold, "" if in_dejavu else "\u4e00")  # "" picks DejaVu, a hanzi the CJK subset
        total += font.getlength(part)
    return total
