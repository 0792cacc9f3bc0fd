"""Pool and transposed-conv frames clear on a projector (issue 13): text at least 10 px, every mark named in the
legend with a look of its own, one notation (×, −, →, √), each formula once per frame, the 32×32 input of c11,
1D outputs under the inputs they come from, cells no window reads marked."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from convgif.engine.notation import typeset
from convgif.engine.trace_pool import pool_trace
from convgif.engine.trace_transpose import INPUT_VALUE
from convgif.render import View, get_theme
from convgif.render.layout_pool import PoolLayout
from convgif.render.primitives import Rect, Text, fmt_number
from convgif.scene import load_scene
from convgif.sources import build_trace, build_view

SCENES = Path(__file__).resolve().parent.parent / "scenes"
THEME = get_theme("light")
POOL_AND_TRANSPOSED = ["c05_max_pool", "c05_avg_pool", "c05_lp_pool", "c08_transposed_scatter",
                       "c08_transposed_zero_insertion", "c09_transposed_to_5x5", "c09_transposed_output_padding",
                       "c11_transposed_32_to_64", "zh_transposed_conv"]


def scene_view(name):
    scene = load_scene(SCENES / f"{name}.toml")
    trace = build_trace(scene)
    return build_view(scene, trace), trace


def texts(primitives):
    return [p for p in primitives if isinstance(p, Text)]


def every_frame(view, trace):
    """The primitives of the static layer, a few steps' transients and the hold frame's extras."""
    layout = view.layout
    steps = sorted({0, 1, len(trace) // 2, len(trace) - 1})
    return [layout.static(0), *(layout.transient(trace.step(k)) for k in steps), layout.final_transient()]


@pytest.mark.parametrize("name", POOL_AND_TRANSPOSED)
def test_no_frame_text_under_10_px(name):
    view, trace = scene_view(name)
    assert view.layout.width == 720
    small = {(t.text, t.size) for prims in every_frame(view, trace) for t in texts(prims) if t.size < 10}
    assert not small, (name, sorted(small)[:5])


def max_view():
    x = np.random.default_rng(3).permutation(36).reshape(1, 6, 6).astype(float)
    return View(pool_trace("max_pool2d", x, (2, 2), 2, 0), PoolLayout, title=None, caption=None, theme=THEME)


def looks(primitives, box_inside):
    """(fill, edge colour, edge width) of the rects drawn over the cell whose interior is `box_inside`."""
    x0, y0, x1, y1 = box_inside
    return {(p.fill, p.edge, p.line_width if p.edge else 0) for p in primitives if isinstance(p, Rect)
            and p.box[0] <= x0 + 1 and p.box[1] <= y0 + 1 and p.box[2] >= x1 - 1 and p.box[3] >= y1 - 1
            and p.box[2] - p.box[0] <= x1 - x0 + 8}


def test_max_selected_and_current_output_look_different_and_match_their_legend():
    view = max_view()
    layout, trace = view.layout, view.trace
    step = trace.step(0)
    prims = layout.transient(step)
    marked = tuple(np.asarray(step.tap_coords).reshape(-1, 2)[step.selected])
    sel_box, out_box = view.cell_box("input", 0, marked), view.cell_box("output", 0, (0, 0))
    frame = next(iter(view.frames([0])))
    sel_fill = tuple(int(v) for v in frame[(sel_box[1] + sel_box[3]) // 2 + 9, sel_box[0] + 5])
    out_fill = tuple(int(v) for v in frame[out_box[1] + 5, out_box[0] + 5])
    assert sel_fill != out_fill
    legend = {name: make((0, 0, 14, 14)) for _, _, name, make in layout.legend_rows}
    sel_swatch, cur_swatch = legend["max (selected)"][0], legend["current output"][0]
    assert (sel_swatch.fill, sel_swatch.edge) != (cur_swatch.fill, cur_swatch.edge)
    assert sel_swatch.fill != cur_swatch.fill and sel_swatch.edge != cur_swatch.edge
    assert sel_fill == sel_swatch.fill and out_fill == cur_swatch.fill
    drawn_edges = {(p.edge, p.line_width) for p in prims if isinstance(p, Rect) and p.edge is not None}
    assert (sel_swatch.edge, sel_swatch.line_width) in drawn_edges
    assert (cur_swatch.edge, cur_swatch.line_width) in drawn_edges
    tag = [t for t in texts(prims) if t.text == "max"]
    assert tag and tag[0].size >= 10


def test_lp_pool_writes_the_root_one_way():
    view, trace = scene_view("c05_lp_pool")
    line = " ".join(t.text for t in texts(view.layout.transient(trace.step(0))))
    assert "^" not in line and "(1/" not in line
    assert "\u221a(" in line and "\u00b2" in line
    p3 = pool_trace("lp_pool2d", np.ones((1, 4, 4)), (2, 2), 2, 0, norm_type=3)
    layout = View(p3, PoolLayout, title=None, caption=None, theme=THEME).layout
    assert "\u00b3\u221a(" in " ".join(t.text for t in texts(layout.transient(p3.step(0))))


def frame_lines(view, primitives):
    """The frame's text lines: words joined per baseline (arithmetic and notes are drawn one Text per word)."""
    rows: dict[float, list[Text]] = {}
    for t in texts(primitives):
        rows.setdefault(t.y, []).append(t)
    return [" ".join(t.text for t in sorted(row, key=lambda t: t.x)) for _, row in sorted(rows.items())]


@pytest.mark.parametrize("name", ["c08_transposed_scatter", "c08_transposed_zero_insertion", "c09_transposed_to_5x5",
                                  "c11_transposed_32_to_64", "c05_avg_pool"])
def test_each_formula_once_per_frame(name):
    view, trace = scene_view(name)
    layout = view.layout
    hold = frame_lines(view, layout.static(0) + layout.final_transient())
    rights = [typeset(formula).split(": ", 1)[1] for formula in trace.geometry.formulas]
    for right in set(rights):  # H and W may share a right side: at most one line each (or one "H, W:" line)
        shown = [line for line in hold if right in line]
        assert len(shown) <= rights.count(right), (name, right, shown)


ASCII_MINUS = re.compile(r"(^|[\s(\d])-($|[\s(\d])")


def test_one_notation_in_frame_text():
    for name in POOL_AND_TRANSPOSED:
        view, trace = scene_view(name)
        for prims in every_frame(view, trace):
            for t in texts(prims):
                assert "*" not in t.text and "->" not in t.text and "^(" not in t.text, (name, t.text)
                assert not ASCII_MINUS.search(t.text), (name, t.text)  # a hyphen inside a word is fine


def test_scatter_legend_names_the_kept_frame():
    view, trace = scene_view("c08_transposed_scatter")
    layout = view.layout
    legend = {name: make((0, 0, 14, 14)) for _, _, name, make in layout.legend_rows}
    looks_named = {(r.fill, r.edge, r.line_width) for swatch in legend.values() for r in swatch
                   if isinstance(r, Rect)}
    drawn = [p for p in layout.static(0) + layout.transient(trace.step(0)) if isinstance(p, Rect) and p.edge]
    for rect in drawn:  # every outline drawn (not the dashed padding border, named with its fill) has its swatch
        if not rect.dashed and rect.fill is None:
            assert any(edge == rect.edge and width == rect.line_width or edge == rect.edge and width >= 2
                       for _, edge, width in looks_named), rect
    assert "kept 5\u00d75" in legend


def test_c11_shows_its_32x32_input_beside_the_grid_and_output():
    view, trace = scene_view("c11_transposed_32_to_64")
    layout = view.layout
    (grid,) = layout.source_grids
    assert (grid.rows, grid.cols) == (32, 32) and grid.cell == layout.cell  # same scale as the 64×64 output
    assert any(t.text.startswith("input ch 0 \u00b7 32\u00d732") for t in texts(layout.static(0)))
    others = [*layout.input_grids, *layout.output_grids, *layout.kernel_grids]
    x0, y0, x1, y1 = grid.outer
    for other in others:  # nothing drawn over it
        ox0, oy0, ox1, oy1 = other.outer
        assert ox1 <= x0 or ox0 >= x1 or oy1 <= y0 or oy0 >= y1
    frame = view.final_frame()
    for r, c in [(0, 0), (31, 31), (15, 7)]:
        bx0, by0, bx1, by1 = grid.interior(r, c)
        assert tuple(int(v) for v in frame[by0, bx0]) == THEME.input
    small = scene_view("c09_transposed_to_5x5")[0].layout
    assert small.source_grids == []  # a grid with numbers shows its input values already


@pytest.mark.parametrize("kind, kernel, stride, padding", [
    ("max_pool1d", 2, 2, 0), ("avg_pool1d", 3, 1, 1), ("lp_pool1d", 3, 2, 0), ("max_pool1d", 4, 3, 1)])
def test_1d_pool_outputs_sit_under_their_window_centre(kind, kernel, stride, padding):
    x = np.arange(1.0, 12.0).reshape(1, 11)
    kwargs = dict(norm_type=2) if kind.startswith("lp") else {}
    trace = pool_trace(kind, x, kernel, stride, padding, **kwargs)
    view = View(trace, PoolLayout, title=None, caption=None, theme=THEME)
    for k in range(len(trace)):
        step = trace.step(k)
        taps = np.asarray(step.tap_coords).reshape(-1)
        first, last = view.cell_box("input", 0, (int(taps.min()),)), view.cell_box("input", 0, (int(taps.max()),))
        window_centre = (first[0] + last[2]) / 2
        x0, _, x1, _ = view.cell_box("output", 0, (k,))
        assert abs((x0 + x1) / 2 - window_centre) <= 1, (k, (x0 + x1) / 2, window_centre)
    frame = view.final_frame()  # the spaced output cells carry their own border lines, nothing between them
    assert frame.shape[1] == 720


@pytest.mark.parametrize("kernel, stride", [(3, 2), (4, 2), (3, 1), (2, 3)])
def test_1d_scatter_inputs_stand_over_the_centre_of_the_block_they_write(kernel, stride):
    from convgif.engine.trace_transpose import scatter_trace
    from convgif.render.layout_transpose import ScatterLayout

    x, w = np.arange(1.0, 6.0).reshape(1, 5), np.ones((1, 1, kernel))
    trace = scatter_trace(x, w, None, stride=stride, padding=1)
    view = View(trace, ScatterLayout, title=None, caption=None, theme=THEME)
    for k in range(len(trace)):
        step = trace.step(k)
        written = np.asarray(step.tap_coords).reshape(-1)
        first = view.cell_box("output", 0, (int(written.min()),))
        last = view.cell_box("output", 0, (int(written.max()),))
        x0, _, x1, _ = view.cell_box("input", 0, tuple(int(v) for v in np.atleast_1d(step.position)))
        assert abs((x0 + x1) / 2 - (first[0] + last[2]) / 2) <= 1, k
    assert view.final_frame().shape[1] == 720


@pytest.mark.parametrize("name", ["c08_transposed_zero_insertion", "c09_transposed_to_5x5", "c05_avg_pool",
                                  "c05_max_pool", "c08_transposed_scatter"])
def test_legend_swatches_look_like_the_marks(name):
    """The current output cell is drawn with a text-coloured frame, the zero-insertion view's original kernel in
    its paler fill: both named in the legend with that look."""
    view, trace = scene_view(name)
    layout = view.layout
    legend = {label: make((0, 0, 14, 14)) for _, _, label, make in layout.legend_rows}
    step = trace.step(1)
    current = legend[layout.say("sc_just_written" if "scatter" in name else "current_output")]
    fills = {p.fill for p in layout.transient(step) if isinstance(p, Rect)}
    edges = {(p.edge, p.line_width) for p in layout.transient(step) if isinstance(p, Rect) and p.edge}
    assert current[0].fill in fills and (current[0].edge, current[0].line_width) in edges
    if "zero_insertion" in name or "to_5x5" in name:
        from convgif.render.layout_transpose import original_fill
        assert original_fill(THEME) in fills
        assert any(r.fill == original_fill(THEME) for sw in legend.values() for r in sw)


def test_cells_no_window_reads_are_marked_and_named():
    from convgif.render.layout_common import unread_cells

    scene = load_scene(SCENES / "c09_conv_6x6_to_3x3.toml")  # padded 8×8: windows at rows/cols 0, 2, 4 of span 3
    assert unread_cells(build_trace(scene).geometry) == {(r, c) for r in range(8) for c in range(8) if 7 in (r, c)}
    x = np.arange(49.0).reshape(1, 7, 7)
    view = View(pool_trace("max_pool2d", x, (2, 2), 2, 0), PoolLayout, title=None, caption=None, theme=THEME)
    legend = {label: make((0, 0, 14, 14)) for _, _, label, make in view.layout.legend_rows}
    assert "read by no window" in legend
    frame = view.final_frame()
    for r in range(7):
        for c in range(7):
            x0, y0, x1, y1 = view.cell_box("input", 0, (r, c))
            column = {tuple(int(v) for v in frame[y, x0 + 4]) for y in range(y0 + 2, y0 + 6)}
            assert (THEME.padding_edge in column) == (6 in (r, c)), (r, c)
    assert unread_cells(pool_trace("max_pool1d", np.ones((1, 7)), 2, 2).geometry) == {(0, 6)}


def test_c11_input_grid_shows_which_input_values_the_window_reads():
    view, trace = scene_view("c11_transposed_32_to_64")
    layout = view.layout
    (grid,) = layout.source_grids
    kinds = np.asarray(trace.cell_kind)
    for k in (0, 97, 2080, 4095):
        step = trace.direct.step(k)
        taps = np.asarray(step.tap_coords).reshape(-1, 2)
        values = [(int(r), int(c)) for r, c in taps if kinds[r, c] == INPUT_VALUE]  # the input under the window
        outlines = [p for p in layout.transient(step) if isinstance(p, Rect) and p.edge == THEME.window
                    and grid.outer[0] - 3 <= p.box[0] and p.box[2] <= grid.outer[2] + 3
                    and grid.outer[1] - 3 <= p.box[1] and p.box[3] <= grid.outer[3] + 3]
        assert len(outlines) == (1 if values else 0), k
        for r, c in values:  # grid index s·i + q
            i, j = (r - 1) // 2, (c - 1) // 2
            x0, y0, x1, y1 = grid.box(i, j)
            box = outlines[0].box
            assert box[0] <= x0 and box[1] <= y0 and x1 <= box[2] and y1 <= box[3], (k, r, c)


def test_scatter_roles_have_looks_of_their_own():
    """No two legend entries share fill and frame; the current input and the products differ in fill too."""
    view, _ = scene_view("c08_transposed_scatter")
    legend = {label: make((0, 0, 14, 14))[0] for _, _, label, make in view.layout.legend_rows}
    looks = [(r.fill, r.edge, r.line_width, r.dashed) for r in legend.values()]
    assert len(set(looks)) == len(looks)
    assert legend["current input"].fill != legend["products"].fill


@pytest.mark.parametrize("name", POOL_AND_TRANSPOSED)
def test_no_two_legend_entries_look_alike(name):
    view, _ = scene_view(name)
    swatches = [make((0, 0, 14, 14)) for _, _, _, make in view.layout.legend_rows]
    looks = [tuple((r.box, r.fill, r.edge, r.line_width, r.dashed) for r in sw) for sw in swatches]
    assert len(set(looks)) == len(looks), name


@pytest.mark.parametrize("width", [720, 400])
def test_1d_zero_insertion_names_the_original_kernel_when_drawn(width):
    from convgif.engine.trace_transpose import zero_insertion_trace
    from convgif.render.layout_transpose import ZeroInsertionLayout, original_fill

    trace = zero_insertion_trace(np.arange(1.0, 6.0).reshape(1, 1, 5), np.ones((1, 1, 7)), stride=2, padding=1)
    layout = View(trace, ZeroInsertionLayout, title=None, caption=None, theme=THEME, width=width).layout
    drawn = any(isinstance(p, Rect) and p.fill == original_fill(THEME) for p in layout.transient(trace.direct.step(0)))
    named = "original kernel" in [label for _, _, label, _ in layout.legend_rows]
    assert named == drawn == (width == 720)  # a 400 px frame has no room for it beside the partial sum


def test_the_zero_insertion_hold_frame_draws_the_original_kernel_its_legend_names():
    """The legend names "original kernel" on every frame; the hold frame drew the flipped kernel alone."""
    from convgif.render.layout_transpose import original_fill

    view, trace = scene_view("c08_transposed_zero_insertion")
    layout = view.layout
    assert layout.say("zi_original_kernel") in [label for _, _, label, _ in layout.legend_rows]
    hold = layout.final_transient()
    cells = [p for p in hold if isinstance(p, Rect) and p.fill == original_fill(THEME)]
    weight = np.asarray(trace.weight)[0, 0]  # conv_transpose2d's own (unflipped) weight, (C_in, C_out, kh, kw)
    assert len(cells) == weight.size
    shown = sorted(t.text for t in texts(hold) if any(c.box[0] <= t.x <= c.box[2] and c.box[1] <= t.y <= c.box[3]
                                                       for c in cells))
    assert shown == sorted(fmt_number(float(v)) for v in weight.ravel())


def test_scatter_hold_frame_shows_the_kernel_and_names_the_bias():
    from convgif.engine.trace_transpose import scatter_trace
    from convgif.render.layout_transpose import ScatterLayout

    w = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    trace = scatter_trace(np.ones((1, 1, 3, 3)), w, np.array([0.5]), stride=2, padding=1)
    layout = View(trace, ScatterLayout, title=None, caption=None, theme=THEME).layout
    hold = texts(layout.final_transient())
    (kgrid,) = layout.kernel_grids
    numbers = {(t.x, t.text) for t in hold}
    for r in range(3):
        for c in range(3):
            x0, _, x1, _ = kgrid.box(r, c)
            assert ((x0 + x1) // 2, str(int(w[0, 0, r, c]))) in numbers
    assert any(t.text == "kernel \u00b7 bias 0.5" for t in hold)


def test_c11_labels_stay_inside_the_frame():
    from convgif.render.fonts import text_width

    view, _ = scene_view("c11_transposed_32_to_64")
    for t in texts(view.layout.static(0)):
        left = t.x - (text_width(t.text, t.size, t.bold) / 2 if t.align == "center" else 0)
        assert left >= 0 and left + text_width(t.text, t.size, t.bold) <= view.layout.width, t.text
