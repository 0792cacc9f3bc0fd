"""Encoders: RGB uint8 frames in, files out (atomically). Which writer serves which output format is said once,
in the format records of `convgif.formats`; every writer is opened as `Writer.open(path, WriterOptions)` and
handed `Frame`s.

Never imports convgif.render, and matplotlib only on first use by the pdf/svg writers (its PDF and SVG
backends encode the vector figures the renderer drew): encoding is separate from drawing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from convgif.lazy_names import lazy_names

if TYPE_CHECKING:  # what the names are, for readers and type checkers; at run time see __getattr__ below
    from convgif.encode.animated import ApngWriter, WebpWriter
    from convgif.encode.atomic import atomic_write, clean_stale_parts
    from convgif.encode.base import Writer
    from convgif.encode.buffered import FrameBufferLimitError
    from convgif.encode.frame import Deck, Frame, WriterOptions
    from convgif.encode.gif import GifWriter
    from convgif.encode.palette import Palette
    from convgif.encode.pdf import PdfWriter
    from convgif.encode.png import PngFileWriter, PngFramesWriter
    from convgif.encode.strip import StripWriter
    from convgif.encode.svg import SvgWriter
    from convgif.encode.video import Mp4Writer, WebmWriter

# Each name is imported from its module on first use (PEP 562), so `import convgif.encode.atomic` (the manifest, a
# no-op render) or a GIF render loads no other writer (subprocess for video, the WebP/APNG code...).
_HOMES = {
    "ApngWriter": "animated",
    "Deck": "frame",
    "Frame": "frame",
    "FrameBufferLimitError": "buffered",
    "GifWriter": "gif",
    "Mp4Writer": "video",
    "Palette": "palette",
    "PdfWriter": "pdf",
    "PngFileWriter": "png",
    "PngFramesWriter": "png",
    "StripWriter": "strip",
    "SvgWriter": "svg",
    "WebmWriter": "video",
    "WebpWriter": "animated",
    "Writer": "base",
    "WriterOptions": "frame",
    "atomic_write": "atomic",
    "clean_stale_parts": "atomic",
}


__getattr__, __dir__ = lazy_names(__name__, _HOMES, globals())


__all__ = [
    "ApngWriter",
    "Deck",
    "Frame",
    "FrameBufferLimitError",
    "GifWriter",
    "Mp4Writer",
    "Palette",
    "PdfWriter",
    "PngFileWriter",
    "PngFramesWriter",
    "StripWriter",
    "SvgWriter",
    "WebmWriter",
    "WebpWriter",
    "Writer",
    "WriterOptions",
    "atomic_write",
    "clean_stale_parts",
]
