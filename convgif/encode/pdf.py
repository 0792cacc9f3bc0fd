"""PDF pages, one per key step: vector pages from figures the renderer drew, or raster pages from frames.

The renderer draws primitives onto a matplotlib Figure (`convgif.render.paint.mpl_figure`); this writer
only encodes those figures with matplotlib's PDF backend, imported on first use so that importing
`convgif.encode` stays free of matplotlib. Deterministic: no creation date, fixed font embedding.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from convgif.encode.atomic import atomic_write
from convgif.encode.buffered import check_frame
from convgif.encode.base import Writer
from convgif.encode.frame import Frame, WriterOptions

# TrueType (Type 42) fonts keep the text selectable and searchable; Type 3 (matplotlib's default) does not.
PDF_RC = {"pdf.fonttype": 42, "pdf.compression": 6}


def raster_figure(frame_rgb: np.ndarray, *, dpi: int):
    """A Figure showing an RGB frame pixel for pixel (`width / dpi` inches wide), for formats that take figures."""
    from matplotlib.figure import Figure

    check_frame(frame_rgb, None)
    height, width = frame_rgb.shape[:2]
    figure = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_axis_off()
    # interpolation "none": vector backends embed the pixels as they are, without resampling
    axes.imshow(frame_rgb, interpolation="none", aspect="auto")
    return figure


class PageWriter(Writer):
    """A writer of pages (pdf, svg): each frame as vectors where it can be drawn so, else as its pixels."""

    dpi: int

    def write_figure(self, figure) -> None:
        raise NotImplementedError

    def write(self, frame_rgb: np.ndarray, duration_ms: float = 0) -> None:
        """A page showing an RGB frame as an image at `dpi` (for pictures that exist only as pixels)."""
        del duration_ms
        self.write_figure(raster_figure(frame_rgb, dpi=self.dpi))

    def write_frame(self, frame: Frame) -> None:
        if frame.vector is None:
            self.write(frame.pixels)
        else:
            self.write_figure(frame.vector(self.dpi))


class PdfWriter(PageWriter):
    """`with PdfWriter(path, dpi=150) as w: w.write_figure(figure)` (vector) or `w.write(frame, ms)` (raster).

    One page per call, in order; each page is its figure's size. The file appears only when the writer
    finishes without error.
    """

    def __init__(self, path: str | os.PathLike[str], *, dpi: int = 150):
        self.path = Path(path)
        self.dpi = dpi
        self.pages = 0
        self._pdf = None
        self._cleanup: ExitStack | None = None

    def setup(self) -> None:
        from matplotlib.backends.backend_pdf import PdfPages

        with ExitStack() as stack:
            file = stack.enter_context(atomic_write(self.path, "wb"))
            self._pdf = PdfPages(file, metadata={"CreationDate": None, "Creator": "convgif"})
            self._cleanup = stack.pop_all()

    @classmethod
    def open(cls, path: str | os.PathLike[str], options: WriterOptions) -> PdfWriter:
        return cls(path, dpi=options.dpi)

    def write_figure(self, figure) -> None:
        """Add one page drawn from a matplotlib Figure (vector: rectangles and text stay shapes)."""
        if self._pdf is None:
            raise RuntimeError("PdfWriter.write_figure called outside its `with` block")
        import matplotlib

        with matplotlib.rc_context(PDF_RC):
            self._pdf.savefig(figure)
        self.pages += 1

    def finish(self) -> None:
        if self._cleanup is None:
            raise RuntimeError("PdfWriter.finish called without setup (or twice)")
        cleanup, self._cleanup = self._cleanup, None
        with cleanup:
            if self.pages == 0:
                raise ValueError(f"no pages were written to {self.path}")
            import matplotlib

            with matplotlib.rc_context(PDF_RC):
                self._pdf.close()
        self._pdf = None

    def abort(self, exc_type=None, exc=None, traceback=None) -> None:
        """Drop the partial file; the destination keeps its previous content (or stays absent)."""
        cleanup, self._cleanup, self._pdf = self._cleanup, None, None
        if cleanup is not None:
            cleanup.__exit__(exc_type or RuntimeError, exc or RuntimeError("aborted"), traceback)

