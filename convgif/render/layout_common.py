"""Pieces every frame layout shares: cell grids, number fitting, legend flow, wrapped text, arithmetic lines, palettes."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from convgif.render.fonts import text_width
from convgif.render.primitives import ELLIPSIS, TIMES, Box, Primitive, Rect, Text, cell_text_baseline
from convgif.render.theme import RGB, Theme, mix

MARGIN = 14
MIN_GAP = 22  # between columns
MAX_GAP = 64
MAX_CELL = 40
MIN_KERNEL_CELL = 22  # weights stay legible even when the input grid is dense
MAX_KERNEL_CELL = 32
MIN_VALUE_CELL = 16  # below this, cells carry no numbers
MAX_LANES_HEIGHT = 1000
TITLE_SIZE, SUB_SIZE, LABEL_SIZE, LEGEND_SIZE, SUM_SIZE, ARITH_SIZE, CAPTION_SIZE = 17, 12, 12, 11, 13, 13, 13
LABEL_H = 17  # label line above a grid
SLOT_GAP = 12  # between stacked grids
LANE_PAD = 7
LANE_GAP = 8
ARITH_LINE = 20
LEGEND_ROW = 19
COUNTER_ROOM = 130  # right of the first header line, for "step 123 / 456"
RAMP_STEPS = 6
MAX_PALETTE = 250

LegendItem = tuple[str, Callable[[Box], list[Primitive]]]


def shape_text(sizes: Iterable[int]) -> str:
    return TIMES.join(str(n) for n in sizes)


def darker(colour: RGB) -> RGB:
    """A group colour dark enough to read as 12 px text on a pale lane."""
    return mix(colour, (0, 0, 0), 0.62)


def fitting_size(strings: list[str], cell: int, *, largest: int = 15, bold: bool = False) -> int | None:
    """The largest font size (px) at which every string fits inside a cell, or None when numbers must hide."""
    if cell < MIN_VALUE_CELL:
        return None
    size = min(largest, int(cell * 0.5))
    widest = max(strings, key=len) if strings else "0"
    candidates = sorted({s for s in strings if len(s) >= len(widest) - 1}) or [widest]
    while size >= 8:
        if max(text_width(s, size, bold) for s in candidates) <= cell - 3:
            return size
        size -= 1
    return None


@dataclass(frozen=True, slots=True)
class Grid:
    """A grid of cells on screen: top-left corner, rows x cols, cell size in px."""

    x: int
    y: int
    rows: int
    cols: int
    cell: int

    def box(self, row: int, col: int) -> Box:
        """Cell box including both its border lines (neighbours share a line)."""
        c = self.cell
        return (self.x + col * c, self.y + row * c, self.x + (col + 1) * c + 1, self.y + (row + 1) * c + 1)

    def interior(self, row: int, col: int) -> Box:
        x0, y0, x1, y1 = self.box(row, col)
        return (x0 + 1, y0 + 1, x1 - 1, y1 - 1)

    def span(self, rows: Iterable[int], cols: Iterable[int]) -> Box:
        """The box around the cells from (min row, min col) to (max row, max col), border lines included."""
        rows, cols = list(rows), list(cols)
        x0, y0, _, _ = self.box(min(rows), min(cols))
        _, _, x1, y1 = self.box(max(rows), max(cols))
        return (x0, y0, x1, y1)

    @property
    def outer(self) -> Box:
        return (self.x, self.y, self.x + self.cols * self.cell + 1, self.y + self.rows * self.cell + 1)


def cell_text(grid: Grid, row: int, col: int, text: str, size: int, colour: RGB, *, bold: bool = False) -> Text:
    """A number centred in a cell."""
    x0, y0, x1, y1 = grid.box(row, col)
    return Text((x0 + x1) // 2, cell_text_baseline(y0, y1, size), text, size, colour, align="center", bold=bold)


def outline(box: Box, colour: RGB, width: int) -> Rect:
    """An outline just outside a cell span's border lines (the window, the current cell)."""
    x0, y0, x1, y1 = box
    grow = width // 2
    return Rect((x0 - grow, y0 - grow, x1 + grow, y1 + grow), edge=colour, line_width=width)


def pretty_formula(formula: str) -> str:
    """A geometry formula as typeset text: `×` for `*`, a true minus sign for `-`."""
    return formula.replace("*", TIMES).replace(" - ", " \u2212 ").replace("-", "\u2212")


def first_fitting(candidates: list[str], size: int, width: int) -> str:
    """The first of `candidates` (longest first) that fits in `width` px at `size`, else the last."""
    for text in candidates:
        if text_width(text, size) <= width:
            return text
    return candidates[-1]


def wrap_text(text: str, size: int, width: int) -> list[str]:
    """Greedy word wrap of each paragraph of `text` into lines at most `width` px wide."""
    lines: list[str] = []
    for paragraph in text.splitlines():
        line = ""
        for word in paragraph.split():
            trial = f"{line} {word}".strip()
            if line and text_width(trial, size) > width:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
    return [line for line in lines if line] if text.strip() else []


def flow_legend(items: list[LegendItem], top: int, width: int) -> list[tuple[int, int, str, Callable]]:
    """Legend entries (swatch + label) flowed left to right, wrapping at the frame width: (y, x, label, make)."""
    rows, x, y = [], MARGIN, top
    for label, make in items:
        w = 14 + 5 + math.ceil(text_width(label, LEGEND_SIZE)) + 16
        if x + w > width - MARGIN and x > MARGIN:
            x, y = MARGIN, y + LEGEND_ROW
        rows.append((y, x, label, make))
        x += w
    return rows


def legend_primitives(rows, theme: Theme) -> list[Primitive]:
    out: list[Primitive] = []
    for y, x, label, make in rows:
        out += make((x, y, x + 14, y + 14))
        out.append(Text(x + 19, y + 11, label, LEGEND_SIZE, theme.muted_text))
    return out


def legend_height(rows) -> int:
    return len({row_y for row_y, *_ in rows}) * LEGEND_ROW


def elide(terms: list[str], prefix: str, tail: str, result: str, room: float, joiner: str = " + ",
          ) -> tuple[str, str]:
    """`prefix t1 + t2 + … + tn tail` with the middle terms replaced by their count when wider than `room`."""
    room = room - text_width(result, ARITH_SIZE, True) - 4
    body = prefix + joiner.join(terms) + tail
    keep = len(terms)
    while text_width(body, ARITH_SIZE) > room and keep > 2:
        keep -= 1
        head, back = terms[: (keep + 1) // 2], terms[len(terms) - keep // 2:]
        hidden = len(terms) - len(head) - len(back)
        body = (prefix + joiner.join(head) + f"{joiner}{ELLIPSIS}({hidden} more){ELLIPSIS}{joiner}"
                + joiner.join(back) + tail)
    return body, result


def line_texts(x: float, y: float, text: str, size: int, colour: RGB, *, bold: bool = False) -> list[Text]:
    """A long line as one Text per word, each placed where Pillow's advances put it.

    Both painters then agree on every word's start; only glyphs inside a word can drift apart, where a single
    long Text accumulates matplotlib's and Pillow's different advances over the whole line.
    """
    out: list[Text] = []
    start = 0
    for word in text.split(" "):
        if word:
            out.append(Text(x + text_width(text[:start], size, bold), y, word, size, colour, bold=bold))
        start += len(word) + 1
    return out


def arith_texts(lines: list[tuple[str, str]], top: int, theme: Theme, *, emphasise_last: bool,
                by_word: bool = False) -> list[Primitive]:
    """Arithmetic lines under the grids: a body in text colour, then its result in bold."""
    out: list[Primitive] = []
    for i, (body, result) in enumerate(lines):
        y = top + ARITH_SIZE + i * ARITH_LINE
        if by_word:
            out += line_texts(MARGIN, y, body, ARITH_SIZE, theme.text)
        else:
            out.append(Text(MARGIN, y, body, ARITH_SIZE, theme.text))
        if result:
            last = emphasise_last and i == len(lines) - 1
            x = MARGIN + round(text_width(body, ARITH_SIZE))
            out.append(Text(x, y, result, ARITH_SIZE, theme.output_current if last else theme.accent, bold=True))
    return out


DENSE_RAMP_STEPS = 16  # text on the frame background: most anti-aliased pixels are there


def palette_with_ramps(fills: list[RGB], lines: list[RGB], pairs: list[tuple[RGB, RGB]],
                       dense_pairs: list[tuple[RGB, RGB]] = ()) -> list[RGB]:
    """<= 250 colours for one GIF palette: solid colours, then text-over-fill anti-aliasing ramps."""
    colours: list[RGB] = [*fills, *lines]
    for fg, bg in dense_pairs:
        colours += [mix(fg, bg, k / (DENSE_RAMP_STEPS - 1)) for k in range(DENSE_RAMP_STEPS)]
    for fg, bg in pairs:
        colours += [mix(fg, bg, k / (RAMP_STEPS - 1)) for k in range(RAMP_STEPS)]
    return list(dict.fromkeys(colours))[:MAX_PALETTE]


class Chrome:
    """What every frame has around its grids: title, subtitle, legend, step counter, arithmetic area, caption.

    Placed top to bottom: `header_bottom` is where the grids may start; `place_footer(y, arith_lines, notes)`
    puts the notes, the arithmetic lines and the caption under the grids and fixes the frame height.
    """

    def __init__(self, *, title: str | None, subtitle: str, legend: list[LegendItem], caption: str | None,
                 theme: Theme, width: int):
        self.theme, self.width, self.title, self.subtitle = theme, width, title, subtitle
        y = MARGIN
        self.title_baseline = y + TITLE_SIZE if title else None
        if title:
            y += TITLE_SIZE + 8
        # a long subtitle wraps; without a title the step counter shares its first line
        room = width - 2 * MARGIN - (0 if title else COUNTER_ROOM)
        self.subtitle_lines = wrap_text(subtitle, SUB_SIZE, room) or [""]
        self.sub_baseline = y + SUB_SIZE
        y += len(self.subtitle_lines) * (SUB_SIZE + 4) + 4
        self.legend_rows = flow_legend(legend, y, width)
        y += legend_height(self.legend_rows) + 6
        self.header_bottom = y
        self.caption_lines = wrap_text(caption or "", CAPTION_SIZE, width - 2 * MARGIN)
        self.arith_width = width - 2 * MARGIN

    def place_footer(self, y: int, arith_lines: int, notes: list[str] = ()) -> int:
        """Place notes, arithmetic and caption from `y` down; returns (and stores) the frame height."""
        self.notes = list(notes)
        self.notes_top = y
        y += len(self.notes) * ARITH_LINE + (6 if self.notes else 0)
        self.arith_top = y
        self.arith_lines = arith_lines
        y += arith_lines * ARITH_LINE + 6
        self.caption_top = y
        y += len(self.caption_lines) * (CAPTION_SIZE + 6)
        self.height = y + MARGIN
        return self.height

    @property
    def counter_baseline(self) -> int:
        return self.title_baseline if self.title_baseline is not None else self.sub_baseline

    def static(self) -> list[Primitive]:
        th, out = self.theme, []
        if self.title_baseline is not None:
            out.append(Text(MARGIN, self.title_baseline, self.title, TITLE_SIZE, th.text, bold=True))
        for i, line in enumerate(self.subtitle_lines):
            out.append(Text(MARGIN, self.sub_baseline + i * (SUB_SIZE + 4), line, SUB_SIZE, th.muted_text))
        out += legend_primitives(self.legend_rows, th)
        for i, note in enumerate(self.notes):
            out += line_texts(MARGIN, self.notes_top + ARITH_SIZE + i * ARITH_LINE, note, ARITH_SIZE, th.muted_text)
        for i, line in enumerate(self.caption_lines):
            out.append(Text(MARGIN, self.caption_top + CAPTION_SIZE + i * (CAPTION_SIZE + 6), line, CAPTION_SIZE,
                            th.muted_text))
        return out

    def counter(self, text: str) -> Text:
        return Text(self.width - MARGIN, self.counter_baseline, text, SUM_SIZE, self.theme.text, align="right",
                    bold=True)

    def arithmetic(self, lines: list[tuple[str, str]], *, emphasise_last: bool = True) -> list[Primitive]:
        return arith_texts(lines, self.arith_top, self.theme, emphasise_last=emphasise_last, by_word=True)

    def elide(self, terms: list[str], prefix: str, tail: str, result: str, joiner: str = " + ") -> tuple[str, str]:
        return elide(terms, prefix, tail, result, self.arith_width, joiner)
