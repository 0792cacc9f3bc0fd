"""Pieces every frame layout shares: text sizes per font scale, cell grids, number fitting, legend flow, wrapped
text (Chinese breaks between characters), arithmetic lines, palettes."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import numpy as np

from convgif.engine.notation import pads_text, shape_text  # the layouts take these from here
from convgif.render.fonts import coverage, dejavu_path, joined_width, piece_width, text_width
from convgif.render.fonts import kerning as fonts_kerning
from convgif.render.labels import label
from convgif.render.primitives import ELLIPSIS, Box, Mark, Primitive, Rect, Text, Veil, cell_text_baseline
from convgif.render.theme import RGB, Theme, mix

MARGIN = 14
MIN_GAP = 22  # between columns
MAX_GAP = 64
MAX_CELL = 40
MIN_KERNEL_CELL = 22  # weights stay legible even when the input grid is dense
MAX_KERNEL_CELL = 32
MIN_VALUE_CELL = 16  # below this, cells carry no numbers
MIN_DIGITS = 10  # px: no smaller digits in a cell (a projector's back row); numbers hide instead
MIN_TEXT = 10  # px: no smaller words on a slide (the back row): where a slide's numbers need smaller, they hide
MAX_LANES_HEIGHT = 1000
TITLE_SIZE, SUB_SIZE, LABEL_SIZE, LEGEND_SIZE, SUM_SIZE, ARITH_SIZE, CAPTION_SIZE = 17, 12, 12, 11, 13, 13, 13
LABEL_H = 17  # label line above a grid
SLOT_GAP = 12  # between stacked grids
LANE_PAD = 7
LANE_GAP = 8
ARITH_LINE = 20
LEGEND_ROW = 19
RAMP_STEPS = 6
MAX_PALETTE = 250

LegendItem = tuple[str, Callable[[Box], list[Primitive]]]


def unravel(index: int, shape) -> tuple[int, ...]:
    """`np.unravel_index(index, shape)` for one index in range, as Python ints (NumPy's call costs ~10 µs, and a
    step frame and every done cell ask)."""
    place = []
    for size in reversed(shape):  # C order: the last dimension fastest
        index, at = divmod(int(index), int(size))
        place.append(at)
    return tuple(reversed(place))


def distinct_values(array) -> np.ndarray:
    """`np.unique(array)`: its distinct values, sorted, NaNs as one, computed as NumPy does (sort, then keep each
    value unlike the one before) without `np.unique`'s import of numpy.ma (~20 ms of a small render's start)."""
    values = np.sort(np.asarray(array).ravel())
    keep = np.empty(values.shape, dtype=bool)
    keep[:1] = True
    if values.size and values.dtype.kind in "cfmM" and np.isnan(values[-1]):
        first_nan = int(np.searchsorted(values, values[-1], side="left"))
        keep[1:first_nan] = values[1:first_nan] != values[:first_nan - 1]
        keep[first_nan] = True
        keep[first_nan + 1:] = False
    else:
        keep[1:] = values[1:] != values[:-1]
    return values[keep]


def _scaled(px: int, scale: float) -> int:
    return int(px * scale + 0.5)  # half up, never banker's rounding: 1.25 x 14 is 18 on every axis


@dataclass(frozen=True, slots=True)
class Sizes:
    """Every text size (px) of a frame and the room that goes with it, at one `[render] font_scale`.

    Line pitches, legend swatches and the largest cells grow with the text, so scaled words and digits still fit;
    small paddings between boxes stay as they are.
    """

    title: int
    sub: int
    label: int
    legend: int
    sum: int
    arith: int
    caption: int
    tag: int  # the "max" tag inside a pool's selected cell
    label_h: int
    arith_line: int
    legend_row: int
    swatch: int
    max_cell: int
    min_kernel_cell: int
    max_kernel_cell: int
    digits: int  # the largest digit size in a cell

    @classmethod
    def at(cls, scale: float = 1.0) -> Sizes:
        base = dict(title=TITLE_SIZE, sub=SUB_SIZE, label=LABEL_SIZE, legend=LEGEND_SIZE, sum=SUM_SIZE,
                    arith=ARITH_SIZE, caption=CAPTION_SIZE, tag=10, label_h=LABEL_H, arith_line=ARITH_LINE,
                    legend_row=LEGEND_ROW, swatch=14, max_cell=MAX_CELL,
                    min_kernel_cell=MIN_KERNEL_CELL, max_kernel_cell=MAX_KERNEL_CELL, digits=15)
        return cls(**{name: _scaled(px, scale) for name, px in base.items()})


    def for_slides(self) -> Sizes:
        """A fixed-shape frame's sizes (render.aspect): cells may grow twice as large where the slide has room, and
        digits with them, up to a quarter above the title's size (numbers are what the back row reads); a pool's "max" tag is
        as large as the legend's words."""
        return replace(self, max_cell=self.max_cell * 2, max_kernel_cell=self.max_kernel_cell * 3 // 2,
                       digits=min(round(self.title * 1.25), round(self.digits * 1.5)), tag=max(self.tag, self.legend))


UNSCALED = Sizes.at(1.0)
WORD_SIZES = ("title", "sub", "label", "legend", "sum", "arith", "caption")  # the Sizes that set words


def lowest_text_scale(min_px: int = MIN_TEXT) -> float:
    """The smallest font scale at which every word of a frame is at least `min_px` (`Sizes.at` rounds half up)."""
    return (min_px - 0.5) / min(getattr(UNSCALED, name) for name in WORD_SIZES)



def darker(colour: RGB) -> RGB:
    """A group colour dark enough to read as 12 px text on a pale lane."""
    return mix(colour, (0, 0, 0), 0.62)


WINDOW_INSET = 4  # px each side: the window's 3 px line covers a cell's border and 1 px in (`outline`), then 2 px clear


def fitting_size(strings: list[str], cell: int, *, largest: int = 15, bold: bool = False, windowed: bool = False
                 ) -> int | None:
    """The largest font size (px) at which every string fits inside a cell, or None when numbers must hide.
    `windowed`: an input cell, which the window's line may frame: its numbers keep clear of that line (a 3-digit
    pixel value's first and last digits touched it)."""
    return _fitting_size(tuple(strings), cell, largest, bold, 2 * WINDOW_INSET if windowed else 3)


@functools.lru_cache(maxsize=4096)  # a slide's layout tries many cell sizes for each of its arrangements
def _fitting_size(strings: tuple[str, ...], cell: int, largest: int, bold: bool, margin: int) -> int | None:
    if cell < MIN_VALUE_CELL:
        return None
    size = min(largest, int(cell * 0.5))
    widest = max(strings, key=len) if strings else "0"
    candidates = sorted({digit_pattern(s) for s in strings if len(s) >= len(widest) - 1}) or [widest]
    while size >= MIN_DIGITS:
        if max(text_width(s, size, bold) for s in candidates) <= cell - margin:
            return size
        size -= 1
    return None


_DIGIT = re.compile("[0-9]")


def digit_pattern(text: str) -> str:
    """`text` with every digit as 0 when DejaVu sets it: its digits all have one advance and no kerning pair (every
    size, weight and mode; tests/test_fonts.py holds this), so the pattern is exactly as wide as the text. A map
    of 100,000 values has a few dozen patterns, so fitting its numbers measures those, not every value."""
    return _DIGIT.sub("0", text) if _in_dejavu(text) else text


@dataclass(frozen=True, slots=True)
class Grid:
    """A grid of cells on screen: top-left corner, rows x cols, cell size in px; `pitch` > cell spaces the columns
    apart (a strided 1D output under the inputs it is computed for; see layout.output_places_1d)."""

    x: int
    y: int
    rows: int
    cols: int
    cell: int
    pitch: int = 0  # px from one column to the next; 0: columns share their border lines

    @property
    def spaced(self) -> bool:
        return self.pitch > self.cell

    def box(self, row: int, col: int) -> Box:
        """Cell box including both its border lines (neighbours share a line unless spaced)."""
        c = self.cell
        x = self.x + col * (self.pitch or c)
        return (x, self.y + row * c, x + c + 1, self.y + (row + 1) * c + 1)

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
        return self.span((0, self.rows - 1), (0, self.cols - 1))


def cell_text(grid: Grid, row: int, col: int, text: str, size: int, colour: RGB, *, bold: bool = False) -> Text:
    """A number centred in a cell."""
    x0, y0, x1, y1 = grid.box(row, col)
    return Text((x0 + x1) // 2, cell_text_baseline(y0, y1, size), text, size, colour, align="center", bold=bold)


def outline(box: Box, colour: RGB, width: int) -> Rect:
    """An outline just outside a cell span's border lines (the window, the current cell)."""
    x0, y0, x1, y1 = box
    grow = width // 2
    return Rect((x0 - grow, y0 - grow, x1 + grow, y1 + grow), edge=colour, line_width=width)


def first_fitting(candidates: list[str], size: int, width: int) -> str:
    """The first of `candidates` (longest first) that fits in `width` px at `size`, else the last."""
    for text in candidates:
        if text_width(text, size) <= width:
            return text
    return candidates[-1]


# a Chinese (CJK) character with any closing punctuation after it: a line may break before it, never inside
CJK_UNIT = r"[\u2e80-\u9fff\uf900-\ufaff][\u3001\u3002\uff09\uff0c\uff1a\uff1b\uff01\uff1f\u300b\u300d\u300f\u3011]*"


@functools.cache  # compiled on first use (a paragraph with Chinese): a class of ~30,000 characters takes ~3 ms
def _pattern(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def has_cjk(text: str) -> bool:
    """Whether `text` has a CJK character or CJK punctuation (U+2E80-9FFF, U+F900-FAFF, U+FF00-FFEF)."""
    return not text.isascii() and any("\u2e80" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"
                                      or "\uff00" <= ch <= "\uffef" for ch in text)


def cjk_wrap(paragraph: str, fits: Callable[[str], bool]) -> list[str]:
    """Greedy wrap of a paragraph with Chinese in it: breaks at spaces and between characters (which Chinese
    writes without spaces), each line as long as `fits` allows."""
    tokens = _pattern(r"\s+|" + CJK_UNIT + r"|[^\s\u2e80-\u9fff\uf900-\ufaff]+").findall(paragraph)
    lines: list[str] = []
    line = ""
    for token in tokens:
        trial = line + token
        if line.strip() and not token.isspace() and not fits(trial.rstrip()):
            lines.append(line.rstrip())
            line = token
        else:
            line = trial if line or not token.isspace() else ""
    if line.strip():
        lines.append(line.rstrip())
    return lines


def greedy_wrap(text: str, fits: Callable[[str], bool]) -> list[str]:
    """Each paragraph (line) of `text` wrapped greedily, a line growing while `fits` allows: words stay whole (a
    word wider than any line gets one of its own), paragraphs with Chinese also break between characters
    (`cjk_wrap`). An empty paragraph gives an empty line. Frames and still figures differ only in `fits`."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        if has_cjk(paragraph):
            lines += cjk_wrap(paragraph, fits) or [""]
            continue
        line = ""
        for unit in unbroken_units(paragraph):
            trial = f"{line} {unit}" if line else unit
            if fits(trial):
                line = trial
            elif line and fits(unit):
                lines.append(line)
                line = unit
            else:  # a unit longer than a line breaks between its own words after all, before an operator
                # a bracketed group too long for a line of its own breaks between its words after all
                pieces = [word for piece in _operands(unit)
                          for word in ([piece] if fits(piece) else _operands(piece, brackets=False))]
                for word in pieces:
                    trial = f"{line} {word}" if line else word
                    if line and not fits(trial):
                        lines.append(line)
                        line = word
                    else:
                        line = trial
        lines.append(line)
    return lines


SEPARATOR = "\u00b7"  # between the items of a list ("kernel 3 · stride 2"): a line may break after it, not before
OPERATORS = frozenset({"=", "+", "-", "\u2212", "\u00d7", "*", "/", "\u2192"})  # a line never breaks next to one


def _operands(unit: str, brackets: bool = True) -> list[str]:
    """`unit`'s words, each operator standing alone joined to the word after it, and (`brackets`) words inside
    brackets joined: a long sum breaks before a "+", never after it, never between "=" and the result, and never
    inside "(3 − 1)"."""
    out: list[str] = []
    depth = 0
    for word in unit.split(" "):
        if out and (out[-1] in OPERATORS or brackets and depth > 0):
            out[-1] += " " + word
        else:
            out.append(word)
        depth = max(0, depth + sum(word.count(c) for c in "([{") - sum(word.count(c) for c in ")]}"))
    return out


def _is_value(word: str) -> bool:
    """A number standing as the value of the word before it ("0", "3×3,", "−1"), not a label ("5×2:")."""
    digits = word.lstrip("\u2212-")
    return bool(digits[:1].isdigit()) and not word.endswith(":")


def unbroken_units(paragraph: str) -> list[str]:
    """`paragraph` split at the spaces a line may break at: not inside brackets, so a shape `(2, 7, 7)` or a
    formula `floor((7 + 2*1 - 1*(3-1) - 1) / 1)` stays whole; not right after a label ending in ":", which
    stays with what it labels (`W: floor(...)`); and not on either side of an operator standing alone, so
    `floor(...) + 1 = 8` keeps its result (a caption ended "... + 1 =" with "8" on the next line); nor between a
    word and the number that is its value (a heading ended "..., padding" with "0 ('valid')" on the next line); a
    list's separator "·" stays at the end of its line (a still's next line began "· output padding 1")."""
    units, current, depth = [], [], 0
    for word in paragraph.split(" "):
        if word == SEPARATOR and not current and units:  # ends the unit before it: no line starts with "·"
            units[-1] += f" {word}"
            continue
        if word in OPERATORS and not current and units:  # joins the unit before it
            current = [units.pop()]
        elif not current and units and units[-1][-1:].isalpha() and _is_value(word):  # "padding 0", "stride 2,"
            current = [units.pop()]
        current.append(word)
        depth = max(0, depth + sum(word.count(c) for c in "([{") - sum(word.count(c) for c in ")]}"))
        if depth == 0 and not word.endswith(":") and word not in OPERATORS:
            units.append(" ".join(current))
            current = []
    if current:
        units.append(" ".join(current))
    return units


def wrap_text(text: str, size: int, width: int, bold: bool = False) -> list[str]:
    """Greedy word wrap of each paragraph of `text` into lines at most `width` px wide (empty lines dropped)."""
    lines = greedy_wrap(text, lambda trial: text_width(trial, size, bold) <= width)
    return [line for line in lines if line] if text.strip() else []


def flow_legend(items: list[LegendItem], top: int, width: int, sz: Sizes = UNSCALED,
                ) -> list[tuple[int, int, str, Callable]]:
    """Legend entries (swatch + label) flowed left to right, wrapping at the frame width: (y, x, label, make)."""
    rows, x, y = [], MARGIN, top
    for label, make in items:
        w = sz.swatch + 5 + math.ceil(text_width(label, sz.legend)) + 16
        if x + w > width - MARGIN and x > MARGIN:
            x, y = MARGIN, y + sz.legend_row
        rows.append((y, x, label, make))
        x += w
    return rows


def legend_primitives(rows, theme: Theme, sz: Sizes = UNSCALED) -> list[Primitive]:
    out: list[Primitive] = []
    for y, x, label, make in rows:
        out.extend(legend_entry(x, y, label, make, theme, sz))
    return out


def swatch(**rect) -> Callable[[Box], list[Primitive]]:
    """A legend swatch drawn as one rectangle (`Rect` keywords: fill, edge, line_width, dashed) over its box."""
    return lambda box: [Rect(box, **rect)]


def gap_swatch(theme: Theme) -> Callable[[Box], list[Primitive]]:
    """The legend swatch of a dilation gap: an untouched input cell with the gap colour's inner outline."""
    return lambda box: [Rect(box, fill=theme.input, edge=theme.grid),
                        Rect((box[0] + 3, box[1] + 3, box[2] - 3, box[3] - 3), edge=theme.gap)]


def gap_marks(grid: "Grid", taps: set[tuple[int, int]], theme: Theme) -> list[Rect]:
    """The inner outline, in the gap colour, of every cell a dilated window skips: inside the span of its `taps`
    (row, col) but not one of them. Cells too small for an inner ring stay plain."""
    rows, cols = [r for r, _ in taps], [c for _, c in taps]
    out = []
    for r in range(min(rows), max(rows) + 1):
        for col in range(min(cols), max(cols) + 1):
            x0, y0, x1, y1 = grid.interior(r, col)
            if (r, col) not in taps and x1 - x0 > 8:
                out.append(Rect((x0 + 2, y0 + 2, x1 - 2, y1 - 2), edge=theme.gap))
    return out


def unread_cells(geometry) -> set[tuple[int, int]]:
    """(row, col) of every padded-input cell no window reads (1D: row 0): the rows and columns the stride steps
    past (c09's 6×6 with K 3, P 1, S 2 never reads its bottom and right padding)."""
    unread = []
    for size, n_out, k, s, d in zip(geometry.padded_input_shape[1:], geometry.output_shape[1:],
                                    geometry.kernel_size, geometry.stride, geometry.dilation):
        taps = {o * s + d * j for o in range(n_out) for j in range(k)}
        unread.append({i for i in range(size) if i not in taps})
    if len(unread) == 1:
        return {(0, c) for c in unread[0]}
    (rows, cols), (h, w) = unread, geometry.padded_input_shape[1:]
    return {(r, c) for r in range(h) for c in range(w) if r in rows or c in cols}


UNREAD_PITCH = 4  # cells no window reads: 1 px vertical stripes every 4 px


def unread_stripes(interior: Box, theme: Theme) -> list[Rect]:
    """The look of a cell no window reads: short vertical stripes in the padding-edge colour along the top and
    bottom of its `interior`, clear of the number in its middle."""
    x0, y0, x1, y1 = interior
    band = max(2, (y1 - y0) // 4)
    return [Rect((x, top, x + 1, top + band), fill=theme.padding_edge)
            for x in range(x0 + 3, x1 - 1, UNREAD_PITCH) for top in (y0, y1 - band)]


def unread_legend(theme: Theme, say: Callable[[str], str]) -> LegendItem:
    """The legend entry of `unread_stripes`."""
    def make(box: Box) -> list[Primitive]:
        x0, y0, x1, y1 = box
        return [Rect(box, fill=theme.input, edge=theme.grid), *unread_stripes((x0 + 1, y0 + 1, x1 - 1, y1 - 1), theme)]
    return say("read_by_no_window"), make


def faded_legend(theme: Theme, say: Callable[[str], str]) -> LegendItem:
    """The legend entry of a veil: an input cell faded as a frame fades the channels its step does not use (the flat
    view's other group lanes, a volume's front face while the step works on a channel behind it)."""
    return say("not_this_step"), lambda box: [Rect(box, fill=theme.input, edge=theme.grid),
                                                   Veil(box, theme.background, theme.dim_alpha)]


def fills_taps(theme: Theme, geometry) -> bool:
    """Whether a window's tapped cells are filled. Always with `[render] taps = "fill"`; by default only when the
    window has dilation gaps, where the fill tells taps from the cells it skips. A window without gaps taps every
    cell inside its outline, so the outline alone marks them, and GIFs are ~15% smaller without the fill."""
    return theme.fill_dense_taps or geometry.window_has_gaps


def window_legend(theme: Theme, geometry, say: Callable[[str], str], tapped_key: str = "tapped") -> list:
    """Legend entries for the window: its outline, the tapped-cell fill when drawn, the dilation gap when any."""
    items = [(say("window"), swatch(edge=theme.window, line_width=3))]
    if fills_taps(theme, geometry):
        items.append((say(tapped_key), swatch(fill=theme.tap, edge=theme.grid)))
    if geometry.window_has_gaps:
        items.append((say("dilation_gap"), gap_swatch(theme)))
    return items


def legend_entry(x: int, y: int, label: str, make: Callable, theme: Theme, sz: Sizes = UNSCALED) -> list[Primitive]:
    """A swatch and its label; the label's baseline sits 3 px above the swatch's bottom edge."""
    entry = Mark("legend", entry=label)
    return [*(replace(part, meta=entry) for part in make((x, y, x + sz.swatch, y + sz.swatch))),
            Text(x + sz.swatch + 5, y + sz.swatch - 3, label, sz.legend, theme.muted_text, meta=entry)]


def legend_height(rows, sz: Sizes = UNSCALED) -> int:
    return len({row_y for row_y, *_ in rows}) * sz.legend_row


def elide(terms: list[str], prefix: str, tail: str, result: str, room: float, joiner: str = " + ", *,
          size: int = ARITH_SIZE, language: str = "en", by_word: bool = False) -> tuple[str, str]:
    """`prefix t1 + t2 + … + tn tail` with the middle terms replaced by their count when wider than `room`.

    `by_word`: the line is drawn by `line_texts`, so it is measured as that sets it.
    """
    room = room - text_width(result, size, True) - 4
    line = None if by_word else _ElidedLine(terms, prefix, tail, joiner, size)
    body = prefix + joiner.join(terms) + tail
    keep = len(terms)
    width = by_word_width(body, size) if by_word else line.width(len(terms), "", 0)
    while width > room and keep > 2:
        keep -= 1
        head, back = terms[: (keep + 1) // 2], terms[len(terms) - keep // 2:]
        more = label(language, "more_terms", count=len(terms) - len(head) - len(back))
        middle = f"{joiner}{ELLIPSIS}{more}{ELLIPSIS}{joiner}"
        body = prefix + joiner.join(head) + middle + joiner.join(back) + tail
        width = by_word_width(body, size) if by_word else line.width(len(head), middle, len(back))
    return body, result


class _ElidedLine:
    """`text_width` of `prefix + joiner.join(terms[:h]) + middle + joiner.join(terms[n - b:]) + tail` for any h, b
    and middle, exactly, without measuring that line: the widths of the head and back runs are summed once as they
    grow term by term (piece widths and the kerning across each join, as fonts.joined_width), so each trial line of
    `elide` costs a few additions; measuring each trial line whole was most of a step frame's drawing time. The whole
    line is summed from its pieces as well: every step's line is new text (Pillow measured each, ~1 ms for a 25-term
    line in two modes), but made of terms seen before."""

    def __init__(self, terms: list[str], prefix: str, tail: str, joiner: str, size: int):
        self.terms, self.prefix, self.tail, self.joiner, self.size = terms, prefix, tail, joiner, size
        self.text = prefix + joiner.join(terms) + tail
        self.dejavu = _in_dejavu(self.text)  # then so is every shorter line made of its pieces: one font sets all
        self.runs = None

    def width(self, head: int, middle: str, back: int) -> float:
        if not middle:  # the whole line, from its pieces too: a step's line is new text, its terms are not
            pieces = [self.prefix]
            for i, term in enumerate(self.terms):
                pieces += [self.joiner, term] if i else [term]
            return joined_width(pieces + [self.tail], self.size)
        if not (self.dejavu and _in_dejavu(middle)):  # another font may set this line: from its pieces as they are
            terms, joiner = self.terms, self.joiner
            return joined_width([self.prefix, joiner.join(terms[:head]), middle,
                                 joiner.join(terms[len(terms) - back:]), self.tail], self.size)
        if self.runs is None:
            self.runs = self._runs()
        (head_width, last), (back_width, first) = self.runs[0][head], self.runs[1][back]
        smooth, crisp = _widths(self.size, middle)
        smooth, crisp = smooth + head_width[0] + back_width[0], crisp + head_width[1] + back_width[1]
        for pair in (last + middle[0] if last else "", middle[-1] + first if first else ""):
            if pair:
                kern = _widths(self.size, pair, kerning=True)
                smooth, crisp = smooth + kern[0], crisp + kern[1]
        return max(smooth, crisp)  # as text_width: the room the line needs drawn smooth or crisp

    def _runs(self):
        """((smooth, crisp) width, last char) of `prefix + joiner.join(terms[:h])` for every h a trial line can
        keep, and ((smooth, crisp) width, first char) of `joiner.join(terms[n - b:]) + tail` for every b."""
        size, joiner, terms = self.size, self.joiner, self.terms

        def grow(run, piece, at_end):
            if not piece:
                return run
            (smooth, crisp), edge = run
            add = _widths(size, piece)
            smooth, crisp = smooth + add[0], crisp + add[1]
            if edge:
                kern = _widths(size, edge + piece[0] if at_end else piece[-1] + edge, kerning=True)
                smooth, crisp = smooth + kern[0], crisp + kern[1]
            return (smooth, crisp), piece[-1] if at_end else piece[0]

        heads = [grow(((0.0, 0.0), ""), self.prefix, True)]
        for i, term in enumerate(terms[: len(terms) // 2]):  # a trial line keeps at most n // 2 terms in front
            heads.append(grow(grow(heads[-1], joiner, True) if i else heads[-1], term, True))
        backs = [grow(((0.0, 0.0), ""), self.tail, False)]
        for i, term in enumerate(reversed(terms[len(terms) - (len(terms) - 1) // 2:])):  # and (n - 1) // 2 behind
            backs.append(grow(grow(backs[-1], joiner, False) if i else backs[-1], term, False))
        return heads, backs


@functools.lru_cache(maxsize=1)
def _dejavu_chars() -> frozenset[str]:
    return frozenset(map(chr, coverage(dejavu_path(False))))


def _in_dejavu(text: str) -> bool:
    """Whether DejaVu draws every character of `text` (then fonts.font_path sets it in DejaVu)."""
    return text.isascii() or _dejavu_chars().issuperset(text)


def _widths(size: int, text: str, kerning: bool = False) -> tuple[float, float]:
    """(smooth, crisp) advance width of `text` in DejaVu; `kerning`: what setting its two characters together adds
    to their own advances."""
    path = dejavu_path(False)
    if kerning:
        return fonts_kerning(path, size, text, False), fonts_kerning(path, size, text, True)
    return piece_width(path, size, text, False), piece_width(path, size, text, True)


def by_word_width(text: str, size: int, bold: bool = False, *, crisp: bool = False) -> float:
    """How wide `line_texts` sets `text`: word by word, each in its own font, a space between each two."""
    words = text.split(" ")
    space = text_width(" ", size, bold, crisp=crisp)
    return sum([text_width(word, size, bold, crisp=crisp) for word in words]) + (len(words) - 1) * space


def line_texts(x: float, y: float, text: str, size: int, colour: RGB, *, bold: bool = False,
               crisp: bool = False, meta: Mark | None = None) -> list[Text]:
    """A long line as one Text per word, each placed where Pillow's advances put it.

    Both painters then agree on every word's start; only glyphs inside a word can drift apart, where a single
    long Text accumulates matplotlib's and Pillow's different advances over the whole line. `crisp`: the words
    are drawn one-bit, whose hinted advances are up to ~10% narrower, so they are placed by those.
    """
    out: list[Text] = []
    # Each word's width is measured on its own (Chinese words in the CJK font, the rest in DejaVu) and the words
    # are laid end to end with a space's advance between them: a line costs one cached measure per word, where
    # measuring every prefix cost one per word of ever longer text (a quarter of a frame's drawing time).
    cursor = x
    space = text_width(" ", size, bold, crisp=crisp)
    for word in text.split(" "):
        if word:
            out.append(Text(cursor, y, word, size, colour, bold=bold, meta=meta))
            cursor += text_width(word, size, bold, crisp=crisp)
        cursor += space
    return out


def arith_texts(lines: list[tuple[str, str]], top: int, theme: Theme, *, emphasise_last: bool,
                by_word: bool = False, sz: Sizes = UNSCALED) -> list[Primitive]:
    """Arithmetic lines under the grids: a body in text colour, then its result in bold."""
    out: list[Primitive] = []
    size = sz.arith
    meta = Mark("text", kind="arithmetic")
    for i, (body, result) in enumerate(lines):
        y = top + size + i * sz.arith_line
        crisp = theme.crisp_text
        if by_word:
            out += line_texts(MARGIN, y, body, size, theme.text, crisp=crisp, meta=meta)
        else:
            out.append(Text(MARGIN, y, body, size, theme.text, meta=meta))
        if result:
            last = emphasise_last and i == len(lines) - 1
            body_width = by_word_width(body, size, crisp=crisp) if by_word else text_width(body, size, crisp=crisp)
            x = MARGIN + round(body_width)
            out.append(Text(x, y, result, size, theme.output_current if last else theme.accent, bold=True, meta=meta))
    return out


DENSE_RAMP_STEPS = 16  # text on the frame background: most anti-aliased pixels are there


def ramp(fg: RGB, bg: RGB, steps: int, crisp: bool = False) -> list[RGB]:
    """`fg` blended into `bg` in `steps` even steps (anti-aliased glyph edges); just the two when text is crisp."""
    if crisp:
        return [fg, bg]
    return [mix(fg, bg, k / (steps - 1)) for k in range(steps)]


def palette_with_ramps(fills: list[RGB], lines: list[RGB], pairs: list[tuple[RGB, RGB]],
                       dense_pairs: list[tuple[RGB, RGB]] = (), *, crisp: bool = False) -> list[RGB]:
    """<= 250 colours for one GIF palette: solid colours, then text-over-fill anti-aliasing ramps.

    `crisp` (one-bit text): no glyph edge blends a text colour into its fill, so each pair adds only its two
    colours; the smaller table also shortens the GIF's LZW codes."""
    colours: list[RGB] = [*fills, *lines]
    for fg, bg in dense_pairs:
        colours += ramp(fg, bg, DENSE_RAMP_STEPS, crisp)
    for fg, bg in pairs:
        colours += ramp(fg, bg, RAMP_STEPS, crisp)
    return list(dict.fromkeys(colours))[:MAX_PALETTE]
