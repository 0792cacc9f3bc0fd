"""What the gallery's scenes say and show is true: claims in their texts are computed from the scenes, random
values never look like a bug, stages that connect do, paired scenes share their timing, one notation."""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from convgif.gallery import catalogue_row
from convgif.scene import load_scene, parse_scene
from convgif.scene.draws import REDRAWS, fair_draws, flaws, scene_flaws
from convgif.scene.values import random_integers

SCENES = Path(__file__).resolve().parent.parent / "scenes"
SCENE_PATHS = sorted(SCENES.glob("*.toml"))
OP_SCENES = [path for path in SCENE_PATHS if "op" in tomllib.loads(path.read_text(encoding="utf-8"))]


def scene(stem: str):
    return load_scene(SCENES / f"{stem}.toml")


def run(spec, x: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """The scene's operation (its geometry, bias and weights unless given) on another input `x`."""
    geometry = spec.geometry()
    weight = spec.weight_array() if weight is None else weight
    trace = spec.family.default_view.trace(x, weight, spec.bias_array(), geometry, spec.op)
    return np.asarray(trace.output()).reshape(geometry.output_shape)


def input_cells_read(spec) -> np.ndarray:
    """How many input cells (not padding) each output's window reads, per output position (one channel)."""
    geometry = spec.geometry()
    counts = np.zeros(geometry.output_shape[1:], dtype=int)
    for index in np.ndindex(*counts.shape):
        taps = [index[axis] * geometry.stride[axis] + np.arange(geometry.kernel_size[axis]) * geometry.dilation[axis]
                - geometry.padding[axis][0] for axis in range(len(index))]  # input coordinates of the taps
        counts[index] = math.prod(int(((t >= 0) & (t < n)).sum()) for t, n in zip(taps, geometry.input_shape[1:]))
    return counts


def windows(x: np.ndarray, size: int, stride: int) -> np.ndarray:
    """(H', W', size*size) windows of a 2D map."""
    out = (x.shape[0] - size) // stride + 1, (x.shape[1] - size) // stride + 1
    return np.array([[x[i * stride:i * stride + size, j * stride:j * stride + size].ravel() for j in range(out[1])]
                     for i in range(out[0])])


# ---- one notation in every scene text ---------------------------------------------------------------------

# × for products and shapes, − (U+2212) for minus, → for arrows: an ASCII '*', '->', a '-' before a digit or a
# '-' between spaces is the other notation (hyphenated words like "single-channel" are fine)
OTHER_NOTATION = re.compile(r"\*|->|-(?=\d)| - |(?<=[\w)])·(?=[\w(])")  # · between factors: a product, write ×


@pytest.mark.parametrize("path", SCENE_PATHS, ids=lambda p: p.stem)
def test_scene_texts_use_one_notation(path):
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    for key in ("title", "description", "caption"):
        text = document.get(key) or ""
        assert not OTHER_NOTATION.search(text), f"{path.name}: {key} writes {OTHER_NOTATION.findall(text)}: {text}"


def test_the_notation_rule_catches_the_other_notation():
    for text in ("3*3", "input -> output", "(3-1)", "stride-1 = 1", "9 - 2 + 1", "output channels 0-1", "3·3·16"):
        assert OTHER_NOTATION.search(text), text
    for text in ("3×3", "input → output", "(3 − 1)", "single-channel", "dark-to-bright", "a 3-channel input",
                 "input ch 0 · 7×7"):
        assert not OTHER_NOTATION.search(text), text


# ---- random values never look like a bug ------------------------------------------------------------------

def test_flaws_names_equal_kernels_zero_lines_and_shared_rows():
    kernel = np.ones((1, 2, 2))
    assert flaws(np.arange(1, 9.0).reshape(2, 2, 2), [kernel, kernel]) == [
        "output channels 0 and 1 have equal kernels"]
    assert flaws(np.array([[[1.0, 0.0], [2.0, 0.0]]])) == ["output channel 0 has an all-zero column 1"]
    assert flaws(np.array([[[3.0, 3.0], [1.0, 2.0]]]), bias=np.array([3.0])) == [
        "output channel 0 has an all-zero row 0 before the bias"]
    assert flaws(np.array([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [1.0, 2.0]]])) == [
        "output channels 0 and 1 share the row 1 of channel 1"]
    # single cells are no row or column: a 1×5 output may hold a 0, one-cell rows may repeat
    assert flaws(np.array([[[0.0, 1.0, 2.0, 3.0, 4.0]]])) == []
    assert flaws(np.array([[[1.0], [2.0]], [[1.0], [5.0]]])) == []
    assert flaws(np.array([[1.0, 0.0, 2.0], [1.0, 0.0, 2.0]])) == ["output channels 0 and 1 share the row 0 of channel 1"]


def test_transposed_kernels_are_compared_per_output_channel():
    document = {"op": {"kind": "conv_transpose2d", "out_channels": 2, "kernel_size": 2},
                "input": {"shape": [2, 3, 3]},
                "weights": {"values": [[[[1, 0], [0, 1]], [[1, 0], [0, 1]]], [[[1, 1], [0, 1]], [[1, 1], [0, 1]]]]}}
    spec = parse_scene(document, "t.toml")
    assert "output channels 0 and 1 have equal kernels" in scene_flaws(spec, spec.arrays())


SWEEP = {  # scene shapes like the gallery's; every seed's draw must come out without flaws
    "conv2d": {"op": {"kind": "conv2d", "out_channels": 1, "kernel_size": 3}, "input": {"shape": [1, 5, 5]}},
    "channels": {"op": {"kind": "conv2d", "out_channels": 4, "kernel_size": 3}, "input": {"shape": [3, 7, 7]}},
    "groups": {"op": {"kind": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 2, "stride": 2,
                      "groups": 2}, "input": {"shape": [2, 7, 7]}},
    "dilated": {"op": {"kind": "conv2d", "out_channels": 2, "kernel_size": 3, "padding": 1, "stride": 2,
                       "dilation": 2}, "input": {"shape": [3, 7, 7]}},
    "pointwise": {"op": {"kind": "conv2d", "out_channels": 4, "kernel_size": 1, "bias": False},
                  "input": {"shape": [3, 3, 3]}},
    "depthwise": {"op": {"kind": "conv2d", "out_channels": 3, "kernel_size": 3, "groups": 3, "bias": False},
                  "input": {"shape": [3, 5, 5]}},
    "conv1d": {"op": {"kind": "conv1d", "out_channels": 2, "kernel_size": 3}, "input": {"shape": [4, 8]}},
    "transposed": {"op": {"kind": "conv_transpose2d", "out_channels": 2, "kernel_size": 3, "stride": 2,
                          "padding": 1}, "input": {"shape": [1, 3, 3]}},
    "max_pool": {"op": {"kind": "max_pool2d", "kernel_size": 2, "stride": 2}, "input": {"shape": [2, 6, 6]}},
    "lp_pool": {"op": {"kind": "lp_pool2d", "kernel_size": 2, "stride": 2}, "input": {"shape": [1, 6, 6]}},
}


@pytest.mark.parametrize("name", SWEEP)
def test_random_draws_come_out_without_flaws(name):
    for seed in range(100):
        document = {**SWEEP[name], "input": {**SWEEP[name]["input"], "seed": seed}}
        if "pool" not in name:
            document["weights"] = {"seed": seed + 1000}
        spec = parse_scene(document, f"{name}_{seed}.toml")
        assert scene_flaws(spec, spec.arrays()) == [], f"{name} seed {seed}"


def test_a_draw_without_flaws_is_the_plain_draw():
    spec = scene("a01_plain_conv")
    np.testing.assert_array_equal(spec.input_array(), random_integers(1, (0, 9), (1, 9, 9)))
    np.testing.assert_array_equal(spec.weight_array(), random_integers(2, (-1, 1), (1, 1, 3, 3)))


def test_a_flawed_draw_is_redrawn_the_same_way_every_time():
    spec = scene("a08_groups")
    first_input, first_weight = random_integers(15, (0, 9), (2, 7, 7)), random_integers(16, (-1, 1), (4, 1, 3, 3))
    # the plain draw has an all-zero column and a row two channels share
    assert flaws(run(spec, first_input, first_weight), list(first_weight), spec.bias_array()) == [
        "output channel 0 has an all-zero column 4", "output channels 2 and 3 share the row 0 of channel 3"]
    again = fair_draws.__wrapped__(scene("a08_groups"))
    np.testing.assert_array_equal(spec.input_array(), again[0])
    np.testing.assert_array_equal(spec.weight_array(), again[1])
    assert not np.array_equal(spec.input_array(), first_input)
    assert scene_flaws(spec, spec.arrays()) == []


def test_a_flaw_every_draw_has_keeps_the_first_draw():
    # padding 2 with a 2×2 kernel and no bias: the border windows read only zeros, whatever is drawn
    document = {"op": {"kind": "conv2d", "kernel_size": 2, "padding": 2, "bias": False},
                "input": {"shape": [1, 4, 4], "seed": 7}, "weights": {"seed": 8}}
    spec = parse_scene(document, "b02_random.toml")
    np.testing.assert_array_equal(spec.input_array(), random_integers(7, (0, 9), (1, 4, 4)))
    assert REDRAWS >= 8 and scene_flaws(spec, spec.arrays())


# border windows of b02 read only padding: that all-zero border is the scene's point (see test_b02_...)
SHOWN_ON_PURPOSE = {"b02_padding_two": {"output channel 0 has an all-zero row 0", "output channel 0 has an all-zero row 6",
                                        "output channel 0 has an all-zero column 0",
                                        "output channel 0 has an all-zero column 6"}}


@pytest.mark.parametrize("path", OP_SCENES, ids=lambda p: p.stem)
def test_no_gallery_scene_shows_what_reads_as_a_bug(path):
    spec = load_scene(path)
    assert set(scene_flaws(spec, spec.arrays())) == SHOWN_ON_PURPOSE.get(path.stem, set())


# ---- stages that connect ----------------------------------------------------------------------------------

def test_the_pointwise_stage_reads_the_depthwise_stage_output():
    depthwise, pointwise = scene("b06_depthwise_stage").arrays(), scene("b06_pointwise_stage").arrays()
    np.testing.assert_array_equal(pointwise["input"], depthwise["output"])
    kernels = [tuple(k.ravel()) for k in pointwise["weight"]]
    assert len(set(kernels)) == len(kernels)


def test_the_depthwise_separable_stages_count_their_weights():
    depthwise, pointwise = scene("b06_depthwise_stage").geometry(), scene("b06_pointwise_stage").geometry()
    assert (depthwise.params, pointwise.params) == (27, 12)
    assert depthwise.params + pointwise.params == 39 and 3 * 3 * 3 * 4 == 108


# ---- claims in the texts ----------------------------------------------------------------------------------

@pytest.mark.parametrize("stem, shape", [
    ("a01_plain_conv", (1, 7, 7)), ("a04_nonsquare_kernel", (2, 3, 8)), ("a05_nonsquare_stride", (2, 7, 3)),
    ("a06_padding", (1, 7, 7)), ("a07_dilation", (1, 1, 5)), ("b01_arange_one_kernel", (1, 3, 3)),
    ("b01_arange_two_kernels", (2, 3, 3)), ("b02_padding_two", (1, 7, 7)), ("b03_output_size_formula", (1, 4, 4)),
    ("c03_same", (1, 6, 6)), ("c03_valid", (1, 4, 4)), ("c05_max_pool", (1, 3, 3)), ("c05_avg_pool", (1, 3, 3)),
    ("c07_causal_conv1d", (1, 10)), ("c07_text_conv1d", (2, 6)), ("c07_time_series", (1, 12)),
    ("c08_transposed_zero_insertion", (1, 5, 5)), ("c08_transposed_scatter", (1, 5, 5)),
    ("c09_conv_5x5_to_3x3", (1, 3, 3)), ("c09_conv_6x6_to_3x3", (1, 3, 3)), ("c09_transposed_to_5x5", (1, 5, 5)),
    ("c09_transposed_output_padding", (1, 6, 6)), ("c11_transposed_32_to_64", (1, 64, 64)),
    ("c02_3d_kernel", (1, 3, 3)), ("d02_kernel_slices", (1, 3, 3)),
])
def test_output_shapes_the_texts_name(stem, shape):
    assert scene(stem).arrays()["output"].shape == shape


def test_a07_the_dilated_kernel_spans_9_by_5():
    assert scene("a07_dilation").geometry().effective_kernel_size == (9, 5)


def test_b05_the_dilated_kernel_covers_5_by_5_with_9_weights():
    geometry = scene("b05_dilated").geometry()
    assert geometry.effective_kernel_size == (5, 5) and geometry.weight_count == 9


def test_a08_each_group_reads_only_its_input_channel():
    spec = scene("a08_groups")
    x = spec.input_array()
    changed = x.copy()
    changed[1] += 5
    before, after = run(spec, x), run(spec, changed)
    np.testing.assert_array_equal(before[:2], after[:2])  # output channels 0 and 1 read input channel 0 only
    assert not np.array_equal(before[2:], after[2:])
    assert spec.geometry().weight_shape == (4, 1, 3, 3)  # 1 slice per kernel instead of 2


def test_a10_parameter_counts():
    assert (scene("a10_bias").geometry().params, scene("a10_no_bias").geometry().params) == (38, 36)


def test_b02_border_windows_read_only_padding_and_the_border_is_zero():
    spec = scene("b02_padding_two")
    cells = input_cells_read(spec)
    border = np.ones_like(cells, dtype=bool)
    border[1:-1, 1:-1] = False
    assert (cells[border] == 0).all() and (cells[~border] > 0).all()
    output = spec.arrays()["output"][0]
    assert (output[border] == 0).all() and spec.bias_array().tolist() == [0.0]


def test_c05_lp_pool_values_exceed_the_window_max_and_are_twice_the_rms():
    arrays = scene("c05_lp_pool").arrays()
    taps = windows(arrays["input"][0], 2, 2)
    output = arrays["output"][0]
    assert (output > taps.max(axis=-1)).all()
    np.testing.assert_allclose(output, 2 * np.sqrt((taps ** 2).mean(axis=-1)))


def test_c05_avg_and_max_pool_keep_the_mean_and_the_max():
    for stem, reduce in (("c05_avg_pool", np.mean), ("c05_max_pool", np.max)):
        arrays = scene(stem).arrays()
        np.testing.assert_allclose(arrays["output"][0], reduce(windows(arrays["input"][0], 2, 2), axis=-1))


def test_c07_causal_output_sees_nothing_from_the_future():
    spec = scene("c07_causal_conv1d")
    x = spec.input_array()
    for t in range(x.shape[-1] - 1):
        future = x.copy()
        future[:, t + 1:] += 100
        np.testing.assert_array_equal(run(spec, future)[:, :t + 1], run(spec, x)[:, :t + 1])


def test_c09_six_by_six_reads_the_last_row_but_never_the_bottom_right_padding():
    geometry = scene("c09_conv_6x6_to_3x3").geometry()
    read = {i * geometry.stride[0] + a * geometry.dilation[0]
            for i in range(geometry.output_shape[1]) for a in range(geometry.kernel_size[0])}
    padded = geometry.padded_input_shape[1]
    last_input_row = geometry.padding[0][0] + geometry.input_shape[1] - 1
    assert last_input_row in read and padded - 1 not in read and geometry.padding[0][1] == 1


def test_c11_shows_every_97th_step():
    spec = scene("c11_transposed_32_to_64")
    assert spec.step_indices() == list(range(0, 64 * 64, 97))


def test_f01_sobel_x_gives_large_sums_of_both_signs():
    output = scene("f01_image_sobel_edges").arrays()["output"]
    assert output.max() > 200 and output.min() < -200


# ---- paired scenes share their timing ---------------------------------------------------------------------

def test_scenes_of_one_catalogue_row_share_their_timing():
    rows: dict[str, dict[str, tuple[int, int]]] = {}
    for path in OP_SCENES:
        spec = load_scene(path)
        row = catalogue_row(spec.catalogue, path.stem)
        if row != "other":  # themes and languages: not shown side by side
            rows.setdefault(row, {})[path.stem] = (spec.render.duration_ms, spec.render.hold_ms)
    paired = {row: timings for row, timings in rows.items() if len(timings) > 1}
    assert {"C3", "C5", "C9"} <= set(paired)
    for row, timings in paired.items():
        assert len(set(timings.values())) == 1, f"catalogue row {row}: {timings}"

