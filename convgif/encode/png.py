"""Numbered PNG frames (frame_0000.png, ...), each written atomically, plus a frames.json of durations."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
from PIL import Image

from convgif.encode.atomic import atomic_write
from convgif.encode.base import Writer
from convgif.encode.frame import WriterOptions
from convgif.encode.palette import Palette

FRAME_NAME = re.compile(r"^frame_(\d{4,})\.png$")


def frame_name(number: int) -> str:
    return f"frame_{number:04d}.png"


class PngFramesWriter(Writer):
    """Write each frame as `directory/frame_NNNN.png`; the same three verbs as `GifWriter`.

    With a palette, frames are stored as indexed PNGs (colours as `Palette.index` looks them up,
    and much smaller); without one, as RGB. Every frame is kept (no merging: a frame sequence is often
    fed to other tools that expect one file per step). `finish` writes `frames.json` with each file's
    duration and removes `frame_NNNN.png` files beyond the new count, left by an earlier, longer run.
    """

    def __init__(self, directory: str | os.PathLike[str], palette: Palette | None = None):
        self.directory = Path(directory)
        self.palette = palette
        self.durations_ms: list[float] = []  # one number per frame: the only state that grows
        self._size: tuple[int, int] | None = None
        self._open = False

    @classmethod
    def open(cls, path: str | os.PathLike[str], options: WriterOptions) -> Writer:
        """Frames into the folder `path`; a single picture (a still figure) is one PNG file at `path` instead."""
        return PngFileWriter(path) if options.frame_count == 1 else cls(path, options.palette)

    def setup(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._open = True

    def write(self, frame_rgb: np.ndarray, duration_ms: float) -> None:
        """Store one (H, W, 3) uint8 frame as the next numbered PNG."""
        if not self._open:
            raise RuntimeError("PngFramesWriter.write called outside its `with` block")
        if not duration_ms >= 0:
            raise ValueError(f"duration_ms must be >= 0, got {duration_ms}")
        if frame_rgb.dtype != np.uint8 or frame_rgb.ndim != 3 or frame_rgb.shape[2] != 3:
            raise ValueError(f"a frame must be an (H, W, 3) uint8 RGB array, got {frame_rgb.dtype} {frame_rgb.shape}")
        if self._size is None:
            self._size = frame_rgb.shape[:2]
        elif frame_rgb.shape[:2] != self._size:
            raise ValueError(f"frame size {frame_rgb.shape[:2]} differs from the first frame's {self._size} (H, W)")
        if self.palette is None:
            image = Image.fromarray(np.ascontiguousarray(frame_rgb))
        else:
            image = _indexed_image(self.palette.index(frame_rgb), self.palette)
        with atomic_write(self.directory / frame_name(len(self.durations_ms))) as file:
            image.save(file, format="PNG")
        self.durations_ms.append(float(duration_ms))

    def finish(self) -> None:
        """Write frames.json and remove stale numbered frames from an earlier run."""
        if not self.durations_ms:
            raise ValueError(f"no frames were written to {self.directory}")
        manifest = {
            "frames": [
                {"file": frame_name(number), "duration_ms": duration}
                for number, duration in enumerate(self.durations_ms)
            ]
        }
        with atomic_write(self.directory / "frames.json", "w") as file:
            json.dump(manifest, file, indent=1)
            file.write("\n")
        for entry in self.directory.iterdir():
            match = FRAME_NAME.match(entry.name)
            if match and int(match.group(1)) >= len(self.durations_ms):
                entry.unlink(missing_ok=True)

    def abort(self, exc_type=None, exc=None, traceback=None) -> None:
        """Stop without a manifest; frames already written stay (each one is complete)."""
        self._open = False

    def __enter__(self) -> PngFramesWriter:
        self.setup()
        return self

    def __exit__(self, exc_type, exc, traceback) -> bool:
        try:
            if exc_type is None:
                self.finish()
        finally:
            self.abort()
        return False


def _indexed_image(indices: np.ndarray, palette: Palette) -> Image.Image:
    """A mode "P" image of `indices` carrying exactly the palette's colours (no transparency entry)."""
    height, width = indices.shape
    image = Image.frombytes("P", (width, height), np.ascontiguousarray(indices).tobytes())
    image.putpalette(palette.colors.tobytes(), rawmode="RGB")
    return image


class PngFileWriter(Writer):
    """One picture as one RGB PNG file (optimized), written atomically: a still figure's `png` output."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._frame: np.ndarray | None = None

    def setup(self) -> None:
        self._frame = None

    def write(self, frame_rgb: np.ndarray, duration_ms: float = 0) -> None:
        if self._frame is not None:
            raise ValueError(f"a PNG file holds one picture; a second one was written to {self.path}")
        self._frame = frame_rgb

    def finish(self) -> None:
        if self._frame is None:
            raise ValueError(f"no picture was written to {self.path}")
        with atomic_write(self.path) as handle:
            Image.fromarray(self._frame).save(handle, format="PNG", optimize=True)

    def abort(self, exc_type=None, exc=None, traceback=None) -> None:
        self._frame = None
