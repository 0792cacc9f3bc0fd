"""Streaming GIF writer: one global palette, frame-difference rectangles, merged holds, atomic file.

Frames are encoded as they arrive; the writer keeps only the last frame given (to look up only what changed)
and two index images (the frame waiting to be written and the picture currently on screen), so memory does
not grow with the number of frames.
"""

from __future__ import annotations

import math
import os
from contextlib import ExitStack
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image

from convgif.encode.atomic import atomic_write
from convgif.encode.palette import Palette
from convgif.encode.base import Writer
from convgif.encode.frame import WriterOptions

MIN_DURATION_MS = 20  # browsers replace shorter delays (0 or 10 ms) by ~100 ms
MAX_DELAY_CS = 0xFFFF  # the Graphic Control Extension stores the delay in 16 bits
DISPOSAL_KEEP = 1  # "do not dispose": the next frame draws over this one
MIN_LZW_CODE_SIZE = 2  # GIF's smallest minimum code size (a 2- or 4-colour table still starts at 2 bits)


def lzw_code_size(table_size: int) -> int:
    """The LZW minimum code size for a colour table of `table_size` (a power of two) entries: its index bits.

    Codes start one bit wider than this, so a 128-colour table's codes start at 8 bits rather than 9: ~5% smaller
    frames than always using 8, and exactly what GIF encoders write (Pillow, gifsicle)."""
    return max(MIN_LZW_CODE_SIZE, (table_size - 1).bit_length())


def delay_centiseconds(duration_ms: float) -> int:
    """GIF delay of a frame: at least MIN_DURATION_MS, rounded half up to whole centiseconds."""
    return math.floor(max(duration_ms, MIN_DURATION_MS) / 10 + 0.5)


def lzw_image_data(indices: np.ndarray, code_size: int = 8) -> bytes:
    """The LZW-compressed image data of a (h, w) uint8 index array, as GIF sub-blocks (no terminator).

    Pillow's C "gif" encoder does the LZW; it is reached through `Image.tobytes(encoder_name, *args)`,
    whose arguments (rawmode, bits, interlace) are the encoder's own, not a documented contract:
    if a Pillow upgrade changes them, this is the one function to fix.
    """
    image = Image.fromarray(np.ascontiguousarray(indices))  # mode "L": indices as 8-bit values
    return image.tobytes("gif", "L", code_size, 0)


def gif_header(width: int, height: int, palette: Palette, *, loop: int | None) -> bytes:
    """Signature, logical screen descriptor, global colour table and (if `loop` is set) NETSCAPE2.0 loop."""
    table_bits = palette.table_size.bit_length() - 2  # table size is 2^(bits + 1)
    packed = 0x80 | (7 << 4) | table_bits  # global table present, 8 bits per primary colour
    header = (
        b"GIF89a"
        + width.to_bytes(2, "little")
        + height.to_bytes(2, "little")
        + bytes([packed, 0, 0])  # background index 0, no aspect ratio
        + palette.gif_color_table()
    )
    if loop is not None:
        header += b"!\xff\x0bNETSCAPE2.0\x03\x01" + loop.to_bytes(2, "little") + b"\x00"
    return header


def graphic_control(delay_cs: int, transparent_index: int | None) -> bytes:
    """The 8-byte Graphic Control Extension: disposal "keep", delay, optional transparent index."""
    packed = (DISPOSAL_KEEP << 2) | (1 if transparent_index is not None else 0)
    return b"!\xf9\x04" + bytes([packed]) + delay_cs.to_bytes(2, "little") + bytes([transparent_index or 0, 0])


def image_block(indices: np.ndarray, left: int, top: int, code_size: int = 8) -> bytes:
    """Image descriptor (no local table, not interlaced) followed by the LZW data of `indices` (every index must
    be below 2**code_size)."""
    height, width = indices.shape
    descriptor = b"," + b"".join(int(v).to_bytes(2, "little") for v in (left, top, width, height)) + b"\x00"
    return descriptor + bytes([code_size]) + lzw_image_data(indices, code_size) + b"\x00"


def changed_box(previous: np.ndarray, current: np.ndarray) -> tuple[slice, slice] | None:
    """The smallest (rows, columns) box containing every pixel that differs, or None if none does.

    Pixels are the first two axes: (H, W) index images, or (H, W, C) colour frames (a pixel differs if any
    channel does)."""
    channels = 1 if previous.ndim == 2 else previous.shape[2]
    changed = (previous != current).reshape(previous.shape[0], -1)  # a row of W * C values
    rows = np.flatnonzero(changed.any(axis=1))
    if rows.size == 0:
        return None
    columns = np.flatnonzero(changed[rows[0] : rows[-1] + 1].any(axis=0))
    return (slice(int(rows[0]), int(rows[-1]) + 1),
            slice(int(columns[0]) // channels, int(columns[-1]) // channels + 1))


class GifWriter(Writer):
    """Write frames to an animated GIF as they come: `with GifWriter(path, palette) as w: w.write(f, ms)`.

    Consecutive identical frames merge into one frame with the summed duration (one frame is buffered
    for that). After the first frame, only the box of changed pixels is stored, with unchanged pixels
    inside it transparent, drawn over the previous picture. The file appears at `path` only when the
    writer finishes without error; `loop=0` loops forever, `loop=None` plays once.
    """

    def __init__(self, path: str | os.PathLike[str], palette: Palette, *, loop: int | None = 0):
        if loop is not None and not 0 <= loop <= 0xFFFF:
            raise ValueError(f"loop must be None or 0..65535 (0 = forever), got {loop}")
        self.path = Path(path)
        self.palette = palette
        self._code_size = lzw_code_size(palette.table_size)
        self.loop = loop
        self.frames_written = 0  # GIF frames actually stored (after merging identical ones)
        self._file: IO[bytes] | None = None
        self._cleanup: ExitStack | None = None
        self._size: tuple[int, int] | None = None  # (height, width) of the canvas, set by the first frame
        self._pending: np.ndarray | None = None  # index frame waiting for its total duration
        self._pending_ms = 0.0
        self._on_screen: np.ndarray | None = None  # composited picture after the last stored frame
        self._last_rgb: np.ndarray | None = None  # the last frame given, and its palette indices
        self._last_indices: np.ndarray | None = None

    @classmethod
    def open(cls, path: str | os.PathLike[str], options: WriterOptions) -> GifWriter:
        return cls(path, options.palette)

    # matplotlib-style verbs: setup, write (grab_frame), finish; the context manager calls them.
    def setup(self) -> None:
        with ExitStack() as stack:
            self._file = stack.enter_context(atomic_write(self.path, "wb"))
            self._cleanup = stack.pop_all()

    def write(self, frame_rgb: np.ndarray, duration_ms: float) -> None:
        """Add one (H, W, 3) uint8 frame shown for `duration_ms` milliseconds."""
        if self._file is None:
            raise RuntimeError("GifWriter.write called outside its `with` block")
        if not duration_ms >= 0:  # also rejects NaN
            raise ValueError(f"duration_ms must be >= 0, got {duration_ms}")
        indices = self._indices_of(frame_rgb)
        if self._size is None:
            self._size = indices.shape
            self._file.write(gif_header(indices.shape[1], indices.shape[0], self.palette, loop=self.loop))
        elif indices.shape != self._size:
            raise ValueError(f"frame size {indices.shape} differs from the first frame's {self._size} (H, W)")
        if self._pending is not None and (indices is self._pending or np.array_equal(indices, self._pending)):
            self._pending_ms += duration_ms
            return
        self._flush_pending()
        self._pending, self._pending_ms = indices, float(duration_ms)

    def finish(self) -> None:
        """Store the buffered frame and the trailer, then move the file into place (removed if this fails)."""
        if self._cleanup is None:
            raise RuntimeError("GifWriter.finish called without setup (or twice)")
        cleanup, self._cleanup = self._cleanup, None
        with cleanup:
            if self._pending is None:
                raise ValueError(f"no frames were written to {self.path}")
            self._flush_pending()
            self._file.write(b";")
        self._file = None

    def abort(self, exc_type=None, exc=None, traceback=None) -> None:
        """Drop the partial file; the destination keeps its previous content (or stays absent)."""
        cleanup, self._cleanup, self._file = self._cleanup, None, None
        if cleanup is not None:
            cleanup.__exit__(exc_type or RuntimeError, exc or RuntimeError("aborted"), traceback)


    def _indices_of(self, frame_rgb: np.ndarray) -> np.ndarray:
        """The frame's palette indices. Only the box that differs from the last frame is looked up: the rest
        are the last frame's indices (a palette lookup is per pixel, so the result is the same as looking up
        every pixel, at a fraction of the cost for a step that changes a small part of a tall frame)."""
        last_rgb, last = self._last_rgb, self._last_indices
        if last_rgb is None or not isinstance(frame_rgb, np.ndarray) or frame_rgb.shape != last_rgb.shape \
                or frame_rgb.dtype != np.uint8:
            indices = self.palette.index(frame_rgb)  # also the one place a malformed frame is refused
        else:
            box = changed_box(last_rgb, frame_rgb)
            if box is None:
                indices = last
            else:
                indices = last.copy()
                indices[box] = self.palette.index(frame_rgb[box])
        self._last_rgb, self._last_indices = frame_rgb.copy(), indices
        return indices

    def _flush_pending(self) -> None:
        if self._pending is None:
            return
        frame, delay_cs = self._pending, delay_centiseconds(self._pending_ms)
        transparent = self.palette.transparent_index
        if self._on_screen is None:
            self._file.write(graphic_control(min(delay_cs, MAX_DELAY_CS), None)
                             + image_block(frame, 0, 0, self._code_size))
        else:
            # Never None in practice (identical frames merge); a 1x1 transparent patch keeps it valid anyway.
            rows, columns = changed_box(self._on_screen, frame) or (slice(0, 1), slice(0, 1))
            patch = frame[rows, columns].copy()
            patch[self._on_screen[rows, columns] == patch] = transparent
            self._file.write(
                graphic_control(min(delay_cs, MAX_DELAY_CS), transparent)
                + image_block(patch, columns.start, rows.start, self._code_size)
            )
        self.frames_written += 1
        # A delay above 65535 cs (about 11 minutes) continues on invisible 1x1 frames.
        delay_cs -= MAX_DELAY_CS
        while delay_cs > 0:
            self._write_clear_frame(min(delay_cs, MAX_DELAY_CS))
            delay_cs -= MAX_DELAY_CS
        self._on_screen, self._pending = frame, None

    def _write_clear_frame(self, delay_cs: int) -> None:
        transparent = self.palette.transparent_index
        pixel = np.full((1, 1), transparent, dtype=np.uint8)
        self._file.write(graphic_control(delay_cs, transparent) + image_block(pixel, 0, 0, self._code_size))
        self.frames_written += 1
