"""Video (MP4/H.264 and WebM/VP9) through the optional imageio-ffmpeg extra: each frame plays for its own duration.

Frames are saved as they arrive (fast PNGs in a private temporary folder, a repeat of the previous frame only
lengthening it) and listed with their durations for ffmpeg's concat demuxer, so the video has one coded frame
per step at millisecond timestamps instead of a fixed frame rate. The settings suit our frames (few flat
colours, crisp text, a small changed region per step); benchmarks/video_bytes.py measures them against the GIF.
Both use yuv420p, the only chroma layout every browser plays, which needs even sizes: odd frames get one edge
row/column repeated. The output is written atomically and is the same bytes for the same frames.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from convgif.encode.atomic import atomic_write
from convgif.encode.base import Writer
from convgif.encode.buffered import check_frame
from convgif.errors import MissingExtraError

INSTALL_HINT = "pip install 'convgif[mp4]'"
# bit-exact, no metadata: the same frames give the same bytes (no encoder version string, no creation time)
DETERMINISTIC = ["-map_metadata", "-1", "-fflags", "+bitexact", "-flags", "+bitexact"]


def load_ffmpeg(format_name: str = "mp4"):
    """The imageio_ffmpeg module, or MissingExtraError naming the extra to install."""
    try:
        import imageio_ffmpeg
    except ImportError:
        raise MissingExtraError(f"{format_name} output needs the mp4 extra: {INSTALL_HINT}") from None
    return imageio_ffmpeg


def even_frame(frame_rgb: np.ndarray) -> np.ndarray:
    """The frame grown by one repeated edge row/column where its height/width is odd."""
    height, width = frame_rgb.shape[:2]
    if height % 2 == 0 and width % 2 == 0:
        return frame_rgb
    return np.pad(frame_rgb, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")


class VideoWriter(Writer):
    """`with Mp4Writer(path) as w: w.write(frame, ms)`: frames saved as they come, encoded by ffmpeg on finish.

    Subclasses say the container and the encoder's arguments (`codec_args`).
    """

    format_name = "video"
    container = ""  # ffmpeg's muxer name (the part file's name has no telling suffix)

    def __init__(self, path: str | os.PathLike[str], *, crf: int):
        self.path = Path(path)
        self.crf = crf
        self.frames_sent = 0  # coded video frames (a repeated frame is merged into the one before)
        self._ffmpeg = None
        self._folder: Path | None = None
        self._size: tuple[int, int] | None = None
        self._previous: np.ndarray | None = None
        self._starts_ms: list[int] = []  # each saved frame's start, rounded on the running total
        self._elapsed_ms = 0.0

    def codec_args(self) -> list[str]:
        raise NotImplementedError

    def setup(self) -> None:
        self._ffmpeg = load_ffmpeg(self.format_name)  # fails before any frame is drawn
        self._folder = Path(tempfile.mkdtemp(prefix=f"convgif-{self.format_name}-"))

    def write(self, frame_rgb: np.ndarray, duration_ms: float) -> None:
        if self._folder is None:
            raise RuntimeError(f"{type(self).__name__}.write called outside its `with` block")
        if not duration_ms >= 0:
            raise ValueError(f"duration_ms must be >= 0, got {duration_ms}")
        self._size = check_frame(frame_rgb, self._size)
        start_ms = round(self._elapsed_ms)
        self._elapsed_ms += duration_ms
        if self._previous is not None and np.array_equal(frame_rgb, self._previous):
            return  # the same picture again: the previous frame plays on
        if self._starts_ms and start_ms <= self._starts_ms[-1]:
            # a 0 ms frame (or one under a millisecond) still gets a millisecond, so no picture is lost
            start_ms = self._starts_ms[-1] + 1
            self._elapsed_ms = max(self._elapsed_ms, start_ms)
        self._previous = np.array(frame_rgb, copy=True)
        # compress_level 1: flat pictures compress ~50x in a few ms; ffmpeg decodes them exactly
        Image.fromarray(np.ascontiguousarray(even_frame(frame_rgb)), "RGB").save(
            self._folder / f"{len(self._starts_ms):06d}.png", compress_level=1)
        self._starts_ms.append(start_ms)

    def _concat_list(self) -> str:
        """ffconcat: each frame with its duration, then the last frame again as the end mark.

        The image demuxer is told a 1000 fps rate so every timestamp is in whole milliseconds (its default
        25 fps would round durations to 40 ms); the last frame's own duration is not kept by the muxers, so a
        repeat of it (1 ms long, a few hundred bytes) marks where the video ends and starts again.
        """
        end_ms = max(round(self._elapsed_ms), self._starts_ms[-1] + 1)
        lines = ["ffconcat version 1.0"]
        for index, start in enumerate(self._starts_ms):
            stop = self._starts_ms[index + 1] if index + 1 < len(self._starts_ms) else end_ms
            lines += [f"file {index:06d}.png", "option framerate 1000", f"duration {(stop - start) / 1000:.3f}"]
        lines += [f"file {len(self._starts_ms) - 1:06d}.png", "option framerate 1000"]
        return "\n".join(lines) + "\n"

    def _encode(self, folder: Path) -> Path:
        (folder / "frames.ffconcat").write_text(self._concat_list(), encoding="utf-8")
        out = folder / f"out.{self.container}"
        command = [self._ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-f", "concat", "-safe", "0",
                   "-i", "frames.ffconcat", *self.codec_args(), "-fps_mode", "vfr", *DETERMINISTIC,
                   "-f", self.container, out.name]
        done = subprocess.run(command, cwd=folder, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"ffmpeg could not write {self.path.name}: {done.stderr.strip()[-2000:]}")
        self.frames_sent = len(self._starts_ms)
        return out

    def finish(self) -> None:
        if self._folder is None:
            raise RuntimeError(f"{type(self).__name__}.finish called without setup (or twice)")
        folder, self._folder = self._folder, None
        try:
            if not self._starts_ms:
                raise ValueError(f"no frames were written to {self.path}")
            out = self._encode(folder)
            with atomic_write(self.path) as file, open(out, "rb") as encoded:
                shutil.copyfileobj(encoded, file)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def abort(self, exc_type=None, exc=None, traceback=None) -> None:
        folder, self._folder = self._folder, None
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


class Mp4Writer(VideoWriter):
    """H.264 in MP4: what every browser and slide program plays.

    Measured on five gallery scenes against the GIF (benchmarks/video_bytes.py has the whole gallery): the
    default preset at crf 18 is 0.9x-1.4x; veryslow (16 reference frames, exhaustive motion search) takes a01
    from 1.16x to 0.65x; tune stillimage and crf 23 take the five together from 0.61x to 0.51x with the text
    still crisp (mean error 0.4-1.0 of 255, mostly where yuv420p halves the colour of thin coloured lines).
    Placebo saves 1% more at 6x the time. No B-frames: with them the MP4 muxer loses the variable durations
    (and they made the file bigger). One thread: x264's output depends on its thread count.
    """

    format_name = "mp4"
    container = "mp4"

    def __init__(self, path: str | os.PathLike[str], *, crf: int = 23):
        super().__init__(path, crf=crf)

    def codec_args(self) -> list[str]:
        return ["-c:v", "libx264", "-preset", "veryslow", "-tune", "stillimage", "-crf", str(self.crf),
                "-bf", "0", "-pix_fmt", "yuv420p", "-threads", "1",
                # millisecond timestamps; faststart: the index first, so a browser plays while loading
                "-video_track_timescale", "1000", "-movflags", "+faststart"]


class WebmWriter(VideoWriter):
    """VP9 in WebM (profile 0, yuv420p: Chrome, Firefox and Safari play it).

    Constant quality (crf with -b:v 0). On five gallery scenes, cpu-used 0 (the slowest search) is 20% smaller
    than cpu-used 1 at the same crf (a03: 0.51x -> 0.36x the GIF), and crf 36 0.85x the bytes of crf 30 with text
    still crisp (mean error 0.5-1.2 of 255). One thread and no row/tile threading: the same bytes on any machine.
    """

    format_name = "webm"
    container = "webm"

    def __init__(self, path: str | os.PathLike[str], *, crf: int = 36):
        super().__init__(path, crf=crf)

    def codec_args(self) -> list[str]:
        return ["-c:v", "libvpx-vp9", "-crf", str(self.crf), "-b:v", "0", "-deadline", "good", "-cpu-used", "0",
                "-pix_fmt", "yuv420p", "-threads", "1", "-row-mt", "0", "-tile-columns", "0"]
