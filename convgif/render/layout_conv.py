"""Where everything of a conv1d/conv2d frame goes: trace + theme -> static, persistent and transient primitives.

Data flows left to right (input channels -> kernel slices and partial sums -> output channels), one lane
per group; the arithmetic sits under the lanes and the caption at the bottom. Every number drawn is read
from the trace; nothing here multiplies or adds convolution values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from convgif.engine.trace import ConvStep, ConvTrace
from convgif.errors import RenderError
from convgif.render.fonts import text_width
from convgif.render.labels import label
from convgif.render.layout_common import (  # noqa: F401  (Grid, shape_text, ... are re-exported for callers)
    ARITH_LINE, ARITH_SIZE, CAPTION_SIZE, LABEL_H, LABEL_SIZE, LANE_GAP, LANE_PAD, LEGEND_SIZE, MARGIN, MAX_CELL,
    MAX_GAP, MAX_KERNEL_CELL, MAX_LANES_HEIGHT, MIN_GAP, MIN_KERNEL_CELL, MIN_VALUE_CELL, SLOT_GAP, SUB_SIZE, SUM_SIZE,
    TITLE_SIZE, Grid, Sizes, arith_texts, darker, elide, fills_taps, fitting_size, flow_legend, gap_marks,
    gap_swatch, legend_entry, legend_height, line_texts, outline, shape_text, swatch, window_legend, wrap_text,
)
from convgif.render.primitives import (
    ELLIPSIS, TIMES, Box, Primitive, Rect, Text, Veil, cell_text_baseline, fmt_factor, fmt_number,
)
from convgif.render.theme import RGB, Theme

MAX_ARITH_CHANNELS = 4


class ConvLayout:
    """Pixel layout of one conv trace's frames; produces the primitives each painter draws."""

    text_by_word = False  # arithmetic and notes as one Text per word (see layout_common.line_texts)

    def __init__(self, trace: ConvTrace, *, title: str | None, caption: str | None, theme: Theme, width: int):
        g = trace.geometry
        if g.kind not in ("conv1d", "conv2d"):
            raise RenderError(f"the conv renderer draws conv1d/conv2d traces, got {g.kind}")
        if width < 320:
            raise RenderError(f"frame width must be at least 320 px, got {width}")
        self.trace = trace
        self.theme = theme
        self.sz = Sizes.at(theme.font_scale)
        self.width = width
        self.title = title
        self.caption = caption
        self.ndim = g.ndim
        self.groups = g.groups
        self.in_channels = g.in_channels
        self.out_channels = g.out_channels
        self.per_group_in = g.in_channels // g.groups
        self.per_group_out = g.out_channels // g.groups
        as2 = (lambda s: (1, *s)) if self.ndim == 1 else (lambda s: tuple(s))
        self.padded_hw = as2(g.padded_input_shape[1:])
        self.kernel_hw = as2(g.kernel_size)
        self.output_hw = as2(g.output_shape[1:])
        self.output = trace.output()  # done cells of steps not shown take their values from here
        self.output.setflags(write=False)
        self.strips = self.ndim == 1  # conv1d: each channel a row; input, kernel and output rows top to bottom
        self._measure_numbers()
        self._solve_cell_sizes()
        self._place()

    # ---- sizing -------------------------------------------------------------------------------------
    def _measure_numbers(self) -> None:
        t = self.trace
        padded = np.asarray(t.padded_input)
        decimals = not (np.all(padded == np.round(padded)) and np.all(t.weight == np.round(t.weight)))
        # widest text a partial sum or total can take: a bound from the data, not from any step's arithmetic
        slice_abs = np.abs(t.weight).reshape(t.weight.shape[0], t.weight.shape[1], -1).sum(axis=2).max()
        bound = float(np.abs(padded).max(initial=0) * slice_abs * self.per_group_in)
        bias_bound = 0.0 if t.bias is None else float(np.abs(t.bias).max(initial=0))
        bound = max(bound + bias_bound, float(np.abs(self.output).max(initial=0)))
        digits = "8" * max(1, len(str(int(math.ceil(bound))))) + (".88" if decimals else "")
        self.psum_sample = f"= \u2212{digits}"
        bias_sample = "" if t.bias is None else f" + b(\u2212{'8' * max(1, len(str(int(bias_bound))))}.88)"
        self.total_sample = f"\u03a3{bias_sample} = \u2212{digits}"
        self.input_strings = [fmt_number(v) for v in np.unique(padded)] if padded.size <= 20000 else ["888.88"]
        self.output_strings = [fmt_number(v) for v in np.unique(self.output)] if self.output.size <= 20000 else ["888.88"]
        self.weight_strings = [fmt_number(v) for v in np.unique(t.weight)]

    def _column_widths(self, c: int, ck: int) -> tuple[int, int, int]:
        (ph, pw), (kh, kw), (oh, ow) = self.padded_hw, self.kernel_hw, self.output_hw
        in_label = text_width(self._input_label(self.in_channels - 1), self.sz.label)
        out_label = text_width(self._output_label(self.out_channels - 1), self.sz.label)
        k_label = max(text_width(self._kernel_label(self.out_channels - 1, self.in_channels - 1), self.sz.label),
                      text_width(self._t("kernels_to_sums"), self.sz.sub, True) + 6)
        psum = text_width(self.psum_sample, self.sz.sum, True)
        total = text_width(self.total_sample, self.sz.sum, True)
        in_w = max(pw * c + 1, math.ceil(in_label))
        out_w = max(ow * c + 1, math.ceil(out_label))
        k_w = max(kw * ck + 1 + 8 + math.ceil(psum), math.ceil(total), math.ceil(k_label))
        return in_w, k_w, out_w

    def _kernel_offset(self, c: int, ck: int) -> int:
        """How far below its input grid's top a kernel slice sits (centred on the input grid)."""
        (ph, _), (kh, _) = self.padded_hw, self.kernel_hw
        return max(0, (ph * c - kh * ck) // 2)

    def _slots(self, c: int, ck: int) -> tuple[int, int, int]:
        """(input slot pitch, output slot pitch, lane height)."""
        (ph, _), (kh, _), (oh, _) = self.padded_hw, self.kernel_hw, self.output_hw
        in_pitch = self.sz.label_h + max(ph * c, self._kernel_offset(c, ck) + kh * ck) + 1 + SLOT_GAP
        out_pitch = self.sz.label_h + oh * c + 1 + SLOT_GAP
        last_grid_top = (self.per_group_in - 1) * in_pitch + self.sz.label_h
        kernel_bottom = last_grid_top + self._kernel_offset(c, ck) + kh * ck + 1
        needed = max(self.per_group_in * in_pitch - SLOT_GAP, self.per_group_out * out_pitch - SLOT_GAP,
                     kernel_bottom + 8 + self.sz.sum + 4)
        return in_pitch, out_pitch, needed + 2 * LANE_PAD

    def _candidate_sizes(self):
        """(cell, kernel cell) from large to small; kernels keep legible cells unless they are long."""
        sz = self.sz
        for c in range(sz.max_cell, 2, -1):
            yield from dict.fromkeys(((c, min(max(c, sz.min_kernel_cell), sz.max_kernel_cell)), (c, c)))

    def _strip_fits(self, c: int, ck: int) -> bool:
        """conv1d strips: input row, kernel row + partial sum, output row, each within the frame width."""
        (_, pw), (_, kw), (_, ow) = self.padded_hw, self.kernel_hw, self.output_hw
        room = self.width - 2 * MARGIN - 8
        psum = text_width(self.psum_sample, self.sz.sum, True)
        return pw * c + 1 <= room and kw * ck + 9 + psum <= room and ow * c + 1 <= room

    def _strip_lane_height(self, c: int, ck: int) -> int:
        row, krow = self.sz.label_h + c + 1 + SLOT_GAP, self.sz.label_h + ck + 1 + SLOT_GAP
        return (2 * LANE_PAD + self.per_group_in * row + self.per_group_in * krow + self.sz.sum + 10
                + self.per_group_out * row - SLOT_GAP)

    def _solve_cell_sizes(self) -> None:
        for c, ck in self._candidate_sizes():
            if self.strips:
                widths = (self.width - 2 * MARGIN, 0, 0)
                lanes = self.groups * self._strip_lane_height(c, ck)
                fits = self._strip_fits(c, ck)
            else:
                widths = self._column_widths(c, ck)
                lanes = self.groups * self._slots(c, ck)[2] + (self.groups - 1) * LANE_GAP
                fits = 2 * MARGIN + sum(widths) + 2 * MIN_GAP <= self.width
            if fits and (lanes <= MAX_LANES_HEIGHT or c <= 4):
                break
        else:
            raise RenderError(f"a {shape_text(self.padded_hw)} input does not fit in {self.width} px")
        self.cell, self.kernel_cell = c, ck
        self.col_widths = widths
        digits = self.sz.digits
        self.input_value_size = fitting_size(self.input_strings, c, largest=digits)
        self.output_value_size = fitting_size(self.output_strings, c, largest=digits)
        self.current_value_size = fitting_size(self.output_strings, c, largest=digits, bold=True) or self.output_value_size
        self.weight_value_size = fitting_size(self.weight_strings, ck, largest=digits)

    # ---- placement ----------------------------------------------------------------------------------
    def _place(self) -> None:
        th, W = self.theme, self.width
        if self.strips:
            self.in_x = self.k_x = self.out_x = MARGIN + 4
        else:
            in_w, k_w, out_w = self.col_widths
            slack = W - 2 * MARGIN - in_w - k_w - out_w
            gap = min(MAX_GAP, slack // 2)
            left = MARGIN + (slack - 2 * gap) // 2
            self.in_x, self.k_x, self.out_x = left, left + in_w + gap, left + in_w + gap + k_w + gap
        y = MARGIN
        sz = self.sz
        self.title_lines = (wrap_text(self.title, sz.title, W - 2 * MARGIN, bold=True)
                            if self.title else [])
        self.title_baseline = y + sz.title if self.title else None
        y += len(self.title_lines) * (sz.title + 8)
        room = W - 2 * MARGIN  # a long subtitle wraps
        self.subtitle_lines = wrap_text(self._subtitle(), sz.sub, room) or [""]
        self.sub_baseline = y + sz.sub
        y += len(self.subtitle_lines) * (sz.sub + 4) + 4
        self.legend_items = self._legend_entries()
        self.legend_rows = flow_legend(self.legend_items, y, self.width, sz)
        y += legend_height(self.legend_rows, sz) + 6
        self.header_baseline = None if self.strips else y + self.sz.sub
        if not self.strips:
            y += self.sz.sub + 8
        c, ck = self.cell, self.kernel_cell
        (ph, pw), (kh, kw), (oh, ow) = self.padded_hw, self.kernel_hw, self.output_hw
        self.lane_boxes: list[Box] = []
        self.input_grids: list[Grid] = []
        self.kernel_grids: list[Grid] = []  # indexed by input channel
        self.output_grids: list[Grid] = []
        if self.strips:
            lane_h = self._strip_lane_height(c, ck)
            row, krow = self.sz.label_h + c + 1 + SLOT_GAP, self.sz.label_h + ck + 1 + SLOT_GAP
            for group in range(self.groups):
                top = y + group * (lane_h + LANE_GAP)
                self.lane_boxes.append((MARGIN // 2, top, W - MARGIN // 2, top + lane_h))
                row_y = top + LANE_PAD + self.sz.label_h
                for _ in range(self.per_group_in):
                    self.input_grids.append(Grid(self.in_x, row_y, 1, pw, c))
                    row_y += row
                for _ in range(self.per_group_in):
                    self.kernel_grids.append(Grid(self.k_x, row_y, 1, kw, ck))
                    row_y += krow
                row_y += self.sz.sum + 10
                for _ in range(self.per_group_out):
                    self.output_grids.append(Grid(self.out_x, row_y, 1, ow, c))
                    row_y += row
        else:
            self._place_columns(y)
            in_pitch, out_pitch, lane_h = self._slots(c, ck)
        y += self.groups * lane_h + (self.groups - 1) * LANE_GAP + 12
        # the step counter heads the arithmetic it numbers: there it changes with pixels that change anyway, where
        # at the top of the frame it stretched every GIF frame's changed box to the full height (~10% of its bytes)
        self.counter_top = y
        y += self.sz.arith_line
        self.arith_top = y
        self.arith_lines = max(self._arith_line_count(), 1 + self.ndim)
        y += self.arith_lines * self.sz.arith_line + 6
        # static lines between the arithmetic and the caption, wrapped when wider than the frame
        self.notes = [line for note in self._notes() for line in wrap_text(note, sz.arith, W - 2 * MARGIN)]
        self.notes_top = y
        y += len(self.notes) * self.sz.arith_line + (6 if self.notes else 0)
        self.caption_lines = wrap_text(self.caption or "", self.sz.caption, W - 2 * MARGIN)
        self.caption_top = y
        y += len(self.caption_lines) * (self.sz.caption + 6)
        self.height = y + MARGIN
        self.arith_width = W - 2 * MARGIN

    def _place_columns(self, y: int) -> None:
        W, c, ck = self.width, self.cell, self.kernel_cell
        (ph, pw), (kh, kw), (oh, ow) = self.padded_hw, self.kernel_hw, self.output_hw
        in_pitch, out_pitch, lane_h = self._slots(c, ck)
        for group in range(self.groups):
            top = y + group * (lane_h + LANE_GAP)
            self.lane_boxes.append((MARGIN // 2, top, W - MARGIN // 2, top + lane_h))
            for j in range(self.per_group_in):
                grid_top = top + LANE_PAD + j * in_pitch + self.sz.label_h
                self.input_grids.append(Grid(self.in_x, grid_top, ph, pw, c))
                k_top = grid_top + self._kernel_offset(c, ck)
                self.kernel_grids.append(Grid(self.k_x, k_top, kh, kw, ck))
            for j in range(self.per_group_out):
                grid_top = top + LANE_PAD + j * out_pitch + self.sz.label_h
                self.output_grids.append(Grid(self.out_x, grid_top, oh, ow, c))

    def _arith_line_count(self) -> int:
        if self.per_group_in == 1:
            return 1
        shown = min(self.per_group_in, MAX_ARITH_CHANNELS)
        return shown + (1 if self.per_group_in > shown else 0) + 1

    def _notes(self) -> list[str]:
        return []

    # ---- labels -------------------------------------------------------------------------------------
    def _t(self, key: str, **values) -> str:
        """A frame word in the theme's language (see convgif.render.labels)."""
        return label(self.theme.language, key, **values)

    def _input_label(self, channel: int) -> str:
        return self._t("input_channel", channel=channel, shape=shape_text(self.trace.geometry.input_shape[1:]))

    def _output_label(self, channel: int) -> str:
        return self._t("output_channel", channel=channel, shape=shape_text(self.trace.geometry.output_shape[1:]))

    def _kernel_label(self, out_channel: int, in_channel: int) -> str:
        return self._t("kernel_slice", out=out_channel, channel=in_channel)

    def _subtitle(self) -> str:
        g, t = self.trace.geometry, self._t
        parts = [f"{g.kind}", t("in_to_out", input=shape_text(g.input_shape), output=shape_text(g.output_shape)),
                 t("kernel_shape", shape=shape_text(g.kernel_size))]
        one = (1,) * self.ndim
        if g.stride != one:
            parts.append(t("stride", value=shape_text(g.stride)))
        if any(b or a for b, a in g.padding):
            pads = [b if b == a else f"{b}/{a}" for b, a in g.padding]
            parts.append(t("padding_value", value=TIMES.join(str(p) for p in pads)))
        if g.dilation != one:
            parts.append(t("dilation", value=shape_text(g.dilation)))
        if g.groups > 1:
            parts.append(t("groups", value=g.groups))
        if self.trace.bias is not None:
            parts.append(t("bias"))
        if self.trace.batch_size > 1:
            parts.append(t("batch", value=self.trace.batch_size))
        return " \u00b7 ".join(parts)

    # ---- legend -------------------------------------------------------------------------------------
    def _legend_entries(self) -> list[tuple[str, list[Rect]]]:
        th = self.theme
        t = self._t
        items = [(t("input_value"), swatch(fill=th.input, edge=th.grid))]
        if bool(self.trace.padding_cells.any()):
            items.append((t("padding"), swatch(fill=th.padding, edge=th.padding_edge, dashed=True)))
        items += window_legend(th, self.trace.geometry, t)
        items += [(t("weight"), swatch(fill=th.kernel, edge=th.grid)),
                  (t("output_done"), swatch(fill=th.output_done, edge=th.grid)),
                  (t("current_output"), swatch(fill=th.output_current, edge=th.grid))]
        if self.groups > 1:
            for group in range(self.groups):
                items.append((t("group", group=group), swatch(fill=th.lane_colour(group), edge=th.group_colour(group), line_width=2)))
        return items

    # ---- primitives ---------------------------------------------------------------------------------
    def static(self, batch: int) -> list[Primitive]:
        """Drawn once per scene (per batch element): everything that never changes between steps."""
        th, out = self.theme, []
        for i, line in enumerate(self.title_lines):
            out.append(Text(MARGIN, self.title_baseline + i * (self.sz.title + 8), line, self.sz.title, th.text, bold=True))
        for i, line in enumerate(self.subtitle_lines):
            out.append(Text(MARGIN, self.sub_baseline + i * (self.sz.sub + 4), line, self.sz.sub, th.muted_text))
        for y, x, label, make in self.legend_rows:
            out += legend_entry(x, y, label, make, th, self.sz)
        if self.header_baseline is not None:
            for x, label in self._headers():
                out.append(Text(x, self.header_baseline, label, self.sz.sub, th.text, bold=True))
        if self.groups > 1:
            for group, (x0, y0, x1, y1) in enumerate(self.lane_boxes):
                out.append(Rect((x0, y0, x1, y1), fill=th.lane_colour(group)))
                out.append(Rect((x0, y0, x0 + 4, y1), fill=th.group_colour(group)))
        padded = self.trace.padded_input[batch]
        pad_cells = np.asarray(self.trace.padding_cells).reshape(self.padded_hw)
        for ch, grid in enumerate(self.input_grids):
            out.append(self._label(grid, self._input_label(ch) + self._hidden_note(self.input_value_size),
                                   self._label_colour(ch // self.per_group_in)))
            out += self._input_cells(grid, np.asarray(padded[ch]).reshape(self.padded_hw), pad_cells)
        for oc, grid in enumerate(self.output_grids):
            out.append(self._label(grid, self._output_label(oc) + self._hidden_note(self.output_value_size),
                                   self._label_colour(oc // self.per_group_out)))
            out.append(Rect(grid.outer, fill=th.grid))
            for r in range(grid.rows):
                for col in range(grid.cols):
                    out.append(Rect(grid.interior(r, col), fill=th.output_empty))
        for i, note in enumerate(self.notes):
            y = self.notes_top + self.sz.arith + i * self.sz.arith_line
            out += line_texts(MARGIN, y, note, self.sz.arith, th.muted_text, crisp=th.crisp_text) if self.text_by_word else \
                [Text(MARGIN, y, note, self.sz.arith, th.muted_text)]
        for i, line in enumerate(self.caption_lines):
            out.append(Text(MARGIN, self.caption_top + self.sz.caption + i * (self.sz.caption + 6), line, self.sz.caption,
                            th.muted_text))
        return out

    def _counter_baseline(self) -> int:
        """The step counter's baseline: its own line, left, just above the arithmetic."""
        return self.counter_top + self.sz.sum

    def _headers(self) -> list[tuple[int, str]]:
        return [(self.in_x, self._t("input_padded" if self.trace.padding_cells.any() else "input")),
                (self.k_x, self._t("kernels_to_sums")), (self.out_x, self._t("output"))]

    def _hidden_note(self, size: int | None) -> str:
        return "" if size is not None else self._t("values_hidden")

    def _label_colour(self, group: int) -> RGB:
        return self.theme.group_label_colour(group) if self.groups > 1 else self.theme.muted_text

    def _label(self, grid: Grid, text: str, colour: RGB) -> Text:
        """A grid's label over its top-left corner. One wider than the room before the frame's right margin (an
        output grid of hidden values: "output ch 0 · 64×64 · values hidden") starts a little left of the grid,
        by up to most of the gap before it."""
        room_left = self.width - MARGIN - text_width(text, self.sz.label)
        x = min(grid.x, max(grid.x - (MIN_GAP - 4), math.floor(room_left)))
        return Text(x, grid.y - 5, text, self.sz.label, colour)

    def _input_cells(self, grid: Grid, values: np.ndarray, pad_cells: np.ndarray) -> list[Primitive]:
        th, out = self.theme, []
        size = self.input_value_size
        out.append(Rect(grid.outer, fill=th.padding if pad_cells.any() else th.grid))
        data_rows, data_cols = np.nonzero(~pad_cells)
        if data_rows.size:  # the data block: solid lines, white cells
            r0, r1, c0, c1 = data_rows.min(), data_rows.max(), data_cols.min(), data_cols.max()
            x0, y0, _, _ = grid.box(r0, c0)
            _, _, x1, y1 = grid.box(r1, c1)
            out.append(Rect((x0, y0, x1, y1), fill=th.grid))
        for r in range(grid.rows):
            for col in range(grid.cols):
                if pad_cells[r, col]:
                    out.append(Rect(grid.box(r, col), edge=th.padding_edge, dashed=True))
                else:
                    out.append(Rect(grid.interior(r, col), fill=th.input))
                if size is not None:
                    x0, y0, x1, y1 = grid.box(r, col)
                    colour = th.padding_text if pad_cells[r, col] else th.input_text
                    out.append(Text((x0 + x1) // 2, cell_text_baseline(y0, y1, size), fmt_number(values[r, col]),
                                    size, colour, align="center"))
        return out

    def done_cell(self, flat_index: int) -> list[Primitive]:
        """The persistent look of an output cell once computed (value from the trace's output)."""
        batch, oc, *pos = np.unravel_index(flat_index, (self.trace.batch_size, *self.trace.geometry.output_shape))
        r, col = (0, int(pos[0])) if self.ndim == 1 else (int(pos[0]), int(pos[1]))
        grid = self.output_grids[int(oc)]
        box = grid.interior(r, col)
        out: list[Primitive] = [Rect(box, fill=self.theme.output_done)]
        size = self.output_value_size
        if size is not None:
            x0, y0, x1, y1 = grid.box(r, col)
            value = self.output[(int(batch), int(oc), *(int(p) for p in pos))]
            out.append(Text((x0 + x1) // 2, cell_text_baseline(y0, y1, size), fmt_number(float(value)), size,
                            self.theme.output_done_text, align="center"))
        return out

    def _rc(self, coord) -> tuple[int, int]:
        coord = tuple(int(v) for v in np.atleast_1d(coord))
        return (0, coord[0]) if self.ndim == 1 else (coord[0], coord[1])

    def transient(self, step: ConvStep) -> list[Primitive]:
        """What only this step shows: dimmed lanes, window, taps, kernel slices, sums, current cell, arithmetic."""
        th, out = self.theme, []
        total = len(self.trace)
        counter = self._t("step_counter", step=step.index + 1, total=total)
        if self.trace.batch_size > 1:
            counter = self._t("batch_counter", batch=step.batch) + counter
        out.append(Text(MARGIN, self._counter_baseline(), counter, self.sz.sum, th.text, bold=True))
        for group, box in enumerate(self.lane_boxes):
            if group != step.group:
                out.append(Veil(box, th.background, th.dim_alpha))
        taps = np.asarray(step.tap_coords).reshape(-1, self.ndim)
        tap_cells = [self._rc(t) for t in taps]
        tapped = set(tap_cells)
        pad_mask = np.asarray(self.trace.padding_cells).reshape(self.padded_hw)
        rows = [r for r, _ in tap_cells]
        cols = [c for _, c in tap_cells]
        geometry = self.trace.geometry
        fill = fills_taps(th, geometry)
        for j, ch in enumerate(step.in_channels):
            grid = self.input_grids[ch]
            values = np.asarray(step.tap_values[j]).reshape(-1)
            if fill:
                for (r, col), value in zip(tap_cells, values):
                    out += self._tap_cell(grid, r, col, float(value), bool(pad_mask[r, col]))
            if geometry.window_has_gaps:
                out += gap_marks(grid, tapped, th)
            out.append(outline(grid.span(rows, cols), th.window, 3))
        out += self._kernels(step)
        r, col = self._rc(step.position)
        grid = self.output_grids[step.out_channel]
        out.append(Rect(grid.interior(r, col), fill=th.output_current))
        size = self.current_value_size
        if size is not None:
            x0, y0, x1, y1 = grid.box(r, col)
            out.append(Text((x0 + x1) // 2, cell_text_baseline(y0, y1, size), fmt_number(step.value),
                            size, th.output_current_text, align="center", bold=True))
        ox0, oy0, ox1, oy1 = grid.box(r, col)
        out.append(Rect((ox0 - 1, oy0 - 1, ox1 + 1, oy1 + 1), edge=th.text, line_width=2))
        out += self._arithmetic(step)
        return out

    def _tap_cell(self, grid: Grid, r: int, col: int, value: float, is_padding: bool) -> list[Primitive]:
        """A cell under a tap of the window: tap fill and its value (muted on padding)."""
        th, size = self.theme, self.input_value_size
        out: list[Primitive] = [Rect(grid.interior(r, col), fill=th.tap)]
        if size is not None:
            x0, y0, x1, y1 = grid.box(r, col)
            colour = th.muted_text if is_padding else th.tap_text
            out.append(Text((x0 + x1) // 2, cell_text_baseline(y0, y1, size), fmt_number(value), size,
                            colour, align="center"))
        return out

    def _kernels(self, step: ConvStep) -> list[Primitive]:
        th, out = self.theme, []
        size = self.weight_value_size
        last = None
        for j, ch in enumerate(step.in_channels):
            grid = self.kernel_grids[ch]
            last = grid
            out.append(Text(grid.x, grid.y - 5, self._kernel_label(step.out_channel, ch), self.sz.label,
                            self._label_colour(step.group)))
            out.append(Rect(grid.outer, fill=th.grid))
            weights = np.asarray(step.weights[j]).reshape(grid.rows, grid.cols)
            for r in range(grid.rows):
                for col in range(grid.cols):
                    out.append(Rect(grid.interior(r, col), fill=th.kernel))
                    if size is not None:
                        x0, y0, x1, y1 = grid.box(r, col)
                        out.append(Text((x0 + x1) // 2, cell_text_baseline(y0, y1, size), fmt_number(weights[r, col]),
                                        size, th.kernel_text, align="center"))
            x1, y0, _, y1 = grid.outer[2], grid.outer[1], None, grid.outer[3]
            out.append(Text(x1 + 8, cell_text_baseline(y0, y1, self.sz.sum), f"= {fmt_number(float(step.channel_sums[j]))}",
                            self.sz.sum, th.accent, bold=True))
        total = "\u03a3"
        if step.bias is not None:
            total += f" + b({fmt_number(step.bias)})"
        total += f" = {fmt_number(step.value)}"
        if last is not None:
            out.append(Text(last.x, last.outer[3] + 8 + self.sz.sum, total, self.sz.sum, th.output_current, bold=True))
        return out

    def _arithmetic(self, step: ConvStep) -> list[Primitive]:
        th = self.theme
        lines: list[tuple[str, str]] = []  # (body, "= value")
        bias = f" + b({fmt_number(step.bias)})" if step.bias is not None else ""
        channels = list(step.in_channels)
        if len(channels) == 1:
            terms = self._terms(step, 0)
            lines.append(self._elide(terms, "", bias, f" = {fmt_number(step.value)}"))
        else:
            shown = channels if len(channels) <= MAX_ARITH_CHANNELS else channels[: MAX_ARITH_CHANNELS - 1]
            for j, ch in enumerate(shown):
                lines.append(self._elide(self._terms(step, j), f"ch{ch}: ", "",
                                         f" = {fmt_number(float(step.channel_sums[j]))}"))
            if len(shown) < len(channels):
                lines.append((self._t("more_channels", count=len(channels) - len(shown)), ""))
            sums = [fmt_factor(float(s)) for s in step.channel_sums]
            lines.append(self._elide(sums, "", bias, f" = {fmt_number(step.value)}"))
        return self._arith_texts(lines, emphasise_last=True)

    def _arith_texts(self, lines: list[tuple[str, str]], *, emphasise_last: bool) -> list[Primitive]:
        return arith_texts(lines, self.arith_top, self.theme, emphasise_last=emphasise_last, sz=self.sz,
                           by_word=self.text_by_word)

    def _terms(self, step: ConvStep, j: int) -> list[str]:
        values = np.asarray(step.tap_values[j]).reshape(-1)
        weights = np.asarray(step.weights[j]).reshape(-1)
        return [f"{fmt_factor(float(v))}{TIMES}{fmt_factor(float(w))}" for v, w in zip(values, weights)]

    def _elide(self, terms: list[str], prefix: str, tail: str, result: str) -> tuple[str, str]:
        """`prefix t1 + t2 + … + tn tail` with the middle terms replaced by their count when too wide."""
        return elide(terms, prefix, tail, result, self.arith_width, size=self.sz.arith, language=self.theme.language,
                     by_word=self.text_by_word)

    def final_transient(self) -> list[Primitive]:
        """The hold frame's extras: no window, just what was computed and how its size came about."""
        th, g = self.theme, self.trace.geometry
        out: list[Primitive] = [Text(MARGIN, self._counter_baseline(), self._t("done_counter", total=len(self.trace)),
                                     self.sz.sum, th.text, bold=True)]
        lines = [(self._t("output_complete", shape=shape_text(g.output_shape)), "")]
        lines += [(formula.replace("*", TIMES).replace(" - ", " \u2212 "), "") for formula in g.formulas]
        return out + self._arith_texts(lines, emphasise_last=False)

    def cell_box(self, role: str, channel: int, coord) -> Box:
        r, col = self._rc(coord)
        grids = {"input": self.input_grids, "kernel": self.kernel_grids, "output": self.output_grids}
        if role not in grids:
            raise RenderError(f"role must be input, kernel or output, got {role!r}")
        return grids[role][channel].box(r, col)
