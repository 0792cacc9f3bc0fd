"""Drawing the shape-and-count stills (weight tensor, CNN pipeline, ReLU map, parameter counts and curves,
depthwise-separable conv) as RGB frames with matplotlib's object API, every number taken from the spec's
engine-derived values, every word from the label table in the theme's language, at the theme's font scale.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable

import numpy as np

from convgif.engine.notation import per_dim_text, typeset
from convgif.engine.notation import shape_text as notation_shape
from convgif.render.primitives import MINUS, TIMES, fmt_number
from convgif.render.stills.toolkit import (
    SHAPES_PAGE,
    Cell,
    STILL_MS,
    Frames,
    Sheet,
    flow,
    line_height,
    page,
    resolve_theme,
    unit,
    words,
)
from convgif.render.stills.plot import Series, draw_bars, draw_plot
from convgif.render.stills.zoom import layout_width
from convgif.render.theme import Theme, mix

if TYPE_CHECKING:  # render never imports scene at run time: the spec's methods give the engine's numbers
    from convgif.scene.stills_shapes import (
        CnnPipelineStill,
        DepthwiseSeparableStill,
        ParamCountsStill,
        ParamCurvesStill,
        ReluMapStill,
        WeightTensorStill,
    )

MARGIN = SHAPES_PAGE.margin
HEAD_PT = 11
BODY_PT = 10
SMALL_PT = 9
measure, wrap = SHAPES_PAGE.measure, SHAPES_PAGE.wrap


def number(n: int) -> str:
    return f"{n:,}"


def product_text(factors: tuple[int, ...] | list[int]) -> str:
    return "×".join(str(f) for f in factors)


def shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + (",)" if len(shape) == 1 else ")")


def render_page(width: float, theme: Theme, title: str | None, caption: str | None, body_height: float,
                draw_body: Callable[[Sheet, float], None], zoom: float | None = None) -> np.ndarray:
    """Title on top, the body drawn by `draw_body(sheet, top)`, the caption under it: one RGB frame."""
    top = SHAPES_PAGE.body_top(title, width)
    sheet = page(width, theme, SHAPES_PAGE, title, caption, top + body_height, zoom)
    draw_body(sheet, top)
    return sheet.frame()


# ---- shared pictograms ------------------------------------------------------------------------------------

DEPTH_STEP = 5  # px between stacked channel slices
MAX_SHEETS = 6  # a stack of up to this many channels draws a sheet for each
DEEPEST = MAX_SHEETS + 1  # a depth whose stack reaches as far back as any (`stack_offsets`)


def stack_offsets(depth: int) -> list[int]:
    """Depth offset (in DEPTH_STEP) of each sheet a stack of `depth` channels draws, front first: one per channel
    up to MAX_SHEETS; a deeper stack draws its first two and its last, as far back as the sixth, and `draw_cuboid`
    marks the sheets left out with "⋰" in the gap (so that no one counts 6 sheets for 10 channels)."""
    return list(range(max(depth, 1))) if depth <= MAX_SHEETS else [0, 1, MAX_SHEETS - 1]


def stack_note(say, depths) -> list[str]:
    """The note that says what a stack's dots stand for, when a stack of `depths` leaves sheets out; else none."""
    return [say("stack_dots", most=MAX_SHEETS)] if any(depth > MAX_SHEETS for depth in depths) else []


def cuboid_size(face_w: float, face_h: float, depth: int) -> tuple[float, float]:
    reach = stack_offsets(depth)[-1] * DEPTH_STEP
    return face_w + reach, face_h + reach


def draw_cuboid(sheet: Sheet, x: float, y: float, face_w: float, face_h: float, depth: int, *, fill,
                edge=None) -> None:
    """A stack of `depth` channel slices (`stack_offsets`), bounding box top-left at (x, y); front face bottom-left."""
    offsets = stack_offsets(depth)
    back = offsets[-1]
    for i in reversed(offsets):
        shade = fill if i == 0 else mix(fill, sheet.theme.grid, 0.85)
        sheet.rect(x + i * DEPTH_STEP, y + (back - i) * DEPTH_STEP, face_w, face_h, fill=shade,
                   edge=edge or sheet.theme.grid)
    if depth > MAX_SHEETS:  # the sheets left out: "⋰" on their top edges, half-way along (a small face: far
        # enough along to lie on the last sheet, not in the air beside it)
        gap = range(offsets[-2] + 1, back)
        along = max(face_w / 2, (back - gap[0]) * DEPTH_STEP + 3)
        for step in gap:
            cx, cy = x + step * DEPTH_STEP + along, y + (back - step) * DEPTH_STEP
            sheet.rect(cx - 1.5, cy - 1.5, 3, 3, fill=sheet.theme.text, edge=sheet.theme.text, lw=0)


def draw_kernel_grid(sheet: Sheet, x: float, y: float, kh: int, kw: int, cell: float, *, fill, edge=None) -> None:
    sheet.rect(x, y, kw * cell, kh * cell, fill=fill, edge=edge or sheet.theme.grid, lw=1.0)
    if cell >= 4:
        for r in range(1, kh):
            sheet.line([x, x + kw * cell], [y + r * cell] * 2, colour=sheet.theme.grid, lw=0.5, z=3)
        for c in range(1, kw):
            sheet.line([x + c * cell] * 2, [y, y + kh * cell], colour=sheet.theme.grid, lw=0.5, z=3)


def elide(count: int, room: int) -> list[int | None]:
    """Indices to draw when only `room` fit: the first ones, None for "…", the last one."""
    if count <= room:
        return list(range(count))
    return list(range(room - 2)) + [None, count - 1]


LEGEND_SWATCH = 28  # a legend entry's mark, before its words
LEGEND_COLUMNS = (0, 230, 420)  # where the ReLU legend's three entries go when each fits its column


def swatch_legend(sheet: Sheet, swatches: list[tuple[dict, str]], places: list[tuple[int, float]], y: float) -> None:
    """Swatches (`Sheet.rect` keywords) with their words, at `places` ((row, x) from the margin, as `legend_places`
    or `flow` give them), rows a body line apart from `y`."""
    lh = line_height(BODY_PT)
    for (style, text), (row, x) in zip(swatches, places):
        sheet.rect(MARGIN + x, y + row * lh + 1, 14, 12, **style)
        sheet.text(MARGIN + x + 20, y + row * lh, text, pt=BODY_PT)


def legend_places(texts: list[str], inner: float) -> list[tuple[int, float]]:
    """(row, x) of each swatch + text: the fixed columns when every entry fits in its own, else flowed and
    wrapped within `inner` (a narrow frame, a large font scale, longer words)."""
    ends = [x + 20 + measure(text, BODY_PT) for x, text in zip(LEGEND_COLUMNS, texts)]
    limits = [*LEGEND_COLUMNS[1:len(texts)], inner]
    if all(end <= limit - 10 or (i == len(texts) - 1 and end <= limit) for i, (end, limit) in enumerate(zip(ends, limits))):
        return [(0, x) for x in LEGEND_COLUMNS[:len(texts)]]
    return flow([20 + measure(text, BODY_PT) for text in texts], inner, gap=24)


def params_text(weight_shape: tuple[int, ...], bias_count: int, total: int) -> str:
    """"10×1,568 + 10 = 15,690": a count's factors written as counts, with separators like its result (it read
    "10×1568 + 10 = 15,690")."""
    text = "×".join(number(n) for n in weight_shape)
    if bias_count:
        text += f" + {number(bias_count)}"
    return f"{text} = {number(total)}"


# ---- 1. weight_tensor ---------------------------------------------------------------------------------------

def render_weight_tensor(spec: WeightTensorStill, *, theme: Theme | str, width: int, title: str | None = None,
                         caption: str | None = None) -> Frames:
    theme = resolve_theme(theme)
    pixels, say = width, words(theme)
    g = spec.geometry()
    cout, cin_g, kh, kw = g.weight_shape
    n = spec.batch
    input_shape = (n, *g.input_shape)
    output_shape = (n, *g.output_shape)
    cell = max(2.0, min(9.0, 30.0 / max(kh, kw)))
    slice_w, slice_h = kw * cell, kh * cell
    boxes = elide(cout, 12)
    slices = elide(cin_g, 7)
    label_w = measure(say("kernel_n", n=cout - 1), SMALL_PT) + 18
    box_w = label_w + len(slices) * (slice_w + 6) + 8
    # a large font scale zooms only as far as the shapes under the input and output blocks still fit beside it
    side_labels = max(measure(shape_text(s), BODY_PT) for s in (input_shape, output_shape))
    width = layout_width(pixels, theme, needs=2 * MARGIN + box_w + 2 * 34 + 2 * (side_labels + 8))
    box_h = slice_h + 10
    box_gap = 6
    weights_h = len(boxes) * (box_h + box_gap)
    head_h = 2 * line_height(BODY_PT) + 4
    out_per_channel = cout // g.groups
    notes = [  # (text, is the parameter count: drawn bold in the accent colour)
        (say("wt_weight", shape=shape_text(g.weight_shape))
         + (say("wt_bias", shape=shape_text(g.bias_shape)) if g.bias_shape else say("wt_no_bias")), False),
        (say("params_line", text=params_text(g.weight_shape, g.bias_count, g.params)), True),
        (say("wt_each_many" if cin_g > 1 else "wt_each_one", cout=cout, cin=cin_g, kh=kh, kw=kw)
         + (say("wt_per_channel") if g.groups == 1 else
            say("wt_per_group", groups=g.groups, cin=cin_g, cout=out_per_channel)), False),
    ] + [(say("output_formula", formula=typeset(formula)), False) for formula in g.formulas]
    notes += [(note, False) for note in stack_note(say, (input_shape[1], output_shape[1]))]
    inner = width - 2 * MARGIN
    # the count's first line is the accented one (a wrapped rest, if any, reads as plain text)
    note_lines = [(line, accent and i == 0) for note, accent in notes for i, line in enumerate(wrap(note, BODY_PT, inner))]
    body_h = head_h + weights_h + 12 + len(note_lines) * line_height(BODY_PT)

    def draw(sheet: Sheet, top: float) -> None:
        side_w = (inner - box_w - 2 * 34) / 2
        face = min(side_w - cuboid_size(0, 0, DEEPEST)[0] - 10, 110)
        big = max(g.input_shape[1], g.input_shape[2], g.output_shape[1], g.output_shape[2])
        wx = MARGIN + side_w + 34
        centre_y = top + head_h + weights_h / 2
        # input and output blocks, faces scaled to their H and W
        for which, shape4, x0, fill in ((say("input"), input_shape, MARGIN, theme.input),
                                          (say("output"), output_shape, wx + box_w + 34, theme.output_done)):
            fh, fw = face * shape4[2] / big, face * shape4[3] / big
            bw, bh = cuboid_size(fw, fh, shape4[1])
            bx, by = x0 + (side_w - bw) / 2, centre_y - bh / 2
            draw_cuboid(sheet, bx, by, fw, fh, shape4[1], fill=fill)
            sheet.text(x0 + side_w / 2, by - 6, f"{which}", pt=HEAD_PT, bold=True, ha="center", va="bottom")
            sheet.text(x0 + side_w / 2, by + bh + 6, shape_text(shape4), pt=BODY_PT, ha="center")
            sheet.text(x0 + side_w / 2, by + bh + 6 + line_height(BODY_PT), "(N, C, H, W)", pt=SMALL_PT,
                      colour=theme.muted_text, ha="center")
        sheet.arrow(MARGIN + side_w + 2, centre_y, wx - 4, centre_y)
        sheet.arrow(wx + box_w + 4, centre_y, wx + box_w + 32, centre_y)
        # the weight tensor: one box per output channel, one k x k slice per input channel of its group
        sheet.text(wx + box_w / 2, top, say("wt_weight_head", shape=shape_text(g.weight_shape)), pt=HEAD_PT, bold=True,
                  ha="center")
        sheet.text(wx + box_w / 2, top + line_height(HEAD_PT), say("wt_kernels_slices", cout=cout, cin=cin_g, kh=kh, kw=kw),
                  pt=SMALL_PT, colour=theme.muted_text, ha="center")
        y = top + head_h
        for o in boxes:
            if o is None:
                sheet.text(wx + box_w / 2, y + box_h / 2, say("wt_more_kernels", dots="⋮", count=cout - len(boxes) + 1),
                          pt=BODY_PT,
                          colour=theme.muted_text, ha="center", va="center")
                y += box_h + box_gap
                continue
            group = o // out_per_channel
            edge = theme.group_colour(group) if g.groups > 1 else theme.grid
            lane = theme.lane_colour(group) if g.groups > 1 else theme.background
            sheet.rect(wx, y, box_w, box_h, fill=lane, edge=edge, lw=1.4 if g.groups > 1 else 1.0)
            sheet.text(wx + 6, y + box_h / 2, say("kernel_n", n=o), pt=SMALL_PT, va="center")
            sx = wx + label_w
            for s in slices:
                if s is None:
                    sheet.text(sx + slice_w / 2, y + box_h / 2, "…", pt=BODY_PT, ha="center", va="center")
                else:
                    draw_kernel_grid(sheet, sx, y + 5, kh, kw, cell, fill=theme.kernel)
                sx += slice_w + 6
            y += box_h + box_gap
        y = top + head_h + weights_h + 12
        for line, accent in note_lines:
            sheet.text(MARGIN, y, line, pt=BODY_PT, bold=accent, colour=theme.accent if accent else theme.text)
            y += line_height(BODY_PT)

    return [(render_page(width, theme, title, caption, body_h, draw, zoom=pixels / width), STILL_MS)]


# ---- 2. cnn_pipeline ----------------------------------------------------------------------------------------

def kernel_stride_text(stage, say: Callable[..., str]) -> tuple[str, str]:
    """A layer's kernel and stride in the frames' words: "kernel 5×5", "stride 2", "stride (2, 1)" (they were
    "K5, S2" here, beside "padding 0": one notation for the arguments everywhere)."""
    return (say("cnn_kernel", size=notation_shape(stage.kernel_size)),
            say("cnn_stride", stride=per_dim_text(tuple(stage.stride))))


def padding_text(padding, say: Callable[..., str]) -> str:
    """A conv's padding as the scene writes it: 'same', 'valid', 1, (1, 0); 0 is named 'valid' too."""
    text = f"'{padding}'" if isinstance(padding, str) else str(padding)
    return say("cnn_padding_valid", padding=text) if padding == 0 else text


def same_rule_text(axis, say: Callable[..., str]) -> str:
    """TF's 'same' rule on one axis with its numbers: out = ceil(n / s) = ...; pad total = ... = ..."""
    span = f"{axis.dilation}×({axis.kernel} − 1) + 1" if axis.dilation > 1 else f"{axis.kernel}"
    # a kernel shorter than the stride can need "negative" padding: TF pads max(..., 0), and the line says so
    key = "cnn_same_rule" if axis.unclamped_total >= 0 else "cnn_same_rule_clamped"
    return say(key, size=axis.size, stride=axis.stride, out=axis.out, span=span, total=axis.total)


def same_notes(stage, say: Callable[..., str]) -> list[str]:
    """How a conv's padding='same' pads were chosen: TF's rule per axis (one line when H and W agree), the odd
    cell, PyTorch's refusal of strided 'same'; or PyTorch's own rule."""
    if stage.same_rule == "torch":
        (top, bottom), (left, right) = stage.pads
        return [say("cnn_torch_same", top=top, bottom=bottom, left=left, right=right)]
    if stage.same_rule != "tf":
        return []
    height, width = stage.same_axes
    if (height.size, height.kernel, height.stride, height.dilation) == (width.size, width.kernel, width.stride,
                                                                        width.dilation):
        notes = [say("cnn_tf_same_both", rule=same_rule_text(height, say), before=height.before, after=height.after)]
    else:
        notes = [say("cnn_tf_same_axis", axis=axis.axis, rule=same_rule_text(axis, say),
                     split=say(f"cnn_split_{axis.axis.lower()}", before=axis.before, after=axis.after))
                 for axis in stage.same_axes]
    if any(axis.before != axis.after for axis in stage.same_axes):
        notes.append(say("cnn_odd_pad_after"))
    if stage.torch_refuses_same:
        notes.append(say("cnn_torch_refuses_same"))
    return notes


def layer_head(stage, convention: str, say: Callable[..., str]) -> str:
    """One layer named as code with its arguments: "Conv2d 5→6, kernel 3×3, stride 1, padding 0 ('valid')",
    "Linear 400→120"."""
    kind = stage.layer_type
    if kind == "conv2d":
        name = say(f"cnn_name_{convention}", cin=stage.in_channels, cout=stage.out_channels)
        kernel, stride = kernel_stride_text(stage, say)
        return say("cnn_conv", name=name, kernel=kernel, stride=stride, padding=padding_text(stage.padding, say))
    if kind in ("max_pool2d", "avg_pool2d"):
        name = "MaxPool2d" if kind == "max_pool2d" else "AvgPool2d"
        kernel, stride = kernel_stride_text(stage, say)
        if stage.padding in (None, 0, (0, 0)):
            return say("cnn_pool", name=name, kernel=kernel, stride=stride)
        return say("cnn_pool_padded", name=name, kernel=kernel, stride=stride, padding=stage.padding)
    if kind == "linear":
        return say("cnn_linear", inputs=stage.in_features, outputs=stage.out_features)  # as code: no separators
    return say(f"cnn_{kind}")  # relu, flatten


def pipeline_layer_lines(stage, convention: str, say: Callable[..., str]) -> list[tuple[str, str]]:
    """(style, text) lines describing one layer, unwrapped: head, weights and parameters, notes."""
    lines = [("head", f"{stage.index + 1}. {layer_head(stage, convention, say)}")]
    if stage.torch_weight_shape:
        layout = say("cnn_out_in") if stage.layer_type == "linear" else "(Cout, Cin, kh, kw)"
        k_layout = say("cnn_in_out") if stage.layer_type == "linear" else "(kh, kw, Cin, Cout)"
        if convention in ("pytorch", "both"):
            lines.append(("text", say("cnn_torch_weight", layout=layout, shape=shape_text(stage.torch_weight_shape))))
        if convention in ("keras", "both"):
            kernel = "cnn_keras_dense_kernel" if stage.layer_type == "linear" else "cnn_keras_kernel"  # a matrix in zh
            lines.append(("text", say(kernel, layout=k_layout, shape=shape_text(stage.keras_weight_shape))))
        lines.append(("params", say("params_line", text=params_text(stage.torch_weight_shape, stage.bias_count,
                                                                     stage.params))))
    else:
        lines.append(("muted", say("no_parameters")))
    lines += [("note", note) for note in same_notes(stage, say)]
    if stage.layer_type == "flatten":
        lines.append(("note", say("cnn_flatten_note", merged=product_text(stage.merged_shape),
                                  count=number(stage.output_shape[0]))))
        _, rows, cols = stage.merged_shape
        lines.append(("note", say("cnn_flatten_order", hw=rows * cols, ww=cols)))
        channels = stage.merged_shape[0]
        if channels > 2:  # the picture draws two channels; the vector's last cell, untinted, is from another
            lines.append(("note", say("cnn_flatten_last", last=channels * rows * cols - 1, c=channels - 1)))
        if convention == "both":
            lines.append(("note", say("cnn_keras_flatten")))
    return lines


PAD_GRID_MAX = 16  # a 'same' conv's padded input is drawn cell by cell up to this many cells a side
PAD_CELL = 11
ORDER_W, ORDER_H = 38, 20  # a flatten-order cell: room for a 4-digit index at SMALL_PT


def padded_grid_size(stage) -> tuple[int, int] | None:
    """(rows, cols) of a TF-'same' conv's padded input when small enough to draw, else None."""
    if stage.same_rule != "tf":
        return None
    size = tuple(axis.size + axis.total for axis in stage.same_axes)
    return size if max(size) <= PAD_GRID_MAX else None


def padded_input_lines(stage, say: Callable[..., str], room: float) -> tuple[bool, list[str], int]:
    """The padded input's three lines, whether they go beside its grid and how many lines its muted heading takes:
    beside when each fits the `room` left of the grid in the text column, else under the grid, wrapped to the
    whole column (a large font scale)."""
    height, width = stage.same_axes
    rows, cols = padded_grid_size(stage)
    lines = [say("cnn_pad_grid", rows=rows, cols=cols, h=height.size, w=width.size),
             say("cnn_pad_rows", before=height.before, after=height.after),
             say("cnn_pad_cols", before=width.before, after=width.after)]
    beside = room - cols * PAD_CELL - 10
    if all(measure(line, SMALL_PT) <= beside for line in lines):
        return True, lines, 1
    wrapped = [wrap(text, SMALL_PT, room) for text in lines]
    return False, [line for text in wrapped for line in text], len(wrapped[0])


def layer_picture_height(stage, say: Callable[..., str], room: float) -> float:
    """Room under a layer's lines for its picture: flatten's order, a 'same' conv's padded input (`room`: the
    text column's width)."""
    if stage.layer_type == "flatten":
        return flatten_order_places(stage, say, room)[-1]
    size = padded_grid_size(stage)
    if not size:
        return 0
    beside, lines, _ = padded_input_lines(stage, say, room)
    return size[0] * PAD_CELL + 12 + (0 if beside else len(lines) * line_height(SMALL_PT) + 4)


def draw_padded_input(sheet: Sheet, x: float, y: float, stage, say: Callable[..., str], room: float) -> None:
    """The input of a 'same' conv with TF's pads around it, cell by cell: padding grey and dashed, and the pads
    before and after each axis written beside it (under it when they do not fit beside)."""
    theme = sheet.theme
    height, width = stage.same_axes
    rows, cols = padded_grid_size(stage)
    cells = []
    for r, c in np.ndindex(rows, cols):
        pad = not (height.before <= r < height.before + height.size and width.before <= c < width.before + width.size)
        cells.append(Cell(x + c * PAD_CELL, y + r * PAD_CELL, PAD_CELL, PAD_CELL, theme.padding if pad else theme.input,
                          theme.padding_edge if pad else theme.grid, 0.6, dashed=pad))
    sheet.cells(cells)
    beside, lines, heading = padded_input_lines(stage, say, room)
    text_x, text_y = (x + cols * PAD_CELL + 10, y) if beside else (x, y + rows * PAD_CELL + 6)
    for i, line in enumerate(lines):
        sheet.text(text_x, text_y + i * line_height(SMALL_PT), line, pt=SMALL_PT,
                   colour=theme.text if i >= heading else theme.muted_text)


def flatten_order_places(stage, say: Callable[..., str], room: float, x: float = 0.0, y: float = 0.0):
    """Where the flatten-order picture goes within `room` px of the text column from (x, y): the channel blocks'
    (left, grid top), the vector's first row top and its slots as (slot, left, top), and the picture's height.
    A block or a vector slot that would end past the room starts a new row under the last (a large font scale)."""
    positions = stage.flat_positions()
    channels, rows, cols = positions.shape
    shown_c, shown_r, shown_c_cols = min(channels, 2), min(rows, 2), min(cols, 3)
    lh = line_height(SMALL_PT)
    limit = x + room
    grid_top = y + lh + 2
    block_x = x
    blocks, extra = [], 0.0
    for c in range(shown_c):
        label = say("cnn_flatten_channel", c=c)
        drawn = max(shown_c_cols * ORDER_W + 4 + measure("…", SMALL_PT), measure(label, SMALL_PT))
        if c and block_x + drawn > limit:  # under the block before
            block_x, grid_top = x, grid_top + lh + 2 + shown_r * ORDER_H + 8
            extra += lh + 2 + shown_r * ORDER_H + 8
        blocks.append((block_x, grid_top))
        block_x += max(shown_c_cols * ORDER_W + 24, measure(label, SMALL_PT) + 12)
    # the vector: channel 0's first row, its next row, then channel 1, then the very last value
    vector_y = grid_top + shown_r * ORDER_H + 8
    start = x + measure(say("cnn_flatten_vector"), SMALL_PT) + 6
    vx, vy = start, vector_y
    slots: list[tuple[int, int] | None] = [(0, i) for i in range(shown_c_cols)] + [None]
    if rows > 1:
        slots += [(0, cols)] + [None]
    if channels > 1:
        slots += [(1, rows * cols), None]
    slots.append((channels - 1, positions.size - 1))
    placed = []
    for slot in slots:
        step = 16 if slot is None else ORDER_W
        if vx > start and vx + step > limit:  # the vector goes on in a row under, from the same left
            vx, vy = start, vy + ORDER_H + 6
            extra += ORDER_H + 6
        placed.append((slot, vx, vy))
        vx += step
    height = lh + 2 + 2 * ORDER_H + 8 + ORDER_H + 8
    return blocks, vector_y, placed, height + extra if extra else height


def draw_flatten_order(sheet: Sheet, x: float, y: float, stage, say: Callable[..., str], room: float) -> None:
    """Where flatten puts the values: the first rows of the first two channels, each cell holding its place in
    the vector, then the vector itself with the same places (C order: channel, then row, then column)."""
    theme = sheet.theme
    positions = stage.flat_positions()
    channels, rows, cols = positions.shape
    shown_c, shown_r, shown_c_cols = min(channels, 2), min(rows, 2), min(cols, 3)
    fills = [mix(theme.group_colour(c), theme.background, 0.25) for c in range(shown_c)]
    lh = line_height(SMALL_PT)
    blocks, vector_y, placed, _ = flatten_order_places(stage, say, room, x, y)
    for c, (block_x, grid_top) in enumerate(blocks):
        sheet.text(block_x, grid_top - lh, say("cnn_flatten_channel", c=c), pt=SMALL_PT, colour=theme.muted_text)
        for r, col in np.ndindex(shown_r, shown_c_cols):
            cx, cy = block_x + col * ORDER_W, grid_top + r * ORDER_H
            sheet.rect(cx, cy, ORDER_W, ORDER_H, fill=fills[c], edge=theme.grid, lw=0.6)
            sheet.text(cx + ORDER_W / 2, cy + ORDER_H / 2, str(positions[c, r, col]), pt=SMALL_PT, ha="center",
                       va="center")
        sheet.text(block_x + shown_c_cols * ORDER_W + 4, grid_top + ORDER_H / 2, "…", pt=SMALL_PT, va="center")
    sheet.text(x, vector_y + ORDER_H / 2, say("cnn_flatten_vector"), pt=SMALL_PT, colour=theme.muted_text,
               va="center")
    for slot, vx, vy in placed:
        if slot is None:
            sheet.text(vx + 8, vy + ORDER_H / 2, "…", pt=SMALL_PT, ha="center", va="center")
            continue
        channel, index = slot
        fill = fills[channel] if channel < shown_c else theme.input  # a channel not drawn above: no tint
        sheet.rect(vx, vy, ORDER_W, ORDER_H, fill=fill, edge=theme.grid, lw=0.6)
        sheet.text(vx + ORDER_W / 2, vy + ORDER_H / 2, str(index), pt=SMALL_PT, ha="center", va="center")


def render_cnn_pipeline(spec: CnnPipelineStill, *, theme: Theme | str, width: int, title: str | None = None,
                        caption: str | None = None) -> Frames:
    theme = resolve_theme(theme)
    width, say = layout_width(width, theme), words(theme)
    stages = spec.stages()
    torch_on = spec.convention in ("pytorch", "both")
    keras_on = spec.convention in ("keras", "both")
    inner = width - 2 * MARGIN
    icon_w = 110
    text_x = MARGIN + icon_w + 14
    text_w = width - MARGIN - text_x
    lh = line_height(BODY_PT)
    shapes = [tuple(spec.input_shape)] + [s.output_shape for s in stages]
    keras_shapes = [spec.keras_input_shape()] + [s.keras_output_shape for s in stages]
    biggest = max(max(s[1:]) if len(s) == 3 else 1 for s in shapes)

    def tensor_lines(shape: tuple[int, ...], keras_shape: tuple[int, ...]) -> list[str]:
        lines = []
        if len(shape) == 3:
            if torch_on:
                lines.append(f"PyTorch (C, H, W) = {shape_text(shape)}")
            if keras_on:
                lines.append(f"Keras (H, W, C) = {shape_text(keras_shape)}")
        else:
            lines.append(say("cnn_vector", count=number(shape[0]), shape=shape_text(shape)))
        return lines

    def layer_lines(stage) -> list[tuple[str, str]]:
        """(style, text) lines describing one layer, wrapped to the text column."""
        wrapped = []
        for style, text in pipeline_layer_lines(stage, spec.convention, say):
            pt = SMALL_PT if style == "note" else BODY_PT
            wrapped += [(style, t) for t in wrap(text, pt, text_w, bold=style in ("head", "params"))]
        return wrapped

    rows = []  # ("tensor", name, shape, lines) or ("layer", stage, lines)
    rows.append(("tensor", say("input"), shapes[0], tensor_lines(shapes[0], keras_shapes[0])))
    for stage, shape, keras_shape in zip(stages, shapes[1:], keras_shapes[1:]):
        rows.append(("layer", stage, layer_lines(stage)))
        name = say("output") if stage is stages[-1] else say("cnn_after_layer", n=stage.index + 1)
        rows.append(("tensor", name, shape, tensor_lines(shape, keras_shape)))

    def row_height(row) -> float:
        if row[0] == "tensor":
            icon_h = cuboid_size(*icon_face(row[2]), row[2][0] if len(row[2]) == 3 else 1)[1]
            return max(icon_h, (len(row[3]) + 1) * lh) + 10
        return len(row[2]) * lh + 12 + layer_picture_height(row[1], say, text_w)

    def icon_face(shape) -> tuple[float, float]:
        if len(shape) == 1:
            return 14.0, 46.0
        return 16 + 44 * shape[2] / biggest, 16 + 44 * shape[1] / biggest

    totals = [s for s in stages if s.params]
    total_text = say("cnn_total") + (" + ".join(number(s.params) for s in totals) + " = " if len(totals) > 1 else "") \
        + number(spec.total_params())
    batched = say(f"cnn_batched_{spec.convention}")
    # (text, points, bold, colour) per line: the total, then the batch-axis note, each wrapped to the page
    footer = [(line, BODY_PT, True, theme.accent) for line in wrap(total_text, BODY_PT, inner, bold=True)]
    footer += [(line, SMALL_PT, False, theme.muted_text) for line in wrap(say("cnn_batch_axis", batched=batched),
                                                                           SMALL_PT, inner)]
    depths = [row[2][0] for row in rows if row[0] == "tensor" and len(row[2]) == 3]
    footer += [(line, SMALL_PT, False, theme.muted_text) for note in stack_note(say, depths)
               for line in wrap(note, SMALL_PT, inner)]
    body_h = sum(row_height(r) for r in rows) + 8 + len(footer) * lh

    def draw(sheet: Sheet, top: float) -> None:
        y = top
        for row in rows:
            h = row_height(row)
            if row[0] == "tensor":
                shape = row[2]
                fw, fh = icon_face(shape)
                depth = shape[0] if len(shape) == 3 else 1
                bw, bh = cuboid_size(fw, fh, depth)
                fill = theme.input if row is rows[0] else theme.output_done
                draw_cuboid(sheet, MARGIN + (icon_w - bw) / 2, y + (h - bh) / 2, fw, fh, depth, fill=fill)
                name = row[1]
                ty = y + (h - (len(row[3]) + 1) * lh) / 2
                sheet.text(text_x, ty, name, pt=BODY_PT, bold=True)
                for i, line in enumerate(row[3]):
                    sheet.text(text_x, ty + (i + 1) * lh, line, pt=BODY_PT)
            else:
                sheet.arrow(MARGIN + icon_w / 2, y - 2, MARGIN + icon_w / 2, y + h + 2, colour=theme.window)
                sheet.rect(text_x - 8, y + 2, 3, h - 4, fill=theme.window, edge=theme.window, lw=0)
                for i, (style, line) in enumerate(row[2]):
                    colour = {"head": theme.window, "params": theme.accent, "muted": theme.muted_text,
                              }.get(style, theme.text)
                    sheet.text(text_x, y + 6 + i * lh, line, pt=BODY_PT if style != "note" else SMALL_PT,
                              bold=style in ("head", "params"), colour=colour)
                picture_top = y + 6 + len(row[2]) * lh + 2
                if row[1].layer_type == "flatten":
                    draw_flatten_order(sheet, text_x, picture_top, row[1], say, text_w)
                elif padded_grid_size(row[1]):
                    draw_padded_input(sheet, text_x, picture_top, row[1], say, text_w)
            y += h
        y += 8
        for i, (line, pt, bold, colour) in enumerate(footer):
            sheet.text(MARGIN, y + i * lh, line, pt=pt, bold=bold, colour=colour)

    return [(render_page(width, theme, title, caption, body_h, draw), STILL_MS)]


# ---- 3. relu_map --------------------------------------------------------------------------------------------

def render_relu_map(spec: ReluMapStill, *, theme: Theme | str, width: int, title: str | None = None,
                    caption: str | None = None) -> Frames:
    theme = resolve_theme(theme)
    width, say = layout_width(width, theme), words(theme)
    before = spec.feature_map()
    after = spec.after_relu()
    h, w = before.shape
    negative = before < 0
    inner = width - 2 * MARGIN
    gap = 110
    cell = min(46.0, (inner - gap) / (2 * w))
    grid_w, grid_h = w * cell, h * cell
    value_pt = max(SMALL_PT, min(13, cell * 0.36))
    lh = line_height(BODY_PT)
    head = line_height(HEAD_PT) + 6
    left_x = MARGIN + (inner - 2 * grid_w - gap) / 2
    right_x = left_x + grid_w + gap
    legend = [say("relu_summary", count=spec.negative_count(), total=h * w)]
    legend_lines = [line for text in legend for line in wrap(text, BODY_PT, inner - 30)]
    swatches = [(dict(fill=theme.tap, hatch="///"), say("relu_negative")),
                (dict(fill=theme.output_current), say("relu_set_zero")),
                (dict(fill=theme.output_done), say("relu_kept"))]
    swatch_places = legend_places([text for _, text in swatches], inner)
    swatch_rows = 1 + max(row for row, _ in swatch_places)
    body_h = head + grid_h + 14 + (len(legend_lines) + 1 + swatch_rows) * lh

    def draw_frame(show_after: bool) -> np.ndarray:
        def draw(sheet: Sheet, top: float) -> None:
            for grid_x, head_text in ((left_x, say("relu_feature_map", h=h, w=w)), (right_x, say("after_relu"))):
                # centred over its grid, but never past the page margins when the head is wider than the grid
                sheet.centred_text(grid_x + grid_w / 2, top, head_text, inset=MARGIN, pt=HEAD_PT, bold=True)
            gy = top + head
            for r in range(h):
                for c in range(w):
                    x, y = left_x + c * cell, gy + r * cell
                    neg = negative[r, c]
                    sheet.rect(x, y, cell, cell, fill=theme.tap if neg else theme.input, edge=theme.grid,
                              hatch="///" if neg else None)
                    sheet.text(x + cell / 2, y + cell / 2, fmt_number(before[r, c]), pt=value_pt, ha="center", va="center",
                              colour=theme.tap_text, bold=neg,
                              bbox=dict(facecolor=unit(theme.tap), edgecolor="none", pad=0.5) if neg else None)
                    x = right_x + c * cell
                    if show_after:
                        fill = theme.output_current if neg else theme.output_done
                        text_colour = theme.output_current_text if neg else theme.output_done_text
                        sheet.rect(x, y, cell, cell, fill=fill, edge=theme.grid)
                        sheet.text(x + cell / 2, y + cell / 2, fmt_number(after[r, c]), pt=value_pt, ha="center",
                                  va="center", colour=text_colour, bold=neg)
                    else:
                        sheet.rect(x, y, cell, cell, fill=theme.output_empty, edge=theme.grid)
            mid_y = gy + grid_h / 2
            sheet.arrow(left_x + grid_w + 10, mid_y, right_x - 10, mid_y, colour=theme.window, lw=2.0)
            sheet.text((left_x + grid_w + right_x) / 2, mid_y - 8, "ReLU", pt=HEAD_PT, bold=True, ha="center",
                      va="bottom", colour=theme.window)
            sheet.text((left_x + grid_w + right_x) / 2, mid_y + 8, "max(x, 0)", pt=SMALL_PT, ha="center",
                      colour=theme.window)
            y = gy + grid_h + 14
            # legend: a swatch per look, each also told apart by hatching
            swatch_legend(sheet, [({"edge": theme.grid, **style}, text) for style, text in swatches], swatch_places, y)
            for i, line in enumerate(legend_lines):
                sheet.text(MARGIN, y + (i + swatch_rows + 0.5) * lh, line, pt=BODY_PT)

        return render_page(width, theme, title, caption, body_h, draw)

    return [(draw_frame(False), 1500), (draw_frame(True), 3500)]


# ---- 4. param_counts ----------------------------------------------------------------------------------------

def render_param_counts(spec: ParamCountsStill, *, theme: Theme | str, width: int, title: str | None = None,
                        caption: str | None = None) -> Frames:
    theme = resolve_theme(theme)
    pixels, say = width, words(theme)
    cmp = spec.comparison()
    conv = cmp.conv
    cout, cin, kh, kw = conv.weight_shape
    h, w, c = spec.image_shape
    bars = [  # (text, value, is_dense)
        (say("pn_one_kernel", shape=f"{kh}×{kw}×{cin}", product=product_text((kh, kw, cin)),
             count=number(cmp.kernel_weights)), cmp.kernel_weights, False),
        (say("pn_kernels", cout=cout, each=number(cmp.kernel_weights), count=number(conv.weight_count)),
         conv.weight_count, False),
        (say("pn_with_bias", weights=number(conv.weight_count), biases=number(conv.bias_count),
             count=number(conv.params)), conv.params, False),
        (say("pn_dense_one", shape=f"{h}×{w}×{c}", product=product_text((h, w, c)),
             count=number(cmp.dense_weights_per_unit)), cmp.dense_weights_per_unit, True),
    ]
    if spec.hidden_units > 1:
        bars.append((say("pn_dense_layer", units=number(spec.hidden_units), each=number(cmp.dense_weights_per_unit),
                         biases=number(cmp.dense_biases), count=number(cmp.dense_params)), cmp.dense_params, True))
    # a large font scale zooms only as far as the bars' texts still fit in the plot (it starts MARGIN + 6 in)
    width = layout_width(pixels, theme, needs=2 * MARGIN + 40 + max(measure(text, BODY_PT, bold=dense)
                                                                    for text, _, dense in bars))
    oh, ow = conv.output_shape[1:]
    ratio = f"{cmp.dense_to_conv:,.0f}"
    summary = say("pn_summary", ratio=ratio, weights=number(cmp.kernel_weights), oh=oh, ow=ow,
                  positions=number(cmp.conv_positions))
    inner = width - 2 * MARGIN
    summary_lines = wrap(summary, BODY_PT, inner, bold=True)
    lh = line_height(BODY_PT)
    row_h, zoom_row_h = 50, 40
    plot_h = len(bars) * row_h + 52
    # the conv bars are slivers beside the dense one when drawn to scale: the same bars again, zoomed in
    step = 10 ** math.floor(math.log10(conv.params * 1.3))
    zoom_limit = math.ceil(conv.params * 1.3 / step) * step  # a round end: 7,000 for 5,376
    zoom_head = wrap(say("pn_zoom", limit=number(zoom_limit)), BODY_PT, inner, bold=True)
    zoom_h = len(zoom_head) * lh + 4 + len(bars) * zoom_row_h + 44
    # the bars' two looks named (each bar's own label says what it counts; the break mark says "off this scale")
    swatches = [(dict(fill=mix(theme.window, theme.background, 0.8), edge=theme.window), say("pn_legend_conv")),
                (dict(fill=mix(theme.output_current, theme.background, 0.8), edge=theme.output_current, hatch="//"),
                 say("pn_legend_dense"))]
    swatch_places = flow([20 + measure(text, BODY_PT) for _, text in swatches], inner, gap=24)
    legend_h = (1 + max(row for row, _ in swatch_places)) * lh + 6
    body_h = legend_h + plot_h + zoom_h + 10 + len(summary_lines) * lh

    looks = [(value, theme.output_current if dense else theme.window, dense) for _, value, dense in bars]
    rows = (-0.8, len(bars) - 0.35)

    def draw(sheet: Sheet, top: float) -> None:
        def label(record, x: float, row: float, text: str, *, bold: bool = False) -> None:
            sheet.text(x, record.py(row), text, pt=BODY_PT, bold=bold, va="center",
                       bbox=dict(facecolor=unit(theme.background), edgecolor="none", pad=1.0))

        swatch_legend(sheet, [({"lw": 1.2, **style}, text) for style, text in swatches], swatch_places, top)
        top += legend_h
        box = (MARGIN + 6, top, inner - 24, plot_h - 52)
        full = draw_bars(sheet, box, looks, limit=max(v for _, v, _ in bars) * 1.05, rows=rows, fmt=compact,
                         x_label=say("pn_axis"), label_pt=SMALL_PT)
        for i, (text, _, dense) in enumerate(bars):
            label(full, box[0] + 0.005 * box[2], i - 0.3, text, bold=dense)
        y = top + plot_h
        for i, line in enumerate(zoom_head):
            sheet.text(MARGIN, y + i * lh, line, pt=BODY_PT, bold=True)
        box = (MARGIN + 6, y + len(zoom_head) * lh + 4, inner - 24, len(bars) * zoom_row_h)
        zoom = draw_bars(sheet, box, looks, limit=zoom_limit, rows=rows, fmt=compact, label_pt=SMALL_PT)
        for i, (_, value, dense) in enumerate(bars):
            if value <= zoom_limit:
                label(zoom, box[0] + (value / zoom_limit + 0.01) * box[2], i + 0.12, number(value))
            else:  # cut at the axis's end: a break mark, and how far it goes on
                for dx in (-0.012, 0.0):
                    sheet.line([box[0] + (0.975 + dx) * box[2], box[0] + (0.99 + dx) * box[2]],
                               [zoom.py(i + 0.45), zoom.py(i - 0.2)], colour=theme.text, lw=1.2, z=3)
                label(zoom, box[0] + 0.005 * box[2], i - 0.36, say("pn_off_scale", count=number(value),
                                                                   ratio=f"{value / conv.params:,.0f}"), bold=True)
        y += zoom_h + 10
        for i, line in enumerate(summary_lines):
            sheet.text(MARGIN, y + i * lh, line, pt=BODY_PT, colour=theme.accent, bold=True)

    return [(render_page(width, theme, title, caption, body_h, draw, zoom=pixels / width), STILL_MS)]


# ---- 5. param_curves ----------------------------------------------------------------------------------------

def law_formula(law, argument: str) -> str:
    """A growth law with its numbers: '144 × in_channels + 16', '128 × kernel_size² + 16', '1,152 / groups + 16'."""
    terms = {"linear": [(law.b, argument), (law.c, "")],
             "quadratic": [(law.a, f"{argument}²"), (law.b, argument), (law.c, "")],
             "inverse": [(law.a, f"/ {argument}"), (law.c, "")],
             "constant": [(law.c, "")]}[law.kind]
    text = ""
    for coefficient, variable in terms:
        if coefficient == 0 and (variable or text):
            continue
        sign = MINUS if coefficient < 0 else "+"
        term = (number(abs(coefficient)) + (f" {variable}" if variable.startswith("/") else
                                            f" {TIMES} {variable}" if variable else ""))
        text = f"{text} {sign} {term}" if text else (MINUS if coefficient < 0 else "") + term
    return text


def law_text(what: str, law, argument: str, say: Callable[..., str]) -> str:
    """'parameters = 144 × in_channels + 16: linear' (`argument`: its name in the theme's language), or that no
    such law holds."""
    if law.kind == "none":
        return say("pc_law_none", what=what)
    return say(f"pc_law_{law.kind}", what=what, formula=law_formula(law, argument))


def compact(value: float, _position=None) -> str:
    """An axis tick: 0, 500, 12k, 1.5M."""
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def render_param_curves(spec: ParamCurvesStill, *, theme: Theme | str, width: int, title: str | None = None,
                        caption: str | None = None) -> Frames:
    theme = resolve_theme(theme)
    width, say = layout_width(width, theme), words(theme)
    curves = spec.curves()
    base = spec.base
    g = base.geometry_with()
    inner = width - 2 * MARGIN
    lh = line_height(BODY_PT)
    small_lh = line_height(SMALL_PT)
    args = base.arguments()
    call = (f"Conv2d({args['in_channels']}, {args['out_channels']}, kernel_size={args['kernel_size']}, "
            f"stride={args['stride']}, padding={args['padding']}, dilation={args['dilation']}, "
            f"groups={args['groups']}{'' if base.bias else ', bias=False'})")
    base_text = say("pc_base", call=call, shape=shape_text(tuple(base.input_shape)), out=shape_text(g.output_shape),
                    params=number(g.params), macs=number(g.macs))
    base_lines = wrap(base_text, BODY_PT, inner)
    columns = 2 if width >= 560 else 1
    rows = math.ceil(len(curves) / columns)
    cell_w = inner / columns
    # each plot's growth laws, written out: linear axes show the shape, the formula says it exactly
    laws = [[line for what, law in ((say("pc_parameters"), curve.params_law), (say("pc_macs_short"), curve.macs_law))
             for line in wrap(law_text(what, law, say(f"arg_{curve.argument}"), say), SMALL_PT, cell_w - 8)]
            for curve in curves]
    law_h = max(len(lines) for lines in laws) * small_lh + 4
    plot_h = 150
    cell_h = lh + 4 + law_h + plot_h + 46
    # one legend for all plots, its entries left to right, wrapping when the next does not fit
    legend_entries = [("params", say("pc_parameters_axis")), ("macs", say("pc_macs_axis")),
                      ("base", say("pc_base_value"))]
    marks = [10 if kind == "base" else 38 for kind, _ in legend_entries]
    places = flow([mark + measure(text, BODY_PT) for mark, (_, text) in zip(marks, legend_entries)], inner, gap=24)
    legend_spots = [(kind, text, MARGIN + x, row, mark)
                    for (kind, text), (row, x), mark in zip(legend_entries, places, marks)]
    legend_h = (places[-1][0] + 1) * lh + 6
    body_h = len(base_lines) * lh + 6 + legend_h + rows * cell_h
    params_colour, macs_colour = theme.window, theme.output_current

    def draw(sheet: Sheet, top: float) -> None:
        y0 = top
        for i, line in enumerate(base_lines):
            sheet.text(MARGIN, y0 + i * lh, line, pt=BODY_PT)
        y0 += len(base_lines) * lh + 6
        # line style and marker tell the two curves apart, not colour alone
        for kind, text, x, row, mark_w in legend_spots:
            y = y0 + row * lh
            if kind == "params":
                sheet.ax.plot([x, x + 28], [y + 7] * 2, color=unit(params_colour), lw=2, marker="o", ms=5)
            elif kind == "macs":
                sheet.ax.plot([x, x + 28], [y + 7] * 2, color=unit(macs_colour), lw=2, ls="--", marker="s", ms=5)
            else:
                sheet.ax.plot([x + 2, x + 2], [y, y + 14], color=unit(theme.muted_text), lw=1.2, ls=":")
            sheet.text(x + mark_w, y, text, pt=BODY_PT)
        y0 += legend_h
        for index, (curve, law_lines) in enumerate(zip(curves, laws)):
            r, c = divmod(index, columns)
            left, cell_top = MARGIN + c * cell_w, y0 + r * cell_h
            name = say(f"arg_{curve.argument}")
            head = say("pc_head", argument=curve.argument, name=name, value=curve.base_value)
            sheet.text(left + 4, cell_top, head, pt=BODY_PT, bold=True)
            if curve.skipped:
                shown = ", ".join(str(v) for v in curve.skipped[:4]) + (", …" if len(curve.skipped) > 4 else "")
                sheet.text(left + 10 + measure(head, BODY_PT, bold=True), cell_top + 1,
                          say("pc_skipped", values=shown), pt=SMALL_PT, colour=theme.muted_text)
            for i, line in enumerate(law_lines):
                sheet.text(left + 4, cell_top + lh + 2 + i * small_lh, line, pt=SMALL_PT, colour=theme.muted_text)
            # parameters on the left axis, multiply-adds on the right, both linear and from 0
            shown = curve.values if len(curve.values) <= 9 else curve.values[:: math.ceil(len(curve.values) / 9)]
            draw_plot(sheet, (left + 46, cell_top + lh + 4 + law_h + 6, cell_w - 2 * 46, plot_h), curve.values,
                      [Series(curve.params, params_colour, (0, max(curve.params) * 1.08), marker="o"),
                       Series(curve.macs, macs_colour, (0, max(curve.macs) * 1.08), dashed=True, marker="s")],
                      x_ticks=shown, fmt=compact, markers=[curve.base_value], label_pt=SMALL_PT,
                      x_label=say("pc_axis", argument=curve.argument, name=name))

    return [(render_page(width, theme, title, caption, body_h, draw), STILL_MS)]


# ---- 6. depthwise_separable ---------------------------------------------------------------------------------

def render_depthwise_separable(spec: DepthwiseSeparableStill, *, theme: Theme | str, width: int,
                               title: str | None = None, caption: str | None = None) -> Frames:
    theme = resolve_theme(theme)
    width, say = layout_width(width, theme), words(theme)
    cmp = spec.comparison()
    std, dw, pw = cmp.standard, cmp.depthwise, cmp.pointwise
    cin = std.in_channels
    cout = std.out_channels
    kh, kw = std.kernel_size
    inner = width - 2 * MARGIN
    lh = line_height(BODY_PT)

    def weights_text(g, factors) -> str:
        bias = f" + {g.bias_count}" if g.bias_count else ""
        return f"{product_text(factors)}{bias} = {number(g.params)}"

    def macs_text(g) -> str:
        return say("ds_macs", outputs=product_text(g.output_shape), taps=product_text(g.weight_shape[1:]),
                   count=number(g.macs))

    stages = [
        (say("ds_standard"), std, say("ds_kernels", count=cout, shape=shape_text(std.weight_shape[1:])),
         weights_text(std, (kh, kw, cin, cout)), theme.input, theme.output_done),
        (say("ds_depthwise", groups=cin), dw,
         say("ds_kernels_per_channel", count=cin, shape=shape_text(dw.weight_shape[1:])),
         weights_text(dw, (kh, kw, cin)), theme.input, theme.output_done),
        (say("ds_pointwise"), pw, say("ds_kernels", count=cout, shape=shape_text(pw.weight_shape[1:])),
         weights_text(pw, (cin, cout)), theme.output_done, theme.output_done),
    ]
    summary = [
        say("ds_params_summary", standard=stages[0][3], depthwise=stages[1][3].split(' = ')[0],
            pointwise=stages[2][3].split(' = ')[0], total=number(cmp.separable_params), ratio=f"{cmp.params_ratio:.1f}"),
        say("ds_macs_summary", standard=number(std.macs), depthwise=number(dw.macs), pointwise=number(pw.macs),
            total=number(cmp.separable_macs), ratio=f"{cmp.macs_ratio:.1f}"),
    ]
    summary_lines = [line for s in summary for line in wrap(s, BODY_PT, inner)]
    depths = [n for _, g, *_ in stages for n in (g.input_shape[0], g.output_shape[0], g.weight_shape[1])]
    stack_lines = [line for note in stack_note(say, depths) for line in wrap(note, SMALL_PT, inner)]
    pict_w = 96
    text_x = MARGIN + 3 * pict_w + 2 * 26 + 16
    text_w = width - MARGIN - text_x
    stacked = text_w < 170  # too narrow beside the pictures (a large font scale): the text goes under them
    if stacked:
        text_x, text_w = MARGIN, inner
    separator_lines = wrap(say("ds_separator"), SMALL_PT, inner)
    biggest = max(max(g.input_shape[1:]) for g in (std, dw, pw))

    def face(shape) -> tuple[float, float]:
        return 14 + 40 * shape[2] / biggest, 14 + 40 * shape[1] / biggest

    stage_texts = []  # per stage: (line, bold) pairs; the parameter count is the bold one
    for name, g, kernels, wtext, _, _ in stages:
        lines = [(line, False) for line in wrap(f"{shape_text(g.input_shape)} → {shape_text(g.output_shape)}", BODY_PT,
                                                text_w)]
        lines += [(line, True) for line in wrap(say("ds_params", text=wtext), BODY_PT, text_w, bold=True)]
        lines += [(line, False) for line in wrap(say("ds_macs_line", text=macs_text(g)), BODY_PT, text_w)]
        stage_texts.append(lines)
    def pictures_h(g) -> float:
        return cuboid_size(*face(g.input_shape), DEEPEST)[1] + 2 * lh + 8

    if stacked:
        row_hs = [line_height(HEAD_PT) + pictures_h(g) + 6 + len(t) * lh + 10
                  for (_, g, *_), t in zip(stages, stage_texts)]
    else:
        row_hs = [max(line_height(HEAD_PT) + pictures_h(g), line_height(HEAD_PT) + len(t) * lh + 8) + 10
                  for (_, g, *_), t in zip(stages, stage_texts)]
    separator = 26 + (len(separator_lines) - 1) * line_height(SMALL_PT)
    # every look named: the three tensor fills, and the outline colour that ties a depthwise kernel to its channel
    legend = [("fill", theme.input, say("ds_legend_input")), ("fill", theme.kernel, say("ds_legend_kernels")),
              ("fill", theme.output_done, say("ds_legend_output")),
              ("outlines", None, say("ds_legend_channel", groups=cin))]
    # an entry wider than the page wraps its words beside its mark (a large font scale); its row grows by its lines
    legend_lines = [wrap(text, BODY_PT, inner - LEGEND_SWATCH - 6) for *_, text in legend]
    legend_spots = flow([LEGEND_SWATCH + 6 + (measure(text, BODY_PT) if len(lines) == 1 else
                                              max(measure(line, BODY_PT) for line in lines))
                         for (*_, text), lines in zip(legend, legend_lines)], inner, gap=20)
    row_lines = [max(len(lines) for lines, (r, _) in zip(legend_lines, legend_spots) if r == row)
                 for row in range(legend_spots[-1][0] + 1)]
    row_tops = [sum(row_lines[:row]) for row in range(len(row_lines))]
    legend_h = sum(row_lines) * lh + 8
    body_h = sum(row_hs) + separator + 12 + legend_h + len(summary_lines) * lh \
        + (4 + len(stack_lines) * line_height(SMALL_PT) if stack_lines else 0)

    def draw(sheet: Sheet, top: float) -> None:
        y = top
        for index, ((name, g, kernels, wtext, in_fill, out_fill), lines, row_h) in enumerate(
                zip(stages, stage_texts, row_hs)):
            if index == 1:
                sheet.ax.plot([MARGIN, width - MARGIN], [y + 4] * 2, color=unit(theme.grid), lw=0.8, ls="--")
                for i, line in enumerate(separator_lines):
                    sheet.text(width - MARGIN, y + 8 + i * line_height(SMALL_PT), line,
                              pt=SMALL_PT, colour=theme.muted_text, ha="right")
                y += separator
            sheet.text(MARGIN, y, name, pt=HEAD_PT, bold=True, colour=theme.window)
            py = y + line_height(HEAD_PT) + 4
            if stacked:
                centre = py + cuboid_size(*face(g.input_shape), DEEPEST)[1] / 2
            else:
                centre = py + (row_h - line_height(HEAD_PT) - 2 * lh - 8) / 2
            label_y = centre + max(cuboid_size(*face(g.input_shape), g.input_shape[0])[1],
                                   cuboid_size(*face(g.output_shape), g.output_shape[0])[1]) / 2 + 4
            items = [(g.input_shape, in_fill, shape_text(g.input_shape),
                      say("input") if index < 2 else say("ds_depthwise_out")),
                     (None, theme.kernel, kernels, say("weight")),
                     (g.output_shape, out_fill, shape_text(g.output_shape),
                      say("output") if index != 1 else say("ds_depthwise_out"))]
            for j, (shape, fill, label, role) in enumerate(items):
                x0 = MARGIN + j * (pict_w + 26)
                if shape is None:  # a few kernels, each a k x k face with its depth
                    depth = g.weight_shape[1]
                    kf = 12 + 3 * min(max(g.kernel_size), 6)
                    shown = min(g.weight_shape[0], 3)
                    for s in range(shown):
                        bw, bh = cuboid_size(kf, kf, depth)
                        colour = theme.group_colour(s) if g.groups > 1 else theme.grid
                        draw_cuboid(sheet, x0 + 4 + s * 26, centre - bh / 2 + s * 4, kf, kf, depth, fill=fill,
                                    edge=colour)
                    sheet.text(x0 + pict_w / 2, label_y, f"× {g.weight_shape[0]}", pt=BODY_PT, ha="center",
                              bold=True)
                    sheet.text(x0 + pict_w / 2, label_y + lh, shape_text(g.weight_shape), pt=SMALL_PT,
                              ha="center", colour=theme.muted_text)
                else:
                    fw, fh = face(shape)
                    bw, bh = cuboid_size(fw, fh, shape[0])
                    draw_cuboid(sheet, x0 + (pict_w - bw) / 2, centre - bh / 2, fw, fh, shape[0], fill=fill)
                    sheet.text(x0 + pict_w / 2, label_y, label, pt=BODY_PT, ha="center")
                    sheet.text(x0 + pict_w / 2, label_y + lh, role, pt=SMALL_PT, ha="center",
                              colour=theme.muted_text)
                if j < 2:
                    sheet.arrow(x0 + pict_w + 1, centre, x0 + pict_w + 25, centre)
            ty = y + line_height(HEAD_PT) + 4 + (pictures_h(g) + 6 if stacked else 0)
            for i, (line, bold) in enumerate(lines):
                sheet.text(text_x, ty + i * lh, line, pt=BODY_PT, bold=bold,
                          colour=theme.accent if bold else theme.text)
            y += row_h
        y += 12
        for (kind, fill, _), lines, (row, x) in zip(legend, legend_lines, legend_spots):
            x, row_y = MARGIN + x, y + row_tops[row] * lh
            if kind == "fill":
                sheet.rect(x, row_y + 1, LEGEND_SWATCH, 12, fill=fill, edge=theme.grid)
            else:  # the depthwise kernels' outlines, one colour per input channel
                for i in range(3):
                    sheet.rect(x + i * 9, row_y + 1 + i * 2, 10, 10, fill=theme.kernel, edge=theme.group_colour(i),
                               lw=1.4)
            for i, line in enumerate(lines):
                sheet.text(x + LEGEND_SWATCH + 6, row_y + i * lh, line, pt=BODY_PT)
        y += legend_h
        for i, line in enumerate(summary_lines):
            sheet.text(MARGIN, y + i * lh, line, pt=BODY_PT, colour=theme.accent)
        y += len(summary_lines) * lh + 4
        for i, line in enumerate(stack_lines):
            sheet.text(MARGIN, y + i * line_height(SMALL_PT), line, pt=SMALL_PT, colour=theme.muted_text)

    return [(render_page(width, theme, title, caption, body_h, draw), STILL_MS)]

