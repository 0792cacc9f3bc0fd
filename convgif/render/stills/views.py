"""Drawing the view stills (receptive field, conv as a matrix, upsampling, 3D window, feature maps) with the stills'
toolkit, every word from the label table in the theme's language, at the theme's font scale (see `zoom`).

Each `render_<kind>(spec, *, theme, width, title=None, caption=None)` returns (RGB uint8 frame, duration_ms)
pairs. Every number drawn comes from the spec's methods (convgif.scene.stills_views, using the engine).
"""

from __future__ import annotations

import numpy as np

from convgif.engine.notation import pads_text, per_dim_text, shape_text
from convgif.render.primitives import MINUS, TIMES, fmt_number
from convgif.render.stills.toolkit import STILL_MS, VIEWS_PAGE, Cell, Frames, Sheet, flow, page, resolve_theme, words
from convgif.render.stills.zoom import layout_width
from convgif.render.theme import RGB, Theme, mix

MARGIN = VIEWS_PAGE.margin
measure, wrap = VIEWS_PAGE.measure, VIEWS_PAGE.wrap


def _sub(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def _cell_size(available: float, count: int, *, largest: int, smallest: int = 8) -> int:
    return int(max(smallest, min(largest, available // max(count, 1))))


def _fits_numbers(values: np.ndarray, cell: int, points: float = 9) -> bool:
    longest = max((measure(fmt_number(v), points) for v in np.ravel(values)), default=0)
    return longest <= cell - 3


LEGEND_PT, LEGEND_ROW = 9, 20


def _legend_places(entries: list[tuple[dict, str]], x: float, width: float) -> list[tuple[int, float]]:
    """(row, x) of each swatch and its label, left to right from `x`, wrapping inside a page `width` wide (or
    before x = `width` − MARGIN)."""
    return flow([16 + 6 + measure(text, LEGEND_PT) + 18 for _, text in entries], width - MARGIN, start=x)


def _legend_height(entries: list[tuple[dict, str]], x: float, width: float) -> float:
    return (_legend_places(entries, x, width)[-1][0] + 1) * LEGEND_ROW + 2


def _legend(sheet: Sheet, x: float, y: float, entries: list[tuple[dict, str]], width: float | None = None) -> float:
    """Swatches with labels left to right, wrapping (before `width` − MARGIN: the page's width unless given);
    returns the y below the legend."""
    width = sheet.width if width is None else width
    for (style, text), (row, cursor) in zip(entries, _legend_places(entries, x, width)):
        sheet.rect(cursor, y + row * LEGEND_ROW, 16, 14, **style)
        sheet.text(cursor + 22, y + row * LEGEND_ROW + 7, text, pt=LEGEND_PT, colour=sheet.theme.muted_text,
                   va="center")
    return y + _legend_height(entries, x, width)


def arguments_text(say, g) -> str:
    """A layer's arguments (`g`: its geometry) in the words and notation of the animations' subtitles ("kernel 3×3 ·
    stride 2 · padding 1"), output padding and dilation only where they are not the default, as there."""
    parts = [say("kernel_shape", shape=shape_text(g.kernel_size)), say("stride", value=per_dim_text(g.stride)),
             say("padding_value", value=pads_text(g.padding))]
    if any(getattr(g, "output_padding", ())):
        parts.append(say("output_padding_value", value=per_dim_text(g.output_padding)))
    if any(d > 1 for d in g.dilation):
        parts.append(say("dilation", value=per_dim_text(g.dilation)))
    return " \u00b7 ".join(parts)


def growth_text(index: int, growth) -> str:
    """'r₂ = 3 + (3 − 1)×2×1 = 7': how layer `index` (from 1) grew the receptive field, with its numbers."""
    return (f"r{_sub(index)} = {growth.before} + ({growth.kernel} {MINUS} 1)×{growth.dilation}×{growth.jump}"
            f" = {growth.size}")


# ---- receptive_field ------------------------------------------------------------------------------

def render_receptive_field(spec, *, theme: Theme | str, width: int, title: str | None = None,
                           caption: str | None = None) -> Frames:
    """Every grid of the stack left to right; one output cell and the region it sees in each earlier grid."""
    theme = resolve_theme(theme)
    width, say = layout_width(width, theme), words(theme)
    geometries = spec.geometries()
    shapes = [g.input_shape for g in geometries] + [geometries[-1].output_shape]
    growth = spec.growth()
    gap = 46
    total_cols = sum(s[2] for s in shapes)
    cell = _cell_size(width - 2 * MARGIN - gap * (len(shapes) - 1), total_cols, largest=30)
    grid_w = [s[2] * cell for s in shapes]
    used = sum(grid_w) + gap * (len(shapes) - 1)
    lefts = [MARGIN + (width - 2 * MARGIN - used) / 2 + sum(grid_w[:i]) + gap * i for i in range(len(shapes))]
    max_h = max(s[1] for s in shapes) * cell
    top = VIEWS_PAGE.body_top(title, width) + 10
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
            grown = growth[index - 1]
            lines.append((arguments_text(say, g), 9.5, False, theme.muted_text))
            lines.append((growth_text(index, grown), 9.5, False, theme.text))
            lines.append((say("rf_size", r=grown.size), 10, True, theme.accent))
        static.append([(part, pts, bold, colour) for text, pts, bold, colour in lines
                       for part in wrap(text, pts, column_w[index], bold)])
    cells = spec.shown_cells()
    all_regions = [spec.regions(output_cell) for output_cell in cells]
    notes = []
    for output_cell, regions in zip(cells, all_regions):
        per_grid = []
        for index, region in enumerate(regions):
            if index == len(regions) - 1:
                note = say("rf_cell", row=output_cell[0], col=output_cell[1])
            else:
                seen = int(region.mask.sum())
                note = (say("rf_sees", rows=region.tall, cols=region.wide) if seen == region.tall * region.wide else
                        say("rf_sees_gaps", count=seen, rows=region.tall, cols=region.wide))
                note += say("rf_cut") if region.cut else ""
            per_grid.append(wrap(note, 9.5, column_w[index]))
        notes.append(per_grid)
    static_h = max(sum(17 for _ in lines) for lines in static)
    note_y = label_y + static_h + 2
    note_h = 17 * max(len(n) for per_grid in notes for n in per_grid)
    formula = say("rf_formula", r0="r₀ = 1", rule="rₗ = rₗ₋₁ + (kₗ − 1)×dₗ×jₗ₋₁", jump="jₗ₋₁ = s₁×…×sₗ₋₁",
                  symbols="kₗ, dₗ, sₗ", layer="ℓ", j="jₗ₋₁", previous="ℓ−1", j0="j₀ = 1")
    formula_lines = wrap(formula, 9.5, width - 2 * MARGIN)
    legend_y = note_y + note_h + 10
    legend = [
        (dict(fill=theme.output_current, edge=theme.output_current), say("rf_chosen")),
        (dict(fill=theme.tap, edge=theme.grid), say("rf_depends")),
    ]
    if any(g.dilation[0] > 1 for g in geometries):
        legend.append((dict(fill=theme.input, edge=theme.gap, lw=2), say("rf_gap")))
    legend.append((dict(fill=None, edge=theme.window, lw=2.2), say("rf_span")))  # the frames and the lines joining them
    after_legend = legend_y + max(44, _legend_height(legend, MARGIN, width) + 6) + 17 * len(formula_lines) + 8

    sheet = page(width, theme, VIEWS_PAGE, title, caption, after_legend)
    for index, (shape, left, grid_top) in enumerate(zip(shapes, lefts, tops)):
        sheet.grid(left, grid_top, cell, None, fill=np.full((shape[1], shape[2], 3), theme.input, dtype=np.uint8))
        for i, (text, pts, bold, colour) in enumerate(static[index]):
            sheet.centred_text(left + grid_w[index] / 2, label_y + 17 * i, text, inset=MARGIN / 2, pt=pts, bold=bold,
                               colour=colour, va="top")
    legend_end = _legend(sheet, MARGIN, legend_y, legend)
    for i, line in enumerate(formula_lines):
        sheet.text(MARGIN, legend_end + 17 * i, line, pt=9.5, colour=theme.text, ha="left", va="top")

    frames: Frames = []
    for regions, per_grid in zip(all_regions, notes):
        transient = []
        boxes = []
        for index, (region, left, grid_top) in enumerate(zip(regions, lefts, tops)):
            (r0, r1), (c0, c1) = region.rows, region.cols
            boxes.append((left + c0 * cell, grid_top + r0 * cell, left + (c1 + 1) * cell, grid_top + (r1 + 1) * cell))
            last_grid = index == len(regions) - 1
            marked = []  # the cells the output depends on, and the gaps between them inside its box
            for r, c in np.ndindex(*region.mask.shape):
                x, y = left + c * cell, grid_top + r * cell
                if region.mask[r, c]:
                    colour = theme.output_current if last_grid else theme.tap
                    marked.append(Cell(x, y, cell, cell, colour, theme.grid, 0.8))
                elif r0 <= r <= r1 and c0 <= c <= c1:
                    marked.append(Cell(x + 2, y + 2, cell - 4, cell - 4, None, theme.gap, 1.6))
            transient.append(sheet.cells(marked, z=2))
            transient.append(sheet.rect(boxes[-1][0], boxes[-1][1], boxes[-1][2] - boxes[-1][0],
                                        boxes[-1][3] - boxes[-1][1], edge=theme.window, lw=2.2, z=3))
            for i, line in enumerate(per_grid[index]):
                transient.append(sheet.centred_text(left + grid_w[index] / 2, note_y + 17 * i, line,
                                                    inset=MARGIN / 2, pt=9.5, colour=theme.window, va="top",
                                                    bold=True))
        for (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) in zip(boxes, boxes[1:]):
            transient.append(sheet.line([ax1, bx0], [ay0, by0], colour=theme.window, lw=1.0, z=4))
            transient.append(sheet.line([ax1, bx0], [ay1, by1], colour=theme.window, lw=1.0, z=4))
        frames.append((sheet.frame(), 2500))
        for artist in transient:
            artist.remove()
    return frames


# ---- conv_matrix ----------------------------------------------------------------------------------

def render_conv_matrix(spec, *, theme: Theme | str, width: int, title: str | None = None,
                       caption: str | None = None) -> Frames:
    """Y = C X with C drawn; then one frame per output element: its row of C, the X it touches, the product."""
    theme = resolve_theme(theme)
    width, say = layout_width(width, theme), words(theme)
    g = spec.geometry
    product = spec.product()
    kernel, x, y, layout, matrix = product.kernel, product.x, product.y, product.layout, product.matrix
    _, h, w = g.input_shape
    _, ho, wo = g.output_shape
    rows, cols = layout.shape

    label_w = 70  # room for "(r, c)" labels right of X
    gaps = 28 * 3
    cell = _cell_size(width - 2 * MARGIN - gaps - label_w - 2 * 40, cols + 2, largest=32, smallest=10)
    numbers = _fits_numbers(np.concatenate([matrix.ravel(), y.ravel(), x.ravel()]), cell)
    top = VIEWS_PAGE.body_top(title, width) + 26
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
    # every look named: the frames paint C's weights, the entries one output multiplies, its row and window, the
    # output it makes and the others (the figure had no legend)
    legend = [(dict(fill=theme.kernel, edge=theme.grid), say("cm_legend_weight")),
              (dict(fill=theme.tap, edge=theme.grid), say("cm_legend_tap")),
              (dict(fill=None, edge=theme.window, lw=2.5), say("cm_legend_row")),
              (dict(fill=theme.output_current, edge=theme.grid), say("cm_legend_current")),
              (dict(fill=theme.output_done, edge=theme.grid), say("cm_legend_output"))]
    if any(b or a for b, a in g.padding):
        legend.append((dict(fill=theme.padding, edge=theme.padding_edge, dashed=True), say("cm_legend_padding")))
    legend_right = x_left - 14 + MARGIN if beside_x else width  # (`_legend` wraps before its width − MARGIN)
    legend_top = text_top + 17 * text_lines + 4
    body_end = max(top + block_h, legend_top + _legend_height(legend, MARGIN, legend_right)) + 12

    # room is kept for the caption, which this figure has never drawn (drawing it now would change c01's pixels)
    sheet = Sheet(width, VIEWS_PAGE.page_height(body_end, caption, width), theme, VIEWS_PAGE)
    sheet.draw_title(title)
    # static: Y, =, C, X, headers
    sheet.text(y_left + cell / 2, top - 12, "Y", pt=11, bold=True, ha="center", va="center")
    sheet.text(c_left + cols * cell / 2, top - 12, say("cm_header", rows=rows, cols=cols), pt=11, bold=True,
               ha="center", va="center")
    sheet.text(x_left + cell / 2, top - 12, "X", pt=11, bold=True, ha="center", va="center")
    sheet.text(eq_x + 7, top + rows * cell / 2, "=", pt=16, bold=True, ha="center", va="center")
    # values always go in (they give the grid its shape); `shown` hides them when the cells are too small
    hidden_y = None if numbers else np.zeros((rows, 1), dtype=bool)
    sheet.grid(y_left, top, cell, y.reshape(-1, 1), shown=hidden_y, fill=theme.output_done,
               text_colour=theme.output_done_text)
    fills = np.empty((rows, cols, 3), dtype=np.uint8)
    fills[:] = theme.input
    fills[layout >= 0] = theme.kernel
    shown = layout >= 0
    sheet.grid(c_left, top, cell, matrix if numbers else None, fill=fills, text_colour=theme.kernel_text,
               shown=shown, edge=mix(theme.grid, theme.background, 0.5))
    sheet.rect(c_left, top, cols * cell, rows * cell, edge=theme.text, lw=1.2, z=3)
    sheet.grid(x_left, top, cell, x.reshape(-1, 1), shown=None if numbers else np.zeros((cols, 1), dtype=bool),
               fill=theme.input)
    for k in range(cols):
        sheet.text(x_left + cell + 6, top + (k + 0.5) * cell, f"({k // w}, {k % w})", pt=9,
                   colour=theme.muted_text, ha="left", va="center")
    # static inset frames: padded input, kernel, output
    in_left = inset_left
    k_left = in_left + pw * icell + 36
    o_left = k_left + g.kernel_size[1] * icell + 36
    sheet.text(in_left, inset_top, say("input_shape", shape=f"{h}{TIMES}{w}")
               + (say("cm_padded") if ph != h or pw != w else ""), pt=9.5, bold=True, ha="left", va="top")
    sheet.text(k_left, inset_top, say("kernel_shape", shape=f"{g.kernel_size[0]}{TIMES}{g.kernel_size[1]}"), pt=9.5,
               bold=True, ha="left", va="top")
    sheet.text(o_left, inset_top, say("output_shape", shape=f"{ho}{TIMES}{wo}"), pt=9.5, bold=True, ha="left",
               va="top")
    grid_top = inset_top + 20
    padded, is_pad = product.padded, product.is_pad
    pad_fill = np.empty((ph, pw, 3), dtype=np.uint8)
    pad_fill[:] = theme.input
    pad_fill[is_pad] = theme.padding
    sheet.grid(in_left, grid_top, icell, padded, fill=pad_fill, shown=~is_pad, pt=8.5)
    for r, c in zip(*np.nonzero(is_pad)):
        sheet.rect(in_left + c * icell + 2, grid_top + r * icell + 2, icell - 4, icell - 4, edge=theme.padding_edge,
                   lw=0.8, dashed=True, z=2)
    sheet.grid(k_left, grid_top, icell, kernel, fill=theme.kernel, text_colour=theme.kernel_text, pt=8.5)
    sheet.grid(o_left, grid_top, icell, y, fill=theme.output_done, text_colour=theme.output_done_text, pt=8.5)

    _legend(sheet, MARGIN, legend_top, legend, legend_right)
    frames: Frames = []
    intro = (say("cm_intro", count=kernel.size)
             + (say("cm_intro_padding") if any(b or a for b, a in pad) else "")
             + say("cm_intro_zeros", zeros=product.structural_zeros, total=layout.size))
    artists = [sheet.text(MARGIN, text_top + 17 * i, line, pt=9.5, ha="left", va="top")
               for i, line in enumerate(wrap(intro, 9.5, text_width_px)[:text_lines])]
    frames.append((sheet.frame(), 3500))
    for artist in artists:
        artist.remove()
    for n in range(rows):
        oi, oj = divmod(n, wo)
        used = product.taps(n)
        transient = [sheet.rect(c_left, top + n * cell, cols * cell, cell, edge=theme.window, lw=2.5, z=4),
                     sheet.rect(y_left, top + n * cell, cell, cell, fill=theme.output_current, edge=theme.grid, z=4)]
        if numbers:
            transient.append(sheet.text(y_left + cell / 2, top + (n + 0.5) * cell, fmt_number(y.reshape(-1)[n]),
                                        pt=9, colour=theme.output_current_text, bold=True, z=5, ha="center",
                                        va="center"))
        taps = [(k, left, top + n * cell if left != x_left else top + k * cell)  # in the matrix row, in x
                for k in used for left in (c_left + k * cell, x_left)]
        transient.append(sheet.cells([Cell(left, yy, cell, cell, theme.tap, theme.grid) for _, left, yy in taps], z=4))
        for k, left, yy in taps if numbers else ():
            value = matrix[n, k] if left != x_left else x.reshape(-1)[k]
            transient.append(sheet.text(left + cell / 2, yy + cell / 2, fmt_number(value), pt=9,
                                        colour=theme.tap_text, z=5, ha="center", va="center"))
        # inset: window on the padded input, output cell
        oy, ox = oi * g.stride[0], oj * g.stride[1]
        span = g.effective_kernel_size
        transient.append(sheet.rect(in_left + ox * icell, grid_top + oy * icell, span[1] * icell, span[0] * icell,
                                    edge=theme.window, lw=2.5, z=4))
        tapped = [(oy + g.dilation[0] * a, ox + g.dilation[1] * b) for a, b in np.ndindex(*g.kernel_size)]
        transient.append(sheet.cells([Cell(in_left + tc * icell, grid_top + tr * icell, icell, icell, theme.tap,
                                           theme.grid, 0.8) for tr, tc in tapped if not is_pad[tr, tc]], z=1.2))
        transient.append(sheet.rect(o_left + oj * icell, grid_top + oi * icell, icell, icell,
                                    fill=theme.output_current, edge=theme.grid, z=4))
        transient.append(sheet.text(o_left + (oj + 0.5) * icell, grid_top + (oi + 0.5) * icell,
                                    fmt_number(y[oi, oj]), pt=8.5, colour=theme.output_current_text, z=5,
                                    ha="center", va="center"))
        terms = [f"{_paren(matrix[n, k])}×{_paren(x.reshape(-1)[k])}" for k in used]
        worked = _elided_sum(terms, say) + f" = {fmt_number(y.reshape(-1)[n])}"
        # the row's arithmetic in the accent colour on every line it wraps to, then the note on its taps
        formula = wrap(say("cm_row", sub=_sub(n), n=n) + worked, 9.5, text_width_px)
        note = wrap((say("cm_taps", row=oi, col=oj, used=len(used), total=kernel.size)
                     + (say("cm_taps_padding", count=kernel.size - len(used)) if len(used) < kernel.size
                        else say("cm_taps_end"))).strip(), 9.5, text_width_px)
        lines = [(line, theme.accent) for line in formula] + [(line, theme.text) for line in note]
        for i, (line, colour) in enumerate(lines[:text_lines]):
            transient.append(sheet.text(MARGIN, text_top + 17 * i, line, pt=9.5, ha="left", va="top", colour=colour))
        frames.append((sheet.frame(), 1500 if n < rows - 1 else 3000))
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

def render_upsample_compare(spec, *, theme: Theme | str, width: int, title: str | None = None,
                            caption: str | None = None) -> Frames:
    """Input, nearest and bilinear upsampling, and a transposed conv's output side by side, with numbers."""
    theme = resolve_theme(theme)
    pixels, say = width, words(theme)
    x = np.array(spec.input, dtype=np.float64)
    t = spec.transposed
    weights = np.array(t.weights, dtype=np.float64)
    g = spec.transposed_geometry
    nearest, bilinear, learned = spec.outputs()
    panels = [  # (values, name, parameters, how, learned)
        (nearest, say("up_nearest", times=TIMES, scale=spec.scale_factor), say("no_parameters"), say("up_nearest_how"),
         False),
        (bilinear, say("up_bilinear", times=TIMES, scale=spec.scale_factor), say("no_parameters"),
         say("up_bilinear_how"), False),
        (learned, say("up_transposed"), say("up_learned", k=t.kernel_size, count=g.weight_count),
         arguments_text(say, g), True),
    ]
    gap = 26
    # a large font scale zooms only as far as each panel's title and parameter line still fit in its third
    widest = max(measure(f"{name} → {TIMES.join(map(str, values.shape))}", 10, bold=True)
                 for values, name, *_ in panels)
    widest = max(widest, *(measure(params, 10, bold=True) for _, _, params, *_ in panels))
    width = layout_width(pixels, theme, needs=2 * MARGIN + 2 * gap + 3 * (widest + 6))
    panel_w = (width - 2 * MARGIN - 2 * gap) / 3
    cell = _cell_size(panel_w, max(p[0].shape[1] for p in panels), largest=40, smallest=12)
    top = VIEWS_PAGE.body_top(title, width) + 8
    small = max(cell, 30)
    top_grid_y = top + 22
    top_h = max(x.shape[0], t.kernel_size) * small
    row2 = top_grid_y + top_h + 40
    big_h = max(p[0].shape[0] for p in panels) * cell
    labels_y = row2 + 22 + big_h + 8
    shade_lines = wrap(say("up_shade"), 9.5, width - 2 * MARGIN)  # what the cells' shading says
    shade_top = labels_y + 3 * 17 + 6
    caption_top = shade_top + 17 * len(shade_lines) + 10
    sheet = page(width, theme, VIEWS_PAGE, title, caption, caption_top, zoom=pixels / width)

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
    sheet.text(in_left + in_w / 2, top, say("input_shape", shape=f"{x.shape[0]}{TIMES}{x.shape[1]}"), pt=10, bold=True,
               va="top", ha="center")
    sheet.grid(in_left, top_grid_y, small, x, fill=shaded(x), pt=9.5)
    k_left = lefts[2] + panel_w / 2 - t.kernel_size * small / 2
    sheet.text(k_left + t.kernel_size * small / 2, top, say("up_weights", shape=f"{t.kernel_size}{TIMES}{t.kernel_size}"),
               pt=10, bold=True, va="top", ha="center")
    sheet.grid(k_left, top_grid_y, small, weights, fill=theme.kernel, text_colour=theme.kernel_text, pt=9.5)
    sheet.text(width / 2, top_grid_y + top_h + 20,
               say("up_three_ways"), pt=9.5, colour=theme.muted_text, ha="center", va="center")
    for left, (values, name, params, how, trained) in zip(lefts, panels):
        grid_w = values.shape[1] * cell
        gx = left + (panel_w - grid_w) / 2
        sheet.text(left + panel_w / 2, row2, f"{name} → {TIMES.join(map(str, values.shape))}", pt=10, bold=True,
                   va="top", ha="center")
        points = 9 if _fits_numbers(values, cell, 9) else 8
        sheet.grid(gx, row2 + 22, cell, values if _fits_numbers(values, cell, points) else None,
                   fill=shaded(values), pt=points)
        sheet.text(left + panel_w / 2, labels_y, params, pt=10, bold=True, va="top",
                   colour=theme.bias if trained else theme.muted_text, ha="center")
        for i, line in enumerate(wrap(how, 9, panel_w)[:2]):
            sheet.text(left + panel_w / 2, labels_y + 17 * (i + 1), line, pt=9, colour=theme.muted_text, va="top",
                       ha="center")
    for i, line in enumerate(shade_lines):
        sheet.text(width / 2, shade_top + 17 * i, line, pt=9.5, colour=theme.muted_text, va="top", ha="center")
    return [(sheet.frame(), STILL_MS)]


# ---- multichannel_3d ------------------------------------------------------------------------------

_PURE_HUES = {"R": (255, 0, 0), "G": (0, 255, 0), "B": (0, 0, 255)}
_NEAR = 60  # RGB distance under which two outlines read as the same colour


def _distance(a: RGB, b: RGB) -> float:
    return sum((x - y) ** 2 for x, y in zip(a, b)) ** 0.5


def channel_colours(theme: Theme, names: list[str]) -> list[RGB]:
    """A colour per channel from the theme's group colours, none near a colour with another role in the still
    (the window box, tapped cells, the output cell); channels named R, G and B take the free hue nearest theirs.
    """
    others = (theme.window, theme.tap, theme.output_current)
    free = ([c for c in theme.groups if min(_distance(c, other) for other in others) > _NEAR]
            or [c for c in theme.groups if c != theme.window])  # a grey theme: its names tell channels apart
    colours: list[RGB] = []
    for name in names:
        unused = [c for c in free if c not in colours] or free
        pure = _PURE_HUES.get(name)
        colours.append(min(unused, key=lambda c: _distance(c, pure)) if pure else unused[0])
    return colours



def render_multichannel_3d(spec, *, theme: Theme | str, width: int, title: str | None = None,
                           caption: str | None = None) -> Frames:
    """An m-channel input as a 3D stack with the k×k×m window, then the same as m slices and their sums."""
    theme = resolve_theme(theme)
    pixels, say = width, words(theme)
    trace, step = spec.worked_step()
    weight = trace.weight
    g = trace.geometry
    m, h, w = g.input_shape
    k = spec.kernel_size
    _, ho, wo = g.output_shape
    names = list(spec.channel_names) if spec.channel_names else [say("channel_name", channel=c) for c in range(m)]
    colours = channel_colours(theme, names)
    padded = trace.padded_input[0]
    pad_cells = trace.padding_cells
    ph, pw = padded.shape[1:]
    cell3, scell = 26, 24
    depth = 0.8 * cell3  # how far each deeper channel is shifted up and right
    # the grids have fixed cells: a large font scale zooms only as far as the slice rows still fit
    sums = [say("mc_sum", name=names[c], value=fmt_number(step.channel_sums[c])) for c in range(m)]
    slice_row = (2 * MARGIN + max(measure(n, 10.5, bold=True) for n in names) + 14 + pw * scell + 12
                 + 26 + k * scell + 10 + 24 + k * max(_product_cell(step.tap_products[c], scell) for c in range(m)) + 12
                 + max(max(measure(t, 10.5, bold=True) for t in sums),
                       measure(say("mc_products"), 9)))  # the note under the first row's sum
    width = layout_width(pixels, theme, needs=slice_row)

    top = VIEWS_PAGE.body_top(title, width) + 6
    stack_top = top + 26 + (m - 1) * depth
    stack_h = ph * cell3
    slices_top = stack_top + stack_h + 62
    row_h = max(ph, k) * scell + 30
    sum_top = slices_top + 24 + m * row_h + 4
    parts = " + ".join(_paren(v) for v in step.channel_sums)
    bias_text = say("bias_term", value=fmt_number(step.bias)) if step.bias is not None else ""  # as the frames write it
    output_lines = wrap(say("mc_output", row=step.position[0], col=step.position[1], parts=parts, bias=bias_text,
                             value=fmt_number(step.value)), 11, width - 2 * MARGIN, bold=True)
    explain_lines = wrap(say("mc_explain", m=m) + (say("mc_then_bias") if step.bias is not None else ""), 9.5,
                          width - 2 * MARGIN)
    explain_top = sum_top + 22 + (len(output_lines) - 1) * 20
    caption_top = explain_top + 30 + (len(explain_lines) - 1) * 17
    channels = [say("mc_legend_channel", name=n) for n in names] if spec.channel_names else names  # not "channel ch 0"
    legend = _window_legend(theme, say, channels, colours, k, m, padded=bool(spec.padding))
    legend_top = caption_top + 4
    legend_end = legend_top + _legend_height(legend, MARGIN, width)
    sheet = page(width, theme, VIEWS_PAGE, title, caption, legend_end, zoom=pixels / width)
    hidden: list[tuple[float, float, float, float]] = []  # the window box's hidden edges, drawn last

    def card_stack(left: float, values: np.ndarray, fill: RGB, front_text: RGB, window: tuple | None,
                   pads: np.ndarray | None, label: str, *, named: bool) -> float:
        rows, cols = values.shape[1:]
        if named:  # names sit in the staircase notches left of each card's top edge
            left += max(measure(n, 9, bold=True) for n in names) + 6
        for c in reversed(range(m)):
            dx, dy = c * depth, -c * depth
            z = 1 + (m - c) * 10
            card = []
            for r, cc in np.ndindex(rows, cols):
                is_pad = pads is not None and pads[r, cc]
                tapped = window is not None and window[0] <= r < window[0] + k and window[1] <= cc < window[1] + k
                # an input card tinted with its channel's colour; a kernel slice in the legend's kernel colour, its
                # channel told by its outline (tinted, the R slice was a brown the legend does not show)
                plain = mix(colours[c], fill, 0.18) if fill == theme.input else fill
                colour = theme.padding if is_pad else (theme.tap if tapped else plain)
                card.append(Cell(left + dx + cc * cell3, stack_top + dy + r * cell3, cell3, cell3, colour, theme.grid,
                                 0.7))
            sheet.cells(card, z=z)
            for r, cc in np.ndindex(rows, cols):
                if c == 0 and not (pads is not None and pads[r, cc]):
                    sheet.text(left + (cc + 0.5) * cell3, stack_top + (r + 0.5) * cell3, fmt_number(values[c, r, cc]),
                               pt=9, colour=front_text, z=z + 1, ha="center", va="center")
            sheet.rect(left + dx, stack_top + dy, cols * cell3, rows * cell3, edge=colours[c], lw=2, z=z + 2)
            if named:
                sheet.text(left + dx - 3, stack_top + dy + depth / 2, names[c], pt=9, colour=colours[c],
                           ha="right", va="center", bold=True, z=z + 2)
            if window is not None:
                wx, wy = left + dx + window[1] * cell3, stack_top + dy + window[0] * cell3
                sheet.rect(wx, wy, k * cell3, k * cell3, edge=theme.window, lw=2.2, z=z + 3)
                if c > 0:  # the box's back faces, hidden by the cards in front
                    side = k * cell3
                    hidden.extend([(wx, wy, wx + side, wy), (wx + side, wy, wx + side, wy + side),
                                   (wx + side, wy + side, wx, wy + side), (wx, wy + side, wx, wy)])
        if window is not None and m > 1:  # the box's depth edges, front corners to back corners
            back = (m - 1) * depth
            x0, y0 = left + window[1] * cell3, stack_top + window[0] * cell3
            hidden.extend((x0 + cx * cell3, y0 + cy * cell3, x0 + cx * cell3 + back, y0 + cy * cell3 - back)
                          for cx, cy in [(0, 0), (k, 0), (k, k), (0, k)])
        sheet.text(left + cols * cell3 / 2 + (m - 1) * depth / 2, stack_top + rows * cell3 + 8, label, pt=10,
                   bold=True, va="top", ha="center")
        return left + cols * cell3 + (m - 1) * depth

    origin = step.window_origin
    inputs_end = card_stack(MARGIN, padded, theme.input, theme.input_text, origin, pad_cells,
                            say("input_shape", shape=f"{m}{TIMES}{h}{TIMES}{w}")
                            + (say("mc_padding", padding=spec.padding) if spec.padding else ""),
                            named=True)
    sheet.text(inputs_end + 22, stack_top + stack_h / 2, "\u2217", pt=18, ha="center", va="center")  # convolved with
    kernel_end = card_stack(inputs_end + 44, weight[0], theme.kernel, theme.kernel_text, None, None,
                            say("kernel_shape", shape=f"{k}{TIMES}{k}{TIMES}{m}"), named=False)
    sheet.text(kernel_end + 24, stack_top + stack_h / 2, "=", pt=18, bold=True, ha="center", va="center")
    out_left = kernel_end + 48
    fills = np.empty((ho, wo, 3), dtype=np.uint8)
    fills[:] = theme.output_empty
    fills[step.position] = theme.output_current
    ocell = min(cell3, int((width - MARGIN - out_left) / max(wo, 1)))
    sheet.grid(out_left, stack_top, ocell, None, fill=fills)
    sheet.text(out_left + (step.position[1] + 0.5) * ocell, stack_top + (step.position[0] + 0.5) * ocell,
               fmt_number(step.value), pt=9, colour=theme.output_current_text, bold=True, z=7, ha="center", va="center")
    sheet.text(out_left + wo * ocell / 2, stack_top + ho * ocell + 8, say("output_shape", shape=f"{ho}{TIMES}{wo}"),
               pt=10, bold=True,
               va="top", ha="center")

    sheet.text(MARGIN, slices_top, say("mc_same_window", window=f"{k}{TIMES}{k}{TIMES}{m}", slice=f"{k}{TIMES}{k}"),
               pt=10.5, bold=True, ha="left", va="top")
    for c in range(m):
        row_top = slices_top + 24 + c * row_h
        sheet.text(MARGIN, row_top + 10, names[c], pt=10.5, bold=True, colour=colours[c], ha="left", va="top")
        left = MARGIN + max(measure(n, 10.5, bold=True) for n in names) + 14
        fills = np.empty((ph, pw, 3), dtype=np.uint8)
        fills[:] = mix(colours[c], theme.input, 0.12)
        wr, wc = origin
        fills[wr:wr + k, wc:wc + k] = theme.tap
        fills[pad_cells] = theme.padding  # padding keeps its look inside the window too
        sheet.grid(left, row_top, scell, padded[c], fill=fills, shown=~pad_cells, pt=8.5)
        sheet.cells([Cell(left + cc * scell + 2, row_top + r * scell + 2, scell - 4, scell - 4, None,
                          theme.padding_edge, 0.8, dashed=True) for r, cc in zip(*np.nonzero(pad_cells))], z=1.2)
        for r, cc in zip(*np.nonzero(pad_cells)):
            if wr <= r < wr + k and wc <= cc < wc + k:
                sheet.text(left + (cc + 0.5) * scell, row_top + (r + 0.5) * scell, "0", pt=8.5,
                           colour=theme.padding_text, z=1.5, ha="center", va="center")
        sheet.rect(left + wc * scell, row_top + wr * scell, k * scell, k * scell, edge=theme.window, lw=2.2, z=3)
        left += pw * scell + 12
        sheet.text(left + 10, row_top + k * scell / 2, "⊙", pt=14, ha="center", va="center")
        left += 26
        sheet.grid(left, row_top, scell, step.weights[c], fill=theme.kernel, text_colour=theme.kernel_text, pt=8.5)
        left += k * scell + 10
        sheet.text(left + 8, row_top + k * scell / 2, "=", pt=14, bold=True, ha="center", va="center")
        left += 24
        pcell = _product_cell(step.tap_products[c], scell)
        sheet.grid(left, row_top, pcell, step.tap_products[c], fill=_products_fill(theme), pt=8.5)
        left += k * pcell + 12
        sheet.text(left, row_top + k * scell / 2, say("mc_sum", name=names[c], value=fmt_number(step.channel_sums[c])),
                   pt=10.5,
                   colour=theme.accent, bold=True, ha="left", va="center")
        if c == 0:
            sheet.text(left, row_top + k * scell / 2 + 18, say("mc_products"), pt=9,
                       colour=theme.muted_text, ha="left", va="center")
    for i, line in enumerate(output_lines):
        sheet.text(MARGIN, sum_top + 20 * i, line, pt=11, bold=True, colour=theme.accent, ha="left", va="top")
    for i, line in enumerate(explain_lines):
        sheet.text(MARGIN, explain_top + 17 * i, line, pt=9.5, colour=theme.muted_text, ha="left", va="top")
    _legend(sheet, MARGIN, legend_top, legend)
    # dashed through the cards in front, but broken wherever a digit or a name is in the way
    sheet.lines_clear_of_text(hidden, colour=theme.window, lw=1.2, z=100, dashed=True)
    return [(sheet.frame(), STILL_MS)]


def _window_legend(theme: Theme, say, channels: list[str], colours: list[RGB], k: int, m: int,
                   padded: bool) -> list[tuple[dict, str]]:
    """What each look of the 3D-window still means: the window box, its cells, padding, kernel, products, output
    and each channel's colour (`channels`: their legend texts)."""
    entries = [
        (dict(edge=theme.window, lw=2.2), say("mc_legend_window", window=f"{k}{TIMES}{k}{TIMES}{m}")),
        (dict(fill=theme.tap, edge=theme.grid), say("mc_legend_taps")),
    ]
    if padded:
        entries.append((dict(fill=theme.padding, edge=theme.padding_edge, dashed=True), say("mc_legend_padding")))
    entries += [
        (dict(fill=theme.kernel, edge=theme.grid), say("mc_legend_kernel")),
        (dict(fill=_products_fill(theme), edge=theme.grid), say("mc_legend_products")),
        (dict(fill=theme.output_current, edge=theme.grid), say("mc_legend_output")),
    ]
    entries += [(dict(fill=mix(colour, theme.input, 0.18), edge=colour, lw=2), text)
                for text, colour in zip(channels, colours)]
    return entries


def _products_fill(theme: Theme) -> RGB:
    return mix(theme.tap, theme.background, 0.45)


def _product_cell(products: np.ndarray, cell: int) -> int:
    """The products grid's cell: the slices' size, or 30 px when their numbers need it."""
    return max(cell, 30 if not _fits_numbers(products, cell, 8.5) else cell)


def _colour_scale_text(limit: float, signed: bool) -> str:
    """The range under a feature map: symmetric about 0 when it has negatives, else from 0."""
    if signed:
        return f"{fmt_number(-limit)} … 0 … {fmt_number(limit)}"
    return f"0 … {fmt_number(limit)}"


def _paren(value: float) -> str:
    text = fmt_number(value)
    return f"({text})" if value < 0 else text


# ---- feature_maps ---------------------------------------------------------------------------------

def render_feature_maps(spec, *, theme: Theme | str, width: int, title: str | None = None,
                        caption: str | None = None) -> Frames:
    """An image, each preset kernel, the feature map it makes (conv2d, padding 1) and that map after ReLU."""
    theme = resolve_theme(theme)
    pixels, say = width, words(theme)
    image = spec.pixels()
    hh, ww = image.shape
    columns = spec.feature_maps(image)
    n = len(columns)
    gap = 16
    # a large font scale zooms only as far as each map's colour-scale label still fits under it
    scales = [_colour_scale_text(column.limit, column.signed) for column in columns]
    needs = 2 * MARGIN + gap * (n - 1) + n * (max(measure(t, 9) for t in scales) + 8)
    width = layout_width(pixels, theme, needs=needs)
    col_w = (width - 2 * MARGIN - gap * (n - 1)) / n
    map_w = min(col_w, ww * 3)
    map_h = map_w * hh / ww
    top = VIEWS_PAGE.body_top(title, width) + 6
    image_w = min((width - 2 * MARGIN) * 0.45, ww * 3)
    image_h = image_w * hh / ww
    kcell = 24
    notes = [say("fm_values"), say("fm_slides"), say("fm_output", shape=TIMES.join(map(str, spec.map_shape))),
             say("fm_colours"), say("fm_border")]
    if spec.relu:
        notes.append(say("fm_relu"))
    text_left = MARGIN + image_w + 24
    note_parts = [wrap(line, 9.5, width - MARGIN - text_left) for line in notes]
    notes_end = top + 24 + sum(15 * len(parts) + 8 for parts in note_parts) - 8
    kernels_top = max(top + 20 + image_h, notes_end) + 26  # under the image and under the notes beside it
    maps_top = kernels_top + 20 + 3 * kcell + 26
    bar = 8  # colour bar under each map
    relu_top = maps_top + 20 + map_h + bar + 24
    end = relu_top + (20 + map_h + bar + 24 if spec.relu else 0) + 10
    sheet = page(width, theme, VIEWS_PAGE, title, caption, end, zoom=pixels / width)

    sheet.text(MARGIN, top, say("fm_input", shape=f"{hh}{TIMES}{ww}"), pt=10, bold=True, ha="left", va="top")
    sheet.image(image, MARGIN, top + 20, image_w, image_h, cmap="gray", vmin=0, vmax=1, interpolation="antialiased")
    sheet.rect(MARGIN, top + 20, image_w, image_h, edge=theme.grid, lw=1, z=3)
    note_y = top + 24
    for parts in note_parts:
        for part in parts:
            sheet.text(text_left, note_y, part, pt=9.5, ha="left", va="top")
            note_y += 15
        note_y += 8
    for index, (column, scale) in enumerate(zip(columns, scales)):
        fmap, rectified, divisor, limit, signed = (column.values, column.rectified, column.divisor, column.limit,
                                                   column.signed)
        left = MARGIN + index * (col_w + gap)
        centre = left + col_w / 2
        sheet.text(centre, kernels_top, column.kernel, pt=10.5, bold=True, va="top", ha="center")
        kleft = centre - 1.5 * kcell - (18 if divisor != 1 else 0)
        sheet.grid(kleft, kernels_top + 20, kcell, column.numerators.astype(np.float64), fill=theme.kernel,
                   text_colour=theme.kernel_text, pt=9)
        if divisor != 1:
            sheet.text(kleft + 3 * kcell + 6, kernels_top + 20 + 1.5 * kcell, f"÷{divisor}", pt=9.5,
                       va="center")
        mleft = centre - map_w / 2
        sheet.text(centre, maps_top, say("feature_map"), pt=9.5, bold=True, va="top", ha="center")
        if signed:
            sheet.image(fmap, mleft, maps_top + 20, map_w, map_h, cmap="RdBu_r", vmin=-limit, vmax=limit,
                        interpolation="nearest")
        else:
            sheet.image(fmap, mleft, maps_top + 20, map_w, map_h, cmap="gray", vmin=0, vmax=limit,
                        interpolation="nearest")
        sheet.rect(mleft, maps_top + 20, map_w, map_h, edge=theme.grid, lw=1, z=3)
        ramp = np.linspace(-limit if signed else 0, limit, 64)[None]
        sheet.image(ramp, mleft, maps_top + 22 + map_h, map_w, bar, cmap="RdBu_r" if signed else "gray",
                    vmin=-limit if signed else 0, vmax=limit, interpolation="bilinear")
        sheet.text(centre, maps_top + 22 + map_h + bar + 2, scale, pt=9, colour=theme.muted_text, va="top", ha="center")
        if rectified is not None:
            high = column.rectified_high
            sheet.text(centre, relu_top, say("after_relu"), pt=9.5, bold=True, va="top", ha="center")
            sheet.image(rectified, mleft, relu_top + 20, map_w, map_h, cmap="gray", vmin=0, vmax=high,
                        interpolation="nearest")
            sheet.rect(mleft, relu_top + 20, map_w, map_h, edge=theme.grid, lw=1, z=3)
            sheet.image(np.linspace(0, high, 64)[None], mleft, relu_top + 22 + map_h, map_w, bar, cmap="gray",
                        vmin=0, vmax=high, interpolation="bilinear")
            sheet.text(centre, relu_top + 22 + map_h + bar + 2, f"0 … {fmt_number(high)}", pt=9,
                       colour=theme.muted_text, va="top", ha="center")
    return [(sheet.frame(), STILL_MS)]

