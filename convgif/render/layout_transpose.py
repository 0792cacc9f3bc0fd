"""Where everything of a transposed-convolution frame goes, in its two views.

- `ZeroInsertionLayout`: the conv layout over the zero-inserted grid, with the grid's four cell kinds drawn
  four ways (solid value, dotted inserted zero, dashed padding, striped output padding), the kernel shown
  flipped beside the original, and the transposed formula with the scene's numbers.
- `ScatterLayout`: the input element of the step, its kernel slices and products, and the uncropped output
  grid with running sums (the border that padding crops away marked as cropped).

Every number drawn is read from the trace; nothing here multiplies or adds convolution values.
"""

from __future__ import annotations

import math

import numpy as np

from convgif.engine.trace import ConvStep
from convgif.engine.trace_transpose import (
    INPUT_VALUE, INSERTED_ZERO, OUTPUT_PADDING, PADDING, ScatterStep, ZeroInsertionTrace,
)
from convgif.engine.notation import per_dim_text
from convgif.render.fonts import text_width
from convgif.render.labels import label
from convgif.render.layout import Layout
from convgif.render.layout_common import (
    MARGIN, MAX_PALETTE, SLOT_GAP, Grid, cell_text, first_fitting, fitting_size, outline, pads_text,
    palette_with_ramps, shape_text, swatch, window_legend, unravel,
)
from convgif.render.layout_conv import ConvLayout
from convgif.render.primitives import MINUS, TIMES, Primitive, Rect, Text, fmt_factor, fmt_number
from convgif.render.theme import RGB, Theme, mix

SMALL_CELL = 24  # the original (unflipped) kernel, drawn small beside the flipped one: room for 10 px digits
SMALL_DIGITS = 10  # its digits: the smallest frame text a projector shows; digits that do not fit are hidden
DOT_PITCH = 6  # inserted zeros: 2x2 dots every 6 px
STRIPE_PITCH = 4  # output padding: 1 px horizontal stripes every 4 px
PROD_GAP = 30  # between a kernel slice and its block of products (room for "→")


def kind_colours(theme: Theme) -> dict[str, RGB]:
    """Colours of the grid's cell kinds that the theme has no role for; always paired with a pattern."""
    return {
        "zero_fill": mix(theme.gap, theme.background, 0.10),
        "zero_dot": theme.gap,
        "op_fill": mix(theme.bias, theme.background, 0.10),
        "op_stripe": mix(theme.bias, theme.background, 0.55),
    }


def kind_pattern(kind: int, interior: Box, fill: RGB, mark: RGB, text_room: tuple[int, int] | None) -> list[Primitive]:
    """Dots (inserted zero) or stripes (output padding) over `interior`, leaving the centred number readable.

    Marks start 2 px inside the interior, so a probe 2 px in from a cell's corner lands on one.
    """
    x0, y0, x1, y1 = interior
    out: list[Primitive] = [Rect(interior, fill=fill)]
    if x1 - x0 < 8:  # too small for a pattern to read: the fill alone
        return out
    if kind == INSERTED_ZERO:
        for y in range(y0 + 2, y1 - 1, DOT_PITCH):
            for x in range(x0 + 2, x1 - 1, DOT_PITCH):
                out.append(Rect((x, y, min(x + 2, x1), min(y + 2, y1)), fill=mark))
    elif kind == OUTPUT_PADDING:
        for y in range(y0 + 2, y1, STRIPE_PITCH):
            out.append(Rect((x0, y, x1, y + 1), fill=mark))
    if text_room is not None:  # a clear patch behind the number
        w, h = text_room
        cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
        out.append(Rect((max(x0, cx - w // 2), max(y0, cy - h // 2), min(x1, cx + (w + 1) // 2),
                         min(y1, cy + (h + 1) // 2)), fill=fill))
    return out


def tap_mark(mark: RGB) -> RGB:
    """A cell kind's pattern under the tap colour: darker, so it still shows."""
    return mix(mark, (0, 0, 0), 0.8)


def product_fill(theme: Theme) -> RGB:
    """The scatter view's products: the tap colour, paler, so they do not look like the current input cell."""
    return mix(theme.tap, theme.background, 0.45)


def original_fill(theme: Theme) -> RGB:
    """The original (unflipped) kernel's cells: the kernel colour, paler."""
    return mix(theme.kernel, theme.background, 0.5)


def transposed_subtitle_parts(g, has_bias: bool, bias_text: str, language: str = "en") -> list[str]:
    """The subtitle's pieces for a transposed conv: kind, shapes and every argument that is not a default."""
    def t(key: str, **values) -> str:
        return label(language, key, **values)

    parts = [g.kind, t("in_to_out", input=shape_text(g.input_shape), output=shape_text(g.output_shape)),
             t("kernel_shape", shape=shape_text(g.kernel_size)), t("stride", value=per_dim_text(g.stride)),
             t("padding_value", value=pads_text(g.padding))]
    if any(g.output_padding):
        parts.append(t("output_padding_value", value=per_dim_text(g.output_padding)))
    if any(d > 1 for d in g.dilation):
        parts.append(t("dilation", value=per_dim_text(g.dilation)))
    if g.groups > 1:
        parts.append(t("groups", value=g.groups))
    if has_bias:
        parts.append(bias_text)
    return parts

class ZeroInsertionLayout(ConvLayout):
    """The conv layout of `trace.direct`, telling the grid's cell kinds apart and showing the flip."""

    text_by_word = True

    def __init__(self, trace: ZeroInsertionTrace, *, title: str | None, caption: str | None, theme: Theme,
                 width: int, fit=None):
        self.zi = trace
        self.kind_colours = kind_colours(theme)
        super().__init__(trace.direct, title=title, caption=caption, theme=theme, width=width, fit=fit)
        self.kinds = np.asarray(trace.cell_kind).reshape(self.padded_hw)
        self.small_cell = min(self._small_cell_max(), self.kernel_cell)
        smallest = int(SMALL_DIGITS * theme.font_scale + 0.5)
        if self.fit:  # a slide: the small kernel's digits as large as the legend's words (16 px at 1920×1080)
            smallest = max(smallest, self.sz.legend)
        size = fitting_size([fmt_number(v) for v in np.unique(trace.weight)], self.small_cell, largest=smallest)
        self.small_value_size = size if size == smallest else None  # never shrunk below SMALL_DIGITS

    @classmethod
    def arrangements(cls, trace) -> list[dict]:
        return [{}]  # the original and flipped kernels stand beside the grid they read: channels stay stacked

    def full_grids_height(self, c: int, ck: int) -> int:
        return super().full_grids_height(c, ck) + self.grids_height(c, ck) - super().grids_height(c, ck)

    # ---- sizing -------------------------------------------------------------------------------------
    def unread_input(self) -> set[tuple[int, int]]:
        return set()  # the zero-inserted grid is read by a stride-1 conv: every cell of it is read

    def _small_cell_max(self) -> int:
        """The original kernel's cell: small, but growing with the font scale so its digits grow too."""
        return int(SMALL_CELL * self.theme.font_scale * (1.6 if self.fit else 1) + 0.5)

    def _original_block(self, ck: int) -> int:
        """Height above the flipped kernel taken by the original kernel and the flipped kernel's label."""
        kh = self.kernel_hw[0]
        return kh * min(self._small_cell_max(), ck) + 1 + self.sz.label_h + 4

    def kernel_offset(self, c: int, ck: int) -> int:
        """The flipped slice sits under the original one, the two centred on the input grid."""
        (ph, _), (kh, _) = self.padded_hw, self.kernel_hw
        block = self._original_block(ck)
        return max(0, (ph * c - block - kh * ck) // 2) + block

    def column_widths(self, c: int, ck: int) -> tuple[int, int, int]:
        in_w, k_w, out_w = super().column_widths(c, ck)
        if self.strips:  # 1D: the original kernel goes right of the partial sum only where there is room
            return in_w, k_w, out_w
        original = max(text_width(self.say("zi_original_kernel"), self.sz.label),
                       self.kernel_hw[1] * min(self._small_cell_max(), ck) + 1)
        if self.shows_input(c):
            in_w = max(in_w, math.ceil(text_width(self.source_label(self.in_channels - 1), self.sz.label)))
        if not self.shows_values(c):  # the output's label says "values hidden" too
            label = self.output_label(self.out_channels - 1) + self.say("values_hidden")
            out_w = max(out_w, math.ceil(text_width(label, self.sz.label)))
        return in_w, max(k_w, math.ceil(original)), out_w

    # ---- the input itself, where the grid's cells are too small to show it -------------------------------
    def shows_input(self, c: int) -> bool:
        """Whether the input is drawn as a grid of its own, under the zero-inserted grid at the same cell size:
        where the grid's numbers are hidden, it no longer shows which cells hold the input (c11's 32×32 inside
        a 66×66 grid)."""
        return not self.strips and not self.shows_values(c)

    def source_label(self, channel: int) -> str:
        shape = shape_text(self.zi.geometry.input_shape[1:])
        return self.say("input_channel", channel=channel, shape=shape) + self.say("values_hidden")

    def _source_pitch(self, c: int) -> int:
        return self.sz.label_h + self.zi.geometry.input_shape[1] * c + 1 + SLOT_GAP

    def grids_height(self, c: int, ck: int) -> int:
        extra = SLOT_GAP + self.in_channels * self._source_pitch(c) - SLOT_GAP if self.shows_input(c) else 0
        return super().grids_height(c, ck) + extra

    def place_grids(self, top: int) -> int:
        bottom = super().place_grids(top)
        self.source_grids: list[Grid] = []
        if not self.shows_input(self.cell):
            return bottom
        rows, cols = self.hw(self.zi.geometry.input_shape[1:])
        y = bottom + SLOT_GAP + self.sz.label_h
        for _ in range(self.in_channels):
            self.source_grids.append(Grid(self.in_x, y, rows, cols, self.cell))
            y += self._source_pitch(self.cell)
        return y - SLOT_GAP - self.sz.label_h

    def transient(self, step: ConvStep) -> list[Primitive]:
        """The conv step, and on the input's own grid the window's outline around the input values it reads
        (input i sits at grid index s·i + q)."""
        out = super().transient(step)
        if not self.source_grids:
            return out
        (s_r, s_c), (q_r, q_c) = self.zi.geometry.stride, self.zi.grid_padding
        rows, cols = self.source_grids[0].rows, self.source_grids[0].cols
        taps = np.asarray(step.tap_coords).reshape(-1, 2)
        read = [((r - q_r) // s_r, (c - q_c) // s_c) for r, c in taps
                if (r - q_r) % s_r == 0 and (c - q_c) % s_c == 0
                and 0 <= (r - q_r) // s_r < rows and 0 <= (c - q_c) // s_c < cols]
        if read:
            for ch in step.in_channels:
                grid = self.source_grids[ch]
                out.append(outline(grid.span([r for r, _ in read], [c for _, c in read]), self.theme.window, 3))
        return out

    def static_marks(self, batch: int) -> list[Primitive]:
        th, out = self.theme, super().static_marks(batch)
        for ch, grid in enumerate(self.source_grids):
            out.append(Text(grid.x, grid.y - 5, self.source_label(ch), self.sz.label, th.muted_text))
            out.append(Rect(grid.outer, fill=th.grid))
            out += [Rect(grid.interior(r, col), fill=th.input) for r in range(grid.rows) for col in range(grid.cols)]
        return out

    # ---- labels -------------------------------------------------------------------------------------
    def _single(self) -> bool:
        return self.in_channels == 1 and self.out_channels == 1

    def input_label(self, channel: int) -> str:
        return self.say("zi_grid_channel", channel=channel, shape=shape_text(self.padded_hw[-self.ndim:]))

    def kernel_label(self, out_channel: int, in_channel: int) -> str:
        if self._single():
            return self.say("zi_kernel_flipped")
        return self.say("zi_kernel_flipped_slice", out=out_channel, channel=in_channel)

    def middle_header(self) -> str:
        return self.say("zi_flipped_to_sums")

    def column_headers(self) -> list[tuple[int, str]]:
        return [(self.in_x, self.say("zi_grid")), (self.mid_x, self.middle_header()),
                (self.out_x, self.say("output"))]

    def subtitle(self) -> str:
        parts = transposed_subtitle_parts(self.zi.geometry, self.zi.bias is not None, self.say("bias"),
                                          self.theme.language)
        text = " \u00b7 ".join(parts)
        short = " \u00b7 ".join(parts[:1] + parts[3:])  # the grids' labels carry the shapes
        room = self.width - 2 * MARGIN
        return first_fitting([text + self.say("zi_as_stride1"), text, short], self.sz.sub, room)

    def notes(self) -> list[str]:
        g, t = self.zi.geometry, self.say
        axes_of: dict[tuple, list[str]] = {}  # each axis's words: axes whose grids are built alike share a line
        axes = ("L",) if self.ndim == 1 else ("H", "W")
        for axis, n, s, k, d, (p, _), q, op, size in zip(
                axes, g.input_shape[1:], g.stride, g.kernel_size, g.dilation, g.padding, self.zi.grid_padding,
                g.output_padding, self.padded_hw[-self.ndim:]):
            rule = f"{d}{TIMES}({k} \u2212 1) \u2212 {p}"
            pad = t("zi_pad_each_side", count=q, rule=rule) if q >= 0 else \
                t("zi_crop_each_side", count=-q, rule=f"{rule} = {MINUS}{-q}")
            zeros = t("zi_zero_one" if s == 2 else "zi_zero_many", count=s - 1)
            extra = t("zi_output_padding_extra", count=op) if op else ""
            axes_of.setdefault((n, zeros, pad, extra, size), []).append(axis)
        lines = [t("zi_grid_note", axis=", ".join(named), count=n, zeros=zeros, pad=pad, extra=extra, size=size)
                 for (n, zeros, pad, extra, size), named in axes_of.items()]
        for formula in self.formulas_to_show(g.formulas):
            lines.append(t("output_formula", formula=formula))
        return lines

    def legend_entries(self):
        th, col = self.theme, self.kind_colours
        present = set(np.unique(self.zi.cell_kind).tolist())

        def patterned(kind, fill, mark):
            return lambda box: [Rect(box, fill=th.grid)] + kind_pattern(
                kind, (box[0] + 1, box[1] + 1, box[2] - 1, box[3] - 1), fill, mark, None)

        t = self.say
        items = [(t("input_value"), swatch(fill=th.input, edge=th.grid))]
        if INSERTED_ZERO in present:
            items.append((t("inserted_zero"), patterned(INSERTED_ZERO, col["zero_fill"], col["zero_dot"])))
        if PADDING in present:
            items.append((t("padding"), swatch(fill=th.padding, edge=th.padding_edge, dashed=True)))
        if OUTPUT_PADDING in present:
            items.append((t("output_padding"), patterned(OUTPUT_PADDING, col["op_fill"], col["op_stripe"])))
        items += window_legend(th, self.trace.geometry, t)
        items.append((t("weight_flipped"), swatch(fill=th.kernel, edge=th.grid)))
        if not self.strips or self.original_strip_x() is not None:  # 1D: only where there is room
            items.append((t("zi_original_kernel"), swatch(fill=original_fill(th), edge=th.grid)))
        items += [(t("output_done"), swatch(fill=th.output_done, edge=th.grid)),
                  (t("current_output"), swatch(fill=th.output_current, edge=th.text, line_width=2))]
        return items

    def grids_by_role(self) -> dict[str, list[Grid]]:
        """"input" and "grid": the zero-inserted grid (grid coordinates); "kernel": the flipped slice, by input
        channel; "output"; "bank" as in conv frames (of the flipped kernels)."""
        return {"input": self.input_grids, "grid": self.input_grids, "kernel": self.kernel_grids,
                "output": self.output_grids, "bank": super().grids_by_role()["bank"]}

    # ---- cells --------------------------------------------------------------------------------------
    def _text_room(self, text: str, size: int | None) -> tuple[int, int] | None:
        return None if size is None else (math.ceil(text_width(text, size)) + 4, size + 3)

    def _kind_fill(self, kind: int) -> tuple[RGB, RGB]:
        col = self.kind_colours
        if kind == INSERTED_ZERO:
            return col["zero_fill"], col["zero_dot"]
        return col["op_fill"], col["op_stripe"]

    def input_cells(self, grid: Grid, values: np.ndarray, pad_cells: np.ndarray) -> list[Primitive]:
        """The grid's cells, each kind its own way: values solid, inserted zeros dotted, padding dashed, output
        padding striped."""
        th, size = self.theme, self.input_value_size
        out: list[Primitive] = [Rect(grid.outer, fill=th.grid)]
        for r in range(grid.rows):
            for col in range(grid.cols):
                kind = int(self.kinds[r, col])
                text = fmt_number(float(values[r, col]))
                if kind == PADDING:
                    out.append(Rect(grid.box(r, col), fill=th.padding))
                    out.append(Rect(grid.box(r, col), edge=th.padding_edge, dashed=True))
                elif kind == INPUT_VALUE:
                    out.append(Rect(grid.interior(r, col), fill=th.input))
                else:
                    fill, mark = self._kind_fill(kind)
                    out += kind_pattern(kind, grid.interior(r, col), fill, mark, self._text_room(text, size))
                if size is not None:
                    colour = th.input_text if kind == INPUT_VALUE else th.padding_text
                    out.append(cell_text(grid, r, col, text, size, colour))
        return out

    def tap_cell(self, grid: Grid, r: int, col: int, value: float, is_padding: bool) -> list[Primitive]:
        th, size = self.theme, self.input_value_size
        kind = int(self.kinds[r, col])
        text = fmt_number(value)
        if kind in (INSERTED_ZERO, OUTPUT_PADDING):  # keep the kind's pattern visible under the tap colour
            _, mark = self._kind_fill(kind)
            out = kind_pattern(kind, grid.interior(r, col), th.tap, tap_mark(mark), self._text_room(text, size))
        else:
            out = [Rect(grid.interior(r, col), fill=th.tap)]
        if size is not None:
            colour = th.tap_text if kind == INPUT_VALUE else th.muted_text
            out.append(cell_text(grid, r, col, text, size, colour))
        return out

    def original_strip_x(self) -> int | None:
        """1D: where the original kernel starts, right of the flipped one's partial sum; None without room."""
        kw, ck = self.kernel_hw[1], self.kernel_cell
        x = self.mid_x + kw * ck + 1 + 8 + math.ceil(text_width(self.psum_sample, self.sz.sum, True)) + 24
        return x if x + kw * min(self._small_cell_max(), ck) + 1 <= self.width - MARGIN else None

    def kernel_marks(self, step: ConvStep) -> list[Primitive]:
        """The flipped slices (with their sums), each with the original slice drawn small beside it."""
        local = step.out_channel - step.group * self.per_group_out
        return super().kernel_marks(step) + self.original_slices(step.in_channels, local)

    def final_marks(self) -> list[Primitive]:
        """The hold frame's kernels (`ConvLayout.final_marks`), each beside its original slice as in the steps: the
        legend names the original kernel in every frame."""
        out = super().final_marks()
        if out:  # no bank: each lane's one kernel, out channel 0 of its group
            out += self.original_slices(range(len(self.kernel_grids)), 0)
        return out

    def original_slices(self, in_channels, local: int) -> list[Primitive]:
        """The original (unflipped) slices of out channel `local` of the group for `in_channels`, drawn small over
        the flipped ones (1D: right of the partial sum, where there is room)."""
        th, out = self.theme, []
        sc, size = self.small_cell, self.small_value_size
        for ch in in_channels:
            flipped = self.kernel_grids[ch]
            rows, cols = flipped.rows, flipped.cols
            if self.strips:  # 1D: to the right of the partial sum, when there is room
                x = self.original_strip_x()
                if x is None:
                    continue
                grid = Grid(x, flipped.y + (flipped.cell - sc) // 2, 1, cols, sc)
            else:
                grid = Grid(flipped.x, flipped.y - self._original_block(self.kernel_cell) + 0, rows, cols, sc)
            text = self.say("zi_original_kernel") if self._single() else self.say("zi_original_slice", channel=ch,
                                                                                  out=local)
            out.append(Text(grid.x, grid.y - 5, text, self.sz.label, th.muted_text))
            out.append(Rect(grid.outer, fill=th.grid))
            weights = np.asarray(self.zi.weight[ch, local]).reshape(rows, cols)
            for r in range(rows):
                for col in range(cols):
                    out.append(Rect(grid.interior(r, col), fill=original_fill(th)))
                    if size is not None:
                        out.append(cell_text(grid, r, col, fmt_number(float(weights[r, col])), size, th.kernel_text))
            if not self.strips:
                out.append(Text(grid.outer[2] + 6, grid.outer[3] - 3, "\u21bb 180\u00b0", self.sz.label, th.muted_text))
        return out

    def final_lines(self) -> list[tuple[str, str]]:
        g = self.trace.geometry
        return [(self.say("zi_complete", shape=shape_text(g.output_shape)), "")] + [
            (formula, "") for formula in self.formulas_to_show(g.formulas)]

    def colours(self) -> list[RGB]:
        """The conv palette after the grid's cell-kind colours, the tap-coloured patterns and the original kernel."""
        th, col = self.theme, self.kind_colours
        extra = palette_with_ramps(
            [*col.values(), tap_mark(col["zero_dot"]), tap_mark(col["op_stripe"]), original_fill(th)], [],
            [(th.padding_text, col["zero_fill"]), (th.padding_text, col["op_fill"]), (th.muted_text, th.tap),
             (th.kernel_text, original_fill(th))],
            [(th.text, th.background), (th.muted_text, th.background), (th.accent, th.background),
             (th.padding_text, th.padding)], crisp=th.crisp_text)
        return list(dict.fromkeys(extra + super().colours()))[:MAX_PALETTE]


class ScatterLayout(Layout):
    """Pixel layout of a scatter trace: input | kernel slices and products | uncropped output with running sums."""

    def measure(self) -> None:
        trace, g = self.trace, self.trace.geometry
        self.in_hw, self.kernel_hw = self.hw(g.input_shape[1:]), self.hw(g.kernel_size)
        self.full_hw, self.out_hw = self.hw(trace.full_shape), self.hw(g.output_shape[1:])
        before = [b for b, _ in g.padding]
        self.crop_origin = (0, before[0]) if self.ndim == 1 else (before[0], before[1])
        self.c_in, self.c_out = g.in_channels, g.out_channels
        self.c_out_g = g.out_channels // g.groups
        self.output = trace.output()  # the final output, bias included, for the hold frame
        self._collect()
        self.cell, self.kernel_cell = self.choose_cells(f"a {shape_text(self.full_hw)} output")
        self.fit_values(self.input_strings, self.sum_strings)  # the output grid holds running sums
        ck, digits = self.kernel_cell, self.sz.digits
        self.weight_value_size = fitting_size(self.weight_strings, ck, largest=digits)
        self.product_value_size = fitting_size(self.product_strings, ck, largest=digits)

    # ---- data from the trace ------------------------------------------------------------------------
    def _collect(self) -> None:
        """One pass over the steps in raster order: which full-grid cells each step writes, and their sums."""
        self.written: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (rc (T, 2), before (Cg, T), after)
        product_strings, sum_strings = set(), {"0"}
        previous = None
        for step in self.trace.steps():
            rc = self._rc_array(step.tap_coords)
            channels = list(step.out_channels)
            after = np.stack([np.asarray(step.accumulated[step.batch, oc]).reshape(self.full_hw)[rc[:, 0], rc[:, 1]]
                              for oc in channels])
            if previous is None or step.index % (len(self.trace) // self.trace.batch_size) == 0:
                before = np.zeros_like(after)  # nothing scattered yet into this batch element's output
            else:
                before = np.stack([np.asarray(previous[step.batch, oc]).reshape(self.full_hw)[rc[:, 0], rc[:, 1]]
                                   for oc in channels])
            previous = step.accumulated
            self.written.append((rc, before, after))
            if len(product_strings) < 4000:
                product_strings.update(fmt_number(float(v)) for v in np.unique(step.products))
                sum_strings.update(fmt_number(float(v)) for v in np.unique(after))
        sum_strings.update(fmt_number(float(v)) for v in np.unique(self.output)[:4000])
        self.product_strings, self.sum_strings = sorted(product_strings), sorted(sum_strings)
        self.input_strings = [fmt_number(float(v)) for v in np.unique(self.trace.input)[:4000]]
        self.weight_strings = [fmt_number(float(v)) for v in np.unique(self.trace.weight)[:4000]]

    def _rc_array(self, coords) -> np.ndarray:
        coords = np.asarray(coords).reshape(-1, self.ndim)
        if self.ndim == 1:
            return np.stack([np.zeros(len(coords), dtype=int), coords[:, 0]], axis=1)
        return coords.astype(int)

    def _cropped(self, r: int, col: int) -> bool:
        (r0, c0), (oh, ow) = self.crop_origin, self.out_hw
        return not (r0 <= r < r0 + oh and c0 <= col < c0 + ow)

    # ---- text ---------------------------------------------------------------------------------------
    def subtitle(self) -> str:
        parts = transposed_subtitle_parts(self.trace.geometry, self.trace.bias is not None,
                                          self.say("sc_bias_at_end"), self.theme.language)
        text = " \u00b7 ".join(parts)
        return first_fitting([text + self.say("sc_view"), text], self.sz.sub, self.width - 2 * MARGIN)

    def legend_entries(self):
        th, t = self.theme, self.say
        items = [(t("input_value"), swatch(fill=th.input, edge=th.grid)),
                 (t("sc_current_input"), swatch(fill=th.tap, edge=th.window, line_width=3)),
                 (t("weight"), swatch(fill=th.kernel, edge=th.grid)),
                 (t("sc_products"), swatch(fill=product_fill(th), edge=th.grid)),
                 (t("sc_running_sum"), swatch(fill=th.output_done, edge=th.grid)),
                 (t("sc_just_written"), swatch(fill=th.output_current, edge=th.window, line_width=3))]
        if any(b for b, _ in self.trace.geometry.padding):
            kept = shape_text(self.out_hw[-self.ndim:])
            items += [(t("sc_cropped"), swatch(fill=th.padding, edge=th.padding_edge, dashed=True)),
                      (t("sc_kept_frame", shape=kept), swatch(edge=th.text, line_width=2))]
        return items

    def column_headers(self) -> list[tuple[int, str]]:
        return [(self.in_x, self.say("input")), (self.mid_x, self.say("sc_header_kernel")),
                (self.out_x, self.say("sc_header_output"))]

    def output_label(self, oc: int) -> str:
        full = shape_text(self.trace.full_shape)
        out = shape_text(self.trace.geometry.output_shape[1:])
        if full == out:
            return self.say("output_channel", channel=oc, shape=out)
        return self.say("sc_output_cropped", channel=oc, full=full, shape=out)

    def _kernel_label(self, ci: int, local: int) -> str:
        if self.c_out > 1 or self.c_in > 1:
            return self.say("sc_kernel_slice", channel=ci, out=local)
        return self.say("kernel")

    def _products_label(self, value: float) -> str:
        return self.say("sc_products_label", times=TIMES, value=fmt_factor(value))

    # ---- sizing and placement -----------------------------------------------------------------------
    def _prod_gap(self) -> int:
        return int(PROD_GAP * self.theme.font_scale + 0.5)  # the arrow between the blocks grows with the text

    def _products_dx(self, ck: int) -> int:
        """How far right of its kernel slice the block of products starts."""
        k_label = text_width(self._kernel_label(self.c_in - 1, self.c_out_g - 1), self.sz.label)
        return max(self.kernel_hw[1] * ck + 1, math.ceil(k_label)) + self._prod_gap()

    def column_widths(self, c: int, ck: int) -> tuple[int, int, int]:
        (_, iw), (_, kw), (_, fw) = self.in_hw, self.kernel_hw, self.full_hw
        in_label = text_width(self.input_label(self.c_in - 1), self.sz.label)
        out_label = text_width(self.output_label(self.c_out - 1), self.sz.label)
        p_label = text_width(self._products_label(-888.88), self.sz.label)
        k_w = self._products_dx(ck) + max(kw * ck + 1, math.ceil(p_label))
        offset, pitch = self.input_strip(c)
        in_w = offset + max((iw - 1) * (pitch or c) + c + 1, math.ceil(in_label))
        return in_w, k_w, max(fw * c + 1, math.ceil(out_label))

    def input_strip(self, c: int) -> tuple[int, int]:
        """(x offset from the output strip, column pitch or 0) of a 1D input strip at cell `c`: each input over
        the centre of the block of outputs it scatters into (input i writes full-grid cells s·i … s·i + d(k−1));
        columns have no offset."""
        if not self.strips:
            return 0, 0
        g = self.trace.geometry
        first = g.dilation[0] * (g.kernel_size[0] - 1) / 2
        return round(first * c), (round(g.stride[0] * c) if g.stride[0] > 1 else 0)

    def _pitches(self, c: int, ck: int) -> tuple[int, int, int]:
        """How far apart the input channels, kernel slices and output channels stand (strips: rows)."""
        (ih, _), (kh, _), (fh, _) = self.in_hw, self.kernel_hw, self.full_hw  # strips: one row each
        return (self.sz.label_h + ih * c + 1 + SLOT_GAP, self.sz.label_h + kh * ck + 1 + SLOT_GAP,
                self.sz.label_h + fh * c + 1 + SLOT_GAP)

    def grids_height(self, c: int, ck: int) -> int:
        heights = [n * pitch for n, pitch in zip((self.c_in, self.c_out_g, self.c_out), self._pitches(c, ck))]
        return sum(heights) if self.strips else max(heights)

    def place_grids(self, top: int) -> int:
        """Columns side by side; strips one under the other (inputs, then kernels with products, then outputs)."""
        c, ck = self.cell, self.kernel_cell
        (ih, iw), (kh, kw), (fh, fw) = self.in_hw, self.kernel_hw, self.full_hw
        prod_dx = self._products_dx(ck)
        in_pitch, k_pitch, out_pitch = self._pitches(c, ck)
        in_top = top + self.sz.label_h
        k_top = in_top + self.c_in * in_pitch if self.strips else in_top
        out_top = k_top + self.c_out_g * k_pitch if self.strips else in_top
        offset, pitch = self.input_strip(c)
        self.input_grids = [Grid(self.in_x + offset, in_top + i * in_pitch, ih, iw, c, pitch)
                            for i in range(self.c_in)]
        self.kernel_grids = [Grid(self.mid_x, k_top + j * k_pitch, kh, kw, ck) for j in range(self.c_out_g)]
        self.product_grids = [Grid(self.mid_x + prod_dx, grid.y, kh, kw, ck) for grid in self.kernel_grids]
        self.output_grids = [Grid(self.out_x, out_top + o * out_pitch, fh, fw, c) for o in range(self.c_out)]
        return top + self.grids_height(c, ck) - SLOT_GAP

    def arith_line_count(self) -> int:
        return 3

    def grids_by_role(self) -> dict[str, list[Grid]]:
        """"input" (input coordinates), "kernel"/"products" (out channel of the group), "output" (full-grid
        coordinates)."""
        return {"input": self.input_grids, "kernel": self.kernel_grids, "products": self.product_grids,
                "output": self.output_grids}

    # ---- primitives ---------------------------------------------------------------------------------
    def static_marks(self, batch: int) -> list[Primitive]:
        th, out = self.theme, []
        values = np.asarray(self.trace.input[batch])
        for ch, grid in enumerate(self.input_grids):
            out.append(Text(grid.x, grid.y - 5, self.input_label(ch), self.sz.label, th.muted_text))
            lines = [grid.box(0, col) for col in range(grid.cols)] if grid.spaced else [grid.outer]
            out += [Rect(box, fill=th.grid) for box in lines]
            plane = values[ch].reshape(grid.rows, grid.cols)
            for r in range(grid.rows):
                for col in range(grid.cols):
                    out.append(Rect(grid.interior(r, col), fill=th.input))
                    if self.input_value_size is not None:
                        out.append(cell_text(grid, r, col, fmt_number(float(plane[r, col])), self.input_value_size,
                                             th.input_text))
        for oc, grid in enumerate(self.output_grids):
            out.append(Text(grid.x, grid.y - 5, self.output_label(oc), self.sz.label, th.muted_text))
            out.append(Rect(grid.outer, fill=th.grid))
            for r in range(grid.rows):
                for col in range(grid.cols):
                    if self._cropped(r, col):
                        out.append(Rect(grid.box(r, col), fill=th.padding))
                        out.append(Rect(grid.box(r, col), edge=th.padding_edge, dashed=True))
                    else:
                        out.append(Rect(grid.interior(r, col), fill=th.output_empty))
            if any(b for b, _ in self.trace.geometry.padding):  # the kept region: a solid frame
                (r0, c0), (oh, ow) = self.crop_origin, self.out_hw
                out.append(outline(grid.span(range(r0, r0 + oh), range(c0, c0 + ow)), th.text, 2))
        return out

    def _sum_cell(self, grid: Grid, r: int, col: int, value: float, *, current: bool) -> list[Primitive]:
        th = self.theme
        cropped = self._cropped(r, col)
        if current:
            fill, colour, size = th.output_current, th.output_current_text, self.current_value_size
        else:
            fill = th.padding if cropped else th.output_done
            colour, size = (th.muted_text if cropped else th.output_done_text), self.output_value_size
        out: list[Primitive] = [Rect(grid.interior(r, col), fill=fill)]
        if size is not None:
            text = self.answer(fmt_number(value)) if current else fmt_number(value)
            out.append(cell_text(grid, r, col, text, size, colour, bold=current))
        return out

    def done_cell(self, index: int) -> list[Primitive]:
        """The running sums the step at `index` leaves in the cells it wrote."""
        rc, _, after = self.written[index]
        channels = self._out_channels(index)
        out: list[Primitive] = []
        for k, oc in enumerate(channels):
            grid = self.output_grids[oc]
            for t, (r, col) in enumerate(rc):
                out += self._sum_cell(grid, int(r), int(col), float(after[k, t]), current=False)
        return out

    def _out_channels(self, index: int) -> list[int]:
        g = self.trace.geometry
        in_channel = unravel(index, self.trace.input.shape)[1]
        group = in_channel // (g.in_channels // g.groups)
        return list(range(group * self.c_out_g, (group + 1) * self.c_out_g))

    def transient(self, step: ScatterStep) -> list[Primitive]:
        th = self.theme
        out: list[Primitive] = [self.step_counter(step)]
        grid = self.input_grids[step.in_channel]
        r, col = self.rc(step.position)
        out.append(Rect(grid.interior(r, col), fill=th.tap))
        if self.input_value_size is not None:
            out.append(cell_text(grid, r, col, fmt_number(step.value), self.input_value_size, th.tap_text, bold=True))
        out.append(outline(grid.box(r, col), th.window, 3))
        for j, oc in enumerate(step.out_channels):
            out += self._kernel_and_products(j, step)
        rc, before, after = self.written[step.index]
        rows, cols = rc[:, 0].tolist(), rc[:, 1].tolist()
        for k, oc in enumerate(step.out_channels):
            grid = self.output_grids[oc]
            for t, (rr, cc) in enumerate(zip(rows, cols)):
                out += self._sum_cell(grid, rr, cc, float(after[k, t]), current=True)
            out.append(outline(grid.span(rows, cols), th.window, 3))
        return out + self.arithmetic(self._lines(step, rc, before, after))

    def _kernel_and_products(self, j: int, step: ScatterStep) -> list[Primitive]:
        th, kgrid, pgrid = self.theme, self.kernel_grids[j], self.product_grids[j]
        products = np.asarray(step.products[j]).reshape(kgrid.rows, kgrid.cols)
        out = list(self._kernel(j, step.in_channel))
        out.append(Text(pgrid.x, pgrid.y - 5, self._products_label(step.value), self.sz.label, th.accent, bold=True))
        out += self._block(pgrid, products, product_fill(th), self.product_value_size, th.tap_text, self.answer)
        return out

    def _kernel(self, j: int, in_channel: int) -> tuple[Primitive, ...]:
        """The kernel slice an input channel scatters into output channel j of its group, its label and the arrow
        to its products: made once (every element of the channel shows the same), so a frame can leave it painted."""
        def make() -> list[Primitive]:
            th, kgrid, pgrid = self.theme, self.kernel_grids[j], self.product_grids[j]
            weights = np.asarray(self.trace.weight[in_channel, j]).reshape(kgrid.rows, kgrid.cols)
            x0, y0, x1, y1 = kgrid.outer
            mid = (y0 + y1) // 2 + self.sz.sum // 2 - 1
            return [Text(kgrid.x, kgrid.y - 5, self._kernel_label(in_channel, j), self.sz.label, th.muted_text),
                    *self._block(kgrid, weights, th.kernel, self.weight_value_size, th.kernel_text),
                    Text((x1 + pgrid.x) // 2, mid, "\u2192", self.sz.sum, th.accent, align="center", bold=True)]
        return self.made_once(("kernel", j, in_channel), make)

    def _block(self, grid: Grid, values: np.ndarray, fill: RGB, size: int | None, colour: RGB,
               shown=lambda text: text) -> list[Primitive]:
        """A kernel slice or its products: cells of one fill, each with its number (as `shown` writes it) when it
        fits."""
        out: list[Primitive] = [Rect(grid.outer, fill=self.theme.grid)]
        for r in range(grid.rows):
            for col in range(grid.cols):
                out.append(Rect(grid.interior(r, col), fill=fill))
                if size is not None:
                    out.append(cell_text(grid, r, col, shown(fmt_number(float(values[r, col]))), size, colour))
        return out

    def _lines(self, step: ScatterStep, rc: np.ndarray, before: np.ndarray, after: np.ndarray) -> list[tuple[str, str]]:
        where = ", ".join(str(p) for p in step.position)
        inside = ~np.array([self._cropped(int(r), int(c)) for r, c in rc])
        span = "\u00d7".join(str(k) for k in self.trace.geometry.kernel_size)  # a shape, as every shape is written
        first = self.say("sc_step_line", channel=step.in_channel, where=where, value=fmt_number(step.value),
                        factor=fmt_factor(step.value), times=TIMES, span=span)
        if (~inside).any():
            first += self.say("sc_in_border", count=int((~inside).sum()))
        lines = [(first, "")]
        weights = np.asarray(step.weights).reshape(len(step.out_channels), -1)
        for k, oc in enumerate(step.out_channels[:2]):
            terms = [f"{fmt_number(float(b))} + {fmt_factor(step.value)}{TIMES}{fmt_factor(float(w))} = "
                     f"{self.answer(fmt_number(float(a)))}" for b, w, a in zip(before[k], weights[k], after[k])]
            prefix = self.say("sc_channel_sums", channel=oc) if self.c_out > 1 else self.say("sc_sums")
            lines.append(self.elide(terms, prefix, "", "", joiner=", "))
        return lines

    def final_marks(self) -> list[Primitive]:
        """The kernel slices the last input channel scattered with, each naming its output channel's bias; with a
        bias, the kept cells become the output: running sum + bias."""
        th, out = self.theme, []
        ci = self.c_in - 1
        group = ci // (self.c_in // self.trace.geometry.groups)
        for j, kgrid in enumerate(self.kernel_grids):
            text = self._kernel_label(ci, j)
            if self.trace.bias is not None:
                bias = fmt_number(float(self.trace.bias[group * self.c_out_g + j]))
                text += f" \u00b7 {self.say('bias')} {bias}"
            out.append(Text(kgrid.x, kgrid.y - 5, text, self.sz.label, th.muted_text))
            weights = np.asarray(self.trace.weight[ci, j]).reshape(kgrid.rows, kgrid.cols)
            out += self._block(kgrid, weights, th.kernel, self.weight_value_size, th.kernel_text)
        if self.trace.bias is None:
            return out
        batch, (r0, c0) = self.trace.batch_size - 1, self.crop_origin
        for oc, grid in enumerate(self.output_grids):
            plane = np.asarray(self.output[batch, oc]).reshape(self.out_hw)
            for r in range(self.out_hw[0]):
                for col in range(self.out_hw[1]):
                    out += self._sum_cell(grid, r0 + r, c0 + col, float(plane[r, col]), current=False)
        return out

    def final_lines(self) -> list[tuple[str, str]]:
        g = self.trace.geometry
        cropped = any(b or a for b, a in g.padding)  # only then is a frame drawn round the cells kept
        kept = self.say("sc_kept_framed" if cropped else "sc_kept", shape=shape_text(g.output_shape))
        if cropped:
            kept += self.say("sc_kept_cropped", padding=pads_text(g.padding))
        if self.trace.bias is not None:
            kept += self.say("sc_kept_bias")
        return ([(kept, "")] + [(f, "") for f in self.formulas_to_show(g.formulas)])[:3]

    def colours(self) -> list[RGB]:
        th = self.theme
        fills = [th.background, th.input, th.padding, th.tap, product_fill(th), th.kernel, th.output_empty,
                 th.output_done, th.output_current]
        lines = [th.grid, th.padding_edge, th.window, th.text]
        pairs = [(th.input_text, th.input), (th.tap_text, th.tap), (th.tap_text, product_fill(th)),
                 (th.kernel_text, th.kernel), (th.output_done_text, th.output_done),
                 (th.output_current_text, th.output_current),
                 (th.muted_text, th.padding), (th.text, th.background), (th.muted_text, th.background),
                 (th.accent, th.background), (th.padding_edge, th.padding), (th.window, th.input),
                 (th.grid, th.input), (th.text, th.output_done)]
        dense = [(th.text, th.background), (th.muted_text, th.background), (th.accent, th.background),
                 (th.muted_text, th.padding)]
        return palette_with_ramps(fills, lines, pairs, dense, crisp=th.crisp_text)
