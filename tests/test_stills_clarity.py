"""Issue 13, the stills: every mark named, no line through text, text a projector can show, and the catalogue
rows taught with honest pictures (linear axes and bars, a real photo with its licence, flatten's order, the
padded grid). Each test reads the drawing's own elements: the sheets a renderer drew, caught as it draws them.
"""

from __future__ import annotations

import functools
import math
import re
from unittest import mock
from pathlib import Path

import numpy as np
import pytest
import torch
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from convgif.render.stills import shapes, toolkit
from convgif.render.theme import get_theme, mix
from convgif.scene.load import load_scene
from convgif.sources import still_frames

SCENES = Path(__file__).resolve().parent.parent / "scenes"
STILL_SCENES = sorted(p.stem for p in SCENES.glob("*.toml") if "\n[still]" in p.read_text(encoding="utf-8"))
LIGHT = get_theme("light")
SUBSCRIPT_GLYPHS = set("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜ")


@functools.cache
def _drawn_once(name: str) -> tuple[object, tuple[toolkit.Sheet, ...], tuple[str, ...]]:
    """The scene, every sheet its renderer drew (caught when each frame is taken) and every string it handed
    matplotlib (as conftest's `drawn_strings` records them): each still is drawn once for this module, and the
    tests below only read what it drew."""
    import matplotlib.text

    sheets, strings = [], []
    frame, set_text = toolkit.Sheet.frame, matplotlib.text.Text.set_text

    def caught(self):
        sheets.append(self)
        return frame(self)

    def recording(self, s):
        if s is not None and str(s):
            strings.append(str(s))
        return set_text(self, s)

    with mock.patch.object(toolkit.Sheet, "frame", caught), mock.patch.object(matplotlib.text.Text, "set_text",
                                                                               recording):
        scene = load_scene(SCENES / f"{name}.toml")
        still_frames(scene)
    return scene, tuple(sheets), tuple(strings)


def drawn(name: str, monkeypatch=None) -> tuple[object, list[toolkit.Sheet]]:
    """The scene and every sheet its renderer drew (caught when each frame is taken)."""
    scene, sheets, _ = _drawn_once(name)
    return scene, list(sheets)


def drawn_texts(name: str) -> list[str]:
    """Every string the still `name` handed matplotlib while it was drawn."""
    return list(_drawn_once(name)[2])


def rgb(colour) -> tuple[int, int, int]:
    return tuple(round(v * 255) for v in colour[:3])


def texts(sheet) -> list[Text]:
    return [t for t in sheet.figure.findobj(Text) if t.get_text() and t.get_visible()]


def is_dashed(artist) -> bool:
    return artist.get_linestyle() not in ("-", "solid", "None", "none", "")


def boxes_of(sheet) -> list[toolkit.Cell]:
    """Every rectangle on the sheet as a Cell record (box, fill, edge, width, dash): the Rectangle patches and the
    cells of each SheetCells collection (a grid's cells, drawn as one artist)."""
    boxes = [cell for artist in sheet.ax.collections if isinstance(artist, toolkit.SheetCells) for cell in artist.cells]
    for p in sheet.ax.patches:
        if isinstance(p, Rectangle):
            boxes.append(toolkit.Cell(p.get_x(), p.get_y(), p.get_width(), p.get_height(),
                                      rgb(p.get_facecolor()) if p.get_fill() and p.get_facecolor()[3] else None,
                                      rgb(p.get_edgecolor()) if p.get_edgecolor()[3] else None,
                                      p.get_linewidth(), is_dashed(p)))
    return boxes


def segments_of(artist) -> list[tuple[float, float, float, float]]:
    if isinstance(artist, Rectangle):
        x, y, w, h = artist.get_x(), artist.get_y(), artist.get_width(), artist.get_height()
        corners = [(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)]
    else:
        corners = list(zip(artist.get_xdata(), artist.get_ydata()))
    return [(*a, *b) for a, b in zip(corners, corners[1:])]


# ---- item 7: hidden edges cross no text ----------------------------------------------------------------

@pytest.mark.parametrize("name", ["e02_rgb_kernel_slices", "c02_3d_window"])
def test_window_box_hidden_edges_cross_no_text(name, monkeypatch):
    _, (sheet,) = drawn(name, monkeypatch)
    hidden = [a for a in [*sheet.ax.lines, *sheet.ax.patches]
              if is_dashed(a) and rgb(a.get_edgecolor() if isinstance(a, Rectangle) else a.get_color()) == LIGHT.window]
    assert hidden, "the window box's hidden edges are drawn"
    renderer, to_layout = sheet.canvas.get_renderer(), sheet.ax.transData.inverted()
    boxes = []
    for t in texts(sheet):
        (xa, ya), (xb, yb) = to_layout.transform(t.get_window_extent(renderer).get_points())
        boxes.append((min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb)))
    crossings = []
    for artist in hidden:
        for xa, ya, xb, yb in segments_of(artist):
            for t in np.linspace(0, 1, max(2, int(math.hypot(xb - xa, yb - ya) * 2))):
                x, y = xa + (xb - xa) * t, ya + (yb - ya) * t
                crossings += [(round(x), round(y)) for x0, y0, x1, y1 in boxes if x0 < x < x1 and y0 < y < y1]
    assert not crossings, f"hidden edges run through text at {sorted(set(crossings))[:8]}"


def test_segment_pieces_outside_boxes():
    outside_boxes = toolkit.outside_boxes
    assert outside_boxes((0, 0, 10, 0), [(2, -1, 4, 1), (3, -1, 6, 1)]) == [(0, 0, 2, 0), (6, 0, 10, 0)]
    assert outside_boxes((0, 0, 10, 10), [(-1, -1, 11, 11)]) == []
    assert outside_boxes((0, 5, 10, 5), [(2, 0, 4, 3)]) == [(0, 5, 10, 5)]


# ---- item 8: text a projector shows --------------------------------------------------------------------

@pytest.mark.parametrize("name", STILL_SCENES)
def test_no_still_text_under_10_px(name, monkeypatch):
    """Every word, digit and tick label is at least 10 px at the scene's width, and no Unicode subscript glyph
    (drawn ~60% size: rₗ read as n) is left: subscripts are set as their own, larger, lowered runs."""
    _, sheets = drawn(name, monkeypatch)
    for sheet in sheets:
        for t in texts(sheet):
            pixels = t.get_fontsize() * sheet.figure.dpi / 72
            assert pixels >= 10, f"{t.get_text()!r} is {pixels:.1f} px"
            assert not set(t.get_text()) & SUBSCRIPT_GLYPHS, f"subscript glyphs in {t.get_text()!r}"


def test_receptive_field_subscripts_are_drawn_as_runs(monkeypatch):
    _, sheets = drawn("b04_receptive_field", monkeypatch)
    words = [t.get_text() for t in texts(sheets[0])]
    assert "ℓ−1" in words and "ℓ" in words  # rₗ₋₁ and rₗ: the index as its own run, the script ℓ


def test_a_dilated_layers_note_counts_the_cells_it_sees_not_its_span():
    """Layer 2 has dilation 2: one of its cells depends on 9 cells of layer 1, spread over a 5×5 span. The note
    under layer 1 said "it sees 5×5", 25 cells, while the picture marks 9."""
    words = drawn_texts("b04_receptive_field_dilated")
    assert "it sees 9 cells in a 5×5 span" in words and "it sees 5×5" not in words
    assert "it sees 7×7" in words  # the input: every cell of the 7×7 span is seen


def test_a_formula_too_long_for_its_column_breaks_before_an_operator_outside_brackets():
    """The receptive-field column under a 5-cell grid wrapped "r₂ = 3 + (3" / "− 1)×2×1 = 7"."""
    from convgif.render.layout_common import greedy_wrap
    formula = "r₂ = 3 + (3 − 1)×2×1 = 7"
    for limit in range(len("+ (3 − 1)×2×1"), len(formula)):
        lines = greedy_wrap(formula, lambda trial: len(trial) <= limit)
        assert " ".join(lines) == formula
        assert all(line.count("(") == line.count(")") for line in lines), lines


@pytest.mark.parametrize("name", STILL_SCENES)
def test_a_wrapped_still_title_has_balanced_lines(name):
    """A centred title that wraps takes as few lines as before, of about one length: b04_receptive_field_dilated's
    title wrapped its last word, "7×7", onto a line of its own, where it read as a label."""
    scene, sheets = drawn(name)
    strings = drawn_texts(name)
    assert scene.title  # every gallery still has one
    for sheet in sheets:
        style, room = sheet.style, sheet.width - 2 * sheet.style.margin
        lines = style.title_lines(scene.title, sheet.width)
        greedy = style.wrap(scene.title, toolkit.TITLE_PT, room, bold=True)
        assert len(lines) == len(greedy) and "".join(lines).replace(" ", "") == scene.title.replace(" ", "")
        assert all(line in strings for line in lines)  # the lines drawn are these
        if len(lines) > 1:
            widths = [style.measure(line, toolkit.TITLE_PT, bold=True) for line in lines]
            assert min(widths) >= 0.6 * max(widths), (lines, widths)


@pytest.mark.parametrize("name", STILL_SCENES)
def test_a_stack_with_dots_is_explained(name):
    """A stack of more than six channels draws three sheets and dots between them (e01's 10 output channels, c06's
    8, b06's 16 and 32): a line of the figure says what the sheets and the dots stand for, and a figure without such
    a stack does not."""
    depths = []
    draw_cuboid = shapes.draw_cuboid

    def recording(sheet, x, y, face_w, face_h, depth, **kw):
        depths.append(depth)
        return draw_cuboid(sheet, x, y, face_w, face_h, depth, **kw)

    with mock.patch.object(shapes, "draw_cuboid", recording):
        still_frames(load_scene(SCENES / f"{name}.toml"))
    note = ("a stack of more than 6 channels draws its first two" in " ".join(drawn_texts(name))
            or "超过 6 个通道时只画前两层" in "".join(drawn_texts(name)))
    assert note == any(depth > shapes.MAX_SHEETS for depth in depths), (depths, note)
    if name in ("e01_weight_tensor", "c06_pipeline_flatten", "b06_depthwise_separable"):
        assert note


def test_the_flatten_vectors_untinted_cell_is_named():
    """The flatten picture tints channels 0 and 1; the vector's last cell, 1567, is channel 7's and was drawn white
    with nothing to say why."""
    assert "white: the vector's last value, 1567, from channel 7 (not drawn above)" in drawn_texts("c06_pipeline_flatten")


def test_the_upsampling_stills_shading_is_named():
    """c10 shades its cells by value (the input and all three outputs on one scale); nothing said so."""
    assert ("the darker a cell, the larger its value: one shading for the input and the three outputs"
            in drawn_texts("c10_upsample_vs_transposed"))


# ---- item 10: legends name every mark, no two roles share a look ----------------------------------------

@pytest.mark.parametrize("name", ["e02_rgb_kernel_slices", "c02_3d_window"])
def test_window_still_legend_names_every_mark(name, monkeypatch):
    scene, (sheet,) = drawn(name, monkeypatch)
    boxes = boxes_of(sheet)
    swatches = [b for b in boxes if (b.w, b.h) == (16, 14)]
    looks = [(b.fill, b.edge) for b in swatches]
    assert len(set(looks)) == len(looks), "two legend entries look the same"
    fills = {fill for fill, _ in looks}
    body_fills = {b.fill for b in boxes if (b.w, b.h) != (16, 14) and b.fill and b.w >= 20}
    named = {LIGHT.tap, LIGHT.kernel, mix(LIGHT.tap, LIGHT.background, 0.45), LIGHT.output_current}  # products
    named |= {LIGHT.padding} if scene.still.padding else set()
    assert named <= fills
    assert named & body_fills == named, "the legend names looks the figure uses"
    assert (None, LIGHT.window) in looks  # the window box
    channel_edges = {edge for fill, edge in looks if fill not in named and fill is not None}
    assert len(channel_edges) == scene.still.input_shape[0]
    assert LIGHT.window not in channel_edges, "a channel's outline looks like the window box"


def test_depthwise_still_names_its_kernel_outlines(monkeypatch):
    _, (sheet,) = drawn("b06_depthwise_separable", monkeypatch)
    groups = {LIGHT.group_colour(i) for i in range(3)}
    outlined = [p for p in sheet.ax.patches if isinstance(p, Rectangle) and rgb(p.get_edgecolor()) in groups]
    legend_marks = {rgb(p.get_edgecolor()) for p in outlined if (p.get_width(), p.get_height()) == (10, 10)}
    assert legend_marks == groups, "the depthwise kernels' outline colours are in the legend"
    words = " ".join(t.get_text() for t in texts(sheet))
    assert "outline colour" in words
    kernel_fill = {rgb(p.get_facecolor()) for p in outlined if (p.get_width(), p.get_height()) != (10, 10)}
    assert kernel_fill == {LIGHT.kernel}
    # the depthwise output is an output, not a kernel: it no longer shares the kernels' fill
    big = [p for p in sheet.ax.patches if isinstance(p, Rectangle) and p.get_width() > 30 and p.get_facecolor()[3]]
    assert LIGHT.kernel not in {rgb(p.get_facecolor()) for p in big}


# ---- item 12: catalogue rows ---------------------------------------------------------------------------

def test_param_curves_on_linear_axes_with_the_growth_law(monkeypatch):
    scene, (sheet,) = drawn("a11_param_curves", monkeypatch)
    plots = sheet.plots  # drawn on the sheet: each plot's record of the axes its marks were placed on
    assert len(plots) == len(scene.still.curves()) and all(len(plot.ys) == 2 for plot in plots)
    assert all(axis.scale == "linear" for plot in plots for axis in (plot.x, *plot.ys))
    assert all(axis.limits[0] == 0 for plot in plots for axis in plot.ys), "counts start at 0, so a line looks like a line"
    # the marks sit where the record says: each curve's first point is at its value on its own axis
    for plot, curve in zip(plots, scene.still.curves()):
        x, y, w, h = plot.box
        for axis, counts in zip(plot.ys, (curve.params, curve.macs)):
            line = next(l for l in sheet.ax.lines if l.get_marker() in ("o", "s") and l.get_xdata()[0] > x - 1
                        and l.get_xdata()[0] < x + w and abs(l.get_ydata()[0] - (y + h - axis.to_unit(counts[0]) * h)) < 1e-6)
            assert len(line.get_xdata()) == len(counts)
    laws = {curve.argument: (curve.params_law, curve.macs_law) for curve in scene.still.curves()}
    base = torch.nn.Conv2d(8, 16, 3)
    per_channel = base.weight[:, 0].numel()  # 3·3·16 weights per input channel
    assert (laws["in_channels"][0].kind, laws["in_channels"][0].b) == ("linear", per_channel)
    assert (laws["kernel_size"][0].kind, laws["kernel_size"][0].a) == ("quadratic", 8 * 16)
    assert laws["stride"][0].kind == "constant" and laws["groups"][0].kind == "inverse"
    words = [t.get_text() for t in texts(sheet)]
    assert "parameters = 144 × in_channels + 16: linear" in words
    assert "parameters = 128 × kernel_size² + 16: quadratic" in words


def test_param_curves_tick_labels_are_the_axes_ticks_and_do_not_overlap(monkeypatch):
    """The plots drawn on the sheet: each y axis labels its own ticks (nice numbers inside its limits, the top
    one near the top), and no two words on the page overlap."""
    _, (sheet,) = drawn("a11_param_curves", monkeypatch)
    words = [t.get_text() for t in texts(sheet)]
    for plot in sheet.plots:
        for axis, ticks in zip(plot.ys, plot.y_ticks):
            low, high = axis.limits
            assert 4 <= len(ticks) <= 10 and ticks[0] == 0 and all(low <= t <= high for t in ticks)
            assert ticks[-1] >= high / 2, "the ticks cover the axis"
            assert all(shapes.compact(t) in words for t in ticks)
    boxes = sheet.text_boxes()
    clashes = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:]
               if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]]
    assert not clashes, f"{len(clashes)} pairs of words overlap, e.g. {clashes[:2]}"


def test_param_counts_bars_are_to_scale(monkeypatch):
    scene, (sheet,) = drawn("e03_param_counts", monkeypatch)
    cmp = scene.still.comparison()
    counts = [cmp.kernel_weights, cmp.conv.weight_count, cmp.conv.params, cmp.dense_weights_per_unit]
    panels = sheet.plots  # drawn on the sheet: each panel's record of its axis and bars
    assert len(panels) == 2
    for panel in panels:
        assert panel.x.scale == "linear" and panel.x.limits[0] == 0
        assert [(bar.start, bar.length) for bar in panel.bars] == [(0, c) for c in counts]
        # each bar is drawn from the axis' 0 to its count's place on it
        x, _, w, _ = panel.box
        ends = {(round(p.get_x(), 6), round(p.get_x() + p.get_width(), 6)) for p in sheet.ax.patches}
        assert all((round(x, 6), round(x + panel.x.to_unit(c) * w, 6)) in ends for c in counts)
    full, zoomed = panels
    assert full.x.limits[1] >= max(counts) and zoomed.x.limits[1] < cmp.dense_weights_per_unit
    words = " ".join(t.get_text() for t in texts(sheet))
    ratio = f"{cmp.dense_weights_per_unit / cmp.conv.params:,.0f}×"
    assert ratio == "439×" and words.count(ratio) == 2  # in the zoomed panel and in the summary


def test_feature_maps_photo_has_its_licence_beside_it():
    scene = load_scene(SCENES / "e04_feature_maps.toml")
    image = Path(scene.still.image)
    licence = image.with_name(f"{image.stem}.LICENCE.txt")
    assert licence.is_file(), f"no licence beside {image.name}"
    text = licence.read_text(encoding="utf-8")
    assert "CC0" in text and "scikit-image" in text and image.name in text
    assert image.stat().st_size < 16_000  # a small crop, not the original


def test_pipeline_shows_the_flatten_order(monkeypatch):
    scene, (sheet,) = drawn("c06_pipeline_flatten", monkeypatch)
    stage = next(s for s in scene.still.stages() if s.layer_type == "flatten")
    positions = stage.flat_positions()
    ids = torch.arange(positions.size).reshape(stage.merged_shape)
    assert np.array_equal(torch.flatten(ids).numpy()[positions.ravel()], ids.numpy().ravel())
    c, h, w = stage.merged_shape
    words = [t.get_text() for t in texts(sheet)]
    for value in (positions[0, 0, 1], positions[0, 1, 0], positions[1, 0, 0], positions[-1, -1, -1]):
        assert str(value) in words
    assert (positions[0, 1, 0], positions[1, 0, 0], positions[-1, -1, -1]) == (w, h * w, c * h * w - 1)


def test_same_stride_two_draws_the_padded_grid(monkeypatch):
    scene, (sheet,) = drawn("d03_keras_same_stride2", monkeypatch)
    padding = [b for b in boxes_of(sheet) if b.fill == LIGHT.padding]
    expected = 0
    for stage in scene.still.stages():
        (top, bottom), (left, right) = stage.pads
        height, width = (axis.size for axis in stage.same_axes)
        expected += (height + top + bottom) * (width + left + right) - height * width
    assert len(padding) == expected == (11 * 11 - 7 * 7) + (7 * 7 - 4 * 4)
    words = [t.get_text() for t in texts(sheet)]
    assert "rows: 1 padded on top, 2 at the bottom" in words


STILL_SCENES = sorted(p for p in (Path(__file__).resolve().parent.parent / "scenes").glob("*.toml")
                      if "[still]" in p.read_text(encoding="utf-8"))
PRODUCT_OR_ASCII = re.compile(r"\*|->|(?<![\w'])-(?=\d)|(?<=\d) - (?=[\d(])|(?<=[\w)])·(?=[\w(])")


@pytest.mark.parametrize("path", STILL_SCENES, ids=lambda p: p.stem)
def test_every_still_writes_one_notation(path):
    """× for products, − for minus, → for arrows in every string a still draws (issue 13 item 5)."""
    drawn_strings = drawn_texts(path.stem)
    assert drawn_strings
    wrong = {s: PRODUCT_OR_ASCII.findall(s) for s in drawn_strings if PRODUCT_OR_ASCII.search(s)}
    assert wrong == {}, wrong


# ---- issue 13: the upsampling still's panels hold what their headings say ---------------------------

NUMBER = re.compile(r"^[−-]?\d+(\.\d+)?$")


def printed(value: float) -> str:
    """A number as a still prints it (integers bare, else up to 2 decimals, unicode minus), written here
    independently of the drawing code."""
    text = str(int(round(value))) if abs(value - round(value)) < 1e-9 else f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "-0.0") else text.replace("-", "−")


def panel_numbers(sheet, heading: Text, headings: list[Text]) -> list[list[str]]:
    """The numbers drawn below `heading` and nearer its centre than any other heading, as rows of strings."""
    hx, hy = heading.get_position()
    cells = []
    for t in sheet.ax.texts:
        (x, y), s = t.get_position(), t.get_text()
        if not NUMBER.match(s) or y <= hy:
            continue
        nearest_heading = min(headings, key=lambda h: abs(h.get_position()[0] - x))
        if nearest_heading is heading:
            cells.append((round(y, 3), round(x, 3), s))
    ys, xs = sorted({c[0] for c in cells}), sorted({c[1] for c in cells})
    grid = [["" for _ in xs] for _ in ys]
    for y, x, s in cells:
        grid[ys.index(y)][xs.index(x)] = s
    return grid


def test_upsample_still_panels_match_their_headings(monkeypatch):
    """The panel under "nearest" prints torch's nearest upsampling, the one under "bilinear" torch's bilinear
    (align_corners=False), the one under "transposed conv" torch's conv_transpose2d with the scene's weights:
    a student reading a heading reads the numbers of that operation (catches swapped panels or headings)."""
    scene, (sheet,) = drawn("c10_upsample_vs_transposed", monkeypatch)
    spec = scene.still
    x = torch.tensor(spec.input, dtype=torch.float64)[None, None]
    t = spec.transposed
    w = torch.tensor(t.weights, dtype=torch.float64)[None, None]
    scale = spec.scale_factor
    expected = {
        "nearest": torch.nn.functional.interpolate(x, scale_factor=scale, mode="nearest"),
        "bilinear": torch.nn.functional.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False),
        "transposed conv": torch.nn.functional.conv_transpose2d(x, w, stride=t.stride, padding=t.padding,
                                                                output_padding=t.output_padding),
    }
    headings = {}
    for word in expected:
        found = [a for a in sheet.ax.texts if re.match(rf"^{word}\b.*→", a.get_text())]
        assert len(found) == 1, f"one panel heading starts with {word!r}: {[a.get_text() for a in sheet.ax.texts]}"
        headings[word] = found[0]
    assert len({round(h.get_position()[1], 3) for h in headings.values()}) == 1, "the three headings share a row"
    for word, values in expected.items():
        want = [[printed(float(v)) for v in row] for row in values[0, 0].tolist()]
        got = panel_numbers(sheet, headings[word], list(headings.values()))
        assert got == want, f"the panel headed {headings[word].get_text()!r} prints {got}, torch gives {want}"
    assert not torch.equal(expected["nearest"], expected["bilinear"]), "the scene tells nearest from bilinear"


@pytest.mark.parametrize("name", ["c02_3d_window.toml", "e02_rgb_kernel_slices.toml"])
def test_the_convolution_sign_is_explained_in_words(name):
    """Issue 13 item 5: a line of the figure says what each sign means. The whole convolution (input ∗ kernel =
    output) and the cell-by-cell product (window ⊙ slice = products) are two signs: the figure drew ⊙ for both, and
    its note said ⊙ also adds the products up, while the rows add them with "→ sum"."""
    drawn_strings = drawn_texts(Path(name).stem)
    assert drawn_strings.count("∗") == 1 and drawn_strings.count("⊙") == 3  # one convolution, one product per channel
    words = " ".join(drawn_strings)
    assert "∗ convolves" in words and "⊙ multiplies the window and the kernel cell by cell," in words
    assert "→ sum adds those products up" in words


@pytest.mark.parametrize("name", ["b04_receptive_field_dilated", "zh_receptive_field", "c10_upsample_vs_transposed"])
def test_stills_name_a_layers_arguments_in_the_animations_words(name):
    """One notation: a still names a layer's arguments as the animations' subtitles do ("kernel 3 · stride 1 ·
    dilation 2"; in Chinese their Chinese words), not in a shorthand of its own ("k=3 s=1 p=0 d=2",
    "output_padding=1"), and the receptive-field formula says what its symbols kₗ, dₗ, sₗ stand for."""
    words = " ".join(drawn_texts(name))
    assert not re.search(r"\b[kspd]=\d", words) and "output_padding" not in words, words
    chinese = name.startswith("zh_")
    assert ("步长 1" if chinese else "stride ") in words, words
    if "receptive" in name:
        joined = "".join(drawn_texts(name)) if chinese else words  # (Chinese lines break between characters)
        assert ("卷积核、膨胀、步长" if chinese else "kernel, dilation and stride") in joined, words
    if name == "b04_receptive_field_dilated":
        assert "dilation 2" in words, words
    if name.startswith("c10"):
        assert "output padding 1" in words, words


def test_the_param_counts_legend_names_both_looks_of_its_bars():
    """e03 drew its bars in two looks (the conv layer's counts plain, a dense neuron's hatched in another colour)
    with no legend naming them: every look of a bar now has a swatch of the same fill, edge and hatching, named."""
    _, sheets = drawn("e03_param_counts")
    sheet = sheets[0]
    patches = [p for p in sheet.ax.patches if isinstance(p, Rectangle)]
    look = lambda p: (rgb(p.get_facecolor()), rgb(p.get_edgecolor()), p.get_hatch() or "")
    bars = {look(p) for p in patches if p.get_width() > 30 and 10 < p.get_height() < 40}
    swatches = {look(p) for p in patches if p.get_width() == 14 and p.get_height() == 12}
    assert len(bars) == 2 and bars <= swatches, (bars, swatches)
    words = " ".join(drawn_texts("e03_param_counts"))
    assert "a conv layer's parameters" in words and "dense parameters" in words
