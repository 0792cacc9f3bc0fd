"""Where everything of a relu / flatten / linear / upsample frame goes: the input, what the layer does, the output.

One step per output element: the input cells it reads are lit, the output cell is written, and the arithmetic
says how (`max(0, −3) = 0`, `input [1, 0, 2] → output [6]`, `2×0.5 + … + bias 1 = 4`, `0.75×3 + 0.25×5 = 3.5`).
A linear layer's weight matrix stands between its input and output, the row of the current output framed.
2D maps stand in columns (input | layer | output), 1D signals in strips one under the other; a vector after a
flatten is a column of cells (in columns, wrapped every VECTOR_ROWS cells) or a row (in strips, every VECTOR_COLS).
Every number drawn is read from the trace.
"""

from __future__ import annotations

import math

import numpy as np

from convgif.render.fonts import text_width
from convgif.render.layout import Layout
from convgif.render.layout_common import (
    SLOT_GAP, Grid, cell_text, fitting_size, outline, palette_with_ramps, shape_text, swatch,
    distinct_values, unravel,
)
from convgif.render.primitives import TIMES, Primitive, Rect, Text, fmt_factor, fmt_number
from convgif.render.theme import RGB

VECTOR_ROWS = 16  # a vector drawn in a column wraps into a new column after this many cells
VECTOR_COLS = 24  # a vector drawn in a strip wraps into a new row after this many cells


def index_text(index) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


class Tensor:
    """How one tensor's elements map onto grids: (C, H, W) one grid per channel, (C, L) one strip per channel, a
    vector (F,) one grid wrapped column by column (`down`) or row by row."""

    def __init__(self, shape: tuple[int, ...], *, down: bool):
        self.shape = shape
        self.vector = len(shape) == 1
        if self.vector:
            n = shape[0]
            if down:
                rows = min(n, VECTOR_ROWS)
                self.hw = (rows, -(-n // rows))
            else:
                cols = min(n, VECTOR_COLS)
                self.hw = (-(-n // cols), cols)
            self.down = down
            self.count = 1
        else:
            self.hw = (1, shape[1]) if len(shape) == 2 else (shape[1], shape[2])
            self.count = shape[0]

    def place(self, index) -> tuple[int, int, int]:
        """(grid, row, col) of an element."""
        index = tuple(int(i) for i in index)
        if self.vector:
            (i,), (rows, cols) = index, self.hw
            return (0, i % rows, i // rows) if self.down else (0, i // cols, i % cols)
        if len(index) == 2:
            return index[0], 0, index[1]
        return index

    def cells(self):
        """Every (index, grid, row, col)."""
        for index in np.ndindex(*self.shape):
            yield (index, *self.place(index))

    def grid_width(self, c: int) -> int:
        return self.hw[1] * c + 1

    def grid_height(self, c: int) -> int:
        return self.hw[0] * c + 1


class MapLayout(Layout):
    """Pixel layout of a map trace (convgif.engine.trace_map): input | layer (linear: its weights) | output."""

    def measure(self) -> None:
        trace, g = self.trace, self.trace.geometry
        self.kind = trace.kind
        down = not self.strips
        self.x_tensor = Tensor(g.input_shape, down=down)
        self.y_tensor = Tensor(g.output_shape, down=down)
        self.output = trace.output()
        self.output.setflags(write=False)
        self.weight = None if trace.weight is None else np.asarray(trace.weight)
        # linear's bias stands as a column beside W: without it the finished picture's W·x would not give its outputs
        self.bias = None if self.weight is None or trace.bias is None else np.asarray(trace.bias)
        values = np.asarray(trace.input)
        self.input_strings = [fmt_number(float(v)) for v in distinct_values(values)[:4000]]
        self.output_strings = [fmt_number(float(v)) for v in distinct_values(self.output)[:4000]]
        self.weight_strings = ([] if self.weight is None else [fmt_number(float(v)) for v in distinct_values(
            self.weight if self.bias is None else np.concatenate([self.weight.ravel(), self.bias.ravel()]))])
        self.op_text = self._op_text()
        self.cell, _ = self.choose_cells(f"a {shape_text(g.input_shape)} input")
        self.fit_values(self.input_strings, self.output_strings)
        self.tap_value_size = fitting_size(self.input_strings, self.cell, largest=self.sz.digits, bold=True, windowed=True) \
            or self.input_value_size
        self.weight_value_size = None if self.weight is None else fitting_size(self.weight_strings, self.cell,
                                                                                largest=self.sz.digits)

    def _op_text(self) -> str:
        g = self.trace.geometry
        if self.kind == "relu":
            return "max(0, x) \u2192"
        if self.kind == "flatten":
            return "flatten \u2192"
        if self.kind == "upsample":
            r = g.resample
            factors = {round(o / n, 3) for n, o in zip(r.input_shape[1:], r.output_shape[1:])}
            scale = f" {TIMES}{fmt_number(factors.pop())}" if len(factors) == 1 else ""
            return f"{r.mode}{scale} \u2192"
        return ""  # linear: its weight matrix stands in the middle

    # ---- text ---------------------------------------------------------------------------------------
    def subtitle(self) -> str:
        g, say = self.trace.geometry, self.say
        parts = [self.kind, say("in_to_out", input=shape_text(g.input_shape), output=shape_text(g.output_shape))]
        if self.kind == "linear":
            # "+ 3 biases": "bias 3" would read as a bias of 3, the way the arithmetic writes one ("+ bias (3)")
            bias = f" + {g.bias_shape[0]} biases" if g.bias_shape else ""
            parts.append(f"weight {shape_text(g.weight_shape)}{bias}")
        if self.kind == "flatten":
            parts.append(f"start_dim {g.start_dim}, end_dim {g.end_dim}")
        if self.kind == "upsample":
            parts.append(f"mode {g.resample.mode}")
        return " \u00b7 ".join(parts)

    def legend_entries(self):
        th, t = self.theme, self.say
        items = [(t("input_value"), swatch(fill=th.input, edge=th.grid)),
                 (t("in_window"), swatch(fill=th.tap, edge=th.window, line_width=2))]
        if self.kind == "relu" and (np.asarray(self.trace.input) < 0).any():
            # dashed: a chain frames the input a stage reads in a solid accent line (`chain.ChainHeader._legend`)
            items.append(("negative \u2192 0", swatch(fill=th.input, edge=th.accent, line_width=2, dashed=True)))
        if self.weight is not None:
            framed = "weights and bias (current row framed)" if self.bias is not None else "weights (current row framed)"
            items.append((framed, swatch(fill=th.kernel, edge=th.window, line_width=2)))
        items += [(t("output_done"), swatch(fill=th.output_done, edge=th.grid)),
                  (t("current_output"), swatch(fill=th.output_current, edge=th.text, line_width=2))]
        return items

    def column_headers(self) -> list[tuple[int, str]]:
        middle = [(self.mid_x, "weights")] if self.weight is not None else []
        return [(self.in_x, self.say("input")), *middle, (self.out_x, self.say("output"))]

    def input_label(self, channel: int) -> str:
        return self._label(self.x_tensor, channel, "input_channel", "input")

    def output_label(self, channel: int) -> str:
        return self._label(self.y_tensor, channel, "output_channel", "output")

    def _label(self, tensor: Tensor, channel: int, key: str, word: str) -> str:
        if tensor.vector:
            return f"{self.say(word)} {tensor.shape[0]}"
        return self.say(key, channel=channel, shape=shape_text(tensor.shape[1:]))

    def _weight_label(self) -> str:
        return f"W {shape_text(self.weight.shape)}" if self.weight is not None else ""

    def _bias_dx(self, c: int) -> int:
        """How far right of W's left edge the bias column stands (a cell's gap after W)."""
        return self.weight.shape[1] * c + 1 + max(c // 2, 6)

    def _weights_width(self, c: int) -> int:
        """W and, beside it, the bias column with its label."""
        width = max(self.weight.shape[1] * c + 1, self._label_width(self._weight_label()))
        if self.bias is None:
            return width
        return max(width, self._bias_dx(c) + max(c + 1, self._label_width(self.say("bias"))))

    # ---- sizing and placement -----------------------------------------------------------------------
    def _label_width(self, text: str) -> int:
        return math.ceil(text_width(text, self.sz.label))

    def column_widths(self, c: int, ck: int) -> tuple[int, int, int]:
        in_w = max(self.x_tensor.grid_width(c), self._label_width(self.input_label(self.x_tensor.count - 1)))
        out_w = max(self.y_tensor.grid_width(c), self._label_width(self.output_label(self.y_tensor.count - 1)))
        if self.weight is not None:
            mid_w = self._weights_width(c)
        else:
            mid_w = 0 if self.strips else math.ceil(text_width(self.op_text, self.sz.sum, True)) + 8
        return in_w, mid_w, out_w

    def _block(self, height: int) -> int:
        return self.sz.label_h + height + SLOT_GAP

    def _column_height(self, tensor: Tensor, c: int) -> int:
        return tensor.count * self._block(tensor.grid_height(c))

    def grids_height(self, c: int, ck: int) -> int:
        heights = [self._column_height(self.x_tensor, c), self._column_height(self.y_tensor, c)]
        weight = self._block(self.weight.shape[0] * c + 1) if self.weight is not None else 0
        if self.strips:
            return sum(heights) + weight
        return max(*heights, weight)

    def _grids(self, tensor: Tensor, x: int, top: int, c: int) -> tuple[list[Grid], int]:
        grids, y = [], top + self.sz.label_h
        for _ in range(tensor.count):
            grids.append(Grid(x, y, tensor.hw[0], tensor.hw[1], c))
            y += tensor.grid_height(c) + SLOT_GAP + self.sz.label_h
        return grids, y - self.sz.label_h

    def place_grids(self, top: int) -> int:
        c = self.cell
        self.op_anchor = None
        self.weight_grid = self.bias_grid = None
        if self.strips:  # input, weights, output, one under the other
            self.input_grids, y = self._grids(self.x_tensor, self.in_x, top, c)
            if self.weight is not None:
                self.weight_grid = Grid(self.mid_x, y + self.sz.label_h, *self.weight.shape, c)
                self._place_bias(c)
                y += self._block(self.weight.shape[0] * c + 1)
            self.output_grids, y = self._grids(self.y_tensor, self.out_x, y, c)
            return y - SLOT_GAP
        self.input_grids, y_in = self._grids(self.x_tensor, self.in_x, top, c)
        self.output_grids, y_out = self._grids(self.y_tensor, self.out_x, top, c)
        bottom = max(y_in, y_out)
        if self.weight is not None:
            self.weight_grid = Grid(self.mid_x, top + self.sz.label_h, *self.weight.shape, c)
            self._place_bias(c)
            bottom = max(bottom, top + self._block(self.weight.shape[0] * c + 1))
        else:
            first = self.input_grids[0]
            self.op_anchor = (self.mid_x, first.y + first.rows * c // 2 + self.sz.sum // 2)
        return bottom - SLOT_GAP

    def _place_bias(self, c: int) -> None:
        if self.bias is not None:
            w = self.weight_grid
            self.bias_grid = Grid(w.x + self._bias_dx(c), w.y, len(self.bias), 1, c)

    def arith_line_count(self) -> int:
        return 2

    def grids_by_role(self) -> dict[str, list]:
        grids = {"input": self.input_grids, "output": self.output_grids}
        if self.weight_grid is not None:
            grids["weight"] = [self.weight_grid]
        if self.bias_grid is not None:
            grids["bias"] = [self.bias_grid]
        return grids

    def cell_box(self, role: str, channel: int, coord):
        """A cell's box by its element index: `coord` is the index without the channel for (C, ...) tensors, the
        whole index for a vector."""
        tensor = self.x_tensor if role == "input" else self.y_tensor
        index = (channel, *np.atleast_1d(coord)) if not tensor.vector else tuple(np.atleast_1d(coord))
        g, r, col = tensor.place(index)
        return self.grids_by_role()[role][g].box(r, col)

    def element_box(self, role: str, index) -> tuple[int, int, int, int]:
        """The box of an element of the input or output by its full (unbatched) index."""
        tensor = self.x_tensor if role == "input" else self.y_tensor
        g, r, col = tensor.place(index)
        return self.grids_by_role()[role][g].box(r, col)

    # ---- primitives ---------------------------------------------------------------------------------
    def static_marks(self, batch: int) -> list[Primitive]:
        th, out = self.theme, []
        if self.op_anchor is not None:
            out.append(Text(*self.op_anchor, self.op_text, self.sz.sum, th.accent, bold=True))
        x = np.asarray(self.trace.input[batch])
        for ch, grid in enumerate(self.input_grids):
            out.append(Text(grid.x, grid.y - 5, self.input_label(ch), self.sz.label, th.muted_text))
            out += self._grid_back(grid, self.x_tensor, ch)
        for index, g, r, col in self.x_tensor.cells():
            grid, value = self.input_grids[g], float(x[index])
            out.append(Rect(grid.interior(r, col), fill=th.input))
            if self.kind == "relu" and value < 0:
                out.append(Rect(grid.interior(r, col), edge=th.accent, line_width=2, dashed=True))
            if self.input_value_size is not None:
                out.append(cell_text(grid, r, col, fmt_number(value), self.input_value_size, th.input_text))
        if self.weight_grid is not None:
            grid = self.weight_grid
            out.append(Text(grid.x, grid.y - 5, self._weight_label(), self.sz.label, th.muted_text))
            out.append(Rect(grid.outer, fill=th.grid))
            for (r, col), value in np.ndenumerate(self.weight):
                out.append(Rect(grid.interior(r, col), fill=th.kernel))
                if self.weight_value_size is not None:
                    out.append(cell_text(grid, r, col, fmt_number(float(value)), self.weight_value_size,
                                         th.kernel_text))
        if self.bias_grid is not None:
            grid = self.bias_grid
            out.append(Text(grid.x, grid.y - 5, self.say("bias"), self.sz.label, th.muted_text))
            out.append(Rect(grid.outer, fill=th.grid))
            for r, value in enumerate(self.bias):
                out.append(Rect(grid.interior(r, 0), fill=th.kernel))
                if self.weight_value_size is not None:
                    out.append(cell_text(grid, r, 0, fmt_number(float(value)), self.weight_value_size, th.kernel_text))
        for ch, grid in enumerate(self.output_grids):
            out.append(Text(grid.x, grid.y - 5, self.output_label(ch), self.sz.label, th.muted_text))
            out += self._grid_back(grid, self.y_tensor, ch)
        for _, g, r, col in self.y_tensor.cells():
            out.append(Rect(self.output_grids[g].interior(r, col), fill=self.theme.output_empty))
        return out

    def _grid_back(self, grid: Grid, tensor: Tensor, channel: int) -> list[Primitive]:
        """The grid lines under a grid's cells: a wrapped vector's last column may be short."""
        if not tensor.vector or tensor.shape[0] % max(1, tensor.hw[0] if tensor.down else tensor.hw[1]) == 0:
            return [Rect(grid.outer, fill=self.theme.grid)]
        return [Rect(grid.box(r, col), fill=self.theme.grid) for _, _, r, col in tensor.cells()]

    def done_cell(self, index: int) -> list[Primitive]:
        batch, *position = unravel(index, (self.trace.batch_size, *self.trace.geometry.output_shape))
        g, r, col = self.y_tensor.place(position)
        grid = self.output_grids[g]
        out: list[Primitive] = [Rect(grid.interior(r, col), fill=self.theme.output_done)]
        if self.output_value_size is not None:
            value = float(self.output[(int(batch), *position)])
            out.append(cell_text(grid, r, col, fmt_number(value), self.output_value_size, self.theme.output_done_text))
        return out

    def transient(self, step) -> list[Primitive]:
        th = self.theme
        out: list[Primitive] = [self.step_counter(step)]
        placed = [self.x_tensor.place(s) for s in step.sources]
        for (g, r, col), value in zip(placed, step.source_values):
            grid = self.input_grids[g]
            out.append(Rect(grid.interior(r, col), fill=th.tap))
            if self.tap_value_size is not None:
                out.append(cell_text(grid, r, col, fmt_number(value), self.tap_value_size, th.tap_text, bold=True))
        for g in sorted({g for g, _, _ in placed}):
            cells = [(r, col) for gg, r, col in placed if gg == g]
            if len(cells) == 1 or self.kind == "upsample":
                out += [outline(self.input_grids[g].box(r, col), th.window, 3) for r, col in cells]
            else:
                out.append(outline(self.input_grids[g].span([r for r, _ in cells], [c for _, c in cells]),
                                   th.window, 3))
        if self.weight_grid is not None:
            row = step.position[-1]
            out.append(outline(self.weight_grid.span([row], range(self.weight.shape[1])), th.window, 3))
            if self.bias_grid is not None:
                out.append(outline(self.bias_grid.box(row, 0), th.window, 3))
        g, r, col = self.y_tensor.place(step.position)
        out += self.current_output(self.output_grids[g], r, col, fmt_number(step.value))
        return out + self.arithmetic(self._lines(step))

    def _lines(self, step) -> list[tuple[str, str]]:
        result = f" = {fmt_number(step.value)}"
        source = step.source_values
        where = f"output {index_text(step.position)}"
        if self.kind == "relu":
            note = " (negative \u2192 0)" if source[0] < 0 else ""
            return [(f"{where}: max(0, {fmt_number(source[0])})", result + note)]
        if self.kind == "flatten":
            return [(f"input {index_text(step.sources[0])} \u2192 {where}", result)]
        if self.kind == "linear":
            terms = [f"{fmt_factor(x)}{TIMES}{fmt_factor(w)}" for x, w in zip(source, step.coefficients)]
            tail = self.bias_term(step.bias)  # " + bias (1)", as a convolution's
            # Σ of products, as the line under it adds them: "·" is every frame's separator, not a product
            return [(f"{where} = \u03a3 input {TIMES} W row {step.position[-1]}" + (" + bias" if tail else ""), ""),
                    self.elide(terms, "", tail, result)]
        if step.coefficients is None or len(step.sources) == 1:  # nearest, or a blend that lands on one cell
            return [(f"{where} copies input {index_text(step.sources[0])}", result)]
        terms = [f"{fmt_number(round(w, 2))}{TIMES}{fmt_factor(x)}" for w, x in zip(step.coefficients, source)]
        cells = ", ".join(index_text(s) for s in step.sources)
        return [(f"{where} blends input {cells}", ""), self.elide(terms, "", "", result)]

    def final_lines(self) -> list[tuple[str, str]]:
        g = self.trace.geometry
        return [(self.say("output_complete", shape=shape_text(g.output_shape)), "")] + [
            (f, "") for f in self.formulas_to_show(g.formulas)][:1]

    def colours(self) -> list[RGB]:
        th = self.theme
        fills = [th.background, th.input, th.tap, th.kernel, th.output_empty, th.output_done, th.output_current]
        lines = [th.grid, th.window, th.text, th.accent]
        pairs = [(th.input_text, th.input), (th.tap_text, th.tap), (th.kernel_text, th.kernel),
                 (th.output_done_text, th.output_done), (th.output_current_text, th.output_current),
                 (th.text, th.background), (th.muted_text, th.background), (th.accent, th.background),
                 (th.window, th.input), (th.window, th.tap), (th.window, th.kernel), (th.accent, th.input),
                 (th.grid, th.input)]
        dense = [(th.text, th.background), (th.muted_text, th.background), (th.accent, th.background),
                 (th.output_current, th.background)]
        return palette_with_ramps(fills, lines, pairs, dense, crisp=th.crisp_text)
