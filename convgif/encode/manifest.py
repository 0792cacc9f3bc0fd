"""The layout manifest (`<scene>.layout.json`): what each frame shows and where, for tests and tools that read
frames without looking at pixels. The items come with each Frame (drawn by convgif.render.manifest)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from convgif.encode.atomic import atomic_write
from convgif.encode.base import Writer
from convgif.encode.frame import Frame, WriterOptions

SUFFIX = ".layout.json"


class LayoutWriter(Writer):
    """Collects each frame's items and writes them as one JSON file on finish."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.frames: list[dict] = []
        self.size: tuple[int, int] | None = None

    @classmethod
    def open(cls, path: str | os.PathLike[str], options: WriterOptions) -> Writer:
        return cls(path)

    def setup(self) -> None:
        self.frames, self.size = [], None

    def write_frame(self, frame: Frame) -> None:
        if frame.items is None:
            raise ValueError(f"{self.path}: a frame came without its layout items (only op scenes have them)")
        height, width = frame.pixels.shape[:2]
        self.size = (width, height)
        entry = {"index": len(self.frames), "step": frame.step, "duration_ms": frame.duration_ms}
        if frame.quiz:  # a quiz's question or answer frame (a scene that is not a quiz: no key, as before)
            entry["quiz"] = frame.quiz
        self.frames.append({**entry, "items": frame.items()})

    def finish(self) -> None:
        if self.size is None:
            raise ValueError(f"no frames were written to {self.path}")
        name = self.path.name
        scene = name[: -len(SUFFIX)] if name.endswith(SUFFIX) else self.path.stem
        manifest = {"scene": scene, "width": self.size[0], "height": self.size[1], "frames": self.frames}
        with atomic_write(self.path, "w") as file:
            json.dump(manifest, file, ensure_ascii=False, separators=(",", ":"))
            file.write("\n")

    def abort(self, exc_type=None, exc=None, traceback=None) -> None:
        self.frames = []
