"""One PNG of chosen frames side by side (wrapped into balanced rows when wide), for print and blog figures."""

from __future__ import annotations

import math
import os

import numpy as np
from PIL import Image

from convgif.encode.atomic import atomic_write
from convgif.encode.buffered import BufferedWriter
from convgif.encode.frame import WriterOptions

DEFAULT_GAP = 16  # px between frames and around the strip
DEFAULT_MAX_WIDTH = 2400  # px: three 720 px frames fit a row, four wrap into 2 x 2
MAX_STRIP_FRAMES = 64  # a strip is a figure, not a flip book


def strip_grid(count: int, frame_width: int, *, gap: int, max_width: int) -> tuple[int, int]:
    """(rows, columns) for `count` frames: as many per row as fit `max_width`, rows as even as possible."""
    fit = max(1, (max_width - gap) // (frame_width + gap))
    rows = math.ceil(count / fit)
    return rows, math.ceil(count / rows)


class StripWriter(BufferedWriter):
    """`with StripWriter(path) as w: w.write(frame, ms)`: frames in reading order, durations ignored.

    `background` fills the gaps (default: the first frame's top-left pixel, the theme background);
    `dpi` is stored in the PNG so that print layouts place it at `width / dpi` inches.
    """

    format_name = "strip"

    def __init__(self, path: str | os.PathLike[str], *, dpi: int = 150, gap: int = DEFAULT_GAP,
                 max_width: int = DEFAULT_MAX_WIDTH, background: tuple[int, int, int] | None = None):
        super().__init__(path)
        if gap < 0:
            raise ValueError(f"gap must be >= 0 px, got {gap}")
        self.dpi, self.gap, self.max_width, self.background = dpi, gap, max_width, background

    @classmethod
    def open(cls, path: str | os.PathLike[str], options: WriterOptions) -> StripWriter:
        return cls(path, dpi=options.dpi)

    def write(self, frame_rgb: np.ndarray, duration_ms: float = 0) -> None:
        if len(self.frames) >= MAX_STRIP_FRAMES:
            raise ValueError(f"a strip holds at most {MAX_STRIP_FRAMES} frames")
        super().write(frame_rgb, duration_ms)

    def encode(self, frames: list[np.ndarray], durations_ms: list[float]) -> None:
        del durations_ms
        height, width = frames[0].shape[:2]
        gap = self.gap
        rows, columns = strip_grid(len(frames), width, gap=gap, max_width=self.max_width)
        background = self.background if self.background is not None else tuple(int(v) for v in frames[0][0, 0])
        canvas = np.empty((gap + rows * (height + gap), gap + columns * (width + gap), 3), dtype=np.uint8)
        canvas[...] = background
        for number, frame in enumerate(frames):
            row, column = divmod(number, columns)
            top, left = gap + row * (height + gap), gap + column * (width + gap)
            canvas[top:top + height, left:left + width] = frame
        with atomic_write(self.path) as file:
            Image.fromarray(canvas, "RGB").save(file, format="PNG", dpi=(self.dpi, self.dpi), optimize=True)
