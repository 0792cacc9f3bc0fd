"""Encoders: RGB uint8 frames in, files out (atomically), writers looked up by name.

Never imports matplotlib or convgif.render: encoding is separate from drawing.
"""

from __future__ import annotations

import difflib

from convgif.encode.atomic import atomic_write, clean_stale_parts
from convgif.encode.gif import GifWriter
from convgif.encode.palette import Palette
from convgif.encode.png import PngFramesWriter
from convgif.errors import UsageError

WRITERS: dict[str, type] = {
    "gif": GifWriter,
    "png": PngFramesWriter,
}


class UnknownWriterError(UsageError):
    """An output format name that no writer is registered under."""

    def __init__(self, name: str):
        self.name = name
        close = difflib.get_close_matches(name, WRITERS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        super().__init__(f"unknown output format {name!r}{hint}; available: {', '.join(sorted(WRITERS))}")


def get_writer(name: str) -> type:
    """The writer class registered under `name` ("gif", "png"); UnknownWriterError otherwise."""
    try:
        return WRITERS[name]
    except KeyError:
        raise UnknownWriterError(name) from None


__all__ = [
    "GifWriter",
    "Palette",
    "PngFramesWriter",
    "UnknownWriterError",
    "WRITERS",
    "atomic_write",
    "clean_stale_parts",
    "get_writer",
]
