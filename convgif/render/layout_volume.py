"""The volume view of conv2d and the 2D pools: channels as the depth of 3D blocks, in an oblique projection.

The input is a C×H×W block whose front face (channel 0) carries the values and whose top and right faces show
every channel as a layer. The window is a translucent box through exactly the channels the current output reads
(all of them, one group's, or one channel's for a pool), its taps and dilation gaps drawn on the front face of the
first channel it reads and as separate strips through the depth. Every kernel is a block of its own in a row
(C_in/groups deep, the same depth per channel as the input), the current one outlined, each labelled with its bias.
The output block fills in cell by cell: on its front face with the values, deeper channels on their top and right
layers, and the current cell wherever it is, seen through the block. Groups are colour lanes through the depth.
The arithmetic lines are the flat view's, from the same trace (the layouts below inherit them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from convgif.engine.trace import ConvStep
from convgif.engine.trace_pool import PoolStep
from convgif.errors import DoesNotFitError
from convgif.render.fonts import text_width
from convgif.render.layout_common import (
    MARGIN, MIN_GAP, Grid, LegendItem, cell_text, fills_taps, gap_marks, outline, palette_with_ramps, shape_text,
    faded_legend, swatch, unravel,
)
from convgif.render.layout_conv import SHADES, ConvLayout, contrasting
from convgif.render.layout_pool import PoolLayout, fmt_value, selected_fill
from convgif.render.primitives import Mark, Polygon, Primitive, Rect, Text, Veil, fmt_number
from convgif.render.theme import RGB, Theme, mix

DEPTH_PER_CELL = 0.5  # one channel's depth step, in cells of its block
SLANT = 0.6  # the depth step rises this much for each pixel it goes right (an oblique projection at ~31°)
MAX_DEPTH = 140  # px: the deepest block's depth at font scale 1 (many channels get thinner layers)
MIN_STEP = 3  # px: the thinnest layer that still shows as one
BOX_ALPHA = 0.4  # the window box's translucency
TOP_SHADE, SIDE_SHADE = 0.12, 0.24  # how much of the grid colour darkens the top and the right faces
BLOCK_GAP = 14  # between two kernel blocks
GROUP_TINT = 0.45  # how much of a group's colour fills its layers' faces


def _crosses(polygon, box) -> bool:
    """Whether a convex `polygon` ((x, y) corners) and the box (x0, y0, x1, y1) overlap by more than an edge:
    neither has an edge direction along which the two lie apart (the separating axis test)."""
    x0, y0, x1, y1 = box
    corners = ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
    axes = [(1.0, 0.0), (0.0, 1.0)] + [(b[1] - a[1], a[0] - b[0]) for a, b in zip(polygon, polygon[1:] + polygon[:1])]
    for ax, ay in axes:
        p = [ax * x + ay * y for x, y in polygon]
        q = [ax * x + ay * y for x, y in corners]
        if max(p) <= min(q) or max(q) <= min(p):
            return False
    return True


@dataclass(frozen=True, slots=True)
class Block:
    """A depth × rows × cols block: channel k's front face is `face(k)`, `k` depth steps (dx right, dy up) behind
    channel 0's, whose face is the front one. Faces are a Grid's cells; the top and right faces are parallelograms
    on the grid's border lines (pixel centres, so both painters draw them along the lines)."""

    x: int
    y: int
    depth: int
    rows: int
    cols: int
    cell: int
    dx: int
    dy: int

    def face(self, k: int) -> Grid:
        return Grid(self.x + k * self.dx, self.y - k * self.dy, self.rows, self.cols, self.cell)

    @property
    def front(self) -> Grid:
        return self.face(0)

    def _top(self, col: float, row: float, k: float) -> tuple[float, float]:
        """The point on the line above `row` at column line `col`, `k` depth steps back."""
        return (self.x + col * self.cell + k * self.dx + 0.5, self.y + row * self.cell - k * self.dy + 0.5)

    def top_strip(self, col0: int, col1: int, row: int, k0: int, k1: int) -> tuple[tuple[float, float], ...]:
        """The parallelogram over columns col0..col1 − 1 along the line above `row`, from depth k0 back to k1."""
        return (self._top(col0, row, k0), self._top(col1, row, k0), self._top(col1, row, k1), self._top(col0, row, k1))

    def side_strip(self, row0: int, row1: int, col: int, k0: int, k1: int) -> tuple[tuple[float, float], ...]:
        """The parallelogram over rows row0..row1 − 1 along the line right of column `col` − 1, depth k0 to k1."""
        return (self._top(col, row0, k0), self._top(col, row0, k1), self._top(col, row1, k1), self._top(col, row1, k0))

    def hull(self) -> tuple[tuple[float, float], ...]:
        """The block's outline: front face, then its top and right faces' far edges."""
        r, c, d = self.rows, self.cols, self.depth
        return (self._top(0, r, 0), self._top(0, 0, 0), self._top(0, 0, d), self._top(c, 0, d), self._top(c, r, d),
                self._top(c, r, 0))

    def span_outline(self, rows: list[int], cols: list[int], k: int) -> tuple[tuple[float, float], ...]:
        """The rectangle around a span of cells on the face `k` steps back."""
        r0, r1, c0, c1 = min(rows), max(rows) + 1, min(cols), max(cols) + 1
        return (self._top(c0, r0, k), self._top(c1, r0, k), self._top(c1, r1, k), self._top(c0, r1, k))

    @staticmethod
    def size(depth: int, rows: int, cols: int, cell: int, dx: int, dy: int) -> tuple[int, int]:
        """(width, height) px of a block, border lines included."""
        return cols * cell + 1 + depth * dx, rows * cell + 1 + depth * dy


class VolumeFrame:
    """What both volume layouts share: the depth step, the blocks' faces, the window box and the output block's
    cells. Mixed in before a flat layout (ConvLayout, PoolLayout), whose text, sizing of numbers and arithmetic
    lines it keeps."""

    theme: Theme

    def depth_step(self, c: int) -> tuple[int, int]:
        """(dx, dy) px of one channel's depth at cell `c`: half a cell, thinner where many channels would make the
        deepest block deeper than MAX_DEPTH."""
        deepest = max(self.depth_counts())
        room = int(MAX_DEPTH * self.theme.font_scale * (1.5 if self.fit else 1)) // max(deepest, 1)
        dx = max(MIN_STEP, min(round(c * DEPTH_PER_CELL), room))
        return dx, max(2, round(dx * SLANT))

    def depth_counts(self) -> tuple[int, ...]:
        """The depth of every block drawn (input, output, kernels)."""
        raise NotImplementedError

    def input_face(self, face: Grid, values: np.ndarray, pad: np.ndarray) -> list[Primitive]:
        """An input channel's cells on `face` with their values, as the front face draws channel 0's."""
        raise NotImplementedError

    def group_face(self, group: int) -> RGB:
        """A group's colour on the faces of its layers: stronger than a flat lane's tint, so thin layers show it."""
        return mix(self.theme.group_colour(group), self.theme.background, GROUP_TINT)

    def shade(self, fill: RGB, face: str) -> RGB:
        """A top or right face's fill: `fill` darkened towards the grid colour, so the block reads as solid."""
        return mix(self.theme.grid, fill, TOP_SHADE if face == "top" else SIDE_SHADE)

    def block_faces(self, block: Block, fills, top_row_padding: bool = False, right_col_padding: bool = False,
                    ) -> list[Primitive]:
        """The top and right faces of `block`, one parallelogram per cell of each channel's layer, filled by
        `fills(channel, where)` (where: "top" or "side") and lined in the grid colour."""
        out: list[Primitive] = []
        line = self.theme.grid
        for k in range(block.depth - 1, -1, -1):  # the back layer first
            for col in range(block.cols):
                out.append(Polygon(block.top_strip(col, col + 1, 0, k, k + 1),
                                   fill=self.shade(fills(k, "top", col), "top"), edge=line))
            for row in range(block.rows):
                out.append(Polygon(block.side_strip(row, row + 1, block.cols, k, k + 1),
                                   fill=self.shade(fills(k, "side", row), "side"), edge=line))
        return out

    def window_box(self, block: Block, taps: list[tuple[int, int]], k0: int, k1: int) -> list[Primitive]:
        """The window's box through channels k0..k1 − 1: a strip through the depth over each tapped column (on the
        line above the window's top row) and beside each tapped row (right of its last column), so a dilated
        window's gaps stay gaps. Its front face is the caller's (tap fills, gap
        marks, outline on face k0)."""
        th = self.theme
        meta = Mark("window", kind="box", channels=(k0, k1))
        rows = sorted({r for r, _ in taps})
        cols = sorted({c for _, c in taps})
        top, right = rows[0], cols[-1] + 1
        out: list[Primitive] = []
        for col in cols:
            out.append(Polygon(block.top_strip(col, col + 1, top, k0, k1), fill=th.window, alpha=BOX_ALPHA,
                               edge=th.window, meta=meta))
        for row in rows:
            out.append(Polygon(block.side_strip(row, row + 1, right, k0, k1), fill=th.window, alpha=BOX_ALPHA,
                               edge=th.window, meta=meta))
        return out

    def input_value_text(self, value: float) -> str:
        """An input number as the front face writes it."""
        return fmt_number(value)

    def front_number(self, grid: Grid, r: int, col: int, value: float, padded: bool) -> list[Primitive]:
        """Cell (r, col)'s number on `grid` in the colour the front face draws it."""
        th, size = self.theme, self.input_value_size
        if size is None:
            return []
        if padded:
            colour = th.padding_text
        else:
            colour = contrasting(self.pixel_shade(value)) if getattr(self, "shaded", False) else th.input_text
        return [cell_text(grid, r, col, self.input_value_text(value), size, colour)]

    def numbers_over_box(self, block: Block, strips: list[tuple[tuple[float, float], ...]], skip, batch: int
                         ) -> list[Primitive]:
        """The front face's numbers in the cells the window box's translucent strips cross, drawn again over them:
        the box lies behind the front face, seen through it, and hides none of its numbers (its strips covered the
        numbers above and right of the window)."""
        if self.input_value_size is None or not strips:
            return []
        key = ("numbers over box", block.x, block.y, tuple(strips), tuple(sorted(skip)), batch)
        return list(self.made_once(key, lambda: self._numbers_over_box(block, strips, skip, batch)))

    def _numbers_over_box(self, block: Block, strips, skip, batch: int) -> list[Primitive]:
        front = block.front
        plane = np.asarray(self.trace.padded_input[batch])[0].reshape(self.padded_hw)
        pad = np.asarray(self.trace.padding_cells).reshape(self.padded_hw)
        c = front.cell
        out: list[Primitive] = []
        for strip in strips:  # the cells under each strip's bounding box, then those it really crosses
            xs, ys = [x for x, _ in strip], [y for _, y in strip]
            cols = range(max(0, int((min(xs) - front.x) // c)), min(front.cols, int((max(xs) - front.x) // c) + 1))
            rows = range(max(0, int((min(ys) - front.y) // c)), min(front.rows, int((max(ys) - front.y) // c) + 1))
            for r in rows:
                for col in cols:
                    if (r, col) not in skip and _crosses(strip, front.interior(r, col)):
                        skip = skip | {(r, col)}  # drawn once, however many strips cross it
                        out += self.front_number(front, r, col, float(plane[r, col]), bool(pad[r, col]))
        return out

    def deep_taps(self, block: Block, taps: list[tuple[int, int]], k: int, values) -> list[Primitive]:
        """The window's front face on a channel behind the front one, seen through the block: each tap's cell on
        that channel's face with its value (the numbers the arithmetic multiplies: the front face shows channel
        0's, veiled), then the window's outline on that face."""
        face = block.face(k)
        th = self.theme
        meta = Mark("window", kind="front", channels=(k, k + 1))
        pad = np.asarray(self.trace.padding_cells).reshape(self.padded_hw)
        tapped = th.tap if fills_taps(th, self.trace.geometry) else th.input
        out: list[Primitive] = []
        for (r, col), value in zip(taps, values):
            x0, y0, x1, y1 = face.interior(r, col)
            out.append(Polygon(((x0, y0), (x1, y0), (x1, y1), (x0, y1)), fill=th.padding if pad[r, col] else tapped,
                               meta=meta))
            out += self.front_number(face, r, col, float(value), bool(pad[r, col]))
        if self.trace.geometry.window_has_gaps:
            out += gap_marks(face, set(taps), self.theme)
        out.append(outline(face.span([r for r, _ in taps], [c for _, c in taps]), self.theme.window, 3))
        return out

    def hidden_output_cell(self, block: Block, k: int, r: int, col: int, fill: RGB) -> list[Primitive]:
        """A cell of a channel behind the front face: its parallelograms on the top face (first row) and the right
        face (last column), the only places it shows."""
        out: list[Primitive] = []
        if r == 0:
            out.append(Polygon(block.top_strip(col, col + 1, 0, k, k + 1), fill=self.shade(fill, "top"),
                               edge=self.theme.grid))
        if col == block.cols - 1:
            out.append(Polygon(block.side_strip(r, r + 1, block.cols, k, k + 1), fill=self.shade(fill, "side"),
                               edge=self.theme.grid))
        return out

    def input_layer(self, batch: int, k: int) -> list[Primitive]:
        """While the window stands on input channel `k` > 0: that channel's whole face seen through the (veiled)
        block, its cells and values as the front face draws channel 0's, so that the window's taps sit in their own
        channel's grid and not astride channel 0's numbers. Padding cells keep their fill and their outline's
        colour, drawn solid (the fast painter draws no dashes; the window's padding taps are drawn so too)."""
        if k == 0:
            return []

        def layer() -> list[Primitive]:
            face = self.input_block.face(k)
            values = np.asarray(self.trace.padded_input[batch][k]).reshape(self.padded_hw)
            pad = np.asarray(self.trace.padding_cells).reshape(self.padded_hw)
            return [Rect(p.box, fill=p.fill, edge=p.edge, line_width=p.line_width, meta=p.meta)
                    if isinstance(p, Rect) and p.dashed else p for p in self.input_face(face, values, pad)]

        # the same marks every step on this channel (`made_once`), which the view leaves painted
        return list(self.made_once(("input layer", batch, k), lambda: self.relabelled(
            self.input_block, self.input_block_label(), self.input_block_label(k)) + layer()))

    def output_layer(self, step: ConvStep | PoolStep, k: int) -> list[Primitive]:
        """While a step writes output channel `k` > 0: that channel's whole face seen through the (veiled) block,
        its grid, the cells its earlier steps computed with their values, and blanks, so that the current cell sits
        in its own channel's grid and not astride channel 0's numbers (half a cell up and right of them)."""
        if k == 0:
            return []
        th, face = self.theme, self.output_block.face(k)
        first = (step.batch * self.output_block.depth + k) * face.rows * face.cols  # the step of the face's (0, 0)
        rows_done = (step.index - first) // face.cols

        def blank() -> list[Primitive]:  # the face, every cell empty, under the label that names its channel
            return self.relabelled(self.output_block, self.output_block_label(), self.output_block_label(k)) + [
                Rect(face.outer, fill=th.grid),
                *[Rect(face.interior(r, col), fill=th.output_empty) for r in range(face.rows) for col in range(face.cols)]]

        def row(r: int) -> list[Primitive]:  # a computed row, as the flat view draws done cells, on this face
            return [p for col in range(face.cols) for p in super(VolumeFrame, self).done_cell(first + r * face.cols + col)]

        # each group made once and the same objects every step after (`made_once`), so that the view leaves them
        # painted as they come (a new row after the ones before); this row's own done cells after them
        out = list(self.made_once(("output layer", step.batch, k), blank))
        for r in range(rows_done):
            out += self.made_once(("output row", step.batch, k, r), lambda r=r: row(r))
        for index in range(first + rows_done * face.cols, step.index):
            out += super().done_cell(index)
        return out

    def current_cell(self, block: Block, k: int, r: int, col: int, text: str) -> list[Primitive]:
        """The cell the step writes: on the front face as the flat view draws it; deeper, its top or right
        parallelogram in the current colour and the cell itself seen through the block, framed."""
        th = self.theme
        if k == 0:
            return self.current_output(block.front, r, col, text)
        # seen through the block (whose front face `dimmed_output_front` veils) on its own channel's face
        # (`output_layer`), with its value: what the arithmetic makes (a translucent cell over channel 0's numbers
        # showed one of theirs). The cell as a cell of that face (its state), then as the volume's marker.
        out = self.hidden_output_cell(block, k, r, col, th.output_current)
        face = block.face(k)
        x0, y0, x1, y1 = face.interior(r, col)
        meta = Mark("marker", kind="current_output", channels=(k, k + 1))
        out.append(Rect(face.interior(r, col), fill=th.output_current))
        out.append(Polygon(((x0, y0), (x1, y0), (x1, y1), (x0, y1)), fill=th.output_current, meta=meta))
        if self.current_value_size is not None:
            out.append(cell_text(face, r, col, self.answer(text), self.current_value_size, th.output_current_text,
                                 bold=True))
        out.append(outline(face.box(r, col), th.text, 2))
        return out

    def block_label(self, block: Block, text: str, colour: RGB | None = None) -> Text:
        """A block's label over its back top-left corner."""
        return Text(block.x, block.y - block.depth * block.dy - 5, text, self.sz.label, colour or self.theme.muted_text)

    def input_block_label(self, k: int = 0) -> str:
        """The input block's name and shape, and the channel whose face shows (where numbers hide, the frame's note
        says so, and why)."""
        return self.face_label("input", k)

    def output_block_label(self, k: int = 0) -> str:
        return self.face_label("output", k)

    def face_label(self, block: str, k: int, key: str | None = None) -> str:
        """The `block` ("input" or "output") label: its name and shape, and which channel's face shows: the front
        one (channel 0), or channel k's, drawn over the faded front one while a step's window or output lies on it
        (in the words of `key`, else `seen_key`)."""
        if block == "input":
            name = self.say("input_padded" if self.trace.padding_cells.any() else "input")
            shape = shape_text((int(self.trace.input.shape[1]), *self.padded_hw))
        else:
            name, shape = self.say("output"), shape_text(self.trace.geometry.output_shape)
        if k == 0:
            return self.say("volume_front", name=name, shape=shape)
        return self.say(key or self.seen_key(), name=name, shape=shape, k=k)

    def seen_key(self) -> str:
        """The words for a face seen through the block: the longest that fit before the next label for both blocks
        and their deepest channels, so that both say it alike."""
        cached = self.__dict__.get("_seen_key")
        if cached is None:
            keys = ("volume_seen", "volume_seen_short", "volume_seen_shortest")
            blocks = {"input": self.input_block, "output": self.output_block}
            self.__dict__["_seen_key"] = cached = next(
                (key for key in keys if all(
                    text_width(self.face_label(name, block.depth - 1, key), self.sz.label) <= self.label_room(block)
                    for name, block in blocks.items())),
                keys[-1])
        return cached

    def label_room(self, block: Block) -> float:
        """px from a block's label to the next label right of it (the frame's margin after the output block)."""
        return (self.width - MARGIN if block is self.output_block else self.input_label_end()) - block.x

    def input_label_end(self) -> float:
        """Where the input block's label must end: before the next column's labels."""
        raise NotImplementedError

    def relabelled(self, block: Block, front: str, seen: str) -> list[Primitive]:
        """The block's label `seen` in place of its static label `front`: the old words covered (a box of the
        background over both labels' ink: baseline − ascent to baseline + descent), the new ones over them."""
        label = self.block_label(block, seen)
        size = self.sz.label
        wide = max(text_width(front, size), text_width(seen, size))
        box = (label.x - 1, math.floor(label.y - size), math.ceil(label.x + wide) + 2, math.ceil(label.y + size * 0.3))
        return [Rect(box, fill=self.theme.background), label]

    def volume_legend(self) -> list[LegendItem]:
        """The entries every volume frame adds: a layer is a channel; the window box."""
        th = self.theme
        return [(self.say("channel_layer"), swatch(fill=self.shade(th.input, "top"), edge=th.grid)),
                (self.say("window_box"), swatch(fill=mix(th.window, th.input, BOX_ALPHA), edge=th.window))]

    def dimmed_front(self, k: int) -> list[Primitive]:
        """The input block's front face veiled while the step's window lies behind it (on channel `k` > 0), as the
        flat view dims the channels a step does not read: the numbers on the front face are channel 0's, and the
        window's box, drawn over it, must not seem to hold them."""
        if k == 0:
            return []
        # the very same veil every step (`made_once`): the view leaves it painted while the window stays behind
        return list(self.made_once(("front veil",), lambda: [
            Veil(self.input_block.front.outer, self.theme.background, self.theme.dim_alpha)]))

    def dimmed_output_front(self, k: int) -> list[Primitive]:
        """The output block's front face veiled while the step writes channel `k` > 0 behind it: its numbers are
        channel 0's. Listed right after `dimmed_front`, so that the two veils are held as one run between frames."""
        if k == 0:
            return []
        return list(self.made_once(("output front veil",), lambda: [
            Veil(self.output_block.front.outer, self.theme.background, self.theme.dim_alpha)]))

    def translucent(self, colours: list[tuple[RGB, float]], over: list[RGB]) -> list[RGB]:
        """Each (colour, alpha) of `colours` laid over each of `over`, as the painters blend them (theme.mix)."""
        out = []
        for colour, alpha in colours:
            out += [mix(base, colour, 1 - alpha) for base in over]
        return out


class ConvVolumeLayout(VolumeFrame, ConvLayout):
    """conv2d in volumes: the input block | the kernel blocks in rows | the output block."""

    def input_face(self, face: Grid, values: np.ndarray, pad: np.ndarray) -> list[Primitive]:
        return self.input_cells(face, values, pad)

    @classmethod
    def arrangements(cls, trace) -> list[dict]:
        n = trace.geometry.out_channels
        return [{"kernels_per_row": k} for k in sorted({1, 2, 3, 4, n}) if k <= n]

    def arrange(self, arrangement: dict) -> None:
        super().arrange({})
        self.kernels_per_row = arrangement.get("kernels_per_row")

    def depth_counts(self) -> tuple[int, ...]:
        g = self.trace.geometry
        return (g.in_channels, g.out_channels)

    def measure(self) -> None:
        if self.kernels_per_row is not None:  # a slide's arrangement (see fitted_layout)
            super().measure()
            return
        # a blog column: the kernel blocks in as many rows as let the numbers show (rows evenly filled, up to
        # three blocks a row first), else the largest cells
        n = self.trace.geometry.out_channels
        best = None
        for per_row in dict.fromkeys((-(-n // -(-n // 3)), *range(n, 0, -1))):
            self.kernels_per_row = per_row
            try:
                super().measure()
            except DoesNotFitError:
                continue
            score = (self.shows_values(self.cell), self.cell)
            if best is None or score > best[0]:
                best = (score, per_row)
            if score[0]:
                return
        if best is None:
            raise DoesNotFitError(f"a {shape_text(self.padded_hw)} input", width=self.width)
        self.kernels_per_row = best[1]
        super().measure()

    # ---- sizing -------------------------------------------------------------------------------------
    def kernel_slot(self, ck: int, dx: int, dy: int) -> tuple[int, int]:
        """(width, height) px of one kernel block with its label over it."""
        (kh, kw), n = self.kernel_hw, self.per_group_in
        w, h = Block.size(n, kh, kw, ck, dx, dy)
        label = max(text_width(self.bank_label(oc), self.sz.label) for oc in range(self.out_channels))
        return max(w, math.ceil(label)), self.sz.label_h + h

    def column_widths(self, c: int, ck: int) -> tuple[int, int, int]:
        dx, dy = self.depth_step(c)
        (ph, pw), (oh, ow) = self.padded_hw, self.output_hw
        in_w = max(Block.size(self.in_channels, ph, pw, c, dx, dy)[0],
                   math.ceil(text_width(self.input_block_label(), self.sz.label)))
        slot_w, _ = self.kernel_slot(ck, dx, dy)
        per_row = self.kernels_per_row
        out_cell = self.output_cell(c)
        out_label = self.output_block_label()
        out_w = max(Block.size(self.out_channels, oh, ow, out_cell, dx, dy)[0],
                    math.ceil(text_width(out_label, self.sz.label)))
        # the middle column's header is the only one: it may run on over the output column
        header = math.ceil(text_width(self.middle_header(), self.sz.sub, True))
        mid_w = max(per_row * slot_w + (per_row - 1) * BLOCK_GAP, header - out_w - MIN_GAP)
        return in_w, mid_w, out_w

    def grids_height(self, c: int, ck: int) -> int:
        dx, dy = self.depth_step(c)
        (ph, pw), (oh, ow) = self.padded_hw, self.output_hw
        in_h = Block.size(self.in_channels, ph, pw, c, dx, dy)[1]
        out_h = Block.size(self.out_channels, oh, ow, self.output_cell(c), dx, dy)[1]
        _, slot_h = self.kernel_slot(ck, dx, dy)
        rows = -(-self.out_channels // self.kernels_per_row)
        kernels_h = rows * (slot_h + BLOCK_GAP) - BLOCK_GAP - self.sz.label_h
        return self.sz.label_h + max(in_h, out_h, kernels_h)

    def full_grids_height(self, c: int, ck: int) -> int:
        return self.grids_height(c, ck)

    def frame_width_for(self, widths: tuple[int, int, int]) -> int:
        return super(ConvLayout, self).frame_width_for(widths)

    def _column_xs(self) -> tuple[int, int, int]:
        self.lane_pitch = 0
        return super(ConvLayout, self)._column_xs()

    # ---- labels -------------------------------------------------------------------------------------
    def input_label_end(self) -> float:
        return self.mid_x - MIN_GAP  # the kernel blocks' labels

    def middle_header(self) -> str:
        return self.say("kernels_volume", count=self.trace.geometry.out_channels)

    def column_headers(self) -> list[tuple[int, str]]:
        return [(self.mid_x, self.middle_header())]

    def legend_entries(self):
        th, t = self.theme, self.say
        items = super().legend_entries()
        items[1:1] = self.volume_legend()
        if t("current_kernel") not in (label for label, _ in items):  # a bank's legend already names it
            at = next(i for i, (label, _) in enumerate(items) if label == t("weight")) + 1
            items.insert(at, (t("current_kernel"), swatch(fill=th.kernel, edge=th.output_current, line_width=2)))
        if self.out_channels > 1 and t("not_this_step") not in (label for label, _ in items):
            items.append(faded_legend(th, t))  # the output's front face while the step writes a channel behind it
        groups = {t("group", group=g): g for g in range(self.groups)} if self.groups > 1 else {}
        return [(label, swatch(fill=self.group_face(groups[label]), edge=th.group_colour(groups[label]), line_width=2))
                if label in groups else (label, make) for label, make in items]

    # ---- placement ----------------------------------------------------------------------------------
    def place_grids(self, top: int) -> int:
        c, ck = self.cell, self.kernel_cell
        self.dx, self.dy = dx, dy = self.depth_step(c)
        (ph, pw), (kh, kw), (oh, ow) = self.padded_hw, self.kernel_hw, self.output_hw
        label = self.sz.label_h
        self.input_block = Block(self.in_x, top + label + self.in_channels * dy, self.in_channels, ph, pw, c, dx, dy)
        oc = self.output_cell(c)
        self.output_block = Block(self.out_x, top + label + self.out_channels * dy, self.out_channels, oh, ow, oc,
                                  dx, dy)
        slot_w, slot_h = self.kernel_slot(ck, dx, dy)
        self.kernel_blocks: list[Block] = []
        for j in range(self.out_channels):
            row, col = divmod(j, self.kernels_per_row)
            x = self.mid_x + col * (slot_w + BLOCK_GAP)
            y = top + row * (slot_h + BLOCK_GAP) + label + self.per_group_in * dy
            self.kernel_blocks.append(Block(x, y, self.per_group_in, kh, kw, ck, dx, dy))
        # the flat view's names for the front faces: the pieces inherited from ConvLayout draw on these
        self.input_grids = [self.input_block.face(k) for k in range(self.in_channels)]
        self.output_grids = [self.output_block.face(k) for k in range(self.out_channels)]
        self.kernel_grids = []
        self.bank_grids = [[block.face(s) for s in range(self.per_group_in)] for block in self.kernel_blocks]
        self.lane_boxes = []
        return top + self.grids_height(c, ck)

    def grids_by_role(self) -> dict[str, list[Grid]]:
        """Every channel's face (those behind the front one are where their cells would be seen through the
        block): "input" in padded coordinates, "bank" kernel by kernel, slice by slice, "output"."""
        return {"input": self.input_grids, "output": self.output_grids,
                "bank": [grid for faces in self.bank_grids for grid in faces]}

    # ---- primitives ---------------------------------------------------------------------------------
    def group_of_input(self, k: int) -> int:
        return k // self.per_group_in

    def static_marks(self, batch: int) -> list[Primitive]:
        th = self.theme
        grouped = self.groups > 1
        out: list[Primitive] = []
        pad_cells = np.asarray(self.trace.padding_cells).reshape(self.padded_hw)
        block = self.input_block

        def input_fill(k: int, where: str, i: int) -> RGB:
            if grouped:
                return self.group_face(self.group_of_input(k))
            padded = pad_cells[0, i] if where == "top" else pad_cells[i, -1]
            return th.padding if padded else th.input

        out.append(self.block_label(block, self.input_block_label()))
        out += self.block_faces(block, input_fill)
        padded = self.trace.padded_input[batch]
        out += self.input_cells(block.front, np.asarray(padded[0]).reshape(self.padded_hw), pad_cells)
        for oc, kb in enumerate(self.kernel_blocks):
            group = oc // self.per_group_out
            out.append(self.block_label(kb, self.bank_label(oc), self.label_colour(group)))
            out += self.block_faces(kb, lambda k, where, i, g=group: self.group_face(g) if grouped else th.kernel)
            out += self.weight_cells(kb.front, np.asarray(self.trace.weight[oc, 0]).reshape(kb.rows, kb.cols),
                                     self.weight_value_size)
        ob = self.output_block
        out.append(self.block_label(ob, self.output_block_label()))
        out += self.block_faces(ob, lambda k, where, i: (self.group_face(k // self.per_group_out) if grouped
                                                         else th.output_empty))
        front = ob.front
        out.append(Rect(front.outer, fill=th.grid))
        for r in range(front.rows):
            for col in range(front.cols):
                out.append(Rect(front.interior(r, col), fill=th.output_empty))
        return out

    def done_fill(self, channel: int, value: float) -> RGB:
        """A computed cell's fill on the top and right faces: its value's shade (an image), else the done colour,
        half in its group's colour where there are groups (the lanes stay visible as the output fills in)."""
        if self.shaded:
            return self.output_shade(value)
        if self.groups > 1:
            return mix(self.group_face(channel // self.per_group_out), self.theme.output_done, 0.5)
        return self.theme.output_done

    def done_cell(self, index: int) -> list[Primitive]:
        batch, ch, r, col = unravel(index, (self.trace.batch_size, *self.trace.geometry.output_shape))
        faces = self.hidden_output_cell(self.output_block, ch, r, col,
                                        self.done_fill(ch, float(self.output[batch, ch, r, col])))
        return super().done_cell(index) + faces if ch == 0 else faces

    def transient(self, step: ConvStep) -> list[Primitive]:
        th = self.theme
        out: list[Primitive] = [self.step_counter(step)]
        taps = [self.rc(t) for t in np.asarray(step.tap_coords).reshape(-1, 2)]
        channels = list(step.in_channels)
        k0, k1 = channels[0], channels[-1] + 1
        block = self.input_block
        out += self.dimmed_front(k0) + self.dimmed_output_front(step.out_channel)
        out += self.input_layer(step.batch, k0) + self.output_layer(step, step.out_channel)
        box = self.window_box(block, taps, k0, k1)
        out += box
        if k0 == 0:  # (behind, the front face is veiled: its numbers are not this step's)
            out += self.numbers_over_box(block, [p.points for p in box], set(taps), step.batch)
        if k0 == 0:  # the box starts at the front face: taps as the flat view draws them
            grid = block.front
            pad_mask = np.asarray(self.trace.padding_cells).reshape(self.padded_hw)
            if fills_taps(th, self.trace.geometry):
                for (r, col), value in zip(taps, np.asarray(step.tap_values[0]).reshape(-1)):
                    out += self.tap_cell(grid, r, col, float(value), bool(pad_mask[r, col]))
            if self.trace.geometry.window_has_gaps:
                out += gap_marks(grid, set(taps), th)
            out.append(outline(grid.span([r for r, _ in taps], [c for _, c in taps]), th.window, 3))
        else:
            out += self.deep_taps(block, taps, k0, np.asarray(step.tap_values[0]).reshape(-1))
        kb = self.kernel_blocks[step.out_channel]
        out.append(Polygon(kb.hull(), edge=th.output_current, line_width=3,
                           meta=Mark("marker", kind="current_kernel", channels=(step.out_channel, step.out_channel + 1))))
        r, col = self.rc(step.position)
        out += self.current_cell(self.output_block, step.out_channel, r, col, fmt_number(step.value))
        return out + self.arithmetic(self._lines(step))

    def final_marks(self) -> list[Primitive]:
        return []  # every kernel block stays, with its bias, from the first frame to the hold frame

    def colours(self) -> list[RGB]:
        """The flat view's fills, lines and text pairs (no lane veils: the volume dims nothing), the faces' shades,
        and the translucent window box over what lies under it on the input block, the current output cell over
        what lies under it on the output block."""
        th = self.theme
        groups = range(self.groups) if self.groups > 1 else range(0)
        group_faces = [self.group_face(g) for g in groups]
        done = [self.done_fill(oc, 0.0) for oc in range(0, self.out_channels, self.per_group_out)]
        shades = self.shade_fills() if self.shaded else []
        input_fills = [th.input, th.padding, th.tap, *group_faces, *shades[:SHADES]]
        output_fills = [th.output_empty, th.output_done, th.output_current, *group_faces, *done, *shades[SHADES:]]
        shaded = lambda fills: [self.shade(f, w) for f in fills for w in ("top", "side")]
        faces = shaded([*input_fills, th.kernel, *output_fills])
        lines = [th.grid, th.padding_edge, th.window, th.gap, th.text, *[th.group_colour(g) for g in groups]]
        pairs = [(th.input_text, th.input), (th.padding_text, th.padding), (th.tap_text, th.tap),
                 (th.muted_text, th.tap), (th.kernel_text, th.kernel), (th.output_done_text, th.output_done),
                 (th.output_current_text, th.output_current), (th.text, th.background),
                 (th.muted_text, th.background), (th.accent, th.background), (th.output_current, th.background),
                 *[(self.label_colour(g), th.background) for g in groups],
                 *[(contrasting(fill), fill) for fill in shades]]
        colours = palette_with_ramps([th.background, *input_fills, th.kernel, *output_fills, *faces], lines, pairs,
                                     crisp=th.crisp_text)
        # what lies under the window box (the input block's colours) and under the current cell (the output's):
        # everything but the other block's own fills
        inputs_own = {th.background, *input_fills, *shaded(input_fills)}
        outputs_own = {th.background, *output_fills, *shaded(output_fills)}
        input_side = [c for c in colours if c in inputs_own or c not in outputs_own]
        output_side = [c for c in colours if c in outputs_own or c not in inputs_own]
        dimmed = [th.dimmed(c) for c in input_side] if self.groups > 1 else []  # a group after the first: window behind
        if self.out_channels > 1:  # a step on an output channel after the first: the output's front face veiled
            dimmed += [th.dimmed(c) for c in output_side]
        extra = self.translucent([(th.window, BOX_ALPHA)], input_side + dimmed)
        return list(dict.fromkeys(colours + dimmed + extra))


class PoolVolumeLayout(VolumeFrame, PoolLayout):
    """A 2D pool in volumes: the input block, the window box through one channel, the output block."""

    def input_value_text(self, value: float) -> str:
        return fmt_value(value)

    def depth_counts(self) -> tuple[int, ...]:
        return (self.trace.geometry.in_channels,)

    def column_widths(self, c: int, ck: int) -> tuple[int, int, int]:
        dx, dy = self.depth_step(c)
        (ph, pw), (oh, ow) = self.padded_hw, self.output_hw
        in_label = self.input_block_label()
        out_label = self.output_block_label()
        in_w = max(Block.size(self.channels, ph, pw, c, dx, dy)[0], math.ceil(text_width(in_label, self.sz.label)))
        out_w = max(Block.size(self.channels, oh, ow, c, dx, dy)[0], math.ceil(text_width(out_label, self.sz.label)))
        return in_w, math.ceil(text_width(self.op_text, self.sz.sum, True)) + 8, out_w

    def grids_height(self, c: int, ck: int) -> int:
        dx, dy = self.depth_step(c)
        (ph, pw), (oh, ow) = self.padded_hw, self.output_hw
        return self.sz.label_h + max(Block.size(self.channels, ph, pw, c, dx, dy)[1],
                                     Block.size(self.channels, oh, ow, c, dx, dy)[1])

    def input_label_end(self) -> float:
        return self.out_x - MIN_GAP  # the output block's label

    def column_headers(self) -> list[tuple[int, str]]:
        return []

    def legend_entries(self):
        items = super().legend_entries()
        items[1:1] = self.volume_legend()
        if self.channels > 1:  # the front face veiled while the window is on a channel behind it (`dimmed_front`)
            items.append(faded_legend(self.theme, self.say))
        return items

    def place_grids(self, top: int) -> int:
        c = self.cell
        self.dx, self.dy = dx, dy = self.depth_step(c)
        (ph, pw), (oh, ow) = self.padded_hw, self.output_hw
        label = self.sz.label_h
        self.input_block = Block(self.in_x, top + label + self.channels * dy, self.channels, ph, pw, c, dx, dy)
        self.output_block = Block(self.out_x, top + label + self.channels * dy, self.channels, oh, ow, c, dx, dy)
        self.input_grids = [self.input_block.face(k) for k in range(self.channels)]
        self.output_grids = [self.output_block.face(k) for k in range(self.channels)]
        front = self.input_block.front
        self.op_anchors = [(self.mid_x, front.y + ph * c // 2 + self.sz.sum // 2)]
        return top + self.grids_height(c, c)

    def static_marks(self, batch: int) -> list[Primitive]:
        th = self.theme
        out: list[Primitive] = [Text(x, y, self.op_text, self.sz.sum, th.accent, bold=True) for x, y in self.op_anchors]
        block = self.input_block
        pad = self.pad_cells

        def input_fill(k: int, where: str, i: int) -> RGB:
            padded = pad[0, i] if where == "top" else pad[i, -1]
            return th.padding if padded else th.input

        out.append(self.block_label(block, self.input_block_label()))
        out += self.block_faces(block, input_fill)
        plane = np.asarray(self.trace.padded_input[batch])[0].reshape(self.padded_hw)
        out += self.input_face(block.front, plane, pad)
        ob = self.output_block
        out.append(self.block_label(ob, self.output_block_label()))
        out += self.block_faces(ob, lambda k, where, i: th.output_empty)
        out.append(Rect(ob.front.outer, fill=th.grid))
        for r in range(ob.rows):
            for col in range(ob.cols):
                out.append(Rect(ob.front.interior(r, col), fill=th.output_empty))
        return out

    def input_face(self, face: Grid, values: np.ndarray, pad: np.ndarray) -> list[Primitive]:
        th, size = self.theme, self.input_value_size
        out: list[Primitive] = [Rect(face.outer, fill=th.grid)]
        for r in range(face.rows):
            for col in range(face.cols):
                if pad[r, col]:
                    out.append(Rect(face.box(r, col), fill=th.padding))
                    out.append(Rect(face.box(r, col), edge=th.padding_edge, dashed=True))
                else:
                    out.append(Rect(face.interior(r, col), fill=th.input))
                if size is not None:
                    out.append(cell_text(face, r, col, fmt_value(float(values[r, col])), size,
                                         th.padding_text if pad[r, col] else th.input_text))
        return out

    def done_cell(self, index: int) -> list[Primitive]:
        batch, ch, r, col = unravel(index, (self.trace.batch_size, *self.trace.geometry.output_shape))
        faces = self.hidden_output_cell(self.output_block, ch, r, col, self.theme.output_done)
        return super().done_cell(index) + faces if ch == 0 else faces

    def transient(self, step: PoolStep) -> list[Primitive]:
        th = self.theme
        coords = np.asarray(step.tap_coords).reshape(-1, 2)
        overhang = np.asarray(step.overhang_mask).reshape(-1)
        taps = [self.rc(t) for t, o in zip(coords, overhang) if not o]
        k = step.channel
        if k == 0:  # the flat view's marks on the front face, then the box through the depth under the arithmetic
            flat = super().transient(step)
            split = next(i for i, p in enumerate(flat) if isinstance(p, Text) and p.meta is not None
                         and p.meta.kind == "arithmetic")
            box = self.window_box(self.input_block, taps, 0, 1)
            numbers = self.numbers_over_box(self.input_block, [p.points for p in box], set(taps), step.batch)
            return [flat[0], *box, *numbers, *flat[1:split], *flat[split:]]
        values = [float(v) for v, o in zip(np.asarray(step.tap_values).reshape(-1), overhang) if not o]
        box = self.window_box(self.input_block, taps, k, k + 1)
        out: list[Primitive] = [self.step_counter(step), *self.dimmed_front(k), *self.dimmed_output_front(k),
                                *self.input_layer(step.batch, k), *self.output_layer(step, k), *box]
        out += self.deep_taps(self.input_block, taps, k, values)
        if step.selected is not None and not self.hide_answers:
            sel = np.asarray(step.tap_coords).reshape(-1, 2)[step.selected]
            face = self.input_block.face(k)
            out.append(Rect(face.interior(*self.rc(sel)), edge=th.output_current, line_width=2))
        r, col = self.rc(step.position)
        out += self.current_cell(self.output_block, k, r, col, fmt_value(step.value))
        values = [float(v) for v, o in zip(np.asarray(step.tap_values).reshape(-1), overhang) if not o]
        return out + self.arithmetic(self._lines(step, values))

    def colours(self) -> list[RGB]:
        th = self.theme
        base = super().colours()
        faces = [th.input, th.padding, th.output_empty, th.output_done, th.output_current]
        under = list(dict.fromkeys(base + [self.shade(f, w) for f in faces for w in ("top", "side")]))
        dimmed = [th.dimmed(c) for c in under] if self.input_block.depth > 1 else []  # a channel after the first: window behind
        extra = self.translucent([(th.window, BOX_ALPHA), (th.tap, BOX_ALPHA)], under + dimmed)
        return list(dict.fromkeys(under + dimmed + extra + [selected_fill(th)]))
