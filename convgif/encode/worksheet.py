"""The worksheet writer: printable A4 exercise pages and their answer key (`<stem>.worksheet.pdf`), and the
answers as JSON for a course site (`<stem>.answers.json`).

A worksheet is not drawn from frames: it prints numbers. The pipeline hands this writer one `Frame` per variant
(the "variants" selection, see `convgif.formats`) whose `sheet` is a `SheetVariant`: plain text lines and number
grids, already written in the frames' notation by `convgif.worksheet` (which reads the engine's traces). This
module only lays those blocks out on pages with matplotlib's PDF backend, so `encode` stays free of `render` and
the numbers are never recomputed here. Question pages come as the variants arrive; the answer key, which starts on
a page of its own after every question page, and the JSON are written at finish. Both files appear together (each
written atomically) or neither does.
"""

from __future__ import annotations

import json
import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convgif.encode.atomic import atomic_write
from convgif.encode.base import Writer
from convgif.encode.frame import Frame, WriterOptions

FORMAT_VERSION = 1  # answers.json's layout; raise it when a key changes meaning
PAGE_MM = (210.0, 297.0)  # A4 portrait
MARGIN_MM = 15.0
MM_PER_PT = 25.4 / 72
FONT = "DejaVu Sans"  # matplotlib's own font: it has × and − (U+2212), and ships with matplotlib
TEXT_PT = 10.0
GRID_PT = 9.0  # digits in the number grids: legible printed (>= 8 pt)
CELL_H_MM = 6.0
MIN_CELL_W_MM = 7.0
GRID_GAP_MM = 7.0


@dataclass(frozen=True, slots=True)
class Line:
    """One paragraph: `pieces` are concatenated; a line that is too wide breaks between pieces (an arithmetic
    line's pieces are its terms: `3×(−1)`, ` + 2×0`), continuation lines indented."""

    pieces: tuple[str, ...]
    size: float = TEXT_PT
    bold: bool = False
    space_after_mm: float = 1.5  # blank room after it (a question's room to work)
    indent_mm: float = 0.0
    rule: bool = False  # a horizontal line above it (between variants in the answer key)


@dataclass(frozen=True, slots=True)
class Grid:
    """A labelled grid of numbers (as text): one kernel slice, one input channel, one output channel."""

    label: str
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Grids:
    """Grids laid side by side, wrapping onto the next row (and page) when the page is full."""

    grids: tuple[Grid, ...]
    space_after_mm: float = 3.0


Block = Line | Grids


@dataclass(frozen=True, slots=True)
class SheetVariant:
    """What a worksheet prints for one variant, and its entry in answers.json."""

    scene: str  # the scene file's stem, answers.json's "scene"
    title: str  # the worksheet's title (the scene's)
    questions: tuple[Block, ...]
    answers: tuple[Block, ...]
    record: dict[str, Any] = field(default_factory=dict)  # answers.json's entry, keys in a fixed order


def text(line: str, **options) -> Line:
    """A plain paragraph, breakable between its words."""
    words = line.split(" ")
    return Line(tuple(w if i == 0 else " " + w for i, w in enumerate(words)), **options)


class WorksheetWriter(Writer):
    """`with WorksheetWriter(path) as w: w.write_frame(frame)` per variant; `path` is the pdf, the answers.json
    goes beside it (`<stem>.answers.json` for `<stem>.worksheet.pdf`)."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        stem = self.path.name.removesuffix(".worksheet.pdf")
        self.json_path = self.path.with_name(f"{stem}.answers.json")
        self.variants: list[SheetVariant] = []

    @classmethod
    def open(cls, path: str | os.PathLike[str], options: WriterOptions) -> WorksheetWriter:
        return cls(path)

    def setup(self) -> None:
        self.variants = []

    def write_frame(self, frame: Frame) -> None:
        if not isinstance(frame.sheet, SheetVariant):
            raise TypeError("the worksheet writer takes the 'variants' selection's frames (a sheet each)")
        self.variants.append(frame.sheet)

    def finish(self) -> None:
        if not self.variants:
            raise ValueError(f"no variants were written to {self.path}")
        first = self.variants[0]
        answers = {"scene": first.scene, "format_version": FORMAT_VERSION,
                   "variants": [variant.record for variant in self.variants]}
        with ExitStack() as stack:
            pdf_file = stack.enter_context(atomic_write(self.path, "wb"))
            json_file = stack.enter_context(atomic_write(self.json_path, "w"))
            _write_pdf(pdf_file, self.variants)
            json_file.write(json.dumps(answers, indent=2, ensure_ascii=False) + "\n")

    def abort(self, exc_type=None, exc=None, traceback=None) -> None:
        self.variants = []  # nothing was opened on disk before finish


# ---- page layout ------------------------------------------------------------------------------------------------

def _write_pdf(file, variants: list[SheetVariant]) -> None:
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    with matplotlib.rc_context({"pdf.fonttype": 42, "pdf.compression": 6, "font.family": FONT}):
        with PdfPages(file, metadata={"CreationDate": None, "Creator": "convgif"}) as pdf:
            pages = _Pages(pdf, variants[0].title)
            for variant in variants:
                number = variant.record.get("variant", "")
                pages.new_page(f"Variant {number}: questions")
                for block in variant.questions:
                    pages.place(block)
            pages.new_page("Answer key")
            for variant in variants:
                pages.part = f"variant {variant.record.get('variant', '')}"
                for block in variant.answers:
                    pages.place(block)
            pages.close()


class _Pages:
    """A cursor flowing blocks down A4 pages (y in mm from the top), starting a page when one is full; every page
    has a header (the title and what the page holds) and a page number."""

    def __init__(self, pdf, title: str):
        from matplotlib.font_manager import FontProperties
        from matplotlib.textpath import TextToPath

        self.pdf, self.title = pdf, title
        self.figure = self.axes = None
        self.page = 0
        self.heading = ""
        self.part = ""  # what the answer key is on (its continued pages say which variant)
        self.y = MARGIN_MM
        self._measure = TextToPath()
        self._fonts, self._widths = {}, {}
        self._font = lambda size, bold: self._fonts.setdefault(
            (size, bold), FontProperties(family=FONT, size=size, weight="bold" if bold else "normal"))

    def width_mm(self, text: str, size: float, bold: bool = False) -> float:
        key = (text, size, bold)
        if key not in self._widths:
            width, _, _ = self._measure.get_text_width_height_descent(text, self._font(size, bold), ismath=False)
            self._widths[key] = width * MM_PER_PT
        return self._widths[key]

    def close(self) -> None:
        if self.figure is not None:
            self.pdf.savefig(self.figure)
            self.figure = None

    def new_page(self, heading: str) -> None:
        from matplotlib.figure import Figure

        self.close()
        self.page += 1
        self.heading = heading
        width, height = PAGE_MM
        self.figure = Figure(figsize=(width / 25.4, height / 25.4))
        self.axes = self.figure.add_axes((0, 0, 1, 1))
        self.axes.set_xlim(0, width)
        self.axes.set_ylim(height, 0)
        self.axes.set_axis_off()
        self._text(MARGIN_MM, MARGIN_MM, self.title, 9, colour="#555555")
        self._text(width - MARGIN_MM, MARGIN_MM, f"page {self.page}", 9, colour="#555555", align="right")
        self.y = MARGIN_MM + 9
        self._text(MARGIN_MM, self.y, heading, 15, bold=True)
        self.y += 8

    def _continue(self) -> None:
        """A fresh page for a block that no longer fits, under the same heading."""
        base = self.heading.split(" (continued)")[0]
        self.new_page(f"{base} (continued)" + (f": {self.part}" if self.part and base == "Answer key" else ""))

    def _text(self, x: float, y: float, line: str, size: float, *, bold: bool = False, colour: str = "black",
              align: str = "left") -> None:
        self.axes.text(x, y, line, fontsize=size, fontweight="bold" if bold else "normal", color=colour,
                       ha=align, va="baseline", fontfamily=FONT)

    def room(self) -> float:
        return PAGE_MM[1] - MARGIN_MM - self.y

    def place(self, block: Block) -> None:
        if isinstance(block, Line):
            self._line(block)
        else:
            self._grids(block)

    def _line(self, line: Line) -> None:
        width = PAGE_MM[0] - 2 * MARGIN_MM - line.indent_mm
        rows, current = [], ""
        for piece in line.pieces:
            trial = current + piece
            if current and self.width_mm(trial.rstrip(), line.size, line.bold) > width - (6 if rows else 0):
                rows.append(current.rstrip())
                current = piece.lstrip()
            else:
                current = trial
        rows.append(current.rstrip())
        height = line.size * MM_PER_PT * 1.35
        needed = height * len(rows) + (2 if line.rule else 0)
        if needed > self.room():
            self._continue()
        if line.rule:
            self.axes.plot([MARGIN_MM, PAGE_MM[0] - MARGIN_MM], [self.y, self.y], color="#999999", lw=0.6)
            self.y += 3
        for k, row in enumerate(rows):
            self.y += height
            self._text(MARGIN_MM + line.indent_mm + (6 if k else 0), self.y, row, line.size, bold=line.bold)
        self.y += line.space_after_mm

    def _grids(self, block: Grids) -> None:
        label_h = 5.0
        self.y += 1.5
        x = MARGIN_MM
        row_height = 0.0
        right = PAGE_MM[0] - MARGIN_MM
        for grid in block.grids:
            widest = max((self.width_mm(cell, GRID_PT) for row in grid.rows for cell in row), default=0)
            cell_w = max(MIN_CELL_W_MM, widest + 2.5)
            cols = max(len(row) for row in grid.rows)
            width = max(cell_w * cols, self.width_mm(grid.label, GRID_PT, bold=True))
            height = label_h + CELL_H_MM * len(grid.rows)
            if x > MARGIN_MM and x + width > right:  # next row of grids
                self.y += row_height + 4
                x, row_height = MARGIN_MM, 0.0
            if height > self.room():
                self._continue()
                x, row_height = MARGIN_MM, 0.0
            self._grid(grid, x, self.y, cell_w)
            x += width + GRID_GAP_MM
            row_height = max(row_height, height)
        self.y += row_height + block.space_after_mm

    def _grid(self, grid: Grid, x0: float, y0: float, cell_w: float) -> None:
        from matplotlib.collections import LineCollection

        self._text(x0, y0 + 3.5, grid.label, GRID_PT, bold=True)
        top = y0 + 5.0
        rows, cols = len(grid.rows), max(len(row) for row in grid.rows)
        right, bottom = x0 + cols * cell_w, top + rows * CELL_H_MM
        lines = [[(x0, top + r * CELL_H_MM), (right, top + r * CELL_H_MM)] for r in range(rows + 1)]
        lines += [[(x0 + c * cell_w, top), (x0 + c * cell_w, bottom)] for c in range(cols + 1)]
        self.axes.add_collection(LineCollection(lines, colors="#777777", linewidths=0.5))  # one path per grid
        for r, row in enumerate(grid.rows):
            for c, cell in enumerate(row):
                x, y = x0 + c * cell_w, top + r * CELL_H_MM
                self._text(x + cell_w / 2, y + CELL_H_MM / 2 + GRID_PT * MM_PER_PT * 0.36, cell, GRID_PT,
                           align="center")
