"""Encoders: RGB uint8 frames in, files out (atomically), writers looked up by name.

Never imports convgif.render, and matplotlib only on first use by the pdf/svg writers (its PDF and SVG
backends encode the vector figures the renderer drew): encoding is separate from drawing.
"""

from __future__ import annotations

import difflib

from convgif.encode.animated import ApngWriter, WebpWriter
from convgif.encode.atomic import atomic_write, clean_stale_parts
from convgif.encode.buffered import FrameBufferLimitError
from convgif.encode.gif import GifWriter
from convgif.encode.mp4 import MissingExtraError, Mp4Writer
from convgif.encode.palette import Palette
from convgif.encode.pdf import PdfWriter
from convgif.encode.png import PngFramesWriter
from convgif.encode.strip import StripWriter
from convgif.encode.svg import SvgWriter
from convgif.errors import UsageError

# Every output format by name. Animations take every frame (`write(frame, ms)`); strip, pdf and svg take
# the chosen key steps (pdf and svg also `write_figure(figure)`: vector pages).
WRITERS: dict[str, type] = {
    "gif": GifWriter,
    "png": PngFramesWriter,
    "webp": WebpWriter,
    "apng": ApngWriter,
    "mp4": Mp4Writer,
    "strip": StripWriter,
    "pdf": PdfWriter,
    "svg": SvgWriter,
}
ANIMATED_FORMATS = ("gif", "png", "webp", "apng", "mp4")  # every frame, in order, with durations
KEY_STEP_FORMATS = ("strip", "pdf", "svg")  # a few chosen steps


class UnknownWriterError(UsageError):
    """An output format name that no writer is registered under."""

    def __init__(self, name: str):
        self.name = name
        close = difflib.get_close_matches(name, WRITERS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        super().__init__(f"unknown output format {name!r}{hint}; available: {', '.join(sorted(WRITERS))}")


def get_writer(name: str) -> type:
    """The writer class registered under `name` (see WRITERS); UnknownWriterError otherwise."""
    try:
        return WRITERS[name]
    except KeyError:
        raise UnknownWriterError(name) from None


__all__ = [
    "ANIMATED_FORMATS",
    "ApngWriter",
    "FrameBufferLimitError",
    "GifWriter",
    "KEY_STEP_FORMATS",
    "MissingExtraError",
    "Mp4Writer",
    "Palette",
    "PdfWriter",
    "PngFramesWriter",
    "StripWriter",
    "SvgWriter",
    "UnknownWriterError",
    "WRITERS",
    "WebpWriter",
    "atomic_write",
    "clean_stale_parts",
    "get_writer",
]
