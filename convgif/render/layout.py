"""The one frame layout every animated view shares (`Layout`), and the hooks through which a layout adds its own.

A layout turns one trace, a theme and a frame width into pixel primitives. `Layout.__init__` places, top to
bottom: title, subtitle, legend, column headers, the grids, the step counter, the arithmetic, the notes and the
caption. The grids stand in three columns (input | middle | output), or, for 1D traces, in strips one under the
other. A view (convgif.render.view.View) paints what `static(batch)`, `done_cell(i)`, `transient(step)` and
`final_transient()` return, with the colours `colours()` declares.

A layout supplies, as public methods: `measure()` (read the trace, then `choose_cells`), `column_widths` and
`grids_height` (what `choose_cells` tries), `subtitle()`, `legend_entries()`, `column_headers()`, `notes()`,
`place_grids(top)`, `arith_line_count()`, `static_marks(batch)`, `done_cell(i)`, `transient(step)`,
`final_lines()`, `final_marks()`, `grids_by_role()` and `colours()`; grid labels `input_label(channel)` and
`output_label(channel)`.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from convgif.engine.notation import merged_formulas, typeset
from convgif.errors import DoesNotFitError, RenderError, TooNarrowError
from convgif.render.labels import label
from convgif.render.layout_common import (
    MARGIN, MAX_GAP, MAX_LANES_HEIGHT, MIN_GAP, Grid, LegendItem, Sizes, arith_texts, cell_text, elide, fitting_size,
    by_word_width, flow_legend, greedy_wrap, legend_height, legend_primitives, line_texts, lowest_text_scale, outline,
    shape_text, wrap_text, unravel,
)
from convgif.render.primitives import Box, Mark, Primitive, Rect, Text, fmt_number
from convgif.render.theme import RGB, Theme

MIN_WIDTH = 320
MAX_TALL_HEIGHT = 2400  # grids may grow this tall to show numbers (see Layout.shows_values)
GRIDS_GAP = 12  # between the grids and the step counter


KEPT_MADE = 256  # groups of marks a layout keeps made (`Layout.made_once`; a slice of 5×5 weights is ~50 marks)
QUESTION = "?"  # what each answer of a step reads in a quiz's question frame (`[render] quiz`)
SLIDE_TEXT_HEIGHT = 740  # px: a fixed-shape frame this tall sets its text at the blog column's sizes; others scale
# it with their height (1080: × 1.46, so that the smallest text, 11 px in a blog frame, is 16 px; 720: × 0.97)


@dataclass(frozen=True, slots=True)
class Fit:
    """How a layout fills a frame of a fixed shape: its grids' arrangement (see `Layout.arrangements`), the height
    its grids may take (None: as in a blog column) and the spare height shared above the grids and the caption."""

    arrangement: dict = field(default_factory=dict)
    grid_room: int | None = None
    slack: int = 0


def fitted_layout(layout_type: type[Layout], trace, *, height: int, theme: Theme, text_height: int | None = None,
                  **kwargs) -> Layout:
    """A `layout_type` layout exactly `height` px tall (`render.aspect`): text scaled with the slide's height
    (`text_height`: a chain's stage, under the chain's header, is set as the whole slide is), and of the grids'
    arrangements the best by `fit_score` (numbers shown, then the largest digits, then the largest cells). Text
    shrinks only where no arrangement shows the numbers at the slide's size, and never below MIN_TEXT px (words the
    back row cannot read): where even that hides the numbers, they hide, and the frame says so (unless the scene's
    own font_scale asks for smaller text). DoesNotFitError when nothing fits at all."""
    from convgif.render.theme import FONT_SCALES

    preferred = theme.font_scale * (text_height or height) / SLIDE_TEXT_HEIGHT
    lowest = max(FONT_SCALES[0], min(lowest_text_scale(), preferred))
    scales = dict.fromkeys(max(lowest, min(FONT_SCALES[1] * height / SLIDE_TEXT_HEIGHT, preferred * f))
                           for f in (1.0, 0.85, 0.7, 0.55))
    failure: DoesNotFitError | None = None
    fallback: Layout | None = None  # the best layout that hides numbers, if no scale shows them
    for scale in scales:
        scaled = replace(theme, font_scale=scale)
        best: Layout | None = None
        for arrangement in layout_type.arrangements(trace):
            try:
                layout = _fit_height(layout_type, trace, height, scaled, arrangement, kwargs)
            except DoesNotFitError as error:
                failure = error
                continue
            if best is None or layout.fit_score() > best.fit_score():
                best = layout
        if best is not None and best.fit_score()[0]:  # numbers shown: the largest text that shows them
            return _final(layout_type, trace, best, height, kwargs)
        fallback = fallback or best
    if fallback is not None:
        return _final(layout_type, trace, fallback, height, kwargs)
    raise failure or DoesNotFitError("the grids", width=kwargs.get("width", 0))


def _final(layout_type, trace, layout: Layout, height: int, kwargs: dict) -> Layout:
    """`layout` again, its spare height shared above the grids and the caption: exactly `height` px tall."""
    return layout_type(trace, theme=layout.theme, fit=replace(layout.fit, slack=height - layout.height), **kwargs)


def _fit_height(layout_type, trace, height: int, theme: Theme, arrangement: dict, kwargs: dict) -> Layout:
    """The layout of one arrangement at its natural height, its grids shrunk until the frame is at most `height`
    px tall (a few passes: text that wraps or notes that appear change the height left for the grids)."""
    fit = Fit(arrangement, grid_room=height)  # the grids can take no more than the whole frame
    for _ in range(6):
        layout = layout_type(trace, theme=theme, fit=fit, **kwargs)
        over = layout.height - height
        if over <= 0:
            return layout
        fit = replace(fit, grid_room=min(fit.grid_room, layout.full_grids_height(*layout.cells)) - over)
    raise DoesNotFitError("the grids", width=layout.width)


def output_places_1d(geometry) -> tuple[float, float]:
    """Where a 1D view draws its outputs along the padded input: (padded position of output 0, positions from one
    output to the next). Each output sits under the input position it is computed for: with left-only (causal)
    padding that is its window's last tap ("now"), otherwise its window's centre (between two cells for an even
    span); outputs stand `stride` inputs apart."""
    (before, after), = geometry.padding
    span = geometry.dilation[0] * (geometry.kernel_size[0] - 1)
    first = span if before > 0 and after == 0 else span / 2
    return first, float(geometry.stride[0])


class Layout(ABC):
    """Pixel layout of one trace's frames: the shared frame around the grids a subclass places and marks."""

    text_by_word = True  # arithmetic and notes as one Text per word (see layout_common.line_texts)
    # Where notes and caption stand among the static primitives. Pixels do not depend on it (nothing overlaps),
    # but pdf and svg pages store primitives in this order: conv frames list them last, the others after the legend.
    footer_drawn_last = False
    # True while a quiz's question frame is laid out (`question_marks`): the step's answers read QUESTION
    hide_answers = False

    def made_once(self, key: tuple, make: Callable[[], Iterable[Primitive]]) -> tuple[Primitive, ...]:
        """The marks `make()` gives, made once per `key` and kept (memory stays flat: at most KEPT_MADE groups): marks
        every step of a channel shows again (a kernel slice), the very same immutable objects each time, which a
        view leaves painted while they stay (`view._Held`)."""
        cache = self.__dict__.setdefault("_made", {})
        if key not in cache:
            if len(cache) >= KEPT_MADE:
                cache.clear()
            cache[key] = tuple(make())
        return cache[key]

    def __init__(self, trace, *, title: str | None, caption: str | None, theme: Theme, width: int,
                 labels: tuple[str, ...] | None = None, fit: Fit | None = None):
        if width < MIN_WIDTH:
            raise TooNarrowError(width, MIN_WIDTH)
        self.trace, self.theme, self.width, self.caption = trace, theme, width, caption
        self.labels = tuple(labels) if labels else None  # scene input.labels: one per input position (1D)
        # a frame of a fixed shape (render.aspect): the grids' height budget, their arrangement and the slack that
        # brings the frame to its height (see fitted_layout); None: as tall as the frame needs (a blog column)
        self.fit = fit
        self.arrange(fit.arrangement if fit else {})
        self.sz = sz = Sizes.at(theme.font_scale).for_slides() if fit else Sizes.at(theme.font_scale)
        self.ndim = trace.geometry.ndim
        self.strips = self.ndim == 1  # 1D: each channel a row, the grids top to bottom
        self.measure()
        self.in_x, self.mid_x, self.out_x = self._column_xs()
        room = self.arith_width = width - 2 * MARGIN
        y = MARGIN
        self.title_lines = wrap_text(title, sz.title, room, bold=True) if title else []
        self.title_baseline = y + sz.title if title else None
        y += len(self.title_lines) * (sz.title + 8)
        self.subtitle_lines = wrap_text(self.subtitle(), sz.sub, room) or [""]  # a long subtitle wraps
        self.sub_baseline = y + sz.sub
        y += len(self.subtitle_lines) * (sz.sub + 4) + 4
        self.legend_rows = flow_legend(self.legend_entries(), y, width, sz)
        y += legend_height(self.legend_rows, sz) + 6
        y += fit.slack // 2 if fit else 0  # a fixed-shape frame: half its spare height above the grids
        self.header_baseline = None if self.strips else y + sz.sub  # strips have no column headers
        if not self.strips:
            y += sz.sub + 8
        y = self.place_grids(y) + GRIDS_GAP
        # the step counter heads the arithmetic it numbers: there it changes with pixels that change anyway, where
        # at the top of the frame it stretched every GIF frame's changed box to the full height (~10% of its bytes)
        self.counter_top = y
        y += sz.arith_line
        self.arith_top = y
        self.arith_lines = self.arith_line_count()
        y += self.arith_lines * sz.arith_line + 6
        # static lines between the arithmetic and the caption, wrapped when wider than the frame as `line_texts`
        # sets them, word by word, each word in its own font (a Chinese line's digits and signs in DejaVu, wider than
        # the CJK font's: measured whole, a zero-insertion note ran 12 px off a 1.5× frame), in either painter
        # (crisp=None: each word at the wider of its one-bit and anti-aliased widths)
        self.note_lines = [line for note in self.notes() for line in greedy_wrap(
            note, lambda trial: by_word_width(trial, sz.arith, crisp=None) <= room) if line]
        self.notes_top = y
        y += len(self.note_lines) * sz.arith_line + (6 if self.note_lines else 0)
        self.caption_size, caption_bold = (sz.title, True) if self.caption_is_formula() else (sz.caption, False)
        self.caption_lines = wrap_text(caption or "", self.caption_size, room, caption_bold)
        y += fit.slack - fit.slack // 2 if fit else 0  # and the other half above the caption, at the bottom
        self.caption_top = y
        y += len(self.caption_lines) * (self.caption_size + 6)
        self.height = y + MARGIN

    # ---- hooks --------------------------------------------------------------------------------------
    @abstractmethod
    def measure(self) -> None:
        """Read what the frames need from the trace and choose the cell sizes (`choose_cells`)."""

    @abstractmethod
    def column_widths(self, cell: int, kernel_cell: int) -> tuple[int, int, int]:
        """Widths (px) of the input, middle and output columns (strips: of the widest row of each) at these cells."""

    @abstractmethod
    def grids_height(self, cell: int, kernel_cell: int) -> int:
        """Height (px) of all the grids at these cell sizes."""

    @abstractmethod
    def subtitle(self) -> str:
        """The line under the title: the operation and its arguments (wrapped when long)."""

    @abstractmethod
    def legend_entries(self) -> list[LegendItem]:
        """(label, swatch) of every kind of cell and mark the frames show."""

    @classmethod
    def arrangements(cls, trace) -> list[dict]:
        """The ways this layout can arrange `trace`'s grids in a frame of a fixed shape, each as keyword values for
        `arrange` ({}: the blog column's arrangement). `fitted_layout` keeps the one with the largest cells."""
        return [{}]

    def arrange(self, arrangement: dict) -> None:
        """Take one of `arrangements()` (called before `measure`)."""

    def output_cell(self, cell: int) -> int:
        """The output grids' cell size when the input's is `cell` (the same, unless a layout says otherwise)."""
        return cell

    def full_grids_height(self, cell: int, kernel_cell: int) -> int:
        """Height (px) `place_grids` takes at these cell sizes, everything under the grids' top included."""
        return self.grids_height(cell, kernel_cell)

    def input_label(self, channel: int) -> str:
        """The label over an input channel's grid."""
        return self.say("input_channel", channel=channel, shape=shape_text(self.trace.geometry.input_shape[1:]))

    def output_label(self, channel: int) -> str:
        """The label over an output channel's grid."""
        return self.say("output_channel", channel=channel, shape=shape_text(self.trace.geometry.output_shape[1:]))

    def column_headers(self) -> list[tuple[int, str]]:
        """(x, text) of each column's bold header (drawn only over columns, not strips)."""
        return []

    def notes(self) -> list[str]:
        """Static lines under the arithmetic (wrapped to the frame width)."""
        return []

    @abstractmethod
    def place_grids(self, top: int) -> int:
        """Place the grids from `top` down; returns their bottom."""

    @abstractmethod
    def arith_line_count(self) -> int:
        """How many arithmetic lines to make room for."""

    @abstractmethod
    def static_marks(self, batch: int) -> list[Primitive]:
        """The grids and whatever else of this layout never changes between steps."""

    @abstractmethod
    def done_cell(self, index: int) -> list[Primitive]:
        """What step `index` leaves behind (painted in step order onto a running image)."""

    @abstractmethod
    def transient(self, step) -> list[Primitive]:
        """What only this step's frame shows: `step_counter(step)` first, `arithmetic(...)` last."""

    def question_marks(self, step) -> list[Primitive]:
        """`transient(step)` as a quiz's question frame shows it: the step's answers (the current output cell, the
        results of its arithmetic, whatever else `answer` writes) read "?"; everything else is the same."""
        self.hide_answers = True
        try:
            return self.transient(step)
        finally:
            self.hide_answers = False

    def answer(self, text: str) -> str:
        """`text`, a value the step computes, or "?" while a quiz's question frame is laid out."""
        return QUESTION if self.hide_answers else text

    @abstractmethod
    def final_lines(self) -> list[tuple[str, str]]:
        """The hold frame's arithmetic lines: what was computed and how its size came about."""

    def final_marks(self) -> list[Primitive]:
        """The hold frame's marks besides its lines."""
        return []

    @abstractmethod
    def grids_by_role(self) -> dict[str, list[Grid]]:
        """The grids `cell_box` finds a cell in, by role ("input", "output", ...), one per channel."""

    @abstractmethod
    def colours(self) -> list[RGB]:
        """<= 250 colours for one GIF palette, in palette order: every colour the primitives paint, built from the
        fills, lines and text-over-fill pairs the layout draws (layout_common.palette_with_ramps). A frame colour
        missing here is an error when the frames are encoded (with crisp text; see View.exact_palette)."""

    # ---- shared pieces ------------------------------------------------------------------------------
    def say(self, key: str, **values) -> str:
        """A frame word in the theme's language (see convgif.render.labels)."""
        return label(self.theme.language, key, **values)

    def bias_term(self, bias: float | None) -> str:
        """` + bias (−1)`: the bias named where it is added, in every layout's arithmetic (`b(−1)` read like a
        function of a channel)."""
        return "" if bias is None else self.say("bias_term", value=fmt_number(float(bias)))

    def rc(self, coord) -> tuple[int, int]:
        """(row, col) of a trace coordinate: 1D coordinates are columns of row 0."""
        if isinstance(coord, np.ndarray):
            coord = coord.tolist()
        coord = tuple(map(int, coord)) if isinstance(coord, (tuple, list)) else (int(coord),)
        return (0, coord[0]) if self.ndim == 1 else (coord[0], coord[1])

    def hw(self, shape) -> tuple[int, int]:
        """(rows, cols) of a spatial shape: a 1D shape is one row."""
        shape = tuple(int(v) for v in shape)
        return (1, shape[0]) if self.ndim == 1 else (shape[0], shape[1])

    def shows_values(self, cell: int) -> bool:
        """Whether cells of `cell` px show their numbers. A layout that says so lets its grids grow past
        MAX_LANES_HEIGHT (up to MAX_TALL_HEIGHT) rather than hide numbers the frame width has room for."""
        return False

    def frame_width_for(self, widths: tuple[int, int, int]) -> int:
        """The narrowest frame width (px) that holds columns (strips) of these widths."""
        return 2 * MARGIN + (max(widths) + 8 if self.strips else sum(widths) + 2 * MIN_GAP)

    def choose_cells(self, what: str) -> tuple[int, int]:
        """The largest (cell, kernel cell) in px at which the columns fit the frame width and the grids stay within
        MAX_LANES_HEIGHT (tiny cells may grow taller), unless that hides numbers a taller frame would show (see
        `shows_values`); kernels keep legible cells unless they are long. Keeps the widths as `col_widths`, and as
        `values_width` the narrowest frame width at which numbers show (None: no cell size shows them). `what`
        names what does not fit otherwise ("a 7×7 input")."""
        sz = self.sz
        legible = None  # the smallest (cell, kernel cell, widths) that fits and shows numbers, if taller
        self.values_width = None
        if self.fit is not None and self.fit.grid_room is not None:
            return self._cells_in_room(what, self.fit.grid_room)
        for c in range(sz.max_cell, 2, -1):
            for ck in dict.fromkeys((min(max(c, sz.min_kernel_cell), sz.max_kernel_cell), c)):
                widths = self.column_widths(c, ck)
                if self.shows_values(c):
                    self.values_width = self.frame_width_for(widths)
                if self.frame_width_for(widths) > self.width:
                    continue
                height = self.grids_height(c, ck)
                if height <= MAX_LANES_HEIGHT or c <= 4:
                    if legible is not None and not self.shows_values(c):
                        c, ck, widths = legible
                    self.col_widths = widths
                    self.cells = (c, ck)
                    return c, ck
                if self.shows_values(c) and height <= MAX_TALL_HEIGHT:
                    legible = (c, ck, widths)
        raise DoesNotFitError(what, width=self.width)

    def _cells_in_room(self, what: str, room: int) -> tuple[int, int]:
        """A fixed-shape frame: the largest (cell, kernel cell) whose grids fit the width and `room` px of height."""
        sz = self.sz

        def fitting(c: int) -> tuple[int, int, tuple] | None:
            for ck in dict.fromkeys((min(max(c, sz.min_kernel_cell), sz.max_kernel_cell), c)):
                widths = self.column_widths(c, ck)
                if self.frame_width_for(widths) <= self.width and self.full_grids_height(c, ck) <= room:
                    return c, ck, widths
            return None

        # not a bisection: wider cells can need less height (a wider column holds more of the kernel bank a row)
        best = next(filter(None, map(fitting, range(sz.max_cell, 2, -1))), None)
        if best is None:
            raise DoesNotFitError(what, width=self.width)
        c, ck, self.col_widths = best
        self.cells = (c, ck)
        return c, ck

    def fit_score(self) -> tuple:
        """How well this layout shows its trace, to compare arrangements: numbers shown, then the largest digits
        (the back row reads them), then the largest cells."""
        digits = min(getattr(self, "input_value_size", None) or 0, getattr(self, "output_value_size", None) or 0)
        return (self.shows_values(self.cells[0]), digits, self.cells)

    def hidden_values_width(self) -> int | None:
        """The frame width at which numbers this frame hides would show, or None when none are hidden for lack of
        width (they show, or no width shows them)."""
        return self.values_width if self.values_width is not None and self.values_width > self.width else None

    def _column_xs(self) -> tuple[int, int, int]:
        """Left edges of the three columns, centred with equal gaps; strips all start at one x."""
        if self.strips:  # a slide's strips stand in the middle of its width
            left = MARGIN + 4 if self.fit is None else max(MARGIN + 4, (self.width - max(self.col_widths)) // 2)
            return (left,) * 3
        in_w, mid_w, out_w = self.col_widths
        slack = self.width - 2 * MARGIN - in_w - mid_w - out_w
        gap = min(MAX_GAP, slack // 2)
        left = MARGIN + (slack - 2 * gap) // 2
        return left, left + in_w + gap, left + in_w + gap + mid_w + gap

    def static(self, batch: int) -> list[Primitive]:
        """Drawn once per scene (per batch element): everything that never changes between steps."""
        th, sz = self.theme, self.sz
        head = [Text(MARGIN, self.title_baseline + i * (sz.title + 8), line, sz.title, th.text, bold=True,
                     meta=Mark("text", kind="title")) for i, line in enumerate(self.title_lines)]
        head += [Text(MARGIN, self.sub_baseline + i * (sz.sub + 4), line, sz.sub, th.muted_text,
                      meta=Mark("text", kind="subtitle")) for i, line in enumerate(self.subtitle_lines)]
        head += legend_primitives(self.legend_rows, th, sz)
        foot: list[Primitive] = []
        for i, note in enumerate(self.note_lines):
            foot += line_texts(MARGIN, self.notes_top + sz.arith + i * sz.arith_line, note, sz.arith, th.muted_text,
                               crisp=th.crisp_text, meta=Mark("text", kind="note"))
        size, formula = self.caption_size, self.caption_is_formula()
        foot += [Text(MARGIN, self.caption_top + size + i * (size + 6), line, size,
                      th.text if formula else th.muted_text, bold=formula, meta=Mark("text", kind="caption"))
                 for i, line in enumerate(self.caption_lines)]
        body: list[Primitive] = []
        if self.header_baseline is not None:
            body += [Text(x, self.header_baseline, text, sz.sub, th.text, bold=True, meta=Mark("text", kind="header"))
                     for x, text in self.column_headers()]
        body += self.static_marks(batch)
        return head + body + foot if self.footer_drawn_last else head + foot + body

    def counter(self, text: str) -> Text:
        """The step counter: its own line, left, just above the arithmetic."""
        return Text(MARGIN, self.counter_top + self.sz.sum, text, self.sz.sum, self.theme.text, bold=True,
                    meta=Mark("text", kind="counter"))

    def step_counter(self, step) -> Text:
        return self.counter(self.counter_words(step.index, step.batch))

    def counter_words(self, index: int, batch: int) -> str:
        """What the counter of step `index` (of batch element `batch`) says: "step 6 / 49", the batch element first
        when there are several."""
        text = self.say("step_counter", step=index + 1, total=len(self.trace))
        if self.trace.batch_size > 1:
            text = self.say("batch_counter", batch=batch) + text
        return text

    def arithmetic(self, lines: list[tuple[str, str]], *, emphasise_last: bool = True) -> list[Primitive]:
        """(body, result) lines under the grids, the results bold; the last one in the current-output colour. In a
        quiz's question frame every result reads " = ?" (the body, with its factors, stays)."""
        if self.hide_answers:
            lines = [(body, f" = {QUESTION}" if result else "") for body, result in lines]
        return arith_texts(lines, self.arith_top, self.theme, emphasise_last=emphasise_last, by_word=self.text_by_word,
                           sz=self.sz)

    def elide(self, terms: list[str], prefix: str, tail: str, result: str, joiner: str = " + ") -> tuple[str, str]:
        """`prefix t1 + t2 + … + tn tail` with the middle terms replaced by their count when too wide."""
        return elide(terms, prefix, tail, result, self.arith_width, joiner, size=self.sz.arith,
                     language=self.theme.language, by_word=self.text_by_word)

    def caption_is_formula(self) -> bool:
        """Whether the caption is the output-size formula and nothing else (a `{formula}` caption, as B3's): then
        it is the frame's subject, set large, bold and in the text colour; the hold frame does not repeat it."""
        formulas = getattr(self.trace.geometry, "formulas", ())
        if not self.caption or not formulas:
            return False
        rest = self.caption
        for formula in map(typeset, formulas):
            rest = rest.replace(formula.split(": ", 1)[-1], "")
        return not re.sub(r"[A-Z](, [A-Z])*:|;", "", rest).strip()

    def done_fills(self) -> list[RGB]:
        """The fills a computed output cell can have."""
        return [self.theme.output_done]

    def formulas_to_show(self, formulas) -> list[str]:
        """Geometry `formulas` ("H: …") typeset, axes of the same arithmetic on one line ("H, W: …"), without those
        whose right side the caption already prints (a `{formula}` caption): a frame shows each formula once."""
        return [f for f in map(typeset, merged_formulas(formulas)) if f.split(": ", 1)[-1] not in (self.caption or "")]

    def done_counter(self) -> Text:
        """The hold frame's counter: "done · 49 steps", where a step frame has its `step_counter`."""
        return self.counter(self.say("done_counter", total=len(self.trace)))

    def final_transient(self) -> list[Primitive]:
        """The hold frame's extras: no window, just what was computed and how its size came about."""
        return [self.done_counter(), *self.final_marks(), *self.arithmetic(self.final_lines(), emphasise_last=False)]

    def fit_values(self, input_strings: list[str], output_strings: list[str]) -> None:
        """Digit sizes (px; None: numbers hidden) at `self.cell` of input cells, output cells and the current
        output cell, whose number is bold."""
        c, digits = self.cell, self.sz.digits
        out = self.output_cell(c)  # may be larger on a slide
        self.input_value_size = fitting_size(input_strings, c, largest=digits, windowed=True)
        self.output_value_size = fitting_size(output_strings, out, largest=digits)
        self.current_value_size = fitting_size(output_strings, out, largest=digits, bold=True) or self.output_value_size

    def done_output(self, index: int, text: Callable[[float], str]) -> list[Primitive]:
        """For one step per output element: the look of step `index`'s output cell once computed, its value (from
        the trace's output) written by `text`."""
        batch, ch, *pos = unravel(index, (self.trace.batch_size, *self.trace.geometry.output_shape))
        r, col = (0, pos[0]) if self.ndim == 1 else pos  # (rc: unravel gives ints already)
        grid = self.output_grids[ch]
        out: list[Primitive] = [Rect(grid.interior(r, col), fill=self.theme.output_done)]
        if self.output_value_size is not None:
            value = float(self.output[(batch, ch, *pos)])
            out.append(cell_text(grid, r, col, text(value), self.output_value_size, self.theme.output_done_text))
        return out

    def current_output(self, grid: Grid, r: int, col: int, text: str) -> list[Primitive]:
        """The output cell a step writes: the current colour, its value in bold, a frame in the text colour."""
        th = self.theme
        out: list[Primitive] = [Rect(grid.interior(r, col), fill=th.output_current)]
        if self.current_value_size is not None:
            out.append(cell_text(grid, r, col, self.answer(text), self.current_value_size, th.output_current_text, bold=True))
        out.append(outline(grid.box(r, col), th.text, 2))
        return out

    def cell_box(self, role: str, channel: int, coord) -> Box:
        """Pixel box (x0, y0, x1, y1), x1/y1 exclusive, of a cell including its border lines."""
        grids = self.grids_by_role()
        if role not in grids:
            *first, last = grids
            raise RenderError(f"role must be {', '.join(first)} or {last}, got {role!r}")
        r, col = self.rc(coord)
        return grids[role][channel].box(r, col)
