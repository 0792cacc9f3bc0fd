"""Writers that need every frame before they can encode: the three verbs, frame checks, a memory cap.

Pillow's animated WebP and APNG encoders and the strip layout take all frames at once, so these
writers hold the frames in memory, up to `max_bytes`; past that they stop with a clear error rather
than exhausting the machine (the streaming writers, gif and mp4, have no such limit).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from convgif.errors import UsageError
from convgif.encode.base import Writer

DEFAULT_MAX_BYTES = 512 * 1024 * 1024


class FrameBufferLimitError(UsageError):
    """A format that buffers frames was given more frame data than its memory cap allows."""


def check_frame(frame_rgb: np.ndarray, size: tuple[int, int] | None) -> tuple[int, int]:
    """(H, W) of an (H, W, 3) uint8 frame; ValueError if it is not one or differs from `size`."""
    if not isinstance(frame_rgb, np.ndarray) or frame_rgb.dtype != np.uint8 or frame_rgb.ndim != 3 \
            or frame_rgb.shape[2] != 3:
        shape = getattr(frame_rgb, "shape", None)
        raise ValueError(f"a frame must be an (H, W, 3) uint8 RGB array, got {getattr(frame_rgb, 'dtype', type(frame_rgb))} {shape}")
    if size is not None and frame_rgb.shape[:2] != size:
        raise ValueError(f"frame size {frame_rgb.shape[:2]} differs from the first frame's {size} (H, W)")
    return frame_rgb.shape[:2]


class BufferedWriter(Writer):
    """Collects (frame, duration_ms) pairs, merging identical consecutive frames; `encode` does the rest.

    Subclasses set `format_name` and implement `encode(frames, durations_ms)`, which writes `self.path`
    (atomically). Frames are stored as given (or as `store(frame)` returns them, e.g. palette indices).
    """

    format_name = "buffered"

    def __init__(self, path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES):
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.frames: list[np.ndarray] = []
        self.durations_ms: list[float] = []
        self._size: tuple[int, int] | None = None
        self._bytes = 0
        self._open = False

    def setup(self) -> None:
        self._open = True

    def store(self, frame_rgb: np.ndarray) -> np.ndarray:
        """What is kept of a frame (a private copy: callers may reuse their array)."""
        return np.array(frame_rgb, copy=True)

    def write(self, frame_rgb: np.ndarray, duration_ms: float) -> None:
        """Add one (H, W, 3) uint8 frame shown for `duration_ms` milliseconds."""
        if not self._open:
            raise RuntimeError(f"{type(self).__name__}.write called outside its `with` block")
        if not duration_ms >= 0:  # also rejects NaN
            raise ValueError(f"duration_ms must be >= 0, got {duration_ms}")
        self._size = check_frame(frame_rgb, self._size)
        kept = self.store(frame_rgb)
        if self.frames and np.array_equal(kept, self.frames[-1]):
            self.durations_ms[-1] += float(duration_ms)
            return
        if self._bytes + kept.nbytes > self.max_bytes:
            raise FrameBufferLimitError(
                f"{self.format_name} output holds every frame in memory and this scene needs more than "
                f"{self.max_bytes // (1024 * 1024)} MiB of them (at frame {len(self.frames) + 1}); "
                "sample fewer steps (render.steps = {every = k}), use a smaller render.width, or choose gif or mp4"
            )
        self._bytes += kept.nbytes
        self.frames.append(kept)
        self.durations_ms.append(float(duration_ms))

    def finish(self) -> None:
        if not self._open:
            raise RuntimeError(f"{type(self).__name__}.finish called without setup (or twice)")
        self._open = False
        try:
            if not self.frames:
                raise ValueError(f"no frames were written to {self.path}")
            self.encode(self.frames, self.durations_ms)
        finally:
            self.frames, self._bytes = [], 0

    def encode(self, frames: list[np.ndarray], durations_ms: list[float]) -> None:
        raise NotImplementedError

    def abort(self, exc_type=None, exc=None, traceback=None) -> None:
        """Drop the buffered frames; nothing was written, so the destination is untouched."""
        self._open = False
        self.frames, self._bytes = [], 0

