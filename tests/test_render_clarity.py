"""Every conv frame right and clear (issue 13): where outputs sit, what the hold frame keeps, one notation, the
bias named, legible digits, hidden values announced. Positions come from the layout's grids, numbers from
`scene.arrays()`, and the pixels are probed where it matters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from convgif.engine import conv_trace
from convgif.render import View, get_theme
from convgif.render.layout import output_places_1d
from convgif.render.layout_common import fitting_size
from convgif.render.layout_conv import ConvLayout
from convgif.render.primitives import Rect, Text, fmt_number
from convgif.scene import load_scene
from convgif.sources import build_trace, build_view

SCENES = Path(__file__).resolve().parents[1] / "scenes"


def scene_view(name: str, **render):
    scene = load_scene(SCENES / f"{name}.toml")
    if render:
        scene = scene.model_copy(update={"render": scene.render.model_copy(update=render)})
    return scene, build_view(scene, build_trace(scene))


def centre_x(box) -> float:
    return (box[0] + box[2] - 1) / 2


def texts(primitives) -> list[Text]:
    return [p for p in primitives if isinstance(p, Text)]


# ---- item 1: each 1D output under the input position it is computed for --------------------------------------
@pytest.mark.parametrize("name, places", [
    ("c07_causal_conv1d", lambda t: t + 2),  # padding 2/0: output t sits under its last tap, input t
    ("c07_time_series", lambda t: t + 1),    # padding 1/1, kernel 3: under its window's centre, input t
])
def test_1d_output_sits_under_the_input_it_is_computed_for(name, places):
    scene, view = scene_view(name)
    out = scene.arrays()["output"][0, 0]
    layout = view.layout
    for t in range(out.size):
        under = layout.cell_box("input", 0, (places(t),))
        assert centre_x(layout.cell_box("output", 0, (t,))) == centre_x(under)
    # on pixels: step 7's current output (7 of c07_causal: 5 + 6 + 7 = 18) fills the cell under input 7
    frame = next(view.frames([6]))
    x = int(centre_x(layout.cell_box("input", 0, (places(6),))))
    y0 = layout.cell_box("output", 0, (6,))[1]
    assert tuple(frame[y0 + 4, x]) == view.theme.output_current


def test_strided_1d_outputs_stand_stride_inputs_apart():
    x = np.arange(11, dtype=float)[None]
    trace = conv_trace(x, np.ones((1, 1, 3)), None, stride=3, padding=1)
    layout = View(trace, ConvLayout).layout
    first, step = output_places_1d(trace.geometry)
    assert (first, step) == (1.0, 3.0)
    for t in range(trace.geometry.output_shape[-1]):
        assert centre_x(layout.cell_box("output", 0, (t,))) == centre_x(layout.cell_box("input", 0, (1 + 3 * t,)))
    causal = conv_trace(x, np.ones((1, 1, 3)), None, padding=((2, 0),), dilation=2)
    assert output_places_1d(causal.geometry) == (4.0, 1.0)  # the last of taps t, t + 2, t + 4 (padded)


# ---- item 2 and catalogue A2: every kernel and its bias stay on screen, the current one marked ---------------
def test_the_hold_frame_keeps_every_kernel_and_its_bias():
    scene, view = scene_view("a10_bias")
    layout, weight, bias = view.layout, scene.arrays()["weight"], scene.arrays()["bias"]
    final = view.primitives(None)
    words = [t.text for t in texts(final)]
    assert len(layout.bank_grids) == weight.shape[0] == 2
    frame = view.final_frame()
    for oc, slices in enumerate(layout.bank_grids):
        assert f"kernel {oc} \u00b7 bias {fmt_number(float(bias[oc]))}" in words
        for grid, w in zip(slices, weight[oc]):
            for (r, c), value in np.ndenumerate(w):
                x0, y0, x1, y1 = grid.box(r, c)
                assert tuple(frame[y0 + 2, x0 + 2]) == view.theme.kernel
                drawn = [t.text for t in texts(final) if x0 <= t.x <= x1 and y0 <= t.y <= y1]
                assert drawn == [fmt_number(float(value))]


@pytest.mark.parametrize("name", ["c07_causal_conv1d", "b03_output_size_formula"])
def test_one_kernel_a_lane_stays_in_the_kernels_column(name):
    scene, view = scene_view(name)
    layout, weight, bias = view.layout, scene.arrays()["weight"], scene.arrays()["bias"]
    assert layout.bank_grids == []  # nothing to choose between: no bank
    final, frame = view.primitives(None), view.final_frame()
    words = [t.text for t in texts(final)]
    assert f"bias {fmt_number(float(bias[0]))}" in words
    grid = layout.grids_by_role()["kernel"][0]
    for (r, c), value in np.ndenumerate(weight[0, 0].reshape(grid.rows, grid.cols)):
        x0, y0, x1, y1 = grid.box(r, c)
        assert tuple(frame[y0 + 2, x0 + 2]) == view.theme.kernel
        assert [t.text for t in texts(final) if x0 <= t.x <= x1 and y0 <= t.y <= y1] == [fmt_number(float(value))]


def test_all_four_kernels_visible_and_the_current_one_marked():
    scene, view = scene_view("a02_output_channels")
    layout = view.layout
    assert len(layout.bank_grids) == 4
    per_channel = len(view.trace) // 4
    for oc in range(4):
        frame = next(view.frames([oc * per_channel + 1]))
        for other, slices in enumerate(layout.bank_grids):
            x0, y0, *_ = slices[0].outer
            colour = tuple(frame[y0 - 3, x0 + 5])  # the mark's 2 px ring, 2 px outside the kernel
            assert (colour == view.theme.output_current) == (other == oc)


# ---- items 5 and 6: one notation, each formula once, the bias named -------------------------------------------
def test_hold_lines_typeset_and_print_a_formula_once():
    x = np.arange(49.0).reshape(1, 7, 7)
    view = View(conv_trace(x, np.ones((1, 1, 3, 3)), None, padding=1), ConvLayout)
    lines = [body for body, _ in view.layout.final_lines()]
    # a square case's axes share one line, as in captions
    assert "H, W: floor((7 + 2\u00d71 \u2212 1\u00d7(3 \u2212 1) \u2212 1) / 1) + 1 = 7" in lines
    assert not any("-" in line or "*" in line for line in lines)
    scene, view = scene_view("a06_padding")  # its caption prints the formula: the hold lines do not repeat it
    _, text = view.final_frame_with_text()
    shown = text + " " + " ".join(view.layout.caption_lines)
    assert shown.count("floor(") == 1


def test_the_bias_is_named_where_it_is_added():
    scene, view = scene_view("a10_bias")
    step = view.trace.step(3)
    words = [t.text for t in texts(view.layout.transient(step))]
    bias = fmt_number(float(scene.arrays()["bias"][step.out_channel]))
    assert any(w.endswith(f" + bias ({bias})") for w in words)  # the arithmetic line
    assert f"\u03a3 + bias ({bias}) = {fmt_number(step.value)}" in words  # under the kernel slices
    assert not any("b(" in w for w in words)


# ---- item 8: no frame text under 10 px at 720 px -----------------------------------------------------------------
@pytest.mark.parametrize("name", ["a04_nonsquare_kernel", "f01_image_sobel_edges", "a06_padding", "a02_output_channels"])
def test_no_frame_text_under_10_px(name):
    scene, view = scene_view(name)
    assert view.layout.width == 720
    for index in (None, 0, len(view.trace) // 2):
        sizes = {t.size for t in texts(view.primitives(index))}
        assert min(sizes) >= 10, (name, index, sorted(sizes))


def test_digits_hide_rather_than_shrink_under_10_px():
    assert fitting_size(["\u22128", "12"], 19) is None  # 9 px would fit: too small to read
    assert fitting_size(["\u22128", "12"], 20) == 10


# ---- item 9: numbers show wherever they fit; where they cannot, the frame says so and names the width ----------
@pytest.mark.parametrize("width", [720, 1600])
def test_depthwise_values_show_when_the_width_has_room(width):
    x = np.arange(4 * 36.0).reshape(4, 6, 6) % 10
    trace = conv_trace(x, np.ones((8, 1, 3, 3)), None, groups=4, padding=1)
    view = View(trace, ConvLayout, width=width)
    layout = view.layout
    assert layout.input_value_size and layout.output_value_size and not layout.notes()
    words = [t.text for t in texts(layout.static(0))]
    assert not any("hidden" in w for w in words)
    grid = layout.grids_by_role()["input"][3]
    x0, y0, x1, y1 = grid.box(1, 1)  # data cell (0, 0) of channel 3: 108 % 10 = 8
    assert [t.text for t in texts(layout.static(0)) if x0 <= t.x <= x1 and y0 <= t.y <= y1] == ["8"]


def test_hidden_values_name_the_width_that_shows_them():
    x = np.arange(900.0).reshape(1, 30, 30) % 10
    trace = conv_trace(x, np.ones((1, 1, 3, 3)), None)
    narrow = View(trace, ConvLayout, width=720).layout
    assert narrow.input_value_size is None
    wide = narrow.values_width
    assert narrow.notes() == [f"Numbers hidden: {narrow.cell} px cells are too small for them; they show at "
                              f"--width {wide}."]
    assert f"they show at --width {wide}." in " ".join(t.text for t in texts(narrow.static(0)))  # drawn by word
    shown = View(trace, ConvLayout, width=wide).layout
    assert shown.input_value_size is not None and not shown.notes()
    assert View(trace, ConvLayout, width=wide - 1).layout.input_value_size is None


# ---- catalogue F1: an image's cells shaded by value, numbers on top in black or white ---------------------------
def test_image_cells_are_shaded_by_value_with_contrasting_numbers():
    scene, view = scene_view("f01_image_sobel_edges")
    arrays, layout = scene.arrays(), view.layout
    frame, final = view.final_frame(), view.primitives(None)

    def fill_and_digit(role, grid, rc):
        x0, y0, x1, y1 = grid.box(*rc)
        digit = [t for t in texts(final) if x0 <= t.x <= x1 and y0 <= t.y <= y1]
        return tuple(int(v) for v in frame[y0 + 2, x0 + 2]), digit

    def luma(rgb):
        return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]

    grid = layout.grids_by_role()["input"][0]
    image = arrays["input"][0]
    fills = {}
    for rc, value in np.ndenumerate(image):
        fill, digit = fill_and_digit("input", grid, rc)
        fills[value] = fill
        assert [t.text for t in digit] == [fmt_number(float(value))]
        assert abs(luma(digit[0].colour) - luma(fill)) >= 128  # black on light greys, white on dark ones
    assert luma(fills[image.min()]) < 80 < 170 < luma(fills[image.max()])  # dark pixels dark, bright ones bright
    # the shading has steps, and the legend says how many (without it, 180 and 222 in one grey read as a mistake)
    from convgif.render.layout_conv import SHADES
    assert len(set(fills.values())) <= SHADES and f"255 white, in {SHADES} greys)" in " ".join(t.text for t in texts(final))
    grid = layout.grids_by_role()["output"][0]
    out = arrays["output"][0]
    strongest = {np.sign(v): fill_and_digit("output", grid, rc)[0] for rc, v in np.ndenumerate(out)
                 if abs(v) == np.abs(out[np.sign(out) == np.sign(v)]).max()}
    assert strongest[1.0] != strongest[-1.0] and view.theme.output_done not in strongest.values()
    for rc, v in np.ndenumerate(out):  # a computed output never looks empty, however small (−15 of ±433)
        assert fill_and_digit("output", grid, rc)[0] != view.theme.output_empty, (rc, v)


def test_the_current_output_of_an_image_is_shaded_by_its_sign():
    """f01's outputs are blue below 0 and orange above; the current cell was painted the current colour, an orange,
    so a step computing −418 showed it in the positive outputs' colour. It takes its value's shade now (its frame
    marks it), the same as once done; a quiz's question frame leaves it unshaded (its shade would tell the sign)."""
    scene, view = scene_view("f01_image_sobel_edges")
    layout, trace = view.layout, view.trace
    grid = layout.grids_by_role()["output"][0]
    signs = {}
    for index, frame in zip(range(len(trace)), view.frames(range(len(trace)))):
        step = trace.step(index)
        x0, y0, _, _ = grid.box(*layout.rc(step.position))
        fill = tuple(int(v) for v in frame[y0 + 2, x0 + 2])
        assert fill == layout.output_shade(step.value), (index, step.value, fill)
        signs[np.sign(step.value)] = True
    assert {1.0, -1.0} <= set(signs)  # both signs were seen current
    layout.hide_answers = True
    try:
        question = layout.current_output(grid, 0, 0, "?", value=-418.0)
    finally:
        layout.hide_answers = False
    assert question[0].fill == view.theme.output_empty


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_shaded_outputs_legend_reads_true_in_light_and_dark(theme):
    """f01's legend says how an output's shade grows with its size; in a dark theme a larger output is lighter, so
    "darker: larger" was false there. What the words claim must hold for the shades the cells are painted in."""
    scene, view = scene_view("f01_image_sobel_edges", theme=theme)
    layout = view.layout
    words = " ".join(t.text for t in texts(view.primitives(None)))
    background = np.array(view.theme.output_empty, dtype=float)

    def luma(rgb):
        return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]

    for sign, key in ((1, "positive_output"), (-1, "negative_output")):
        said = layout.say(key)
        assert said in words
        shades = [layout.output_shade(sign * layout.output_peak * k / 8) for k in range(1, 9)]  # growing sizes
        strength = [np.abs(np.array(s, dtype=float) - background).sum() for s in shades]
        assert strength == sorted(strength) and strength[0] < strength[-1]  # stronger colour: larger size
        lumas = [luma(s) for s in shades]
        if "darker" in said:
            assert lumas == sorted(lumas, reverse=True), (theme, said, lumas)
        if "lighter" in said:
            assert lumas == sorted(lumas), (theme, said, lumas)


@pytest.mark.parametrize("name", ["a02_output_channels", "b01_arange_two_kernels", "a09_everything_volume"])
def test_the_kernel_banks_frame_is_named_in_the_legend(name):
    """The bank frames the kernel a step uses; the flat view's legend named no such mark."""
    scene, view = scene_view(name)
    layout = view.layout
    assert layout.banked
    mark = layout.bank_mark(0)
    looks = {(r.edge, r.line_width) for _, _, _, make in layout.legend_rows for r in make((0, 0, 14, 14))
             if isinstance(r, Rect) and r.edge is not None}
    assert (mark.edge, mark.line_width) in looks
    assert layout.say("current_kernel") in [label for _, _, label, _ in layout.legend_rows]


def test_a_subtitle_writes_stride_padding_and_dilation_as_torch_takes_them():
    """`padding 2×2` read as a 2×2 block beside `kernel 2×2`, and the caption said `P 2` under it: a per-axis
    argument is one number when the axes agree (`padding 2`), else its tuple; × is for sizes alone."""
    import re

    from convgif.sources import frame_source

    argument = re.compile(r"(stride|padding|dilation|output_padding|步长|填充|膨胀|输出填充) [^ ]*\u00d7")
    seen = set()
    for path in sorted(SCENES.glob("*.toml")):
        scene = load_scene(path)
        if hasattr(scene, "still"):  # a still figure: no animated view, no subtitle
            continue
        source = frame_source(scene)
        for view in getattr(source, "views", None) or [source.view]:
            subtitle = view.layout.subtitle()
            assert not argument.search(subtitle), (path.name, subtitle)
            seen.update(re.findall(r"(stride|padding|dilation) ", subtitle))
    assert seen == {"stride", "padding", "dilation"}  # the gallery shows each of them somewhere


# ---- catalogue B3: the formula is the frame's subject -----------------------------------------------------------
def test_a_formula_caption_is_the_frames_subject():
    scene, view = scene_view("b03_output_size_formula")
    layout = view.layout
    caption = [t for t in texts(layout.static(0)) if t.y > layout.caption_top]
    assert " ".join(t.text for t in caption) == "H, W: floor((7 + 2\u00d71 \u2212 1\u00d7(3 \u2212 1) \u2212 1) / 2) + 1 = 4"
    assert all(t.size == layout.sz.title and t.bold and t.colour == view.theme.text for t in caption)
    _, text = view.final_frame_with_text()
    assert "floor(" not in text  # printed once: the caption
    scene, view = scene_view("a06_padding")  # a caption with words around its formula stays a caption
    caption = [t for t in texts(view.layout.static(0)) if t.y > view.layout.caption_top]
    assert caption and all(t.size == view.layout.sz.caption and t.colour == view.theme.muted_text for t in caption)


def test_the_kernel_bank_does_not_shrink_the_grids_cells():
    scene, view = scene_view("a03_input_channels")
    layout = view.layout
    assert len(layout.bank_grids) == 4 and layout.cell >= 36  # 27 px when the bank counted against the height cap
    bank_bottom = max(grid.outer[3] for slices in layout.bank_grids for grid in slices)
    assert bank_bottom < layout.lane_boxes[0][3] and layout.input_value_size == layout.sz.digits


def test_c09_marks_the_cells_no_window_reads():
    """Catalogue C9: 6×6 with K 3, P 1, S 2 never reads its last padded row and column; they are striped and named."""
    def drawn(name):
        scene = load_scene(SCENES / name)
        view = build_view(scene, build_trace(scene))
        frame = next(view.frames([0]))
        grid = view.layout.input_grids[0]
        legend = " ".join(text for _, _, text, _ in view.layout.legend_rows)
        striped = {(r, c) for r in range(grid.rows) for c in range(grid.cols)
                   if (frame[grid.interior(r, c)[1] + 1, grid.interior(r, c)[0]:grid.interior(r, c)[2]]
                       == view.theme.padding_edge).all(axis=1).sum() >= 3}
        return striped, legend

    striped, legend = drawn("c09_conv_6x6_to_3x3.toml")
    assert striped == {(7, c) for c in range(8)} | {(r, 7) for r in range(8)} and "read by no window" in legend
    striped, legend = drawn("c09_conv_5x5_to_3x3.toml")  # 5×5: every cell is read
    assert striped == set() and "read by no window" not in legend


# ---- C7: the sentence's words under the input columns (scene input.labels) ------------------------------------
def test_c07_words_are_drawn_under_their_input_columns():
    scene, view = scene_view("c07_text_conv1d")
    layout = view.layout
    words = scene.input.labels
    assert len(words) == scene.input.shape[-1] == 8
    last = layout.input_grids[-1]
    drawn = [t for t in texts(layout.static(0)) if t.y > last.outer[3] and t.text in words
             and t.y < layout.kernel_grids[0].y]
    assert [t.text for t in drawn] == list(words)
    for col, text in enumerate(drawn):
        x0, _, x1, _ = last.box(0, col)
        assert text.align == "center" and text.x == (x0 + x1) / 2
        assert text.size >= 10 and text.colour == view.theme.muted_text
    # the frame grows by the label line; without labels it is the frame it was
    bare = scene.model_copy(update={"input": scene.input.model_copy(update={"labels": None})})
    plain = build_view(bare, build_trace(bare)).layout
    assert layout.height == plain.height + layout.label_band(layout.cell) > plain.height
    assert not [t for t in texts(plain.static(0)) if t.text in ("cat", "warm", "mat")]
    # the words are static marks only: no step draws them again
    assert not [t for t in texts(layout.transient(view.trace.step(3))) if t.text in ("cat", "warm", "mat")]


def test_long_labels_alternate_two_lines_past_the_padding():
    """Labels wider than their cell take every other one a line lower; with padding 1 the first label sits under
    the second cell; each group's last input row carries them."""
    from convgif.scene import parse_scene
    words = ["embedding", "convolution", "sat", "on", "the", "warmest", "red", "doormat"]
    scene = parse_scene({"title": "t", "op": {"kind": "conv1d", "out_channels": 2, "kernel_size": 3, "groups": 2,
                                              "padding": 1}, "input": {"shape": [4, 8], "labels": words}}, "x.toml")
    layout = build_view(scene, build_trace(scene)).layout
    assert layout.label_lines(layout.cell) == 2
    drawn = [t for t in texts(layout.static(0)) if t.text in words]
    assert len(drawn) == 2 * len(words)
    for grid, group in zip((layout.input_grids[1], layout.input_grids[3]), (drawn[:8], drawn[8:])):
        for i, text in enumerate(group):
            x0, _, x1, y1 = grid.box(0, i + 1)
            assert text.x == (x0 + x1) / 2 and y1 < text.y and text.size >= 10
        assert group[1].y > group[0].y == group[2].y
