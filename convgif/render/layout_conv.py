"""Where everything of a conv1d/conv2d frame goes: trace + theme -> static, persistent and transient primitives.

Data flows left to right (input channels -> kernel slices and partial sums -> output channels), one lane
per group; the arithmetic sits under the lanes and the caption at the bottom. Every number drawn is read
from the trace; nothing here multiplies or adds convolution values.
"""

from __future__ import annotations

import math

import numpy as np

from convgif.engine.trace import ConvStep
from convgif.engine.notation import merged_formulas, per_dim_text
from convgif.render.fonts import text_width
from convgif.render.layout import Layout, output_places_1d
from convgif.render.layout_common import (
    LANE_GAP, LANE_PAD, MARGIN, MAX_GAP, MAX_PALETTE, MIN_GAP, SLOT_GAP, Grid, cell_text, fills_taps, fitting_size, gap_marks,
    outline, pads_text, palette_with_ramps, shape_text, swatch, unread_cells, unread_legend, unread_stripes,
    window_legend, distinct_values, faded_legend, unravel,
)
from convgif.render.primitives import (
    TIMES, Box, Primitive, Rect, Text, Veil, cell_text_baseline, fmt_factor, fmt_number,
)
from convgif.render.theme import RGB, mix

MAX_ARITH_CHANNELS = 4
SHADES = 6  # levels of an image's cells shaded by value (grey), and of each sign of its outputs
BLACK, WHITE = (0, 0, 0), (255, 255, 255)
BANK_CELL = 20  # the kernel bank's cells (px at font scale 1): the smallest that hold 10 px digits
BANK_GAP = 12  # between two kernels of the bank
ACROSS_GAP = 16  # between channel grids side by side (a slide's arrangement)
SLICE_GAP = 4  # between the slices of one kernel in the bank
BANK_BESIDE_GAP = 24  # strips on a slide: between the output rows and the bank beside them


def contrasting(fill: RGB) -> RGB:
    """Black or white, whichever reads on `fill` (by its luma)."""
    r, g, b = fill
    return BLACK if 0.299 * r + 0.587 * g + 0.114 * b >= 128 else WHITE




class ConvLayout(Layout):
    """Pixel layout of one conv trace's frames: input channels | kernel slices and partial sums | output channels,
    one lane per group."""

    text_by_word = False  # the arithmetic as one Text a line (the zero-insertion view sets it word by word)
    footer_drawn_last = True

    def unread_input(self) -> set[tuple[int, int]]:
        """Padded-input cells no window reads (catalogue C9: 6×6 with K 3, P 1, S 2 never reads its last row and
        column of padding): striped and named in the legend."""
        return unread_cells(self.trace.geometry)

    @classmethod
    def arrangements(cls, trace) -> list[dict]:
        """2D columns: each lane's input channels one under the other, in two rows or side by side (then the
        kernel slices stand one under the other in the kernels column), and its output channels likewise."""
        g = trace.geometry
        if g.ndim == 1:  # strips: each kernel row under the input rows, or beside its input row; the bank (several
            # kernels a lane) under the output rows, or beside them (a wide slide's height goes to the cells)
            banks = (False, True) if g.out_channels // g.groups > 1 else (False,)
            return [{"kernels_beside": k, "bank_beside": b} for k in (False, True) for b in banks]
        if g.ndim != 2:
            return [{}]
        per_in, per_out = g.in_channels // g.groups, g.out_channels // g.groups
        lanes = sorted({1, -(-g.groups // 2), g.groups})
        ins = sorted({1, -(-per_in // 2), per_in})
        outs = sorted({1, -(-per_out // 2), per_out})
        banks = ("kernels", "outputs", "below") if per_out > 1 else ("kernels",)
        return [{"in_across": a, "out_across": b, "kernels_across": k, "bank": bank, "lanes_across": n}
                for a in ins for b in outs for k in sorted({1, a}) for bank in banks for n in lanes]

    def arrange(self, arrangement: dict) -> None:
        self.in_across = arrangement.get("in_across", 1)  # input channels side by side in a lane (1: stacked)
        self.out_across = arrangement.get("out_across", 1)
        # input channels side by side: their kernel slices one under the other, or side by side as well
        self.kernels_across = arrangement.get("kernels_across", 1)
        # where the kernel bank stands: under the kernels, under the outputs, or in a row under the whole lane
        self.bank_at = arrangement.get("bank", "kernels")
        self.lanes_across = arrangement.get("lanes_across", 1)  # group lanes side by side (1: one under the other)
        self.kernels_beside = arrangement.get("kernels_beside", False)  # strips: kernel rows beside the input rows
        self.bank_beside = arrangement.get("bank_beside", False)  # strips: the bank in a row beside the output rows

    def measure(self) -> None:
        trace, g = self.trace, self.trace.geometry
        self.unread = self.unread_input()
        self.groups = g.groups
        self.in_channels = g.in_channels
        self.out_channels = g.out_channels
        self.per_group_in = g.in_channels // g.groups
        self.per_group_out = g.out_channels // g.groups
        self.padded_hw = self.hw(g.padded_input_shape[1:])
        self.kernel_hw = self.hw(g.kernel_size)
        self.output_hw = self.hw(g.output_shape[1:])
        self.output = trace.output()  # done cells of steps not shown take their values from here
        self.output.setflags(write=False)
        self._measure_numbers()
        data = np.asarray(trace.input)
        # an 8-bit image's cells are shaded by value, numbers on top, so the picture shows through the digits
        self.shaded = bool(np.all(data == np.round(data)) and data.min() >= 0 and data.max() <= 255
                           and data.max() - data.min() >= 128)
        self.output_peak = float(np.abs(self.output).max(initial=0)) or 1.0
        self.cell, self.kernel_cell = self.choose_cells(f"a {shape_text(self.padded_hw)} input")
        self.fit_values(self.input_strings, self.output_strings)
        self.weight_value_size = fitting_size(self.weight_strings, self.kernel_cell, largest=self.sz.digits)

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
        # the widest bias term the frames write (the biases' own texts: a bound's "−8.88" is wider than "−1")
        terms = [""] if t.bias is None else [self.bias_term(float(b)) for b in distinct_values(t.bias)]
        bias_sample = max(terms, key=lambda term: text_width(term, self.sz.sum, True))
        self.total_sample = f"\u03a3{bias_sample} = \u2212{digits}"
        self.input_strings = [fmt_number(v) for v in distinct_values(padded)] if padded.size <= 20000 else ["888.88"]
        self.output_strings = [fmt_number(v) for v in distinct_values(self.output)] if self.output.size <= 20000 else ["888.88"]
        self.weight_strings = [fmt_number(v) for v in distinct_values(t.weight)]
        # the bank: the smallest cells whose digits are still legible (a larger cell only when decimals need it)
        # (a slide's bank: 40% larger, so that its digits reach 20 px at 1920×1080)
        smallest = int(BANK_CELL * self.theme.font_scale * (1.4 if self.fit else 1) + 0.5)
        self.bank_cell = next((b for b in range(smallest, 2 * smallest) if fitting_size(self.weight_strings, b)),
                              smallest)
        # on a slide the bank's digits grow with the text (blog frames keep the bank's small 15 px at most)
        self.bank_value_size = fitting_size(self.weight_strings, self.bank_cell,
                                            largest=self.sz.digits if self.fit else 15)

    def shows_values(self, cell: int) -> bool:
        """Whether inputs of `cell` px and the outputs at the cell they are drawn at (`output_cell`: larger on a
        slide) show their numbers, as `fit_values` will size them."""
        return bool(fitting_size(self.input_strings, cell, windowed=True)
                    and fitting_size(self.output_strings, self.output_cell(cell)))

    def notes(self) -> list[str]:
        """Where numbers are hidden, why, and the frame width that would show them."""
        if self.input_value_size is not None and self.output_value_size is not None:
            return []
        if self.fit:
            return [self.say("values_hidden_slide", cell=self.cell)]
        if self.hidden_values_width() is not None:
            return [self.say("values_hidden_width", cell=self.cell, width=self.values_width)]
        return [self.say("values_hidden_why", cell=self.cell)]

    def column_widths(self, c: int, ck: int) -> tuple[int, int, int]:
        (_, pw), (_, kw), (_, ow) = self.padded_hw, self.kernel_hw, self.output_hw
        psum = text_width(self.psum_sample, self.sz.sum, True)
        if self.strips:  # input row, kernel row + partial sum, output row (under the inputs it is computed for)
            offset, pitch = self.output_strip(c)
            in_w, k_w = pw * c + 1, kw * ck + 9 + psum
            if self.kernels_beside:  # an input row and its kernel row side by side
                in_w = self.beside_kernel_x(c) + k_w
            out_w = offset + (ow - 1) * max(pitch, c) + c + 1
            if self.bank_beside:  # the output rows (or their labels, if wider), then the bank's kernels in one row
                out_w = max(out_w, offset + self.output_label_width(c)) + BANK_BESIDE_GAP + self.bank_row_width()
            return in_w, k_w, out_w
        in_slot, out_slot = self.slot_widths(c)
        k_label = max(text_width(self.kernel_label(self.out_channels - 1, self.in_channels - 1), self.sz.label),
                      text_width(self.middle_header(), self.sz.sub, True) + 6 - MIN_GAP)  # may run into the gap
        total = text_width(self.total_sample, self.sz.sum, True)
        in_w = self.in_across * in_slot + (self.in_across - 1) * ACROSS_GAP
        out_w = self.out_across * out_slot + (self.out_across - 1) * ACROSS_GAP
        k_across = self.kernels_across
        bank_w = self.bank_block()[0] if self.banked else 0
        k_w = max(k_across * (kw * ck + 1 + 8 + math.ceil(psum)) + (k_across - 1) * ACROSS_GAP, math.ceil(total),
                  math.ceil(k_label), bank_w if self.bank_at == "kernels" else 0)
        if self.bank_at == "outputs":
            out_w = max(out_w, bank_w)
        return in_w, k_w, out_w

    def slot_widths(self, c: int) -> tuple[int, int]:
        """Widths (px) of one input and one output channel's grid with its label at cell `c` (2D columns)."""
        known = self.__dict__.setdefault("_slot_width_memo", {})
        if c not in known:
            known[c] = self._slot_widths(c)
        return known[c]

    def _slot_widths(self, c: int) -> tuple[int, int]:
        (_, pw), (_, ow) = self.padded_hw, self.output_hw
        in_label = self.input_label(self.in_channels - 1)
        out_label = self.output_label(self.out_channels - 1)
        if self.in_across > 1 or self.out_across > 1:  # side by side, a label must not run into the next grid
            in_label += self._hidden_note(fitting_size(self.input_strings, c, windowed=True))
            out_label += self._hidden_note(fitting_size(self.output_strings, c))
        return (max(pw * c + 1, math.ceil(text_width(in_label, self.sz.label))),
                max(ow * self.output_cell(c) + 1, math.ceil(text_width(out_label, self.sz.label))))

    # ---- the kernel bank: every kernel of a lane, small, each labelled with its bias -----------------------
    def bank_label(self, out_channel: int) -> str:
        if self.trace.bias is None:
            return self.say("bank_kernel", out=out_channel)
        return self.say("bank_kernel_bias", out=out_channel, bias=fmt_number(float(self.trace.bias[out_channel])))

    def bank_block(self) -> tuple[int, int]:
        """(width, height) px of one kernel in the bank, its label included: its slices side by side (1D: one
        under the other)."""
        if "_bank_block" not in self.__dict__:
            self._bank_block = self._measure_bank_block()
        return self._bank_block

    def _measure_bank_block(self) -> tuple[int, int]:
        b, (kh, kw), n = self.bank_cell, self.kernel_hw, self.per_group_in
        label = math.ceil(max(text_width(self.bank_label(oc), self.sz.label) for oc in range(self.out_channels)))
        if self.strips:
            w, h = kw * b + 1, n * (b + 1) + (n - 1) * SLICE_GAP
        else:
            w, h = n * (kw * b + 1) + (n - 1) * SLICE_GAP, kh * b + 1
        return max(w, label), self.sz.label_h + h

    def output_label_width(self, c: int) -> int:
        """Width (px) of the widest output row's label at cell `c`, with its note when the numbers hide."""
        note = self._hidden_note(fitting_size(self.output_strings, c))
        return math.ceil(max(text_width(self.output_label(oc) + note, self.sz.label) for oc in range(self.out_channels)))

    def bank_row_width(self) -> int:
        """Width (px) of the whole bank of a lane in one row."""
        return self.per_group_out * (self.bank_block()[0] + BANK_GAP) - BANK_GAP

    def bank_per_row(self, room: int) -> int:
        return max(1, min(self.per_group_out, (room + BANK_GAP) // (self.bank_block()[0] + BANK_GAP)))

    @property
    def banked(self) -> bool:
        """Whether a lane has several kernels: then the bank shows them all (with one kernel a lane, its slices
        stay in the kernels column from the first frame to the hold frame)."""
        return self.per_group_out > 1

    def bank_height(self, room: int) -> int:
        if not self.banked:
            return -BANK_GAP
        rows = -(-self.per_group_out // self.bank_per_row(room))
        return rows * (self.bank_block()[1] + BANK_GAP) - BANK_GAP

    def place_bank(self, group: int, x: int, top: int, room: int) -> None:
        """The bank of one group's kernels from (x, top): a row of blocks, wrapping at `room` px."""
        b, (kh, kw) = self.bank_cell, self.kernel_hw
        (bw, bh), per_row = self.bank_block(), self.bank_per_row(room)
        for j in range(self.per_group_out if self.banked else 0):
            bx = x + (j % per_row) * (bw + BANK_GAP)
            by = top + (j // per_row) * (bh + BANK_GAP) + self.sz.label_h
            slices = []
            for i in range(self.per_group_in):
                if self.strips:
                    slices.append(Grid(bx, by + i * (b + 1 + SLICE_GAP), 1, kw, b))
                else:
                    slices.append(Grid(bx + i * (kw * b + 1 + SLICE_GAP), by, kh, kw, b))
            self.bank_grids.append(slices)

    def kernel_offset(self, c: int, ck: int) -> int:
        """How far below its input grid's top a kernel slice sits (centred on the input grid)."""
        (ph, _), (kh, _) = self.padded_hw, self.kernel_hw
        return max(0, (ph * c - kh * ck) // 2)

    def _slots(self, c: int, ck: int, bank: bool = True) -> tuple[int, int, int]:
        """(input slot pitch, output slot pitch, lane height (without the kernel bank: `bank` False))."""
        (ph, _), (kh, _), (oh, _) = self.padded_hw, self.kernel_hw, self.output_hw
        beside = self.in_across == 1  # each kernel slice beside its input channel; else one under the other
        in_pitch = self.sz.label_h + max(ph * c, self.kernel_offset(c, ck) + kh * ck if beside else 0) + 1 + SLOT_GAP
        out_pitch = self.sz.label_h + oh * self.output_cell(c) + 1 + SLOT_GAP
        if beside:
            kernel_bottom = (self.per_group_in - 1) * in_pitch + self.sz.label_h + self.kernel_offset(c, ck) + kh * ck + 1
        else:
            kernel_bottom = -(-self.per_group_in // self.kernels_across) * self.kernel_pitch(ck) - SLOT_GAP
        widths = self.column_widths(c, ck)
        bank_h = self.bank_height(self.bank_width(widths)) if bank else -BANK_GAP
        in_rows, out_rows = -(-self.per_group_in // self.in_across), -(-self.per_group_out // self.out_across)
        outputs_bottom = out_rows * out_pitch - SLOT_GAP
        kernels_bottom = kernel_bottom + 8 + self.sz.sum
        if self.bank_at == "outputs":
            outputs_bottom += BANK_GAP + bank_h
        elif self.bank_at == "kernels":
            kernels_bottom += BANK_GAP + bank_h
        needed = max(in_rows * in_pitch - SLOT_GAP, outputs_bottom, kernels_bottom)
        if self.bank_at == "below":
            needed += BANK_GAP + bank_h
        return in_pitch, out_pitch, needed + 2 * LANE_PAD

    def output_cell(self, c: int) -> int:
        """The output grids' cell at input cell `c`. On a slide's 2D columns, large enough for the outputs' numbers
        (wider than the inputs': a minus sign, more digits, decimals) at the size the inputs' digits get, or as
        near it as a cell up to half as large again comes; elsewhere `c`, so that 1D outputs stay under their
        inputs."""
        if not self.fit or self.strips:
            return c
        known = self.__dict__.setdefault("_output_cell_memo", {})
        if c not in known:
            digits = fitting_size(self.input_strings, c, largest=self.sz.digits, windowed=True)
            sizes = {o: fitting_size(self.output_strings, o, largest=digits, bold=True) or 0
                     for o in range(c, c * 3 // 2 + 1)} if digits else {c: 0}
            known[c] = min(sizes, key=lambda o: (-sizes[o], o))  # the smallest cell giving the largest digits
        return known[c]

    def bank_width(self, widths: tuple[int, int, int]) -> int:
        """The room (px) the kernel bank wraps in: its column, or the lane's columns together (bank below)."""
        return {"kernels": widths[1], "outputs": widths[2]}.get(self.bank_at, sum(widths) + 2 * MIN_GAP)

    def kernel_slot_width(self, ck: int) -> int:
        """A kernel slice and its partial sum, side by side with the next slice."""
        return self.kernel_hw[1] * ck + 1 + 8 + math.ceil(text_width(self.psum_sample, self.sz.sum, True))

    def kernel_pitch(self, ck: int) -> int:
        """Kernel slices one under the other (input channels side by side): from one slice's label to the next."""
        return self.sz.label_h + self.kernel_hw[0] * ck + 1 + SLOT_GAP

    # ---- input labels (scene input.labels, 1D): one word under each input column of a lane's last input row ----
    def label_size(self) -> int:
        return max(10, self.sz.label)

    def label_lines(self, c: int) -> int:
        """Lines the input labels take under their row at cell `c`: 0 without labels, 1 when each fits its
        column, else 2 (every other label a line lower, so neighbours do not run into each other)."""
        if not (self.labels and self.strips):
            return 0
        widest = max(text_width(label, self.label_size()) for label in self.labels)
        return 1 if widest <= c - 2 else 2

    def label_band(self, c: int) -> int:
        """Height the input labels add under a lane's last input row at cell `c`."""
        return self.label_lines(c) * (self.label_size() + 4)

    def _lane_height(self, c: int, ck: int, bank: bool = True) -> int:
        if not self.strips:
            return self._slots(c, ck, bank)[2]
        row, krow = self.sz.label_h + c + 1 + SLOT_GAP, self.sz.label_h + ck + 1 + SLOT_GAP
        inputs = self.per_group_in * (self.sz.label_h + max(c, ck) + 1 + SLOT_GAP if self.kernels_beside else row + krow)
        above_outputs = 2 * LANE_PAD + inputs + self.label_band(c) + self.sz.sum + 10
        if self.bank_beside:  # output rows and the bank start at one line: the taller of the two
            bank_h = self.bank_height(self.bank_room()) if bank else 0
            return above_outputs + max(self.per_group_out * row - SLOT_GAP, bank_h)
        return above_outputs + self.per_group_out * row + (self.bank_height(self.bank_room()) if bank else -SLOT_GAP)

    def bank_room(self) -> int:
        """Strips: the bank's width under the output rows (beside them: the whole bank in one row)."""
        return self.bank_row_width() if self.bank_beside else self.width - 2 * MARGIN - 8

    def grids_height(self, c: int, ck: int) -> int:
        """Without the kernel bank: the bank adds height below the lanes' grids rather than shrink their cells."""
        lanes = self.groups * self._lane_height(c, ck, bank=False)
        return lanes if self.strips else lanes + (self.groups - 1) * LANE_GAP

    def full_grids_height(self, c: int, ck: int) -> int:
        rows = -(-self.groups // self.lanes_across)
        return rows * self._lane_height(c, ck) + (rows - 1) * LANE_GAP

    def frame_width_for(self, widths: tuple[int, int, int]) -> int:
        """Lanes side by side: each lane as wide as its columns need."""
        if self.strips or self.lanes_across == 1:
            return super().frame_width_for(widths)
        lane = sum(widths) + 2 * MIN_GAP
        return 2 * MARGIN + self.lanes_across * lane + (self.lanes_across - 1) * LANE_GAP

    def _column_xs(self) -> tuple[int, int, int]:
        """The first lane's columns; lanes side by side each take an equal share of the width (`lane_pitch`)."""
        self.lane_pitch = 0
        if self.strips or self.lanes_across == 1:
            return super()._column_xs()
        across = self.lanes_across
        lane_w = (self.width - 2 * MARGIN - (across - 1) * LANE_GAP) // across
        self.lane_pitch = lane_w + LANE_GAP
        in_w, mid_w, out_w = self.col_widths
        slack = lane_w - in_w - mid_w - out_w
        gap = min(MAX_GAP, slack // 2)
        left = MARGIN + (slack - 2 * gap) // 2
        return left, left + in_w + gap, left + in_w + gap + mid_w + gap

    # ---- placement ----------------------------------------------------------------------------------
    def place_grids(self, top: int) -> int:
        c, ck = self.cell, self.kernel_cell
        lane_h = self._lane_height(c, ck)
        self.lane_boxes: list[Box] = []
        self.input_grids: list[Grid] = []
        self.kernel_grids: list[Grid] = []  # indexed by input channel
        self.output_grids: list[Grid] = []
        self.bank_grids: list[list[Grid]] = []  # per output channel: its kernel's slices in the bank
        across = self.lanes_across
        first_lane = (self.in_x, self.mid_x, self.out_x)
        for group in range(self.groups):
            lane_top = top + group // across * (lane_h + LANE_GAP)
            if across == 1:
                self.lane_boxes.append((MARGIN // 2, lane_top, self.width - MARGIN // 2, lane_top + lane_h))
            else:  # lanes side by side: this lane's share of the width, its columns shifted into it
                x0 = MARGIN + group % across * self.lane_pitch
                half = LANE_GAP // 2  # neighbouring lanes' boxes meet in the middle of the gap, never overlap
                self.lane_boxes.append((x0 - half, lane_top, x0 + self.lane_pitch - half, lane_top + lane_h))
                shift = group % across * self.lane_pitch
                self.in_x, self.mid_x, self.out_x = (x + shift for x in first_lane)
            if self.strips:
                bank_top = self._place_strips(lane_top + LANE_PAD + self.sz.label_h)
                if self.bank_beside:  # level with the first output row's label, past the group's output rows
                    outputs = self.output_grids[-self.per_group_out:]
                    right = max(max(grid.outer[2] for grid in outputs), outputs[0].x + self.output_label_width(self.cell))
                    bank_x = right + BANK_BESIDE_GAP
                    self.place_bank(group, bank_x, outputs[0].y - self.sz.label_h, self.bank_room())
                else:
                    self.place_bank(group, self.in_x, bank_top, self.bank_room())
            else:
                self._place_columns(lane_top)
                room = self.bank_width(self.col_widths)
                if self.bank_at == "outputs":
                    self.place_bank(group, self.out_x, self.output_grids[-1].outer[3] + BANK_GAP, room)
                elif self.bank_at == "below":
                    bank_h = self.bank_height(room)
                    self.place_bank(group, self.in_x, lane_top + lane_h - LANE_PAD - bank_h, room)
                else:
                    bank_top = self.kernel_grids[-1].outer[3] + 8 + self.sz.sum + BANK_GAP
                    self.place_bank(group, self.mid_x, bank_top, room)
        self.in_x, self.mid_x, self.out_x = first_lane  # the column headers repeat from the first lane's columns
        rows = -(-self.groups // across)
        return top + rows * lane_h + (rows - 1) * LANE_GAP

    def _place_strips(self, row_y: int) -> int:
        """One group's rows: its input channels, its kernel slices, then (below the total) its output channels;
        returns where the group's kernel bank starts."""
        c, ck = self.cell, self.kernel_cell
        (_, pw), (_, kw), (_, ow) = self.padded_hw, self.kernel_hw, self.output_hw
        row, krow = self.sz.label_h + c + 1 + SLOT_GAP, self.sz.label_h + ck + 1 + SLOT_GAP
        if self.kernels_beside:
            for _ in range(self.per_group_in):
                self.input_grids.append(Grid(self.in_x, row_y, 1, pw, c))
                self.kernel_grids.append(Grid(self.in_x + self.beside_kernel_x(c), row_y, 1, kw, ck))
                row_y += self.sz.label_h + max(c, ck) + 1 + SLOT_GAP
            row_y += self.label_band(c)
        else:
            for _ in range(self.per_group_in):
                self.input_grids.append(Grid(self.in_x, row_y, 1, pw, c))
                row_y += row
            row_y += self.label_band(c)
            for _ in range(self.per_group_in):
                self.kernel_grids.append(Grid(self.mid_x, row_y, 1, kw, ck))
                row_y += krow
        row_y += self.sz.sum + 10
        offset, pitch = self.output_strip(c)
        for _ in range(self.per_group_out):
            self.output_grids.append(Grid(self.in_x + offset, row_y, 1, ow, c, pitch))
            row_y += row
        return row_y - self.sz.label_h

    def beside_kernel_x(self, c: int) -> int:
        """Strips with kernels beside: how far right of the input row its kernel row starts (past the row's
        label, which says when the values are hidden)."""
        label = self.input_label(self.in_channels - 1) + self._hidden_note(fitting_size(self.input_strings, c, windowed=True))
        return max(self.padded_hw[1] * c + 1, math.ceil(text_width(label, self.sz.label))) + MIN_GAP

    def output_strip(self, c: int) -> tuple[int, int]:
        """(x offset from the input strip, column pitch or 0) of the output strips at cell `c`: each output under
        the input position it is computed for (layout.output_places_1d)."""
        first, step = output_places_1d(self.trace.geometry)
        return round(first * c), (round(step * c) if step > 1 else 0)

    def _place_columns(self, lane_top: int) -> None:
        """One group's lane: input channels with their kernel slices beside them, output channels on the right."""
        c, ck = self.cell, self.kernel_cell
        (ph, pw), (kh, kw), (oh, ow) = self.padded_hw, self.kernel_hw, self.output_hw
        in_pitch, out_pitch, _ = self._slots(c, ck)
        in_slot, out_slot = self.slot_widths(c)
        top = lane_top + LANE_PAD + self.sz.label_h
        for j in range(self.per_group_in):
            row, col = divmod(j, self.in_across)
            grid_top = top + row * in_pitch
            self.input_grids.append(Grid(self.in_x + col * (in_slot + ACROSS_GAP), grid_top, ph, pw, c))
            if self.in_across == 1:
                self.kernel_grids.append(Grid(self.mid_x, grid_top + self.kernel_offset(c, ck), kh, kw, ck))
            else:
                k_row, k_col = divmod(j, self.kernels_across)
                x = self.mid_x + k_col * (self.kernel_slot_width(ck) + ACROSS_GAP)
                self.kernel_grids.append(Grid(x, top + k_row * self.kernel_pitch(ck), kh, kw, ck))
        for j in range(self.per_group_out):
            row, col = divmod(j, self.out_across)
            self.output_grids.append(Grid(self.out_x + col * (out_slot + ACROSS_GAP), top + row * out_pitch, oh, ow,
                                          self.output_cell(c)))

    def arith_line_count(self) -> int:
        """Room for the longest step's lines (a line per channel shown, "more channels", the total) and for the
        hold frame's (the output's shape, a formula per axis)."""
        shown = min(self.per_group_in, MAX_ARITH_CHANNELS)
        step_lines = 1 if self.per_group_in == 1 else shown + (1 if self.per_group_in > shown else 0) + 1
        return max(step_lines, 1 + len(merged_formulas(self.trace.geometry.formulas)))

    def grids_by_role(self) -> dict[str, list[Grid]]:
        """"input" takes padded coordinates; "kernel" the input channel the slice reads; "bank" the kernel bank's
        slices, out channel by out channel (channel = out channel × input channels per group + slice)."""
        return {"input": self.input_grids, "kernel": self.kernel_grids, "output": self.output_grids,
                "bank": [grid for slices in self.bank_grids for grid in slices]}

    # ---- labels -------------------------------------------------------------------------------------
    def kernel_label(self, out_channel: int, in_channel: int) -> str:
        return self.say("kernel_slice", out=out_channel, channel=in_channel)

    def middle_header(self) -> str:
        """The middle column's header (its width counts in the column's)."""
        return self.say("kernels_to_sums")

    def column_headers(self) -> list[tuple[int, str]]:
        headers = [(self.in_x, self.say("input_padded" if self.trace.padding_cells.any() else "input")),
                   (self.mid_x, self.middle_header()), (self.out_x, self.say("output"))]
        return [(x + lane * self.lane_pitch, text) for lane in range(self.lanes_across) for x, text in headers]

    def subtitle(self) -> str:
        g, t = self.trace.geometry, self.say
        parts = [f"{g.kind}", t("in_to_out", input=shape_text(g.input_shape), output=shape_text(g.output_shape)),
                 t("kernel_shape", shape=shape_text(g.kernel_size))]
        one = (1,) * self.ndim
        if g.stride != one:
            parts.append(t("stride", value=per_dim_text(g.stride)))
        if any(b or a for b, a in g.padding):
            parts.append(t("padding_value", value=pads_text(g.padding)))
        if g.dilation != one:
            parts.append(t("dilation", value=per_dim_text(g.dilation)))
        if g.groups > 1:
            parts.append(t("groups", value=g.groups))
        if self.trace.bias is not None:
            parts.append(t("bias"))
        if self.trace.batch_size > 1:
            parts.append(t("batch", value=self.trace.batch_size))
        return " \u00b7 ".join(parts)

    def legend_entries(self):
        th, t = self.theme, self.say
        if self.shaded:
            items = [(t("pixel_shade", count=SHADES), swatch(fill=self.pixel_shade(128), edge=th.grid))]
        else:
            items = [(t("input_value"), swatch(fill=th.input, edge=th.grid))]
        if bool(self.trace.padding_cells.any()):
            items.append((t("padding"), swatch(fill=th.padding, edge=th.padding_edge, dashed=True)))
        items += window_legend(th, self.trace.geometry, t)
        if self.unread:
            items.append(unread_legend(th, t))
        items.append((t("weight"), swatch(fill=th.kernel, edge=th.grid)))
        if self.banked:  # the bank frames the kernel the step uses (`bank_mark`)
            items.append((t("current_kernel"), swatch(fill=th.kernel, edge=th.output_current, line_width=2)))
        if self.shaded:
            items += [(t("positive_output"), swatch(fill=self.output_shade(self.output_peak), edge=th.grid)),
                      (t("negative_output"), swatch(fill=self.output_shade(-self.output_peak), edge=th.grid))]
        else:
            items.append((t("output_done"), swatch(fill=th.output_done, edge=th.grid)))
        if self.shaded:  # shaded as every output, framed (`current_output`)
            items.append((t("current_output"), swatch(fill=th.output_empty, edge=th.text, line_width=2)))
        else:
            items.append((t("current_output"), swatch(fill=th.output_current, edge=th.text, line_width=2)))
        if self.groups > 1:
            for group in range(self.groups):
                items.append((t("group", group=group), swatch(fill=th.lane_colour(group), edge=th.group_colour(group), line_width=2)))
            items.append(faded_legend(th, t))  # the veils over the lanes a step does not read
        return items

    def label_colour(self, group: int) -> RGB:
        """Grid labels name their group by its colour when there are groups."""
        return self.theme.group_label_colour(group) if self.groups > 1 else self.theme.muted_text

    def _hidden_note(self, size: int | None) -> str:
        return "" if size is not None else self.say("values_hidden")

    def _grid_label(self, grid: Grid, text: str, colour: RGB) -> Text:
        """A grid's label over its top-left corner. One wider than the room before the frame's right margin (an
        output grid of hidden values: "output ch 0 · 64×64 · values hidden") starts a little left of the grid,
        by up to most of the gap before it."""
        room_left = self.width - MARGIN - text_width(text, self.sz.label)
        x = min(grid.x, max(grid.x - (MIN_GAP - 4), math.floor(room_left)))
        return Text(x, grid.y - 5, text, self.sz.label, colour)

    # ---- primitives ---------------------------------------------------------------------------------
    def static_marks(self, batch: int) -> list[Primitive]:
        th, out = self.theme, []
        if self.groups > 1:
            for group, (x0, y0, x1, y1) in enumerate(self.lane_boxes):
                out.append(Rect((x0, y0, x1, y1), fill=th.lane_colour(group)))
                out.append(Rect((x0, y0, x0 + 4, y1), fill=th.group_colour(group)))
        padded = self.trace.padded_input[batch]
        pad_cells = np.asarray(self.trace.padding_cells).reshape(self.padded_hw)
        for ch, grid in enumerate(self.input_grids):
            out.append(self._grid_label(grid, self.input_label(ch) + self._hidden_note(self.input_value_size),
                                        self.label_colour(ch // self.per_group_in)))
            out += self.input_cells(grid, np.asarray(padded[ch]).reshape(self.padded_hw), pad_cells)
        out += self.input_label_texts()
        for oc, grid in enumerate(self.output_grids):
            out.append(self._grid_label(grid, self.output_label(oc) + self._hidden_note(self.output_value_size),
                                        self.label_colour(oc // self.per_group_out)))
            lines = [grid.box(0, col) for col in range(grid.cols)] if grid.spaced else [grid.outer]
            out += [Rect(box, fill=th.grid) for box in lines]
            for r in range(grid.rows):
                for col in range(grid.cols):
                    out.append(Rect(grid.interior(r, col), fill=th.output_empty))
        for oc, slices in enumerate(self.bank_grids):
            out.append(Text(slices[0].x, slices[0].y - 5, self.bank_label(oc), self.sz.label,
                            self.label_colour(oc // self.per_group_out)))
            for grid, weights in zip(slices, self.trace.weight[oc]):
                out += self.weight_cells(grid, np.asarray(weights).reshape(grid.rows, grid.cols), self.bank_value_size)
        return out

    def input_label_texts(self) -> list[Text]:
        """The scene's input labels, each centred under its input position's cell (past the padding) of each
        lane's last input row, in the muted text colour."""
        lines = self.label_lines(self.cell)
        if not lines:
            return []
        size, before = self.label_size(), self.trace.geometry.padding[0][0]
        out = []
        for grid in self.input_grids[self.per_group_in - 1::self.per_group_in]:
            for i, label in enumerate(self.labels):
                x0, _, x1, y1 = grid.box(0, before + i)
                y = y1 + size + 1 + (i % lines) * (size + 4)
                out.append(Text((x0 + x1) / 2, y, label, size, self.theme.muted_text, align="center"))
        return out

    def weight_cells(self, grid: Grid, weights: np.ndarray, size: int | None) -> list[Primitive]:
        """A kernel slice's cells with its weights (at `size` px; None: no digits)."""
        th = self.theme
        out: list[Primitive] = [Rect(grid.outer, fill=th.grid)]
        for r in range(grid.rows):
            for col in range(grid.cols):
                out.append(Rect(grid.interior(r, col), fill=th.kernel))
                if size is not None:
                    out.append(cell_text(grid, r, col, fmt_number(weights[r, col]), size, th.kernel_text))
        return out

    def bank_mark(self, out_channel: int) -> Rect:
        """The outline around the current kernel in the bank."""
        slices = self.bank_grids[out_channel]
        x0, y0, *_ = slices[0].outer
        *_, x1, y1 = slices[-1].outer
        return outline((x0 - 2, y0 - 2, x1 + 2, y1 + 2), self.theme.output_current, 2)

    def input_cells(self, grid: Grid, values: np.ndarray, pad_cells: np.ndarray) -> list[Primitive]:
        """An input channel's cells: the data block with solid lines, padding dashed, every value."""
        th, out = self.theme, []
        size = self.input_value_size
        out.append(Rect(grid.outer, fill=th.padding if pad_cells.any() else th.grid))
        data_rows, data_cols = np.nonzero(~pad_cells)
        if data_rows.size:  # the data block: solid lines, white cells
            out.append(Rect(grid.span(data_rows, data_cols), fill=th.grid))
        for r in range(grid.rows):
            for col in range(grid.cols):
                if pad_cells[r, col]:
                    out.append(Rect(grid.box(r, col), edge=th.padding_edge, dashed=True))
                elif self.shaded:
                    out += self.shaded_cell(grid, r, col, values[r, col], self.pixel_shade(values[r, col]), size)
                    continue
                else:
                    out.append(Rect(grid.interior(r, col), fill=th.input))
                if (r, col) in self.unread:
                    out += unread_stripes(grid.interior(r, col), th)
                if size is not None:
                    colour = th.padding_text if pad_cells[r, col] else th.input_text
                    out.append(cell_text(grid, r, col, fmt_number(values[r, col]), size, colour))
        return out

    def done_cell(self, index: int) -> list[Primitive]:
        if not self.shaded:
            return self.done_output(index, fmt_number)
        batch, ch, *pos = unravel(index, (self.trace.batch_size, *self.trace.geometry.output_shape))
        r, col = self.rc(pos)
        value = float(self.output[(batch, ch, *pos)])
        return self.shaded_cell(self.output_grids[ch], r, col, value, self.output_shade(value), self.output_value_size)

    def shaded_cell(self, grid: Grid, r: int, col: int, value: float, fill: RGB, size: int | None) -> list[Primitive]:
        """A cell filled with its value's shade, its number in black or white, whichever reads on it."""
        out: list[Primitive] = [Rect(grid.interior(r, col), fill=fill)]
        if size is not None:
            out.append(cell_text(grid, r, col, fmt_number(value), size, contrasting(fill)))
        return out

    def pixel_shade(self, value: float) -> RGB:
        """An image value's grey, in SHADES steps: 0 black, 255 white."""
        grey = round(255 * round(value / 255 * (SHADES - 1)) / (SHADES - 1))
        return (grey, grey, grey)

    def output_shade(self, value: float) -> RGB:
        """An output's shade: the empty cell's colour towards the accent (positive) or the window colour
        (negative) by its size against the largest output, in SHADES steps, never as pale as an empty cell (a
        zero: the done colour)."""
        if value == 0:
            return self.theme.output_done
        level = (1 + round(abs(value) / self.output_peak * (SHADES - 2))) / (SHADES - 1)
        return mix(self.theme.accent if value > 0 else self.theme.window, self.theme.output_empty, level)

    def done_fills(self) -> list[RGB]:
        return self.shade_fills()[SHADES:] if self.shaded else super().done_fills()

    def shade_fills(self) -> list[RGB]:
        greys = [self.pixel_shade(255 * k / (SHADES - 1)) for k in range(SHADES)]
        signed = [self.output_shade(sign * max(self.output_peak * k / (SHADES - 2), 1e-9)) for sign in (1, -1)
                  for k in range(SHADES - 1)] + [self.theme.output_done]
        return list(dict.fromkeys(greys + signed))

    def transient(self, step: ConvStep) -> list[Primitive]:
        """What only this step shows: window, taps, dimmed lanes, kernel slices, sums, current cell, arithmetic."""
        th = self.theme
        out: list[Primitive] = [self.step_counter(step)]
        taps = np.asarray(step.tap_coords).reshape(-1, self.ndim)
        tap_cells = [self.rc(t) for t in taps]
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
                    out += self.tap_cell(grid, r, col, float(value), bool(pad_mask[r, col]))
            if geometry.window_has_gaps:
                out += gap_marks(grid, tapped, th)
            out.append(outline(grid.span(rows, cols), th.window, 3))
        # the lanes a step does not read, dimmed: the very same veils every step of a group (`made_once`), just before
        # the kernel slices the layout keeps, so that the view leaves both painted as one run while they stay (the
        # veils lie on the other lanes, where nothing before them in the frame paints)
        out += self.made_once(("lane veils", step.group), lambda: [
            Veil(box, th.background, th.dim_alpha) for group, box in enumerate(self.lane_boxes) if group != step.group])
        out += self.kernel_marks(step)
        if self.banked:
            out.append(self.bank_mark(step.out_channel))
        r, col = self.rc(step.position)
        out += self.current_output(self.output_grids[step.out_channel], r, col, fmt_number(step.value),
                                   value=step.value)
        return out + self.arithmetic(self._lines(step))

    def current_output(self, grid: Grid, r: int, col: int, text: str, *, value: float = 0.0) -> list[Primitive]:
        """The cell a step writes. An image's outputs are shaded by sign and size, the current one too, framed (the
        current colour, an orange, read as a positive output's shade on a negative sum); a quiz's question frame
        leaves it unshaded, which would tell the answer's sign."""
        if not self.shaded:
            return super().current_output(grid, r, col, text)
        th = self.theme
        fill = th.output_empty if self.hide_answers else self.output_shade(value)
        out: list[Primitive] = [Rect(grid.interior(r, col), fill=fill)]
        if self.current_value_size is not None:
            out.append(cell_text(grid, r, col, self.answer(text), self.current_value_size, contrasting(fill), bold=True))
        out.append(outline(grid.box(r, col), th.text, 2))
        return out

    def tap_cell(self, grid: Grid, r: int, col: int, value: float, is_padding: bool) -> list[Primitive]:
        """A cell under a tap of the window: tap fill and its value (muted on padding)."""
        th, size = self.theme, self.input_value_size
        out: list[Primitive] = [Rect(grid.interior(r, col), fill=th.tap)]
        if size is not None:
            out.append(cell_text(grid, r, col, fmt_number(value), size, th.muted_text if is_padding else th.tap_text))
        return out

    def kernel_slice(self, grid: Grid, out_channel: int, in_channel: int, weights) -> list[Primitive]:
        """A kernel slice in the kernels column: its label and its weights (made once per slice and weights: every
        step of an output channel shows the same slices, and their primitives are immutable)."""
        weights = np.asarray(weights)
        key = ("kernel slice", grid.x, grid.y, out_channel, in_channel, weights.shape, weights.tobytes())
        return list(self.made_once(key, lambda: self._kernel_slice(grid, out_channel, in_channel, weights)))

    def _kernel_slice(self, grid: Grid, out_channel: int, in_channel: int, weights) -> list[Primitive]:
        return [Text(grid.x, grid.y - 5, self.kernel_label(out_channel, in_channel), self.sz.label,
                     self.label_colour(out_channel // self.per_group_out)),
                *self.weight_cells(grid, np.asarray(weights).reshape(grid.rows, grid.cols), self.weight_value_size)]

    def final_marks(self) -> list[Primitive]:
        """Without a bank, each lane's one kernel stays in the kernels column, its bias where the total was."""
        if self.banked:
            return []
        out: list[Primitive] = []
        for ch, grid in enumerate(self.kernel_grids):
            oc, local = divmod(ch, self.per_group_in)  # one output channel a lane: its index is the lane's
            out += self.kernel_slice(grid, oc, ch, self.trace.weight[oc, local])
            if local == self.per_group_in - 1 and self.trace.bias is not None:
                out.append(Text(grid.x, grid.outer[3] + 8 + self.sz.sum, self.say(
                    "bias_named", value=fmt_number(float(self.trace.bias[oc]))), self.sz.sum, self.theme.text,
                    bold=True))
        return out

    def kernel_marks(self, step: ConvStep) -> list[Primitive]:
        """The step's kernel slices with their values, each slice's partial sum beside it, the total under them."""
        th, out = self.theme, []
        last = None
        for j, ch in enumerate(step.in_channels):
            grid = self.kernel_grids[ch]
            last = grid
            out += self.kernel_slice(grid, step.out_channel, ch, step.weights[j])
            x1, y0, y1 = grid.outer[2], grid.outer[1], grid.outer[3]
            out.append(Text(x1 + 8, cell_text_baseline(y0, y1, self.sz.sum), f"= {self.answer(fmt_number(float(step.channel_sums[j])))}",
                            self.sz.sum, th.accent, bold=True))
        total = f"\u03a3{self.bias_term(step.bias)} = {self.answer(fmt_number(step.value))}"
        if last is not None:
            out.append(Text(last.x, last.outer[3] + 8 + self.sz.sum, total, self.sz.sum, th.output_current, bold=True))
        return out

    def _lines(self, step: ConvStep) -> list[tuple[str, str]]:
        """The step's arithmetic: each channel's products and sum (when several), then the total."""
        lines: list[tuple[str, str]] = []  # (body, "= value")
        bias = self.bias_term(step.bias)
        channels = list(step.in_channels)
        if len(channels) == 1:
            lines.append(self.elide(self._terms(step, 0), "", bias, f" = {fmt_number(step.value)}"))
        else:
            shown = channels if len(channels) <= MAX_ARITH_CHANNELS else channels[: MAX_ARITH_CHANNELS - 1]
            for j, ch in enumerate(shown):
                lines.append(self.elide(self._terms(step, j), f"ch{ch}: ", "",
                                        f" = {fmt_number(float(step.channel_sums[j]))}"))
            if len(shown) < len(channels):
                lines.append((self.say("more_channels", count=len(channels) - len(shown)), ""))
            sums = [self.answer(fmt_factor(float(s))) for s in step.channel_sums]  # a quiz asks for them above
            lines.append(self.elide(sums, "", bias, f" = {fmt_number(step.value)}"))
        return lines

    def _terms(self, step: ConvStep, j: int) -> list[str]:
        values = np.asarray(step.tap_values[j]).reshape(-1)
        weights = np.asarray(step.weights[j]).reshape(-1)
        return [f"{fmt_factor(float(v))}{TIMES}{fmt_factor(float(w))}" for v, w in zip(values, weights)]

    def final_lines(self) -> list[tuple[str, str]]:
        g = self.trace.geometry
        return [(self.say("output_complete", shape=shape_text(g.output_shape)), "")] + [
            (formula, "") for formula in self.formulas_to_show(g.formulas)]

    # ---- palette ------------------------------------------------------------------------------------
    def colours(self) -> list[RGB]:
        th = self.theme
        lanes = [th.lane_colour(g) for g in range(self.groups)] if self.groups > 1 else []
        fills = [th.background, th.input, th.padding, th.tap, th.kernel, th.output_empty, th.output_done,
                 th.output_current, *lanes]
        lines = [th.grid, th.padding_edge, th.window, th.gap, th.text, *[th.group_colour(g) for g in range(self.groups)]]
        pairs = [(th.input_text, th.input), (th.padding_text, th.padding), (th.tap_text, th.tap),
                 (th.muted_text, th.tap), (th.kernel_text, th.kernel), (th.output_done_text, th.output_done),
                 (th.output_current_text, th.output_current), (th.text, th.background),
                 (th.muted_text, th.background), (th.accent, th.background), (th.output_current, th.background),
                 (th.window, th.input), (th.window, th.padding), (th.window, th.tap), (th.grid, th.input),
                 (th.padding_edge, th.padding)]
        for lane in lanes:
            pairs += [(th.text, lane), (th.accent, lane), (th.output_current, lane)]
            pairs += [(self.label_colour(g), lane) for g in range(self.groups)]
        if self.shaded:
            shades = self.shade_fills()
            fills += shades
            pairs += [(contrasting(fill), fill) for fill in shades]
        colours = palette_with_ramps(fills, lines, pairs, crisp=th.crisp_text)
        if self.groups > 1:  # the same colours under the veil of a dimmed lane
            colours += [th.dimmed(c) for c in colours]
        return list(dict.fromkeys(colours))[:MAX_PALETTE]
