"""The writer protocol every format follows: setup, write, finish (or abort), and a context manager
that always ends with finish on success or abort on an exception (as matplotlib's writers do)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from convgif.encode.frame import Frame, WriterOptions


class Writer:
    """Base of the writers: subclasses implement setup(), write(...), finish() and abort(...).

    `open(path, options)` is the one constructor the pipeline calls (each format's record names its writer);
    `write_frame(frame)` is what it hands each picture to.
    """

    @classmethod
    def open(cls, path: str | os.PathLike[str], options: WriterOptions) -> Writer:
        return cls(path)

    def write_frame(self, frame: Frame) -> None:
        self.write(frame.pixels, frame.duration_ms)

    def write(self, frame_rgb, duration_ms: float) -> None:
        raise NotImplementedError

    def setup(self) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        raise NotImplementedError

    def abort(self, exc_type=None, exc=None, traceback=None) -> None:
        raise NotImplementedError

    def __enter__(self):
        try:
            self.setup()
        except BaseException as error:  # an interrupt during setup too: drop whatever setup had created
            self.abort(type(error), error, error.__traceback__)
            raise
        return self

    def __exit__(self, exc_type, exc, traceback) -> bool:
        if exc_type is None:
            self.finish()
        else:
            self.abort(exc_type, exc, traceback)
        return False
