"""Animated WebP and APNG through Pillow: buffered (Pillow's encoders take every frame at once), atomic.

Both keep frames exact: WebP is written lossless; APNG stores palette indices when given the scene's
palette (looked up as the GIF's are: an off-palette colour is an error unless the palette maps it to its
nearest) and RGB otherwise.
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from convgif.encode.atomic import atomic_write
from convgif.encode.buffered import DEFAULT_MAX_BYTES, BufferedWriter
from convgif.encode.frame import WriterOptions
from convgif.encode.palette import Palette

WEBP_METHOD = 2  # libwebp effort 0..6: 2 is ~2x faster than the default 4 at about the same size on our frames


def _play_count(loop: int | None) -> int:
    """Our `loop` (0 = forever, None = play once, n = n more times) as the formats' own count (0 = forever)."""
    if loop is None:
        return 1
    if not 0 <= loop <= 0xFFFF:
        raise ValueError(f"loop must be None or 0..65535 (0 = forever), got {loop}")
    return loop


def _durations(durations_ms: list[float]) -> list[int]:
    return [max(1, round(ms)) for ms in durations_ms]


class WebpWriter(BufferedWriter):
    """Lossless animated WebP: `with WebpWriter(path) as w: w.write(frame, ms)`. Buffers frames (see buffered)."""

    format_name = "webp"

    def __init__(self, path: str | os.PathLike[str], *, loop: int | None = 0, max_bytes: int = DEFAULT_MAX_BYTES):
        super().__init__(path, max_bytes=max_bytes)
        self.loop = _play_count(loop)

    def encode(self, frames: list[np.ndarray], durations_ms: list[float]) -> None:
        images = [Image.fromarray(frame, "RGB") for frame in frames]
        with atomic_write(self.path) as file:
            images[0].save(file, format="WEBP", save_all=True, append_images=images[1:],
                           duration=_durations(durations_ms), loop=self.loop, lossless=True, method=WEBP_METHOD,
                           kmin=9, kmax=17)  # keyframe spacing as libwebp recommends, not Pillow's "every frame"


class ApngWriter(BufferedWriter):
    """Animated PNG: `with ApngWriter(path, palette) as w: w.write(frame, ms)`. Buffers frames (see buffered).

    With a palette each frame is kept as one byte per pixel, a third of the memory of RGB.
    """

    format_name = "apng"

    def __init__(self, path: str | os.PathLike[str], palette: Palette | None = None, *, loop: int | None = 0,
                 max_bytes: int = DEFAULT_MAX_BYTES):
        super().__init__(path, max_bytes=max_bytes)
        self.palette = palette
        self.loop = _play_count(loop)

    @classmethod
    def open(cls, path: str | os.PathLike[str], options: WriterOptions) -> ApngWriter:
        return cls(path, options.palette)

    def store(self, frame_rgb: np.ndarray) -> np.ndarray:
        return self.palette.index(frame_rgb) if self.palette is not None else np.array(frame_rgb, copy=True)

    def encode(self, frames: list[np.ndarray], durations_ms: list[float]) -> None:
        images = [self._image(frame) for frame in frames]
        with atomic_write(self.path) as file:
            # disposal 0 / blend 0: each frame (or its changed box, found by Pillow) replaces what was there
            images[0].save(file, format="PNG", save_all=True, append_images=images[1:],
                           duration=_durations(durations_ms), loop=self.loop, disposal=0, blend=0)

    def _image(self, frame: np.ndarray) -> Image.Image:
        if self.palette is None:
            return Image.fromarray(frame, "RGB")
        height, width = frame.shape
        image = Image.frombytes("P", (width, height), np.ascontiguousarray(frame).tobytes())
        image.putpalette(self.palette.colors.tobytes(), rawmode="RGB")
        return image
