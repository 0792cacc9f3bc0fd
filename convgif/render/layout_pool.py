"""Where everything of a pooling frame goes: the padded input with the window sliding by its stride, the output.

Max pooling marks the selected cell ("max"), average pooling writes `(a + b + …) / divisor = v`, Lp pooling
`(a² + b² + …)^(1/2) = v`. Channels are stacked rows (input left, output right); 1D pools are strips.
Every number drawn is read from the trace; nothing here adds, divides or takes powers of values.
"""

from __future__ import annotations

import math

import numpy as np

from convgif.engine.trace_pool import PoolStep, PoolTrace
from convgif.errors import RenderError
from convgif.render.fonts import text_width
from convgif.render.labels import label
from convgif.render.layout_common import (
    MARGIN, MAX_GAP, MAX_LANES_HEIGHT, MIN_GAP, SLOT_GAP, Chrome, Grid, Sizes, cell_text, fitting_size, outline,
    fills_taps, gap_marks, palette_with_ramps, pretty_formula, shape_text, swatch, window_legend,
)
from convgif.render.primitives import MINUS, TIMES, Box, Primitive, Rect, Text, fmt_factor, fmt_number
from convgif.render.theme import RGB, Theme

SUPERSCRIPTS = str.maketrans("0123456789-.", "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079\u207b\u00b7")
MIN_TAG_CELL = 30  # cells smaller than this (times the font scale) carry no "max" tag


def fmt_value(value: float) -> str:
    """A cell value; max pooling's padding is −∞."""
    if math.isinf(value):
        return ("" if value > 0 else MINUS) + "\u221e"
    return fmt_number(value)


def fmt_power(p: float) -> str:
    text = fmt_number(p).replace(MINUS, "-")
    return text.translate(SUPERSCRIPTS) if all(ch in "0123456789-." for ch in text) else f"^{text}"


class PoolLayout:
    """Pixel layout of one pool trace's frames; produces the primitives each painter draws."""

    def __init__(self, trace: PoolTrace, *, title: str | None, caption: str | None, theme: Theme, width: int):
        g = trace.geometry
        if width < 320:
            raise RenderError(f"frame width must be at least 320 px, got {width}")
        self.trace, self.theme, self.width = trace, theme, width
        self.sz = Sizes.at(theme.font_scale)
        self.kind = trace.kind.split("_")[0]  # max | avg | lp
        self.ndim = g.ndim
        self.strips = self.ndim == 1
        as2 = (lambda s: (1, int(s[0]))) if self.ndim == 1 else (lambda s: (int(s[0]), int(s[1])))
        self.padded_hw, self.output_hw = as2(g.padded_input_shape[1:]), as2(g.output_shape[1:])
        self.channels = g.in_channels
        self.output = trace.output()
        self.output.setflags(write=False)
        self.pad_cells = np.asarray(trace.padding_cells).reshape(self.padded_hw)
        values = np.asarray(trace.padded_input)
        self.input_strings = [fmt_value(float(v)) for v in np.unique(values)[:4000]]
        self.output_strings = [fmt_value(float(v)) for v in np.unique(self.output)[:4000]]
        self.op_text = {"max": self._t("pool_max"), "avg": self._t("pool_mean"),
                        "lp": f"L{fmt_number(trace.norm_type or 2)}"}[self.kind] + " \u2192"
        self.chrome = Chrome(title=title, subtitle=self._subtitle(), legend=self._legend_entries(), caption=caption,
                             theme=theme, width=width)
        self._solve_cell_sizes()
        self._place()

    # ---- text ---------------------------------------------------------------------------------------
    def _t(self, key: str, **values) -> str:
        """A frame word in the theme's language (see convgif.render.labels)."""
        return label(self.theme.language, key, **values)

    def _subtitle(self) -> str:
        g, t, say = self.trace.geometry, self.trace, self._t
        parts = [t.kind + (f" (p={fmt_number(t.norm_type)})" if self.kind == "lp" else ""),
                 say("in_to_out", input=shape_text(g.input_shape), output=shape_text(g.output_shape)),
                 say("pool_window", value=shape_text(g.kernel_size)), say("stride", value=shape_text(g.stride))]
        if any(b for b, _ in g.padding):
            parts.append(say("padding_value", value=TIMES.join(str(b) for b, _ in g.padding)))
            if self.kind == "avg":
                parts.append(say("padding_counted" if t.count_include_pad else "padding_not_counted"))
        if any(d > 1 for d in g.dilation):
            parts.append(say("dilation", value=shape_text(g.dilation)))
        if g.ceil_mode:
            parts.append("ceil_mode")
        if t.divisor_override is not None:
            parts.append(f"divisor_override {t.divisor_override}")
        return " \u00b7 ".join(parts)

    def _legend_entries(self):
        th = self.theme

        def t(key: str) -> str:
            return label(th.language, key)

        items = [(t("input_value"), swatch(fill=th.input, edge=th.grid))]
        if self.trace.padding_cells.any():
            pad = t("padding") + (" (\u2212\u221e)" if self.kind == "max" else " (0)")
            items.append((pad, swatch(fill=th.padding, edge=th.padding_edge, dashed=True)))
        items += window_legend(th, self.trace.geometry, t, tapped_key="in_window")
        if self.kind == "max":
            items.append((t("max_selected"), swatch(fill=th.output_current, edge=th.text, line_width=2)))
        items += [(t("output_done"), swatch(fill=th.output_done, edge=th.grid)),
                  (t("current_output"), swatch(fill=th.output_current, edge=th.grid))]
        return items

    def _input_label(self, ch: int) -> str:
        return label(self.theme.language, "input_channel", channel=ch,
                     shape=shape_text(self.trace.geometry.input_shape[1:]))

    def _output_label(self, ch: int) -> str:
        return label(self.theme.language, "output_channel", channel=ch,
                     shape=shape_text(self.trace.geometry.output_shape[1:]))

    # ---- sizing and placement -----------------------------------------------------------------------
    def _widths(self, c: int) -> tuple[int, int, int]:
        (_, pw), (_, ow) = self.padded_hw, self.output_hw
        in_w = max(pw * c + 1, math.ceil(text_width(self._input_label(self.channels - 1), self.sz.label)))
        out_w = max(ow * c + 1, math.ceil(text_width(self._output_label(self.channels - 1), self.sz.label)))
        return in_w, math.ceil(text_width(self.op_text, self.sz.sum, True)) + 8, out_w

    def _row_height(self, c: int) -> int:
        (ph, _), (oh, _) = self.padded_hw, self.output_hw
        if self.strips:
            return 2 * (self.sz.label_h + c + 1 + SLOT_GAP)
        return self.sz.label_h + max(ph, oh) * c + 1 + SLOT_GAP

    def _solve_cell_sizes(self) -> None:
        room = self.width - 2 * MARGIN
        for c in range(self.sz.max_cell, 2, -1):
            in_w, op_w, out_w = self._widths(c)
            fits = max(in_w, out_w) <= room - 8 if self.strips else in_w + op_w + out_w + 2 * MIN_GAP <= room
            if fits and (self.channels * self._row_height(c) <= MAX_LANES_HEIGHT or c <= 4):
                break
        else:
            raise RenderError(f"a {shape_text(self.padded_hw)} input does not fit in {self.width} px")
        self.cell = c
        digits = self.sz.digits
        self.input_value_size = fitting_size(self.input_strings, c, largest=digits)
        self.output_value_size = fitting_size(self.output_strings, c, largest=digits)
        self.current_value_size = fitting_size(self.output_strings, c, largest=digits, bold=True) or self.output_value_size
        self.tap_value_size = fitting_size(self.input_strings, c, largest=digits, bold=True) or self.input_value_size

    def _place(self) -> None:
        c = self.cell
        (ph, pw), (oh, ow) = self.padded_hw, self.output_hw
        y = self.chrome.header_bottom
        self.input_grids, self.output_grids = [], []
        self.op_anchors: list[tuple[int, int]] = []  # where the op text sits, per channel
        if self.strips:
            self.header_baseline = None
            x = MARGIN + 4
            self.in_x = self.out_x = x
            row_y = y + self.sz.label_h
            for _ in range(self.channels):
                self.input_grids.append(Grid(x, row_y, 1, pw, c))
                row_y += self.sz.label_h + c + 1 + SLOT_GAP
                self.output_grids.append(Grid(x, row_y, 1, ow, c))
                row_y += self.sz.label_h + c + 1 + SLOT_GAP
            y = row_y - SLOT_GAP - self.sz.label_h + 12
        else:
            in_w, op_w, out_w = self._widths(c)
            slack = self.width - 2 * MARGIN - in_w - op_w - out_w
            gap = min(MAX_GAP, slack // 2)
            left = MARGIN + (slack - 2 * gap) // 2
            self.in_x, op_x, self.out_x = left, left + in_w + gap, left + in_w + gap + op_w + gap
            self.header_baseline = y + self.sz.sub
            top = y + self.sz.sub + 8 + self.sz.label_h
            pitch = self._row_height(c)
            for ch in range(self.channels):
                row_top = top + ch * pitch
                self.input_grids.append(Grid(self.in_x, row_top, ph, pw, c))
                out_top = row_top + max(0, (ph - oh) * c // 2)  # output centred beside its input
                self.output_grids.append(Grid(self.out_x, out_top, oh, ow, c))
                self.op_anchors.append((op_x, row_top + ph * c // 2 + self.sz.sum // 2))
            y = top - self.sz.label_h + self.channels * pitch - SLOT_GAP + 12
        self.chrome.place_footer(y, max(2, 1 + self.ndim))
        self.height = self.chrome.height

    # ---- primitives ---------------------------------------------------------------------------------
    def static(self, batch: int) -> list[Primitive]:
        th, out = self.theme, self.chrome.static()
        if self.header_baseline is not None:
            header = label(th.language, "input_padded" if self.trace.padding_cells.any() else "input")
            for x, text in ((self.in_x, header), (self.out_x, label(th.language, "output"))):
                out.append(Text(x, self.header_baseline, text, self.sz.sub, th.text, bold=True))
        for x, y in self.op_anchors:
            out.append(Text(x, y, self.op_text, self.sz.sum, th.accent, bold=True))
        padded = np.asarray(self.trace.padded_input[batch])
        size = self.input_value_size
        for ch, grid in enumerate(self.input_grids):
            out.append(Text(grid.x, grid.y - 5, self._input_label(ch), self.sz.label, th.muted_text))
            out.append(Rect(grid.outer, fill=th.grid))
            plane = padded[ch].reshape(self.padded_hw)
            for r in range(grid.rows):
                for col in range(grid.cols):
                    pad = bool(self.pad_cells[r, col])
                    if pad:
                        out.append(Rect(grid.box(r, col), fill=th.padding))
                        out.append(Rect(grid.box(r, col), edge=th.padding_edge, dashed=True))
                    else:
                        out.append(Rect(grid.interior(r, col), fill=th.input))
                    if size is not None:
                        out.append(cell_text(grid, r, col, fmt_value(float(plane[r, col])), size,
                                             th.padding_text if pad else th.input_text))
        for ch, grid in enumerate(self.output_grids):
            out.append(Text(grid.x, grid.y - 5, self._output_label(ch), self.sz.label, th.muted_text))
            out.append(Rect(grid.outer, fill=th.grid))
            for r in range(grid.rows):
                for col in range(grid.cols):
                    out.append(Rect(grid.interior(r, col), fill=th.output_empty))
        return out

    def _rc(self, coord) -> tuple[int, int]:
        coord = tuple(int(v) for v in np.atleast_1d(coord))
        return (0, coord[0]) if self.ndim == 1 else (coord[0], coord[1])

    def done_cell(self, index: int) -> list[Primitive]:
        """The persistent look of an output cell once computed (value from the trace's output)."""
        batch, ch, *pos = (int(v) for v in np.unravel_index(index, (self.trace.batch_size, *self.trace.geometry.output_shape)))
        r, col = self._rc(pos)
        grid = self.output_grids[ch]
        out: list[Primitive] = [Rect(grid.interior(r, col), fill=self.theme.output_done)]
        if self.output_value_size is not None:
            value = float(self.output[(batch, ch, *pos)])
            out.append(cell_text(grid, r, col, fmt_value(value), self.output_value_size, self.theme.output_done_text))
        return out

    def transient(self, step: PoolStep) -> list[Primitive]:
        th = self.theme
        counter = self._t("step_counter", step=step.index + 1, total=len(self.trace))
        if self.trace.batch_size > 1:
            counter = self._t("batch_counter", batch=step.batch) + counter
        out: list[Primitive] = [self.chrome.counter(counter)]
        grid = self.input_grids[step.channel]
        coords = np.asarray(step.tap_coords).reshape(-1, self.ndim)
        values = np.asarray(step.tap_values).reshape(-1)
        overhang = np.asarray(step.overhang_mask).reshape(-1)
        inside = [(self._rc(t), float(v), i) for i, (t, v, o) in enumerate(zip(coords, values, overhang)) if not o]
        fill_taps = fills_taps(th, self.trace.geometry)
        for (r, col), value, i in inside:
            selected = step.selected is not None and i == step.selected
            pad = bool(self.pad_cells[r, col])
            if not (selected or fill_taps):
                continue
            fill = th.output_current if selected else th.tap
            out.append(Rect(grid.interior(r, col), fill=fill))
            size = self.tap_value_size if selected else self.input_value_size
            if size is not None:
                colour = th.output_current_text if selected else (th.muted_text if pad else th.tap_text)
                out.append(cell_text(grid, r, col, fmt_value(value), size, colour, bold=selected))
            if selected:
                x0, y0, x1, _ = grid.box(r, col)
                if grid.cell >= int(MIN_TAG_CELL * th.font_scale + 0.5):
                    out.append(Text((x0 + x1) // 2, y0 + self.sz.tag + 2, self._t("pool_tag_max"), self.sz.tag,
                                    th.output_current_text, align="center", bold=True))
        rows = [r for (r, _), _, _ in inside]
        cols = [c for (_, c), _, _ in inside]
        if self.trace.geometry.window_has_gaps:  # the cells a dilated window skips, marked as in conv frames
            out += gap_marks(grid, {cell for cell, _, _ in inside}, th)
        out.append(outline(grid.span(rows, cols), th.window, 3))
        for (r, col), _, i in inside:  # the selected cell's frame goes over the window's
            if step.selected is not None and i == step.selected:
                out.append(Rect(grid.box(r, col), edge=th.text, line_width=2))
        r, col = self._rc(step.position)
        ogrid = self.output_grids[step.channel]
        out.append(Rect(ogrid.interior(r, col), fill=th.output_current))
        if self.current_value_size is not None:
            out.append(cell_text(ogrid, r, col, fmt_value(step.value), self.current_value_size,
                                 th.output_current_text, bold=True))
        out.append(outline(ogrid.box(r, col), th.text, 2))
        out += self.chrome.arithmetic(self._lines(step, [v for _, v, _ in inside]))
        return out

    def _lines(self, step: PoolStep, values: list[float]) -> list[tuple[str, str]]:
        result = f" = {fmt_value(step.value)}"
        t = self.trace
        if self.kind == "max":
            terms = [fmt_value(v) for v in values]
            return [self.chrome.elide(terms, "max(", ")", result, joiner=", ")]
        if self.kind == "avg":
            terms = [fmt_factor(v) for v in values]
            line = self.chrome.elide(terms, "(", f") / {fmt_number(step.divisor)}", result)
            if t.divisor_override is not None:
                why = f"divisor_override = {t.divisor_override}"
            elif t.count_include_pad or not self.trace.padding_cells.any():
                why = self._t("pool_divisor_all", divisor=fmt_number(step.divisor)) + (
                    self._t("pool_padding_included") if self.trace.padding_cells.any() else "")
            else:
                why = self._t("pool_divisor_inside", divisor=fmt_number(step.divisor))
            return [line, (why, "")]
        p = t.norm_type
        if math.isinf(p):
            terms = [f"|{fmt_value(v)}|" for v in values]
            name = "max(" if p > 0 else "min("
            return [self.chrome.elide(terms, name, ")", result, joiner=", ")]
        terms = [f"{fmt_factor(v)}{fmt_power(p)}" for v in values]
        return [self.chrome.elide(terms, "(", f")^(1/{fmt_number(p)})", result)]

    def final_transient(self) -> list[Primitive]:
        g = self.trace.geometry
        out: list[Primitive] = [self.chrome.counter(label(self.theme.language, "done_counter", total=len(self.trace)))]
        lines = [(self._t("output_complete", shape=shape_text(g.output_shape)), "")]
        lines += [(pretty_formula(f), "") for f in g.formulas]
        return out + self.chrome.arithmetic(lines, emphasise_last=False)

    def cell_box(self, role: str, channel: int, coord) -> Box:
        """role "input" takes padded coordinates, "output" output coordinates."""
        grids = {"input": self.input_grids, "output": self.output_grids}
        if role not in grids:
            raise RenderError(f"role must be input or output, got {role!r}")
        r, col = self._rc(coord)
        return grids[role][channel].box(r, col)

    def palette_colors(self) -> list[RGB]:
        th = self.theme
        fills = [th.background, th.input, th.padding, th.tap, th.output_empty, th.output_done, th.output_current]
        lines = [th.grid, th.padding_edge, th.window, th.text, th.gap]
        pairs = [(th.input_text, th.input), (th.padding_text, th.padding), (th.tap_text, th.tap),
                 (th.muted_text, th.tap), (th.output_done_text, th.output_done),
                 (th.output_current_text, th.output_current), (th.text, th.background),
                 (th.muted_text, th.background), (th.accent, th.background), (th.window, th.input),
                 (th.window, th.padding), (th.window, th.tap), (th.padding_edge, th.padding), (th.grid, th.input)]
        dense = [(th.text, th.background), (th.muted_text, th.background), (th.accent, th.background)]
        return palette_with_ramps(fills, lines, pairs, dense, crisp=th.crisp_text)

