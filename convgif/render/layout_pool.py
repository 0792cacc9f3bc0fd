"""Where everything of a pooling frame goes: the padded input with the window sliding by its stride, the output.

Max pooling marks the selected cell ("max"), average pooling writes `(a + b + …) / divisor = v`, Lp pooling
`√(a² + b² + …) = v` (the p-th root as `ᵖ√`, one notation for every p). Channels are stacked rows (input left,
output right); 1D pools are strips.
Every number drawn is read from the trace; nothing here adds, divides or takes powers of values.
"""

from __future__ import annotations

import math

import numpy as np

from convgif.engine.trace_pool import PoolStep
from convgif.engine.notation import merged_formulas, per_dim_text
from convgif.render.fonts import text_width
from convgif.render.layout import Layout, output_places_1d
from convgif.render.layout_common import (
    SLOT_GAP, Grid, cell_text, fills_taps, fitting_size, gap_marks, outline, pads_text, palette_with_ramps, shape_text,
    swatch, unread_cells, unread_legend, unread_stripes, window_legend,
    distinct_values,
)
from convgif.render.primitives import MINUS, Primitive, Rect, Text, fmt_factor, fmt_number
from convgif.render.theme import RGB, Theme, mix

SUPERSCRIPTS = str.maketrans("0123456789-.", "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079\u207b\u00b7")
MIN_TAG_CELL = 30  # cells smaller than this (times the font scale) carry no "max" tag


def selected_fill(theme: Theme) -> RGB:
    """The max-selected input cell: a pale output colour, framed in the full one, never the look of the current
    output cell (full fill, text-coloured frame)."""
    return mix(theme.output_current, theme.background, 0.3)


def fmt_value(value: float) -> str:
    """A cell value; max pooling's padding is −∞."""
    if math.isinf(value):
        return ("" if value > 0 else MINUS) + "\u221e"
    return fmt_number(value)


def fmt_power(p: float) -> str:
    text = fmt_number(p).replace(MINUS, "-")
    return text.translate(SUPERSCRIPTS) if all(ch in "0123456789-." for ch in text) else f"^{text}"


def fmt_root(p: float) -> str:
    """The p-th root sign: `√` for p = 2, else p raised before it (`³√`, `¹·⁵√`)."""
    return "\u221a" if p == 2 else f"{fmt_power(p)}\u221a"


class PoolLayout(Layout):
    """Pixel layout of one pool trace's frames: input channels | the operation | output channels."""

    def measure(self) -> None:
        trace, g = self.trace, self.trace.geometry
        self.kind = trace.kind.split("_")[0]  # max | avg | lp
        self.padded_hw, self.output_hw = self.hw(g.padded_input_shape[1:]), self.hw(g.output_shape[1:])
        self.channels = g.in_channels
        self.output = trace.output()
        self.output.setflags(write=False)
        self.pad_cells = np.asarray(trace.padding_cells).reshape(self.padded_hw)
        self.unread = unread_cells(g)
        values = np.asarray(trace.padded_input)
        self.input_strings = [fmt_value(float(v)) for v in distinct_values(values)[:4000]]
        self.output_strings = [fmt_value(float(v)) for v in distinct_values(self.output)[:4000]]
        self.op_text = {"max": self.say("pool_max"), "avg": self.say("pool_mean"),
                        "lp": f"L{fmt_number(trace.norm_type or 2)}"}[self.kind] + " \u2192"
        self.cell, _ = self.choose_cells(f"a {shape_text(self.padded_hw)} input")
        self.fit_values(self.input_strings, self.output_strings)
        self.tap_value_size = fitting_size(self.input_strings, self.cell, largest=self.sz.digits,
                                           bold=True, windowed=True) or self.input_value_size

    # ---- text ---------------------------------------------------------------------------------------
    def subtitle(self) -> str:
        g, t, say = self.trace.geometry, self.trace, self.say
        parts = [t.kind + (f" (p={fmt_number(t.norm_type)})" if self.kind == "lp" else ""),
                 say("in_to_out", input=shape_text(g.input_shape), output=shape_text(g.output_shape)),
                 say("pool_window", value=shape_text(g.kernel_size)), say("stride", value=per_dim_text(g.stride))]
        if any(b for b, _ in g.padding):
            parts.append(say("padding_value", value=pads_text(g.padding)))
            if self.kind == "avg":
                parts.append(say("padding_counted" if t.count_include_pad else "padding_not_counted"))
        if any(d > 1 for d in g.dilation):
            parts.append(say("dilation", value=per_dim_text(g.dilation)))
        if g.ceil_mode:
            parts.append("ceil_mode")
        if t.divisor_override is not None:
            parts.append(f"divisor_override {t.divisor_override}")
        return " \u00b7 ".join(parts)

    def legend_entries(self):
        th, t = self.theme, self.say
        items = [(t("input_value"), swatch(fill=th.input, edge=th.grid))]
        if self.trace.padding_cells.any():
            pad = t("padding") + (" (\u2212\u221e)" if self.kind == "max" else " (0)")
            items.append((pad, swatch(fill=th.padding, edge=th.padding_edge, dashed=True)))
        items += window_legend(th, self.trace.geometry, t, tapped_key="in_window")
        if self.unread:
            items.append(unread_legend(th, t))
        if self.kind == "max":
            items.append((t("max_selected"), swatch(fill=selected_fill(th), edge=th.output_current, line_width=2)))
        items += [(t("output_done"), swatch(fill=th.output_done, edge=th.grid)),
                  (t("current_output"), swatch(fill=th.output_current, edge=th.text, line_width=2))]
        return items

    def column_headers(self) -> list[tuple[int, str]]:
        header = self.say("input_padded" if self.trace.padding_cells.any() else "input")
        return [(self.in_x, header), (self.out_x, self.say("output"))]

    # ---- sizing and placement -----------------------------------------------------------------------
    def column_widths(self, c: int, ck: int) -> tuple[int, int, int]:
        """Input, the operation's name (columns only: strips have no middle column), output."""
        (_, pw), (_, ow) = self.padded_hw, self.output_hw
        in_w = max(pw * c + 1, math.ceil(text_width(self.input_label(self.channels - 1), self.sz.label)))
        offset, pitch = self.output_strip(c) if self.strips else (0, 0)
        out_w = offset + max((ow - 1) * (pitch or c) + c + 1,
                             math.ceil(text_width(self.output_label(self.channels - 1), self.sz.label)))
        op_w = 0 if self.strips else math.ceil(text_width(self.op_text, self.sz.sum, True)) + 8
        return in_w, op_w, out_w

    def output_strip(self, c: int) -> tuple[int, int]:
        """(x offset from the input strip, column pitch or 0) of a 1D output strip at cell `c`: each output under
        the centre of the window it is computed from (layout.output_places_1d)."""
        first, step = output_places_1d(self.trace.geometry)
        return round(first * c), (round(step * c) if step > 1 else 0)

    def _row_height(self, c: int) -> int:
        (ph, _), (oh, _) = self.padded_hw, self.output_hw
        if self.strips:
            return 2 * (self.sz.label_h + c + 1 + SLOT_GAP)
        return self.sz.label_h + max(ph, oh) * c + 1 + SLOT_GAP

    def grids_height(self, c: int, ck: int) -> int:
        return self.channels * self._row_height(c)

    def place_grids(self, top: int) -> int:
        c = self.cell
        (ph, pw), (oh, ow) = self.padded_hw, self.output_hw
        self.input_grids, self.output_grids = [], []
        self.op_anchors: list[tuple[int, int]] = []  # where the op text sits, per channel
        row_y = top + self.sz.label_h
        for _ in range(self.channels):
            if self.strips:  # the output row under its input row, each output under its window's centre
                self.input_grids.append(Grid(self.in_x, row_y, 1, pw, c))
                row_y += self.sz.label_h + c + 1 + SLOT_GAP
                offset, pitch = self.output_strip(c)
                self.output_grids.append(Grid(self.out_x + offset, row_y, 1, ow, c, pitch))
                row_y += self.sz.label_h + c + 1 + SLOT_GAP
            else:  # the output centred beside its input
                self.input_grids.append(Grid(self.in_x, row_y, ph, pw, c))
                self.output_grids.append(Grid(self.out_x, row_y + max(0, (ph - oh) * c // 2), oh, ow, c))
                self.op_anchors.append((self.mid_x, row_y + ph * c // 2 + self.sz.sum // 2))
                row_y += self._row_height(c)
        return row_y - SLOT_GAP - self.sz.label_h

    def arith_line_count(self) -> int:
        return max(2, 1 + len(merged_formulas(self.trace.geometry.formulas)))

    def grids_by_role(self) -> dict[str, list[Grid]]:
        """"input" takes padded coordinates, "output" output coordinates."""
        return {"input": self.input_grids, "output": self.output_grids}

    # ---- primitives ---------------------------------------------------------------------------------
    def static_marks(self, batch: int) -> list[Primitive]:
        th, out = self.theme, []
        for x, y in self.op_anchors:
            out.append(Text(x, y, self.op_text, self.sz.sum, th.accent, bold=True))
        padded = np.asarray(self.trace.padded_input[batch])
        size = self.input_value_size
        for ch, grid in enumerate(self.input_grids):
            out.append(Text(grid.x, grid.y - 5, self.input_label(ch), self.sz.label, th.muted_text))
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
                    if (r, col) in self.unread:
                        out += unread_stripes(grid.interior(r, col), th)
                    if size is not None:
                        out.append(cell_text(grid, r, col, fmt_value(float(plane[r, col])), size,
                                             th.padding_text if pad else th.input_text))
        for ch, grid in enumerate(self.output_grids):
            out.append(Text(grid.x, grid.y - 5, self.output_label(ch), self.sz.label, th.muted_text))
            lines = [grid.box(0, col) for col in range(grid.cols)] if grid.spaced else [grid.outer]
            out += [Rect(box, fill=th.grid) for box in lines]
            for r in range(grid.rows):
                for col in range(grid.cols):
                    out.append(Rect(grid.interior(r, col), fill=th.output_empty))
        return out

    def done_cell(self, index: int) -> list[Primitive]:
        return self.done_output(index, fmt_value)

    def transient(self, step: PoolStep) -> list[Primitive]:
        th = self.theme
        out: list[Primitive] = [self.step_counter(step)]
        grid = self.input_grids[step.channel]
        coords = np.asarray(step.tap_coords).reshape(-1, self.ndim)
        values = np.asarray(step.tap_values).reshape(-1)
        overhang = np.asarray(step.overhang_mask).reshape(-1)
        inside = [(self.rc(t), float(v), i) for i, (t, v, o) in enumerate(zip(coords, values, overhang)) if not o]
        fill_taps = fills_taps(th, self.trace.geometry)
        for (r, col), value, i in inside:
            selected = step.selected is not None and i == step.selected and not self.hide_answers  # a quiz asks which
            pad = bool(self.pad_cells[r, col])
            if not (selected or fill_taps):
                continue
            fill = selected_fill(th) if selected else th.tap
            out.append(Rect(grid.interior(r, col), fill=fill))
            size = self.tap_value_size if selected else self.input_value_size
            if size is not None:
                colour = th.text if selected else (th.muted_text if pad else th.tap_text)
                out.append(cell_text(grid, r, col, fmt_value(value), size, colour, bold=selected))
            if selected:
                x0, y0, x1, _ = grid.box(r, col)
                tag = self.say("pool_tag_max")
                if (grid.cell >= int(MIN_TAG_CELL * th.font_scale + 0.5)
                        and text_width(tag, self.sz.tag, True) <= grid.cell - 6):  # never shrunk below sz.tag
                    out.append(Text((x0 + x1) // 2, y0 + self.sz.tag + 3, tag, self.sz.tag, th.text,
                                    align="center", bold=True))
        rows = [r for (r, _), _, _ in inside]
        cols = [c for (_, c), _, _ in inside]
        if self.trace.geometry.window_has_gaps:  # the cells a dilated window skips, marked as in conv frames
            out += gap_marks(grid, {cell for cell, _, _ in inside}, th)
        out.append(outline(grid.span(rows, cols), th.window, 3))
        for (r, col), _, i in inside:  # the selected cell's frame, inside its border lines
            if step.selected is not None and i == step.selected and not self.hide_answers:
                out.append(Rect(grid.interior(r, col), edge=th.output_current, line_width=2))
        r, col = self.rc(step.position)
        out += self.current_output(self.output_grids[step.channel], r, col, fmt_value(step.value))
        return out + self.arithmetic(self._lines(step, [v for _, v, _ in inside]))

    def _lines(self, step: PoolStep, values: list[float]) -> list[tuple[str, str]]:
        result = f" = {fmt_value(step.value)}"
        t = self.trace
        if self.kind == "max":
            terms = [fmt_value(v) for v in values]
            return [self.elide(terms, "max(", ")", result, joiner=", ")]
        if self.kind == "avg":
            terms = [fmt_factor(v) for v in values]
            line = self.elide(terms, "(", f") / {fmt_number(step.divisor)}", result)
            if t.divisor_override is not None:
                why = f"divisor_override = {t.divisor_override}"
            elif t.count_include_pad or not self.trace.padding_cells.any():
                why = self.say("pool_divisor_all", divisor=fmt_number(step.divisor)) + (
                    self.say("pool_padding_included") if self.trace.padding_cells.any() else "")
            else:
                why = self.say("pool_divisor_inside", divisor=fmt_number(step.divisor))
            return [line, (why, "")]
        p = t.norm_type
        if math.isinf(p):
            terms = [f"|{fmt_value(v)}|" for v in values]
            name = "max(" if p > 0 else "min("
            return [self.elide(terms, name, ")", result, joiner=", ")]
        terms = [f"{fmt_factor(v)}{fmt_power(p)}" for v in values]
        return [self.elide(terms, f"{fmt_root(p)}(", ")", result)]

    def final_lines(self) -> list[tuple[str, str]]:
        g = self.trace.geometry
        return [(self.say("output_complete", shape=shape_text(g.output_shape)), "")] + [
            (f, "") for f in self.formulas_to_show(g.formulas)]

    def colours(self) -> list[RGB]:
        th = self.theme
        fills = [th.background, th.input, th.padding, th.tap, th.output_empty, th.output_done, th.output_current,
                 selected_fill(th)]
        lines = [th.grid, th.padding_edge, th.window, th.text, th.gap]
        pairs = [(th.input_text, th.input), (th.padding_text, th.padding), (th.tap_text, th.tap),
                 (th.muted_text, th.tap), (th.output_done_text, th.output_done),
                 (th.output_current_text, th.output_current), (th.text, selected_fill(th)), (th.text, th.background),
                 (th.muted_text, th.background), (th.accent, th.background), (th.window, th.input),
                 (th.window, th.padding), (th.window, th.tap), (th.padding_edge, th.padding), (th.grid, th.input)]
        dense = [(th.text, th.background), (th.muted_text, th.background), (th.accent, th.background)]
        return palette_with_ramps(fills, lines, pairs, dense, crisp=th.crisp_text)

