"""Render the 'views' stills (receptive field, conv as a matrix, upsampling, 3D window, feature maps) with matplotlib,
every word from the label table in the theme's language, at the theme's font scale (see `zoom`).

Each `render_<kind>(spec, *, theme, width, title=None, caption=None)` returns (RGB uint8 frame, duration_ms)
pairs. Every number drawn comes from the engine; the two pieces of arithmetic the figures need beyond the
ops (which input cells a stacked output cell depends on, and the matrix C of Y = C X) are pure functions
here, tested against brute force and torch.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.patches import Rectangle

from convgif.engine.activation import relu
from convgif.engine.conv import conv2d
from convgif.engine.conv_transpose import conv_transpose2d
from convgif.engine.geometry import Geometry, conv_geometry
from convgif.engine.resample import interpolate
from convgif.engine.trace import conv_trace
from convgif.render.fonts import mpl_family
from convgif.render.labels import label
from convgif.render.layout_common import greedy_wrap
from convgif.render.primitives import MINUS, TIMES, fmt_number
from convgif.render.stills.measure import still_text_width
from convgif.render.stills.zoom import layout_width, scaled_figure
from convgif.render.theme import RGB, Theme, mix

Frames = list[tuple[np.ndarray, int]]
MARGIN = 20
STILL_MS = 4000


# ---- pure arithmetic ------------------------------------------------------------------------------

def receptive_field_masks(geometries: list[Geometry], output_cell: tuple[int, int]) -> list[np.ndarray]:
    """Per grid (input first, last output last), the cells the chosen last-layer cell depends on.

    Walks back one layer at a time: an input cell is needed when some tap of some needed output cell
    lands on it (padding taps land nowhere). Exact even with dilation gaps, since nothing cancels.
    """
    last = np.zeros(geometries[-1].output_shape[1:], dtype=bool)
    last[tuple(output_cell)] = True
    masks = [last]
    for g in reversed(geometries):
        needed = masks[0]
        seen = np.zeros(g.input_shape[1:], dtype=bool)
        rows, cols = np.nonzero(needed)
        for axis_taps in np.ndindex(*g.kernel_size):
            r = rows * g.stride[0] - g.padding[0][0] + g.dilation[0] * axis_taps[0]
            c = cols * g.stride[1] - g.padding[1][0] + g.dilation[1] * axis_taps[1]
            inside = (r >= 0) & (r < seen.shape[0]) & (c >= 0) & (c < seen.shape[1])
            seen[r[inside], c[inside]] = True
        masks.insert(0, seen)
    return masks


def receptive_field_sizes(geometries: list[Geometry]) -> list[tuple[int, int, str]]:
    """Per layer (rows axis): (r_l, jump j_l, the formula with numbers) where r_l = r_{l-1} + (k_l - 1)·d_l·j_{l-1}.

    r is the side of the input region one cell of layer l sees (before clipping at the border); j_{l-1}
    = s_1···s_{l-1} is how many input cells apart two neighbouring cells of layer l-1 are.
    """
    r, jump = 1, 1
    out = []
    for index, g in enumerate(geometries, start=1):
        k, d, s = g.kernel_size[0], g.dilation[0], g.stride[0]
        grown = r + (k - 1) * d * jump
        text = f"r{_sub(index)} = {r} + ({k}{MINUS}1)·{d}·{jump} = {grown}"
        r, jump = grown, jump * s
        out.append((r, jump, text))
    return out


def conv_matrix_layout(geometry: Geometry) -> np.ndarray:
    """(Ho·Wo, H·W) ints: the flat kernel tap placed at each entry of C, or -1 where C is structurally zero."""
    (_, h, w), (_, ho, wo) = geometry.input_shape, geometry.output_shape
    kh, kw = geometry.kernel_size
    layout = np.full((ho * wo, h * w), -1, dtype=np.int64)
    for i, j, a, b in np.ndindex(ho, wo, kh, kw):
        r = i * geometry.stride[0] - geometry.padding[0][0] + geometry.dilation[0] * a
        c = j * geometry.stride[1] - geometry.padding[1][0] + geometry.dilation[1] * b
        if 0 <= r < h and 0 <= c < w:  # taps on padding multiply zeros: no column for them
            layout[i * wo + j, r * w + c] = a * kw + b
    return layout


def conv_matrix(kernel: np.ndarray, geometry: Geometry) -> np.ndarray:
    """The matrix C with conv2d(x, kernel).flatten() == C @ x.flatten() (single channel, no bias)."""
    layout = conv_matrix_layout(geometry)
    flat = np.asarray(kernel, dtype=np.float64).reshape(-1)
    return np.where(layout >= 0, flat[np.maximum(layout, 0)], 0.0)


def upsample_values(spec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(nearest, bilinear, transposed-conv) 2D outputs of an upsample_compare scene, from the engine's ops."""
    x = np.array(spec.input, dtype=np.float64)
    t = spec.transposed
    nearest = interpolate(x[None, None], scale_factor=spec.scale_factor, mode="nearest")[0, 0]
    bilinear = interpolate(x[None, None], scale_factor=spec.scale_factor, mode="bilinear", align_corners=False)[0, 0]
    learned = conv_transpose2d(x[None], np.array(t.weights, dtype=np.float64)[None, None], stride=t.stride,
                               padding=t.padding, output_padding=t.output_padding)[0]
    return nearest, bilinear, learned


def multichannel_values(spec) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(input (C,H,W), weight (1,C,k,k), bias (1,) or None): small integers from the scene's seed."""
    rng = np.random.default_rng(spec.seed)
    c, h, w = spec.input_shape
    k = spec.kernel_size
    x = rng.integers(0, 10, size=(c, h, w)).astype(np.float64)
    weight = rng.integers(-1, 3, size=(1, c, k, k)).astype(np.float64)
    bias = rng.integers(-2, 3, size=(1,)).astype(np.float64) if spec.bias else None
    return x, weight, bias


def kernel_array(name: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(float kernel, integer numerators, divisor) of a preset."""
    from convgif.engine.presets import KERNEL_PRESETS

    numerators, divisor = KERNEL_PRESETS[name]
    ints = np.array(numerators, dtype=np.int64)
    return ints / divisor, ints, divisor


def load_grayscale(path: str, size: tuple[int, int], *, max_side: int = 4096) -> np.ndarray:
    """(H, W) float image in [0, 1]: the file at `path`, grayscale, resized to `size` = (H, W)."""
    from PIL import Image

    with Image.open(path) as image:
        if image.size[0] > max_side or image.size[1] > max_side:  # checked before any pixel is decoded
            raise ValueError(f"still.image: {path} is {image.size[0]}×{image.size[1]} px, larger than "
                             f"{max_side}×{max_side}")
        gray = image.convert("L").resize((size[1], size[0]), Image.Resampling.LANCZOS)
        return np.asarray(gray, dtype=np.float64) / 255.0


# ---- drawing helpers ------------------------------------------------------------------------------

def _words(theme: Theme):
    """`say(key, **values)`: a figure's word in the theme's language (see convgif.render.labels)."""
    return lambda key, **values: label(theme.language, key, **values)


def _sub(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def _px(points: float) -> int:
    return round(points * 100 / 72)


def _unit(colour: RGB) -> tuple[float, float, float]:
    return (colour[0] / 255, colour[1] / 255, colour[2] / 255)


def _wrap(text: str, points: float, width: float, bold: bool = False) -> list[str]:
    """`text` in lines no wider than `width` px at `points`, as measured."""
    return greedy_wrap(text, lambda trial: still_text_width(trial, _px(points), bold) <= width)


class Board:
    """A figure exactly `width` px wide at dpi 100, drawn in pixel coordinates with y pointing down."""

    def __init__(self, width: float, height: int, theme: Theme, zoom: float | None = None):
        """`zoom`: how many pixels one layout px is (the theme's font scale unless a figure needs less)."""
        self.width, self.height, self.theme = width, height, theme
        self.zoom = theme.font_scale if zoom is None else zoom
        self.figure, x_extent, y_extent = scaled_figure(width, height, self.zoom, _unit(theme.background))
        self.canvas = FigureCanvasAgg(self.figure)
        self.axes = self.figure.add_axes((0, 0, 1, 1))
        self.axes.set_xlim(0, x_extent)
        self.axes.set_ylim(y_extent, 0)
        self.axes.set_axis_off()
        self.axes.set_autoscale_on(False)

    def rect(self, x, y, w, h, *, fill: RGB | None = None, edge: RGB | None = None, lw: float = 1.0,
             dashed: bool = False, z: float = 1.0, alpha: float = 1.0):
        patch = Rectangle((x, y), w, h, facecolor=_unit(fill) if fill else "none",
                          edgecolor=_unit(edge) if edge else "none", linewidth=lw,
                          linestyle=(0, (3, 2)) if dashed else "-", zorder=z, alpha=alpha)
        self.axes.add_patch(patch)
        return patch

    def text(self, x, y, s: str, *, size: float = 10, colour: RGB | None = None, ha: str = "center",
             va: str = "center", bold: bool = False, z: float = 6.0):
        return self.axes.text(x, y, s, fontsize=size, color=_unit(colour or self.theme.text), ha=ha, va=va,
                              fontweight="bold" if bold else "normal", zorder=z, family=list(mpl_family()))

    def line(self, xs, ys, *, colour: RGB, lw: float = 1.0, z: float = 5.0, dashed: bool = False):
        (artist,) = self.axes.plot(xs, ys, color=_unit(colour), linewidth=lw, zorder=z,
                                   linestyle=(0, (4, 3)) if dashed else "-", solid_capstyle="butt")
        return artist

    def image(self, array: np.ndarray, x, y, w, h, **kwargs):
        return self.axes.imshow(array, extent=(x, x + w, y + h, y), origin="upper", aspect="auto", zorder=2,
                                **kwargs)

    def grid(self, x, y, cell, values: np.ndarray | None, *, fill: RGB | np.ndarray, text_colour: RGB | None = None,
             size: float = 9, edge: RGB | None = None, z: float = 1.0, shown: np.ndarray | None = None) -> list:
        """A grid of cells (fills, lines, numbers); `fill` is one colour or an (H, W, 3) array of colours."""
        rows, cols = (values.shape if values is not None else fill.shape[:2])  # type: ignore[union-attr]
        artists = []
        for r, c in np.ndindex(rows, cols):
            colour = tuple(int(v) for v in fill[r, c]) if isinstance(fill, np.ndarray) else fill
            artists.append(self.rect(x + c * cell, y + r * cell, cell, cell, fill=colour,
                                     edge=edge or self.theme.grid, lw=0.8, z=z))
            if values is not None and (shown is None or shown[r, c]):
                artists.append(self.text(x + (c + 0.5) * cell, y + (r + 0.5) * cell, fmt_number(values[r, c]),
                                         size=size, colour=text_colour or self.theme.input_text, z=z + 0.5))
        return artists

    def centred_text(self, centre: float, y, s: str, *, size: float = 10, bold: bool = False, **kwargs):
        """Text centred on `centre` but moved inwards so it stays inside the margins."""
        half = still_text_width(s, _px(size), bold) / 2
        centre = min(max(centre, MARGIN / 2 + half), self.width - MARGIN / 2 - half)
        return self.text(centre, y, s, size=size, bold=bold, **kwargs)

    def frame(self) -> np.ndarray:
        self.canvas.draw()
        pixels = np.asarray(self.canvas.buffer_rgba())[..., :3]
        return np.ascontiguousarray(pixels)


def _title_height(title: str | None, width: int) -> int:
    return 12 + 22 * len(_wrap(title, 13, width - 2 * MARGIN, bold=True)) + 6 if title else 12


def _draw_title(board: Board, title: str | None) -> None:
    if not title:
        return
    for i, line in enumerate(_wrap(title, 13, board.width - 2 * MARGIN, bold=True)):
        board.text(board.width / 2, 12 + 22 * i, line, size=13, bold=True, va="top")


def _caption_lines(caption: str | None, width: int) -> list[str]:
    return _wrap(caption, 9.5, width - 2 * MARGIN) if caption else []


def _draw_caption(board: Board, caption: str | None, top: float) -> None:
    for i, line in enumerate(_caption_lines(caption, board.width)):
        board.text(MARGIN, top + 17 * i, line, size=9.5, colour=board.theme.muted_text, ha="left", va="top")


def _cell_size(available: float, count: int, *, largest: int, smallest: int = 8) -> int:
    return int(max(smallest, min(largest, available // max(count, 1))))


def _fits_numbers(values: np.ndarray, cell: int, points: float = 9) -> bool:
    longest = max((still_text_width(fmt_number(v), _px(points)) for v in np.ravel(values)), default=0)
    return longest <= cell - 3


def _legend(board: Board, x: float, y: float, entries: list[tuple[dict, str]]) -> float:
    """Swatches with labels left to right, wrapping; returns the y below the legend."""
    size = 9
    cursor = x
    for style, label in entries:
        need = 16 + 6 + still_text_width(label, _px(size)) + 18
        if cursor + need > board.width - MARGIN and cursor > x:
            cursor, y = x, y + 20
        board.rect(cursor, y, 16, 14, **style)
        board.text(cursor + 22, y + 7, label, size=size, colour=board.theme.muted_text, ha="left")
        cursor += need
    return y + 22


# ---- receptive_field ------------------------------------------------------------------------------

def render_receptive_field(spec, *, theme: Theme, width: int, title: str | None = None,
                           caption: str | None = None) -> Frames:
    """Every grid of the stack left to right; one output cell and the region it sees in each earlier grid."""
    width, say = layout_width(width, theme), _words(theme)
    geometries = spec.geometries()
    shapes = [g.input_shape for g in geometries] + [geometries[-1].output_shape]
    sizes = receptive_field_sizes(geometries)
    gap = 46
    total_cols = sum(s[2] for s in shapes)
    cell = _cell_size(width - 2 * MARGIN - gap * (len(shapes) - 1), total_cols, largest=30)
    grid_w = [s[2] * cell for s in shapes]
    used = sum(grid_w) + gap * (len(shapes) - 1)
    lefts = [MARGIN + (width - 2 * MARGIN - used) / 2 + sum(grid_w[:i]) + gap * i for i in range(len(shapes))]
    max_h = max(s[1] for s in shapes) * cell
    top = _title_height(title, width) + 10
    tops = [top + (max_h - s[1] * cell) / 2 for s in shapes]
    label_y = top + max_h + 10
    column_w = [max(grid_w[i] + gap - 10, 90) for i in range(len(shapes))]

    # what each column says under its grid: (text, points, bold, colour), wrapped to the column
    static: list[list[tuple[str, float, bool, RGB]]] = []
    for index, shape in enumerate(shapes):
        name = say("input") if index == 0 else say("rf_layer_output", n=index)
        lines = [(f"{name} {TIMES.join(map(str, shape))}", 10, True, theme.text)]
        if index == 0:
            lines.append((say("rf_itself", r0="r₀ = 1"), 9.5, False, theme.muted_text))
        else:
            g = geometries[index - 1]
            r, _, text = sizes[index - 1]
            lines.append((f"k={g.kernel_size[0]} s={g.stride[0]} p={g.padding[0][0]} d={g.dilation[0]}", 9.5, False,
                          theme.muted_text))
            lines.append((text, 9.5, False, theme.text))
            lines.append((say("rf_size", r=r), 10, True, theme.accent))
        static.append([(part, pts, bold, colour) for text, pts, bold, colour in lines
                       for part in _wrap(text, pts, column_w[index], bold)])
    last = shapes[-1][1:]
    cells = [spec.chosen_cell]
    if spec.cycle:
        for extra in [(0, 0), (last[0] - 1, last[1] - 1), (0, last[1] - 1)]:
            if extra not in cells:
                cells.append(extra)
    all_masks = [receptive_field_masks(geometries, output_cell) for output_cell in cells]
    notes = []
    for output_cell, masks in zip(cells, all_masks):
        per_grid = []
        for index, mask in enumerate(masks):
            rows, cols = np.nonzero(mask)
            tall, wide = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
            if index == len(masks) - 1:
                note = say("rf_cell", row=output_cell[0], col=output_cell[1])
            else:
                cut = min(tall, wide) < _span_from(geometries, index)
                note = say("rf_sees", rows=tall, cols=wide) + (say("rf_cut") if cut else "")
            per_grid.append(_wrap(note, 9.5, column_w[index]))
        notes.append(per_grid)
    static_h = max(sum(17 for _ in lines) for lines in static)
    note_y = label_y + static_h + 2
    note_h = 17 * max(len(n) for per_grid in notes for n in per_grid)
    formula = say("rf_formula", r0="r₀ = 1", rule="rₗ = rₗ₋₁ + (kₗ − 1)·dₗ·jₗ₋₁", jump="jₗ₋₁ = s₁···sₗ₋₁",
                  previous="l−1", j0="j₀ = 1")
    formula_lines = _wrap(formula, 9.5, width - 2 * MARGIN)
    legend_y = note_y + note_h + 10
    after_legend = legend_y + 44 + 17 * len(formula_lines) + 8
    caption_lines = _caption_lines(caption, width)
    height = int(after_legend + 17 * len(caption_lines) + 14)

    board = Board(width, height, theme)
    _draw_title(board, title)
    for index, (shape, left, grid_top) in enumerate(zip(shapes, lefts, tops)):
        board.grid(left, grid_top, cell, None, fill=np.full((shape[1], shape[2], 3), theme.input, dtype=np.uint8))
        for i, (text, pts, bold, colour) in enumerate(static[index]):
            board.centred_text(left + grid_w[index] / 2, label_y + 17 * i, text, size=pts, bold=bold, colour=colour,
                               va="top")
    legend = [
        (dict(fill=theme.output_current, edge=theme.output_current), say("rf_chosen")),
        (dict(fill=theme.tap, edge=theme.grid), say("rf_depends")),
    ]
    if any(g.dilation[0] > 1 for g in geometries):
        legend.append((dict(fill=theme.input, edge=theme.gap, lw=2), say("rf_gap")))
    legend_end = _legend(board, MARGIN, legend_y, legend)
    for i, line in enumerate(formula_lines):
        board.text(MARGIN, legend_end + 17 * i, line, size=9.5, colour=theme.text, ha="left", va="top")
    _draw_caption(board, caption, after_legend)

    frames: Frames = []
    for masks, per_grid in zip(all_masks, notes):
        transient = []
        boxes = []
        for index, (mask, left, grid_top) in enumerate(zip(masks, lefts, tops)):
            rows, cols = np.nonzero(mask)
            r0, r1, c0, c1 = rows.min(), rows.max(), cols.min(), cols.max()
            boxes.append((left + c0 * cell, grid_top + r0 * cell, left + (c1 + 1) * cell, grid_top + (r1 + 1) * cell))
            last_grid = index == len(masks) - 1
            for r, c in np.ndindex(*mask.shape):
                x, y = left + c * cell, grid_top + r * cell
                if mask[r, c]:
                    colour = theme.output_current if last_grid else theme.tap
                    transient.append(board.rect(x, y, cell, cell, fill=colour, edge=theme.grid, lw=0.8, z=2))
                elif r0 <= r <= r1 and c0 <= c <= c1:
                    transient.append(board.rect(x + 2, y + 2, cell - 4, cell - 4, edge=theme.gap, lw=1.6, z=2))
            transient.append(board.rect(boxes[-1][0], boxes[-1][1], boxes[-1][2] - boxes[-1][0],
                                        boxes[-1][3] - boxes[-1][1], edge=theme.window, lw=2.2, z=3))
            for i, line in enumerate(per_grid[index]):
                transient.append(board.centred_text(left + grid_w[index] / 2, note_y + 17 * i, line, size=9.5,
                                                    colour=theme.window, va="top", bold=True))
        for (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) in zip(boxes, boxes[1:]):
            transient.append(board.line([ax1, bx0], [ay0, by0], colour=theme.window, lw=1.0, z=4))
            transient.append(board.line([ax1, bx0], [ay1, by1], colour=theme.window, lw=1.0, z=4))
        frames.append((board.frame(), 2500))
        for artist in transient:
            artist.remove()
    return frames


def _span_from(geometries: list[Geometry], index: int) -> int:
    """Side of the region one last-layer cell spans in grid `index`, before clipping at the border."""
    return receptive_field_sizes(geometries[index:])[-1][0] if index < len(geometries) else 1


# ---- conv_matrix ----------------------------------------------------------------------------------

def render_conv_matrix(spec, *, theme: Theme, width: int, title: str | None = None,
                       caption: str | None = None) -> Frames:
    """Y = C X with C drawn; then one frame per output element: its row of C, the X it touches, the product."""
    width, say = layout_width(width, theme), _words(theme)
    g = spec.geometry
    kernel = np.array(spec.kernel, dtype=np.float64)
    _, h, w = g.input_shape
    _, ho, wo = g.output_shape
    x = np.arange(1, h * w + 1, dtype=np.float64).reshape(1, h, w)
    y = conv2d(x, kernel[None, None], stride=g.stride, padding=g.padding)[0]
    layout = conv_matrix_layout(g)
    matrix = conv_matrix(kernel, g)
    rows, cols = layout.shape

    label_w = 70  # room for "(r, c)" labels right of X
    gaps = 28 * 3
    cell = _cell_size(width - 2 * MARGIN - gaps - label_w - 2 * 40, cols + 2, largest=32, smallest=10)
    numbers = _fits_numbers(np.concatenate([matrix.ravel(), y.ravel(), x.ravel()]), cell)
    top = _title_height(title, width) + 26
    y_left = MARGIN + 30
    eq_x = y_left + cell + 14
    c_left = eq_x + 28
    x_left = c_left + cols * cell + 28
    block_h = max(rows, cols) * cell
    inset_top = top + max(rows * cell + 24, 0) if cols * cell >= rows * cell + 200 else top + block_h + 24
    inset_left = c_left if inset_top < top + block_h else MARGIN
    icell = 24
    pad = g.padding
    ph, pw = h + pad[0][0] + pad[0][1], w + pad[1][0] + pad[1][1]
    inset_h = max(ph, ho, g.kernel_size[0]) * icell + 40
    text_top = inset_top + inset_h + 8
    beside_x = inset_top < top + block_h  # inset and text sit under C, left of the tall X column
    text_width_px = (x_left - MARGIN - 14) if beside_x else width - 2 * MARGIN
    text_lines = 5
    body_end = max(top + block_h, text_top + 17 * text_lines) + 12
    caption_lines = _caption_lines(caption, width)
    height = int(body_end + 17 * len(caption_lines) + 14)

    board = Board(width, height, theme)
    _draw_title(board, title)
    # static: Y, =, C, X, headers
    board.text(y_left + cell / 2, top - 12, "Y", size=11, bold=True)
    board.text(c_left + cols * cell / 2, top - 12, say("cm_header", rows=rows, cols=cols), size=11, bold=True)
    board.text(x_left + cell / 2, top - 12, "X", size=11, bold=True)
    board.text(eq_x + 7, top + rows * cell / 2, "=", size=16, bold=True)
    # values always go in (they give the grid its shape); `shown` hides them when the cells are too small
    hidden_y = None if numbers else np.zeros((rows, 1), dtype=bool)
    board.grid(y_left, top, cell, y.reshape(-1, 1), shown=hidden_y, fill=theme.output_done,
               text_colour=theme.output_done_text)
    fills = np.empty((rows, cols, 3), dtype=np.uint8)
    fills[:] = theme.input
    fills[layout >= 0] = theme.kernel
    shown = layout >= 0
    board.grid(c_left, top, cell, matrix if numbers else None, fill=fills, text_colour=theme.kernel_text,
               shown=shown, edge=mix(theme.grid, theme.background, 0.5))
    board.rect(c_left, top, cols * cell, rows * cell, edge=theme.text, lw=1.2, z=3)
    board.grid(x_left, top, cell, x.reshape(-1, 1), shown=None if numbers else np.zeros((cols, 1), dtype=bool),
               fill=theme.input)
    for k in range(cols):
        board.text(x_left + cell + 6, top + (k + 0.5) * cell, f"({k // w}, {k % w})", size=9,
                   colour=theme.muted_text, ha="left")
    # static inset frames: padded input, kernel, output
    in_left = inset_left
    k_left = in_left + pw * icell + 36
    o_left = k_left + g.kernel_size[1] * icell + 36
    board.text(in_left, inset_top, say("input_shape", shape=f"{h}{TIMES}{w}")
               + (say("cm_padded") if ph != h or pw != w else ""), size=9.5, bold=True, ha="left", va="top")
    board.text(k_left, inset_top, say("kernel_shape", shape=f"{g.kernel_size[0]}{TIMES}{g.kernel_size[1]}"), size=9.5,
               bold=True, ha="left", va="top")
    board.text(o_left, inset_top, say("output_shape", shape=f"{ho}{TIMES}{wo}"), size=9.5, bold=True, ha="left",
               va="top")
    grid_top = inset_top + 20
    padded = np.pad(x[0], pad)
    is_pad = np.pad(np.zeros((h, w), dtype=bool), pad, constant_values=True)
    pad_fill = np.empty((ph, pw, 3), dtype=np.uint8)
    pad_fill[:] = theme.input
    pad_fill[is_pad] = theme.padding
    board.grid(in_left, grid_top, icell, padded, fill=pad_fill, shown=~is_pad, size=8.5)
    for r, c in zip(*np.nonzero(is_pad)):
        board.rect(in_left + c * icell + 2, grid_top + r * icell + 2, icell - 4, icell - 4, edge=theme.padding_edge,
                   lw=0.8, dashed=True, z=2)
    board.grid(k_left, grid_top, icell, kernel, fill=theme.kernel, text_colour=theme.kernel_text, size=8.5)
    board.grid(o_left, grid_top, icell, y, fill=theme.output_done, text_colour=theme.output_done_text, size=8.5)

    frames: Frames = []
    intro = (say("cm_intro", count=kernel.size)
             + (say("cm_intro_padding") if any(b or a for b, a in pad) else "")
             + say("cm_intro_zeros", zeros=int((layout < 0).sum()), total=layout.size))
    artists = [board.text(MARGIN, text_top + 17 * i, line, size=9.5, ha="left", va="top")
               for i, line in enumerate(_wrap(intro, 9.5, text_width_px)[:text_lines])]
    frames.append((board.frame(), 3500))
    for artist in artists:
        artist.remove()
    for n in range(rows):
        oi, oj = divmod(n, wo)
        used = np.nonzero(layout[n] >= 0)[0]
        transient = [board.rect(c_left, top + n * cell, cols * cell, cell, edge=theme.window, lw=2.5, z=4),
                     board.rect(y_left, top + n * cell, cell, cell, fill=theme.output_current, edge=theme.grid, z=4)]
        if numbers:
            transient.append(board.text(y_left + cell / 2, top + (n + 0.5) * cell, fmt_number(y.reshape(-1)[n]),
                                        size=9, colour=theme.output_current_text, bold=True, z=5))
        for k in used:
            for left in (c_left + k * cell, x_left):
                yy = top + n * cell if left != x_left else top + k * cell
                transient.append(board.rect(left, yy, cell, cell, fill=theme.tap, edge=theme.grid, z=4))
                if numbers:
                    value = matrix[n, k] if left != x_left else x.reshape(-1)[k]
                    transient.append(board.text(left + cell / 2, yy + cell / 2, fmt_number(value), size=9,
                                                colour=theme.tap_text, z=5))
        # inset: window on the padded input, output cell
        oy, ox = oi * g.stride[0], oj * g.stride[1]
        span = g.effective_kernel_size
        transient.append(board.rect(in_left + ox * icell, grid_top + oy * icell, span[1] * icell, span[0] * icell,
                                    edge=theme.window, lw=2.5, z=4))
        for a, b in np.ndindex(*g.kernel_size):
            tr, tc = oy + g.dilation[0] * a, ox + g.dilation[1] * b
            if not is_pad[tr, tc]:
                transient.append(board.rect(in_left + tc * icell, grid_top + tr * icell, icell, icell, fill=theme.tap,
                                            edge=theme.grid, lw=0.8, z=1.2))
        transient.append(board.rect(o_left + oj * icell, grid_top + oi * icell, icell, icell,
                                    fill=theme.output_current, edge=theme.grid, z=4))
        transient.append(board.text(o_left + (oj + 0.5) * icell, grid_top + (oi + 0.5) * icell,
                                    fmt_number(y[oi, oj]), size=8.5, colour=theme.output_current_text, z=5))
        terms = [f"{_paren(matrix[n, k])}·{_paren(x.reshape(-1)[k])}" for k in used]
        product = _elided_sum(terms, say) + f" = {fmt_number(y.reshape(-1)[n])}"
        lines = _wrap(say("cm_row", sub=_sub(n), n=n) + product
                      + say("cm_taps", row=oi, col=oj, used=len(used), total=kernel.size)
                      + (say("cm_taps_padding", count=kernel.size - len(used)) if len(used) < kernel.size
                         else say("cm_taps_end")),
                      9.5, text_width_px)
        for i, line in enumerate(lines[:text_lines]):
            transient.append(board.text(MARGIN, text_top + 17 * i, line, size=9.5, ha="left", va="top",
                                        colour=theme.accent if i == 0 else theme.text))
        frames.append((board.frame(), 1500 if n < rows - 1 else 3000))
        for artist in transient:
            artist.remove()
    return frames


def _elided_sum(terms: list[str], say, keep: int = 9) -> str:
    terms = [t.replace("-", MINUS) for t in terms]
    if len(terms) <= keep:
        return " + ".join(terms) if terms else "0"
    head, tail = terms[: keep - 2], terms[-2:]
    return " + ".join(head) + f" + … {say('more_terms', count=len(terms) - keep)} … + " + " + ".join(tail)


# ---- upsample_compare -----------------------------------------------------------------------------

def render_upsample_compare(spec, *, theme: Theme, width: int, title: str | None = None,
                            caption: str | None = None) -> Frames:
    """Input, nearest and bilinear upsampling, and a transposed conv's output side by side, with numbers."""
    pixels, say = width, _words(theme)
    x = np.array(spec.input, dtype=np.float64)
    t = spec.transposed
    weights = np.array(t.weights, dtype=np.float64)
    g = spec.transposed_geometry
    nearest, bilinear, learned = upsample_values(spec)
    panels = [  # (values, name, parameters, how, learned)
        (nearest, say("up_nearest", times=TIMES, scale=spec.scale_factor), say("no_parameters"), say("up_nearest_how"),
         False),
        (bilinear, say("up_bilinear", times=TIMES, scale=spec.scale_factor), say("no_parameters"),
         say("up_bilinear_how"), False),
        (learned, say("up_transposed"), say("up_learned", k=t.kernel_size, count=g.weight_count),
         f"k={t.kernel_size} s={t.stride} p={t.padding} output_padding={t.output_padding}", True),
    ]
    gap = 26
    # a large font scale zooms only as far as each panel's title and parameter line still fit in its third
    widest = max(still_text_width(f"{name} → {TIMES.join(map(str, values.shape))}", _px(10), bold=True)
                 for values, name, *_ in panels)
    widest = max(widest, *(still_text_width(params, _px(10), bold=True) for _, _, params, *_ in panels))
    width = layout_width(pixels, theme, needs=2 * MARGIN + 2 * gap + 3 * (widest + 6))
    panel_w = (width - 2 * MARGIN - 2 * gap) / 3
    cell = _cell_size(panel_w, max(p[0].shape[1] for p in panels), largest=40, smallest=12)
    top = _title_height(title, width) + 8
    small = max(cell, 30)
    top_grid_y = top + 22
    top_h = max(x.shape[0], t.kernel_size) * small
    row2 = top_grid_y + top_h + 40
    big_h = max(p[0].shape[0] for p in panels) * cell
    labels_y = row2 + 22 + big_h + 8
    caption_top = labels_y + 3 * 17 + 10
    caption_lines = _caption_lines(caption, width)
    height = int(caption_top + 17 * len(caption_lines) + 14)
    board = Board(width, height, theme, zoom=pixels / width)
    _draw_title(board, title)

    def shaded(values: np.ndarray) -> np.ndarray:
        low, high = float(x.min()), float(x.max())
        span = high - low or 1.0
        fills = np.empty(values.shape + (3,), dtype=np.uint8)
        for idx in np.ndindex(values.shape):
            amount = float(np.clip((values[idx] - low) / span, 0, 1.2)) * 0.45
            fills[idx] = mix(theme.window, theme.background, min(amount, 0.55))
        return fills

    lefts = [MARGIN + i * (panel_w + gap) for i in range(3)]
    in_w = x.shape[1] * small
    in_left = (lefts[0] + lefts[1] + panel_w) / 2 - in_w / 2
    board.text(in_left + in_w / 2, top, say("input_shape", shape=f"{x.shape[0]}{TIMES}{x.shape[1]}"), size=10, bold=True,
               va="top")
    board.grid(in_left, top_grid_y, small, x, fill=shaded(x), size=9.5)
    k_left = lefts[2] + panel_w / 2 - t.kernel_size * small / 2
    board.text(k_left + t.kernel_size * small / 2, top, say("up_weights", shape=f"{t.kernel_size}{TIMES}{t.kernel_size}"),
               size=10, bold=True, va="top")
    board.grid(k_left, top_grid_y, small, weights, fill=theme.kernel, text_colour=theme.kernel_text, size=9.5)
    board.text(width / 2, top_grid_y + top_h + 20,
               say("up_three_ways"), size=9.5, colour=theme.muted_text)
    for left, (values, name, params, how, trained) in zip(lefts, panels):
        grid_w = values.shape[1] * cell
        gx = left + (panel_w - grid_w) / 2
        board.text(left + panel_w / 2, row2, f"{name} → {TIMES.join(map(str, values.shape))}", size=10, bold=True,
                   va="top")
        points = 9 if _fits_numbers(values, cell, 9) else 8
        board.grid(gx, row2 + 22, cell, values if _fits_numbers(values, cell, points) else None,
                   fill=shaded(values), size=points)
        board.text(left + panel_w / 2, labels_y, params, size=10, bold=True, va="top",
                   colour=theme.bias if trained else theme.muted_text)
        for i, line in enumerate(_wrap(how, 9, panel_w)[:2]):
            board.text(left + panel_w / 2, labels_y + 17 * (i + 1), line, size=9, colour=theme.muted_text, va="top")
    _draw_caption(board, caption, caption_top)
    return [(board.frame(), STILL_MS)]


# ---- multichannel_3d ------------------------------------------------------------------------------

_CHANNEL_COLOURS = {"R": (213, 94, 0), "G": (0, 158, 115), "B": (0, 114, 178)}


def render_multichannel_3d(spec, *, theme: Theme, width: int, title: str | None = None,
                           caption: str | None = None) -> Frames:
    """An m-channel input as a 3D stack with the k×k×m window, then the same as m slices and their sums."""
    pixels, say = width, _words(theme)
    x, weight, bias = multichannel_values(spec)
    trace = conv_trace(x, weight, bias, padding=spec.padding)
    g = trace.geometry
    m, h, w = g.input_shape
    k = spec.kernel_size
    _, ho, wo = g.output_shape
    step = trace.step(spec.position[0] * wo + spec.position[1])
    names = list(spec.channel_names) if spec.channel_names else [say("channel_name", channel=c) for c in range(m)]
    colours = [_CHANNEL_COLOURS.get(n, theme.group_colour(c)) for c, n in enumerate(names)]
    padded = trace.padded_input[0]
    pad_cells = trace.padding_cells
    ph, pw = padded.shape[1:]
    cell3, scell = 26, 24
    depth = 0.8 * cell3  # how far each deeper channel is shifted up and right
    # the grids have fixed cells: a large font scale zooms only as far as the slice rows still fit
    sums = [say("mc_sum", name=names[c], value=fmt_number(step.channel_sums[c])) for c in range(m)]
    slice_row = (2 * MARGIN + max(still_text_width(n, _px(10.5), bold=True) for n in names) + 14 + pw * scell + 12
                 + 26 + k * scell + 10 + 24 + k * max(_product_cell(step.tap_products[c], scell) for c in range(m)) + 12
                 + max(max(still_text_width(t, _px(10.5), bold=True) for t in sums),
                       still_text_width(say("mc_products"), _px(9))))  # the note under the first row's sum
    width = layout_width(pixels, theme, needs=slice_row)

    top = _title_height(title, width) + 6
    stack_top = top + 26 + (m - 1) * depth
    stack_h = ph * cell3
    slices_top = stack_top + stack_h + 62
    row_h = max(ph, k) * scell + 30
    sum_top = slices_top + 24 + m * row_h + 4
    parts = " + ".join(_paren(v) for v in step.channel_sums)
    bias_text = say("mc_bias", value=_paren(step.bias)) if step.bias is not None else ""
    output_lines = _wrap(say("mc_output", row=step.position[0], col=step.position[1], parts=parts, bias=bias_text,
                             value=fmt_number(step.value)), 11, width - 2 * MARGIN, bold=True)
    explain_lines = _wrap(say("mc_explain", m=m) + (say("mc_then_bias") if step.bias is not None else ""), 9.5,
                          width - 2 * MARGIN)
    explain_top = sum_top + 22 + (len(output_lines) - 1) * 20
    caption_top = explain_top + 30 + (len(explain_lines) - 1) * 17
    caption_lines = _caption_lines(caption, width)
    height = int(caption_top + 17 * len(caption_lines) + 14)
    board = Board(width, height, theme, zoom=pixels / width)
    _draw_title(board, title)

    def card_stack(left: float, values: np.ndarray, fill: RGB, front_text: RGB, window: tuple | None,
                   pads: np.ndarray | None, label: str, *, named: bool) -> float:
        rows, cols = values.shape[1:]
        if named:  # names sit in the staircase notches left of each card's top edge
            left += max(still_text_width(n, _px(9), bold=True) for n in names) + 6
        for c in reversed(range(m)):
            dx, dy = c * depth, -c * depth
            z = 1 + (m - c) * 10
            for r, cc in np.ndindex(rows, cols):
                is_pad = pads is not None and pads[r, cc]
                tapped = window is not None and window[0] <= r < window[0] + k and window[1] <= cc < window[1] + k
                colour = theme.padding if is_pad else (theme.tap if tapped else mix(colours[c], fill, 0.18))
                board.rect(left + dx + cc * cell3, stack_top + dy + r * cell3, cell3, cell3, fill=colour,
                           edge=theme.grid, lw=0.7, z=z)
                if c == 0 and not is_pad:
                    board.text(left + (cc + 0.5) * cell3, stack_top + (r + 0.5) * cell3, fmt_number(values[c, r, cc]),
                               size=9, colour=front_text, z=z + 1)
            board.rect(left + dx, stack_top + dy, cols * cell3, rows * cell3, edge=colours[c], lw=2, z=z + 2)
            if named:
                board.text(left + dx - 3, stack_top + dy + depth / 2, names[c], size=9, colour=colours[c],
                           ha="right", va="center", bold=True, z=z + 2)
            if window is not None:
                board.rect(left + dx + window[1] * cell3, stack_top + dy + window[0] * cell3, k * cell3, k * cell3,
                           edge=theme.window, lw=2.2, z=z + 3)
                if c > 0:  # the box's hidden back faces, drawn dashed through the cards in front
                    board.rect(left + dx + window[1] * cell3, stack_top + dy + window[0] * cell3, k * cell3,
                               k * cell3, edge=theme.window, lw=1.2, dashed=True, z=100)
        if window is not None and m > 1:  # the box's depth edges, front corners to back corners
            back = (m - 1) * depth
            x0, y0 = left + window[1] * cell3, stack_top + window[0] * cell3
            for cx, cy in [(0, 0), (k, 0), (k, k), (0, k)]:
                board.line([x0 + cx * cell3, x0 + cx * cell3 + back], [y0 + cy * cell3, y0 + cy * cell3 - back],
                           colour=theme.window, lw=1.2, z=100, dashed=True)
        board.text(left + cols * cell3 / 2 + (m - 1) * depth / 2, stack_top + rows * cell3 + 8, label, size=10,
                   bold=True, va="top")
        return left + cols * cell3 + (m - 1) * depth

    origin = step.window_origin
    inputs_end = card_stack(MARGIN, padded, theme.input, theme.input_text, origin, pad_cells,
                            say("input_shape", shape=f"{m}{TIMES}{h}{TIMES}{w}")
                            + (say("mc_padding", padding=spec.padding) if spec.padding else ""),
                            named=True)
    board.text(inputs_end + 22, stack_top + stack_h / 2, "⊙", size=18)
    kernel_end = card_stack(inputs_end + 44, weight[0], theme.kernel, theme.kernel_text, None, None,
                            say("kernel_shape", shape=f"{k}{TIMES}{k}{TIMES}{m}"), named=False)
    board.text(kernel_end + 24, stack_top + stack_h / 2, "=", size=18, bold=True)
    out_left = kernel_end + 48
    out_values = trace.output()[0, 0]
    fills = np.empty((ho, wo, 3), dtype=np.uint8)
    fills[:] = theme.output_empty
    fills[step.position] = theme.output_current
    ocell = min(cell3, int((width - MARGIN - out_left) / max(wo, 1)))
    board.grid(out_left, stack_top, ocell, None, fill=fills)
    board.text(out_left + (step.position[1] + 0.5) * ocell, stack_top + (step.position[0] + 0.5) * ocell,
               fmt_number(step.value), size=9, colour=theme.output_current_text, bold=True, z=7)
    board.text(out_left + wo * ocell / 2, stack_top + ho * ocell + 8, say("output_shape", shape=f"{ho}{TIMES}{wo}"),
               size=10, bold=True,
               va="top")

    board.text(MARGIN, slices_top, say("mc_same_window", window=f"{k}{TIMES}{k}{TIMES}{m}", slice=f"{k}{TIMES}{k}"),
               size=10.5, bold=True, ha="left", va="top")
    for c in range(m):
        row_top = slices_top + 24 + c * row_h
        board.text(MARGIN, row_top + 10, names[c], size=10.5, bold=True, colour=colours[c], ha="left", va="top")
        left = MARGIN + max(still_text_width(n, _px(10.5), bold=True) for n in names) + 14
        fills = np.empty((ph, pw, 3), dtype=np.uint8)
        fills[:] = mix(colours[c], theme.input, 0.12)
        wr, wc = origin
        fills[wr:wr + k, wc:wc + k] = theme.tap
        fills[pad_cells] = theme.padding  # padding keeps its look inside the window too
        board.grid(left, row_top, scell, padded[c], fill=fills, shown=~pad_cells, size=8.5)
        for r, cc in zip(*np.nonzero(pad_cells)):
            board.rect(left + cc * scell + 2, row_top + r * scell + 2, scell - 4, scell - 4, edge=theme.padding_edge,
                       lw=0.8, dashed=True, z=1.2)
            if wr <= r < wr + k and wc <= cc < wc + k:
                board.text(left + (cc + 0.5) * scell, row_top + (r + 0.5) * scell, "0", size=8.5,
                           colour=theme.padding_text, z=1.5)
        board.rect(left + wc * scell, row_top + wr * scell, k * scell, k * scell, edge=theme.window, lw=2.2, z=3)
        left += pw * scell + 12
        board.text(left + 10, row_top + k * scell / 2, "⊙", size=14)
        left += 26
        board.grid(left, row_top, scell, step.weights[c], fill=theme.kernel, text_colour=theme.kernel_text, size=8.5)
        left += k * scell + 10
        board.text(left + 8, row_top + k * scell / 2, "=", size=14, bold=True)
        left += 24
        pcell = _product_cell(step.tap_products[c], scell)
        board.grid(left, row_top, pcell, step.tap_products[c], fill=mix(theme.tap, theme.background, 0.45),
                   size=8.5)
        left += k * pcell + 12
        board.text(left, row_top + k * scell / 2, say("mc_sum", name=names[c], value=fmt_number(step.channel_sums[c])),
                   size=10.5,
                   colour=theme.accent, bold=True, ha="left")
        if c == 0:
            board.text(left, row_top + k * scell / 2 + 18, say("mc_products"), size=9,
                       colour=theme.muted_text, ha="left")
    for i, line in enumerate(output_lines):
        board.text(MARGIN, sum_top + 20 * i, line, size=11, bold=True, colour=theme.accent, ha="left", va="top")
    for i, line in enumerate(explain_lines):
        board.text(MARGIN, explain_top + 17 * i, line, size=9.5, colour=theme.muted_text, ha="left", va="top")
    _draw_caption(board, caption, caption_top)
    return [(board.frame(), STILL_MS)]


def _product_cell(products: np.ndarray, cell: int) -> int:
    """The products grid's cell: the slices' size, or 30 px when their numbers need it."""
    return max(cell, 30 if not _fits_numbers(products, cell, 8.5) else cell)


def _colour_scale_text(fmap: np.ndarray) -> str:
    """The range under a feature map: symmetric about 0 when it has negatives, else from 0."""
    limit = float(np.abs(fmap).max()) or 1.0
    if fmap.min() < -1e-9:
        return f"{fmt_number(-limit)} … 0 … {fmt_number(limit)}"
    return f"0 … {fmt_number(limit)}"


def _paren(value: float) -> str:
    text = fmt_number(value)
    return f"({text})" if value < 0 else text


# ---- feature_maps ---------------------------------------------------------------------------------

def render_feature_maps(spec, *, theme: Theme, width: int, title: str | None = None,
                        caption: str | None = None) -> Frames:
    """An image, each preset kernel, the feature map it makes (conv2d, padding 1) and that map after ReLU."""
    pixels, say = width, _words(theme)
    image = load_grayscale(spec.image, tuple(spec.size))
    hh, ww = image.shape
    columns = []
    for name in spec.kernels:
        kernel, ints, divisor = kernel_array(name)
        fmap = conv2d(image[None], kernel[None, None], padding=1)[0]
        columns.append((name, ints, divisor, fmap, relu(fmap) if spec.relu else None))
    n = len(columns)
    gap = 16
    # a large font scale zooms only as far as each map's colour-scale label still fits under it
    scales = [_colour_scale_text(fmap) for _, _, _, fmap, _ in columns]
    needs = 2 * MARGIN + gap * (n - 1) + n * (max(still_text_width(t, _px(9)) for t in scales) + 8)
    width = layout_width(pixels, theme, needs=needs)
    col_w = (width - 2 * MARGIN - gap * (n - 1)) / n
    map_w = min(col_w, ww * 3)
    map_h = map_w * hh / ww
    top = _title_height(title, width) + 6
    image_w = min((width - 2 * MARGIN) * 0.45, ww * 3)
    image_h = image_w * hh / ww
    kcell = 24
    g = conv_geometry((1, hh, ww), 1, 3, 1, 1, bias=False)
    notes = [say("fm_values"), say("fm_slides"), say("fm_output", shape=TIMES.join(map(str, g.output_shape))),
             say("fm_colours"), say("fm_border")]
    if spec.relu:
        notes.append(say("fm_relu"))
    text_left = MARGIN + image_w + 24
    note_parts = [_wrap(line, 9.5, width - MARGIN - text_left) for line in notes]
    notes_end = top + 24 + sum(15 * len(parts) + 8 for parts in note_parts) - 8
    kernels_top = max(top + 20 + image_h, notes_end) + 26  # under the image and under the notes beside it
    maps_top = kernels_top + 20 + 3 * kcell + 26
    bar = 8  # colour bar under each map
    relu_top = maps_top + 20 + map_h + bar + 24
    end = relu_top + (20 + map_h + bar + 24 if spec.relu else 0) + 10
    caption_lines = _caption_lines(caption, width)
    height = int(end + 17 * len(caption_lines) + 14)
    board = Board(width, height, theme, zoom=pixels / width)
    _draw_title(board, title)

    board.text(MARGIN, top, say("fm_input", shape=f"{hh}{TIMES}{ww}"), size=10, bold=True, ha="left", va="top")
    board.image(image, MARGIN, top + 20, image_w, image_h, cmap="gray", vmin=0, vmax=1, interpolation="antialiased")
    board.rect(MARGIN, top + 20, image_w, image_h, edge=theme.grid, lw=1, z=3)
    note_y = top + 24
    for parts in note_parts:
        for part in parts:
            board.text(text_left, note_y, part, size=9.5, ha="left", va="top")
            note_y += 15
        note_y += 8
    for index, (name, ints, divisor, fmap, rectified) in enumerate(columns):
        left = MARGIN + index * (col_w + gap)
        centre = left + col_w / 2
        board.text(centre, kernels_top, name, size=10.5, bold=True, va="top")
        kleft = centre - 1.5 * kcell - (18 if divisor != 1 else 0)
        board.grid(kleft, kernels_top + 20, kcell, ints.astype(np.float64), fill=theme.kernel,
                   text_colour=theme.kernel_text, size=9)
        if divisor != 1:
            board.text(kleft + 3 * kcell + 6, kernels_top + 20 + 1.5 * kcell, f"÷{divisor}", size=9.5, ha="left")
        mleft = centre - map_w / 2
        signed = fmap.min() < -1e-9
        limit = float(np.abs(fmap).max()) or 1.0
        board.text(centre, maps_top, say("feature_map"), size=9.5, bold=True, va="top")
        if signed:
            board.image(fmap, mleft, maps_top + 20, map_w, map_h, cmap="RdBu_r", vmin=-limit, vmax=limit,
                        interpolation="nearest")
            scale = _colour_scale_text(fmap)
        else:
            board.image(fmap, mleft, maps_top + 20, map_w, map_h, cmap="gray", vmin=0, vmax=limit,
                        interpolation="nearest")
            scale = _colour_scale_text(fmap)
        board.rect(mleft, maps_top + 20, map_w, map_h, edge=theme.grid, lw=1, z=3)
        ramp = np.linspace(-limit if signed else 0, limit, 64)[None]
        board.image(ramp, mleft, maps_top + 22 + map_h, map_w, bar, cmap="RdBu_r" if signed else "gray",
                    vmin=-limit if signed else 0, vmax=limit, interpolation="bilinear")
        board.text(centre, maps_top + 22 + map_h + bar + 2, scale, size=9, colour=theme.muted_text, va="top")
        if rectified is not None:
            high = float(rectified.max()) or 1.0
            board.text(centre, relu_top, say("after_relu"), size=9.5, bold=True, va="top")
            board.image(rectified, mleft, relu_top + 20, map_w, map_h, cmap="gray", vmin=0, vmax=high,
                        interpolation="nearest")
            board.rect(mleft, relu_top + 20, map_w, map_h, edge=theme.grid, lw=1, z=3)
            board.image(np.linspace(0, high, 64)[None], mleft, relu_top + 22 + map_h, map_w, bar, cmap="gray",
                        vmin=0, vmax=high, interpolation="bilinear")
            board.text(centre, relu_top + 22 + map_h + bar + 2, f"0 … {fmt_number(high)}", size=9,
                       colour=theme.muted_text, va="top")
    _draw_caption(board, caption, end)
    return [(board.frame(), STILL_MS)]


STILL_RENDERERS: dict[str, Callable[..., Frames]] = {
    "receptive_field": render_receptive_field,
    "conv_matrix": render_conv_matrix,
    "upsample_compare": render_upsample_compare,
    "multichannel_3d": render_multichannel_3d,
    "feature_maps": render_feature_maps,
}

