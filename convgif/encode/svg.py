"""One SVG of one chosen step: a vector figure the renderer drew (or a frame embedded as an image), atomic.

Text is stored as paths, so the picture looks the same without the font installed; the file carries no
date and fixed element ids, so the same scene gives the same bytes.
"""

from __future__ import annotations

import os
from pathlib import Path


from convgif.encode.atomic import atomic_write
from convgif.encode.pdf import PageWriter

SVG_RC = {"svg.fonttype": "path", "svg.hashsalt": "convgif", "svg.image_inline": True}


class SvgWriter(PageWriter):
    """`with SvgWriter(path) as w: w.write_figure(figure)` (or `w.write(frame, ms)`): exactly one picture."""

    def __init__(self, path: str | os.PathLike[str], *, dpi: int = 96):  # 96: a frame pixel is a CSS pixel
        self.path = Path(path)
        self.dpi = dpi
        self._figure = None
        self._open = False

    def setup(self) -> None:
        self._open = True

    def write_figure(self, figure) -> None:
        if not self._open:
            raise RuntimeError("SvgWriter.write_figure called outside its `with` block")
        if self._figure is not None:
            raise ValueError(f"an SVG holds one picture; a second one was written to {self.path}")
        self._figure = figure

    def finish(self) -> None:
        if not self._open:
            raise RuntimeError("SvgWriter.finish called without setup (or twice)")
        self._open = False
        figure, self._figure = self._figure, None
        if figure is None:
            raise ValueError(f"no picture was written to {self.path}")
        import matplotlib

        with matplotlib.rc_context(SVG_RC), atomic_write(self.path, "wb") as file:
            figure.savefig(file, format="svg", metadata={"Date": None})

    def abort(self, exc_type=None, exc=None, traceback=None) -> None:
        self._open, self._figure = False, None

