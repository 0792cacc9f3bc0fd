"""MP4 (H.264) through the optional imageio-ffmpeg extra: frames streamed to ffmpeg, atomic file.

ffmpeg plays a fixed frame rate, so a frame shown for `duration_ms` is sent as many times as that rate
needs (rounded on the running total, so rounding errors do not add up). H.264 in yuv420p (what every
browser and slide program plays) needs even sizes: odd frames get one edge row/column repeated.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from convgif.encode.atomic import _fsync_directory, part_path_for
from convgif.encode.buffered import check_frame
from convgif.encode.base import Writer
from convgif.errors import MissingExtraError

DEFAULT_FPS = 20  # 50 ms resolution: enough for step durations, cheap since x264 codes repeats as near-nothing
INSTALL_HINT = "pip install 'convgif[mp4]'"


def load_ffmpeg():
    """The imageio_ffmpeg module, or MissingExtraError naming the extra to install."""
    try:
        import imageio_ffmpeg
    except ImportError:
        raise MissingExtraError(f"mp4 output needs the mp4 extra: {INSTALL_HINT}") from None
    return imageio_ffmpeg


def even_frame(frame_rgb: np.ndarray) -> np.ndarray:
    """The frame grown by one repeated edge row/column where its height/width is odd."""
    height, width = frame_rgb.shape[:2]
    if height % 2 == 0 and width % 2 == 0:
        return frame_rgb
    return np.pad(frame_rgb, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")


class Mp4Writer(Writer):
    """`with Mp4Writer(path) as w: w.write(frame, ms)`: streams frames to ffmpeg; the file appears on success."""

    def __init__(self, path: str | os.PathLike[str], *, fps: int = DEFAULT_FPS, crf: int = 18):
        if not 1 <= fps <= 120:
            raise ValueError(f"fps must be 1..120, got {fps}")
        self.path = Path(path)
        self.fps, self.crf = fps, crf
        self.frames_sent = 0  # video frames, after repeats
        self._ffmpeg = None
        self._part: Path | None = None
        self._encoder = None
        self._size: tuple[int, int] | None = None
        self._elapsed_ms = 0.0

    def setup(self) -> None:
        self._ffmpeg = load_ffmpeg()  # fails before any frame is drawn
        self._part = part_path_for(self.path)

    def write(self, frame_rgb: np.ndarray, duration_ms: float) -> None:
        if self._part is None:
            raise RuntimeError("Mp4Writer.write called outside its `with` block")
        if not duration_ms >= 0:
            raise ValueError(f"duration_ms must be >= 0, got {duration_ms}")
        self._size = check_frame(frame_rgb, self._size)
        frame = np.ascontiguousarray(even_frame(frame_rgb))
        if self._encoder is None:
            self._encoder = self._ffmpeg.write_frames(
                str(self._part), (frame.shape[1], frame.shape[0]), fps=self.fps, codec="libx264",
                pix_fmt_in="rgb24", pix_fmt_out="yuv420p", quality=None, macro_block_size=2,
                # "-f mp4": the part file's name does not end in .mp4; faststart lets browsers play while loading
                output_params=["-f", "mp4", "-crf", str(self.crf), "-movflags", "+faststart"],
                ffmpeg_log_level="error",
            )
            self._encoder.send(None)  # start ffmpeg
        shown_before = round(self._elapsed_ms * self.fps / 1000)
        self._elapsed_ms += duration_ms
        # at least one video frame per written frame, so even a 0 ms frame is not lost
        repeats = max(1, round(self._elapsed_ms * self.fps / 1000) - shown_before)
        data = frame.tobytes()
        for _ in range(repeats):
            self._encoder.send(data)
        self.frames_sent += repeats

    def finish(self) -> None:
        if self._part is None:
            raise RuntimeError("Mp4Writer.finish called without setup (or twice)")
        part, encoder = self._part, self._encoder
        self._part, self._encoder = None, None
        try:
            if encoder is None:
                raise ValueError(f"no frames were written to {self.path}")
            encoder.close()  # waits for ffmpeg to finish the file
            os.replace(part, self.path)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        _fsync_directory(self.path.parent)

    def abort(self, exc_type=None, exc=None, traceback=None) -> None:
        part, encoder = self._part, self._encoder
        self._part, self._encoder = None, None
        try:
            if encoder is not None:
                encoder.close()
        finally:
            if part is not None:
                part.unlink(missing_ok=True)

