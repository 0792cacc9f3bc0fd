"""What a chain adds around its stages' frames: the header (where in the chain a frame is), the transition (the
output becoming the next input) and the receptive-field picture.

The header heads every frame of a chain: "stage k of n", then one box per tensor from the input to the final
output (`input 1×6×6 → 1 conv2d 2×4×4 → 2 relu 2×4×4 → …`), the stages done in the done-output colour, the
current one in the current-output colour, those to come empty. Everything here is pixel primitives (see
primitives.py); the frame source (convgif.sources.ChainFrames) lays a stage's own frame under the header.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from convgif.render.fonts import text_width
from convgif.render.layout_common import (
    MARGIN, Grid, Sizes, cell_text, fitting_size, flow_legend, legend_height, legend_primitives, outline,
    palette_with_ramps, shape_text, swatch, wrap_text,
    distinct_values,
)
from convgif.render.primitives import Mark, Primitive, Rect, Text, Veil, cell_text_baseline, fmt_number
from convgif.render.theme import RGB, Theme

CHIP_PAD = 6  # px inside a stage box, left and right
CHIP_GAP = 22  # px between boxes (an arrow stands in it)
ARROW = "\u2192"


@dataclass(frozen=True, slots=True)
class StageFacts:
    """What the header says of one stage."""

    kind: str
    output_shape: tuple[int, ...]


def _chip_texts(input_shape, stages: list[StageFacts]) -> list[str]:
    return [f"input {shape_text(input_shape)}"] + [f"{k + 1} {s.kind} {shape_text(s.output_shape)}"
                                                    for k, s in enumerate(stages)]


class ChainHeader:
    """The header's geometry at one width and font scale: its chips flow left to right, wrapping into rows."""

    def __init__(self, title: str | None, input_shape, stages: list[StageFacts], theme: Theme, width: int):
        self.theme, self.width, self.stages = theme, width, stages
        self.sz = sz = Sizes.at(theme.font_scale)
        room = width - 2 * MARGIN
        y = MARGIN
        self.title_lines = wrap_text(title, sz.title, room, bold=True) if title else []
        self.title_top = y
        y += len(self.title_lines) * (sz.title + 8)
        self.line_top = y  # "stage k of n · what happens"
        y += sz.sub + 8
        self.chip_h = sz.legend + 10
        self.pad, self.gap = round(CHIP_PAD * theme.font_scale), round(CHIP_GAP * theme.font_scale)
        self.chips: list[tuple[int, int, int, str]] = []  # x, y, width, text
        x = MARGIN
        for text in _chip_texts(input_shape, stages):
            w = math.ceil(text_width(text, sz.legend, True)) + 2 * self.pad
            if x > MARGIN and x + w > width - MARGIN:
                x, y = MARGIN, y + self.chip_h + 6
            self.chips.append((x, y, w, text))
            x += w + self.gap
        y += self.chip_h + 8
        self.legend_rows = flow_legend(self._legend(), y, width, sz)
        # with no stage under way (the hold frame, the receptive field) only the done boxes are drawn: only they are named
        self.done_legend_rows = flow_legend(self._legend()[1:2], y, width, sz)
        y += legend_height(self.legend_rows, sz) + 2
        self.rule_y = y
        self.height = y + 6

    def _legend(self):
        """What the header's boxes and a transition frame's accent frame mean (every mark named in a legend): the
        frames of a stage under way name all three (the accent frame is a transition's, as its label says)."""
        th = self.theme
        return [("this stage", swatch(fill=th.output_current, edge=th.text, line_width=2)),
                ("stage done", swatch(fill=th.output_done, edge=th.grid)),
                ("input = the stage before's output (between stages)", swatch(edge=th.accent, line_width=3))]

    def primitives(self, current: int | None, line: str) -> list[Primitive]:
        """The header with stage `current` (0-based; None: every stage done) highlighted and `line` under the title."""
        th, sz = self.theme, self.sz
        out: list[Primitive] = [Text(MARGIN, self.title_top + sz.title + i * (sz.title + 8), text, sz.title, th.text,
                                     bold=True, meta=Mark("text", kind="title"))
                                for i, text in enumerate(self.title_lines)]
        out.append(Text(MARGIN, self.line_top + sz.sub, line, sz.sub, th.text, bold=True,
                        meta=Mark("text", kind="header")))
        for i, (x, y, w, text) in enumerate(self.chips):
            stage = i - 1  # chip 0 is the input
            done = current is None or stage < current
            now = stage == current
            fill, colour, edge = ((th.output_current, th.output_current_text, th.text) if now else
                                  (th.output_done, th.output_done_text, th.grid) if done else
                                  (th.background, th.muted_text, th.grid))
            out.append(Rect((x, y, x + w, y + self.chip_h), fill=fill, edge=edge, line_width=2 if now else 1))
            baseline = cell_text_baseline(y, y + self.chip_h, sz.legend)
            out.append(Text(x + self.pad, baseline, text, sz.legend, colour, bold=now))
            if i + 1 < len(self.chips) and self.chips[i + 1][1] == y:  # an arrow to the next box on this row
                out.append(Text(x + w + self.gap // 2, baseline, ARROW, sz.legend, th.muted_text,
                                align="center"))
        out += legend_primitives(self.legend_rows if current is not None else self.done_legend_rows, th, sz)
        out.append(Rect((MARGIN, self.rule_y, self.width - MARGIN, self.rule_y + 1), fill=th.grid))
        return out

    def colours(self) -> list[RGB]:
        th = self.theme
        return palette_with_ramps(
            [th.background, th.output_current, th.output_done, th.grid, th.text, th.accent],
            [], [(th.output_current_text, th.output_current), (th.output_done_text, th.output_done)],
            [(th.text, th.background), (th.muted_text, th.background)], crisp=th.crisp_text)


def stage_name(k: int, n: int) -> str:
    """Stage `k` (from 0) of a chain of `n`, as its header names it: "stage 2 of 3"."""
    return f"stage {k + 1} of {n}"


def stage_line(k: int, n: int, kind: str, input_shape, output_shape) -> str:
    return f"{stage_name(k, n)}: {kind} {shape_text(input_shape)} {ARROW} {shape_text(output_shape)}"


def shifted(primitives: list[Primitive], dy: int) -> list[Primitive]:
    """`primitives` moved `dy` px down (a stage's frame under the header)."""
    out = []
    for p in primitives:
        if isinstance(p, Text):
            out.append(replace(p, y=p.y + dy))
        elif isinstance(p, (Rect, Veil)):
            x0, y0, x1, y1 = p.box
            out.append(replace(p, box=(x0, y0 + dy, x1, y1 + dy)))
        else:  # Polygon
            out.append(replace(p, points=tuple((x, y + dy) for x, y in p.points)))
    return out


RING = 3  # px: the accent frame round a transition's input grids


def transition_ring(box: tuple[int, int, int, int], colour: RGB, inked: list[tuple[int, int, int, int]]) -> list[Rect]:
    """A frame RING px wide just outside a grid's `box`, its top side thinner where the ink of a text over the grid
    (`inked`: boxes of the pixels texts ink, such as the grid's label) reaches down into it: the frame touches no
    letter (it cut the descenders of "input ch 0" in two)."""
    x0, y0, x1, y1 = box
    above = [b[3] for b in inked if b[0] < x1 + RING and x0 - RING < b[2] and y0 - 2 * RING < b[3] <= y0]
    top = min(max([y0 - RING, *above]), y0 - 1)  # at least one row
    return [Rect((x0 - RING, top, x1 + RING, y0), fill=colour), Rect((x0 - RING, y1, x1 + RING, y1 + RING), fill=colour),
            Rect((x0 - RING, top, x0, y1 + RING), fill=colour), Rect((x1, top, x1 + RING, y1 + RING), fill=colour)]


def transition_marks(boxes: list[tuple[int, int, int, int]], theme: Theme, text: str, top: int,
                     width: int, inked: list[tuple[int, int, int, int]] = ()) -> list[Primitive]:
    """The next stage's input grids framed in the accent colour, and a line saying where their numbers come from,
    written on a band over the top of the stage's frame (`top`: the band's y). `inked`: see `transition_ring`."""
    sz = Sizes.at(theme.font_scale)
    out: list[Primitive] = [r for box in boxes for r in transition_ring(box, theme.accent, list(inked))]
    band = sz.arith_line + 8
    out.append(Rect((0, top, width, top + band), fill=theme.background))
    out.append(Text(MARGIN, top + band - 9, text, sz.arith, theme.accent, bold=True,
                    meta=Mark("text", kind="arithmetic")))
    return out


# ---- receptive field ---------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FieldTensor:
    """One tensor of the receptive-field picture: its name, shape, values and which elements the chosen output
    cell sees (None: not lit yet in this frame)."""

    name: str
    values: np.ndarray
    lit: np.ndarray | None


def field_extent(lit: np.ndarray, chosen: bool = False) -> str:
    """The lit region in words, as seen by the chosen output cell: `16 of 20 positions seen (t = 4..19)`, `5×5 cells
    seen (rows 0..4, cols 1..5)`, `9 cells seen in a 5×5 span (...)` where dilation leaves gaps, `8 of 8 features
    seen`; `chosen`: the lit element is the chosen output itself (`the chosen output (t = 19)`)."""

    def span(name: str, where: np.ndarray) -> str:
        low, high = int(where.min()), int(where.max())
        return f"{name} = {low}" if low == high else f"{name} = {low}..{high}"

    def place(name: str, plural: str, where: np.ndarray) -> str:
        low, high = int(where.min()), int(where.max())
        return f"{name} {low}" if low == high else f"{plural} {low}..{high}"

    if lit.ndim == 1:
        where = np.flatnonzero(lit)
        return "the chosen output" if chosen else f"{len(where)} of {lit.size} features seen"
    spatial = lit.any(axis=0)
    if spatial.ndim == 1:
        where = np.flatnonzero(spatial)
        if not len(where):
            return "no position seen"
        if chosen:
            return f"the chosen output ({span('t', where)})"
        seen = f"{len(where)} of {spatial.size} positions seen"
        if len(where) == where.max() - where.min() + 1:  # a run: its ends say it
            return f"{seen} ({span('t', where)})"
        if len(where) <= 6:  # a dilated stage's taps skip positions: a few are listed
            return f"{seen} (t = {', '.join(str(int(t)) for t in where)})"
        if len(set(np.diff(where).tolist())) == 1:  # evenly spaced: the first two and the last
            return f"{seen} (t = {where[0]}, {where[1]}, \u2026, {where[-1]})"
        return f"{seen}, in {span('t', where)}"
    rows, cols = np.flatnonzero(spatial.any(axis=1)), np.flatnonzero(spatial.any(axis=0))
    if not len(rows):
        return "no cell seen"
    where = f"{place('row', 'rows', rows)}, {place('col', 'cols', cols)}"
    if chosen:
        return f"the chosen output ({where})"
    height, width, count = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1, int(spatial.sum())
    if count == height * width:
        return f"{height}\u00d7{width} {'cell' if count == 1 else 'cells'} seen ({where})"
    return f"{count} cells seen in a {height}\u00d7{width} span ({where})"


class FieldPicture:
    """Every tensor of the chain, one under the other (channels side by side), the region the chosen output cell
    sees lit in each: the receptive field drawn back through the chain."""

    def __init__(self, tensors: list[FieldTensor], theme: Theme, width: int, top: int, room: int | None = None):
        self.theme, self.width, self.top = theme, width, top
        self.sz = sz = Sizes.at(theme.font_scale)
        self.tensors = tensors
        widest = max(self._cols(t) for t in tensors)
        rows = sum(self._rows(t) for t in tensors)
        budget_w = (width - 2 * MARGIN) // max(1, widest)
        per_block = sz.label_h + sz.legend + 14
        budget_h = ((room - per_block * len(tensors) - 40) // max(1, rows)) if room else 40
        self.cell = max(4, min(40, budget_w, budget_h))
        strings = [fmt_number(float(v)) for t in tensors for v in distinct_values(t.values)[:200]]
        self.value_size = fitting_size(strings, self.cell, largest=sz.digits)
        self.legend_rows = flow_legend(self._legend(), top + 6, width, sz)
        self.legend_h = legend_height(self.legend_rows, sz) + 4
        self.height = rows * self.cell + len(tensors) * (per_block + 4) + 20 + self.legend_h

    def _legend(self):
        th = self.theme
        return [("seen by the chosen output cell", swatch(fill=th.tap, edge=th.grid)),
                ("not seen", swatch(fill=th.input, edge=th.grid)),
                ("span of the seen cells", swatch(edge=th.window, line_width=3))]

    @staticmethod
    def _planes(t: FieldTensor) -> list[np.ndarray]:
        v = t.values
        if v.ndim == 1:
            return [v.reshape(1, -1)]
        return [plane.reshape(1, -1) if plane.ndim == 1 else plane for plane in v]

    def _cols(self, t: FieldTensor) -> int:
        planes = self._planes(t)
        return sum(p.shape[1] for p in planes) + (len(planes) - 1)

    def _rows(self, t: FieldTensor) -> int:
        return max(p.shape[0] for p in self._planes(t))

    def primitives(self, chosen: str) -> list[Primitive]:
        th, sz, c = self.theme, self.sz, self.cell
        out: list[Primitive] = legend_primitives(self.legend_rows, th, sz)
        y = self.top + 8 + self.legend_h
        for t in self.tensors:
            extent = "" if t.lit is None else f": {field_extent(t.lit, chosen=t is self.tensors[-1])}"
            out.append(Text(MARGIN, y + sz.label, f"{t.name}{extent}", sz.label,
                            th.text if t.lit is not None else th.muted_text, bold=t.lit is not None))
            y += sz.label_h + 4
            x = MARGIN
            lit_planes = None if t.lit is None else self._planes(FieldTensor(t.name, t.lit, None))
            for p, plane in enumerate(self._planes(t)):
                grid = Grid(x, y, plane.shape[0], plane.shape[1], c)
                out.append(Rect(grid.outer, fill=th.grid))
                for (r, col), value in np.ndenumerate(plane):
                    on = lit_planes is not None and bool(lit_planes[p][r, col])
                    out.append(Rect(grid.interior(r, col), fill=th.tap if on else th.input))
                    if self.value_size is not None:
                        out.append(cell_text(grid, r, col, fmt_number(float(value)), self.value_size,
                                             th.tap_text if on else th.input_text))
                if lit_planes is not None and lit_planes[p].any():
                    rows, cols = np.nonzero(lit_planes[p])
                    out.append(outline(grid.span(rows, cols), th.window, 3))
                x += (plane.shape[1] + 1) * c
            y += self._rows(t) * c + 10
        out.append(Text(MARGIN, y + sz.arith, chosen, sz.arith, th.text, meta=Mark("text", kind="arithmetic")))
        return out

    def colours(self) -> list[RGB]:
        th = self.theme
        return palette_with_ramps([th.input, th.tap, th.grid, th.window], [],
                                  [(th.input_text, th.input), (th.tap_text, th.tap), (th.window, th.tap),
                                   (th.grid, th.input)],
                                  [(th.text, th.background), (th.muted_text, th.background)], crisp=th.crisp_text)
