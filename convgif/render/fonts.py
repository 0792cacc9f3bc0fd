"""The one font family both painters use (matplotlib's bundled DejaVu Sans), cached Pillow fonts, text widths."""

from __future__ import annotations

import functools
import os

import matplotlib
from PIL import ImageFont


def font_path(bold: bool = False) -> str:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return os.path.join(matplotlib.get_data_path(), "fonts", "ttf", name)


@functools.lru_cache(maxsize=128)
def pil_font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """A Pillow font of `size` px, loaded once per (size, weight)."""
    return ImageFont.truetype(font_path(bold), size, layout_engine=ImageFont.Layout.BASIC)


def text_width(text: str, size: int, bold: bool = False) -> float:
    return pil_font(size, bold).getlength(text)
