"""Scene files: a valid scene's frozen spec and derived values; malformed scenes with pinned messages."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from convgif.errors import SceneError
from convgif.scene import load_scene, parse_scene, scene_json_schema

SCENES = Path(__file__).resolve().parent.parent / "scenes"

FULL = """
title = "Padding keeps the size"
description = "A 3x3 kernel with padding 1"
caption = "Input {input_shape} -> Output {output_shape}  K {kernel_size} P {padding} S {stride}"

[op]
kind = "conv2d"
out_channels = 3
kernel_size = 3
stride = 1
padding = 1
dilation = 1
groups = 1
bias = true
padding_mode = "zeros"

[input]
shape = [2, 7, 7]
values = "random"
seed = 0
range = [0, 9]

[weights]
values = "random"
seed = 1
range = [-1, 2]
bias = "random"

[render]
duration_ms = 600
hold_ms = 2000
width = 720
theme = "light"
steps = {every = 2}
max_frames = 2000

[output]
name = "padding_demo"
"""


def write(tmp_path: Path, text: str, name: str = "x.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(document: dict, source: str = "scenes/x.toml") -> list[str]:
    with pytest.raises(SceneError) as caught:
        parse_scene(document, source)
    return caught.value.lines()


def base(**sections) -> dict:
    document = {"op": {"kind": "conv2d", "out_channels": 1, "kernel_size": 3}, "input": {"shape": [1, 5, 5]}}
    for name, value in sections.items():
        if isinstance(value, dict) and isinstance(document.get(name), dict):
            document[name] = {**document[name], **value}
        else:
            document[name] = value
    return document


# ---- a valid scene ---------------------------------------------------------------------------------

def test_full_scene_parses_into_the_expected_frozen_spec(tmp_path):
    path = write(tmp_path, FULL, "a06.toml")
    scene = load_scene(path)
    assert scene.source == str(path)
    assert scene.stem == "padding_demo"
    assert scene.title == "Padding keeps the size"
    assert scene.description == "A 3x3 kernel with padding 1"
    assert scene.op.kind == "conv2d"
    assert (scene.op.out_channels, scene.op.kernel_size, scene.op.stride, scene.op.padding) == (3, 3, 1, 1)
    assert (scene.op.dilation, scene.op.groups, scene.op.bias, scene.op.padding_mode) == (1, 1, True, "zeros")
    assert scene.input.shape == (2, 7, 7)
    assert scene.input.range == (0, 9) and scene.input.seed == 0
    assert scene.weights.range == (-1, 2) and scene.weights.seed == 1 and scene.weights.bias == "random"
    assert scene.render.steps == ("every", 2)
    assert (scene.render.duration_ms, scene.render.hold_ms, scene.render.width) == (600, 2000, 720)
    with pytest.raises(ValidationError):
        scene.title = "changed"
    with pytest.raises(ValidationError):
        scene.op.groups = 2
    with pytest.raises(ValidationError):
        scene.input.shape = (1, 2, 2)


def test_defaults_and_stem_from_the_file_name(tmp_path):
    path = write(tmp_path, '[op]\nkind = "conv1d"\nkernel_size = 2\n[input]\nshape = [1, 6]\n', "my_scene.toml")
    scene = load_scene(path)
    assert scene.stem == "my_scene"
    assert scene.title is None and scene.caption is None
    assert scene.op.out_channels == 1 and scene.op.padding == 0 and scene.op.bias is True
    assert scene.weights is not None and scene.weights.values == "random"
    assert scene.render.max_frames == 2000 and scene.render.steps == "all"
    assert scene.view_name() == "conv"  # the family's default view, named


def test_info_matches_hand_computed_geometry(tmp_path):
    scene = load_scene(write(tmp_path, FULL))
    info = scene.info()
    assert info["input_shape"] == (2, 7, 7)
    assert info["output_shape"] == (3, 7, 7)  # (7 + 2 - 3)/1 + 1
    assert info["weight_shape"] == (3, 2, 3, 3)
    assert info["params"] == 3 * 2 * 9 + 3
    assert info["macs"] == 3 * 7 * 7 * 2 * 9
    assert info["frames"] == 74 + 1  # every 2nd of 147 steps, plus the hold frame
    assert info["effective_kernel_size"] == (3, 3)
    assert info["formula"] == "H: floor((7 + 2*1 - 1*(3 - 1) - 1) / 1) + 1 = 7; W: floor((7 + 2*1 - 1*(3 - 1) - 1) / 1) + 1 = 7"


def test_arrays_are_deterministic_float64_from_the_seeds(tmp_path):
    path = write(tmp_path, FULL)
    first, second = load_scene(path), load_scene(path)
    x = first.input_array()
    assert x.dtype == np.float64 and x.shape == (2, 7, 7)
    expected = np.random.default_rng(0).integers(0, 10, size=(2, 7, 7))
    np.testing.assert_array_equal(x, expected)
    assert x.min() >= 0 and x.max() <= 9
    np.testing.assert_array_equal(first.weight_array(), second.weight_array())
    np.testing.assert_array_equal(first.bias_array(), second.bias_array())
    w = first.weight_array()
    assert w.shape == (3, 2, 3, 3) and w.min() >= -1 and w.max() <= 2 and np.all(w == np.round(w))
    assert first.bias_array().shape == (3,)
    other = parse_scene(base(input={"shape": [2, 7, 7], "seed": 5}), "y.toml")
    assert not np.array_equal(other.input_array(), x)


def test_arange_fills_one_to_n_in_raster_order():
    scene = parse_scene(base(input={"shape": [1, 4, 4], "values": "arange"}), "b01.toml")
    np.testing.assert_array_equal(scene.input_array().ravel(), np.arange(1, 17))
    assert scene.input_array()[0, 1, 0] == 5


def test_nested_list_values_and_bias():
    document = base(
        op={"out_channels": 2, "kernel_size": 2},
        input={"shape": [1, 2, 2], "values": [[[1, 2], [3, 4.5]]]},
        weights={"values": [[[[1, 0], [-1, 2]]], [[[0, 1], [1, 0]]]], "bias": [0.5, -1]},
    )
    scene = parse_scene(document, "b01.toml")
    np.testing.assert_array_equal(scene.input_array(), [[[1, 2], [3, 4.5]]])
    np.testing.assert_array_equal(scene.weight_array()[1, 0], [[0, 1], [1, 0]])
    np.testing.assert_array_equal(scene.bias_array(), [0.5, -1])
    scene = parse_scene(base(weights={"bias": 0.25}), "x.toml")
    np.testing.assert_array_equal(scene.bias_array(), [0.25])
    assert parse_scene(base(op={"bias": False}), "x.toml").bias_array() is None


@pytest.mark.parametrize("name, kernel", [
    ("identity", [[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    ("box", [[1 / 9] * 3] * 3),
    ("sobel_x", [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    ("sobel_y", [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    ("laplacian", [[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    ("sharpen", [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    ("gaussian", [[1 / 16, 2 / 16, 1 / 16], [2 / 16, 4 / 16, 2 / 16], [1 / 16, 2 / 16, 1 / 16]]),
])
def test_presets_fill_every_slice(name, kernel):
    scene = parse_scene(base(op={"out_channels": 2}, input={"shape": [3, 5, 5]}, weights={"values": name}), "x.toml")
    w = scene.weight_array()
    assert w.shape == (2, 3, 3, 3)
    for out in range(2):
        for inp in range(3):
            np.testing.assert_allclose(w[out, inp], kernel)


def test_caption_fill_and_formatting():
    document = base(
        op={"out_channels": 2, "kernel_size": [5, 2], "stride": [1, 3]},
        input={"shape": [3, 7, 9]},
        caption="{input_shape} -> {output_shape} w {weight_shape} K {kernel_size} S {stride} P {padding} "
                "D {dilation} G {groups} b {bias} {params} params {macs} MACs {{literal}}",
    )
    scene = parse_scene(document, "a04.toml")
    # H: 7 - 5 + 1 = 3; W: floor((9 - 2) / 3) + 1 = 3; params 2*3*5*2 + 2; MACs 2*3*3 outputs * 3*5*2 taps
    assert scene.caption_text() == (
        "3×7×9 -> 2×3×3 w 2×3×5×2 K 5×2 S (1, 3) P 0 D 1 G 1 b yes 62 params 540 MACs {literal}"
    )  # shapes as the frames' headers write them (3×7×9), not as tuples
    same = parse_scene(base(op={"padding": "same", "kernel_size": 4}, caption="P {padding}"), "x.toml")
    assert same.caption_text() == "P 1/2"  # torch puts the odd extra cell after; written as the frames write it
    uneven = parse_scene(base(op={"padding": "same", "kernel_size": [4, 3]}, caption="P {padding}"), "x.toml")
    assert uneven.caption_text() == "P (1/2, 1)"
    vector = parse_scene({"op": {"kind": "max_pool1d", "kernel_size": 2}, "input": {"shape": [1, 6]},
                          "caption": "{input_shape} → {output_shape} {kernel_size}"}, "x.toml")
    assert vector.caption_text() == "1×6 → 1×3 2"


def test_caption_formula_writes_a_shared_axis_formula_once():
    square = parse_scene(base(op={"padding": 1}, caption="{formula}"), "x.toml")
    assert square.caption_text() == "H, W: floor((5 + 2×1 − 1×(3 − 1) − 1) / 1) + 1 = 5"  # typeset: × and −
    oblong = parse_scene(base(op={"kernel_size": [3, 1]}, caption="{formula}"), "x.toml")
    assert oblong.caption_text() == ("H: floor((5 + 2×0 − 1×(3 − 1) − 1) / 1) + 1 = 3; "
                                     "W: floor((5 + 2×0 − 1×(1 − 1) − 1) / 1) + 1 = 5")


def test_default_caption_when_none_is_given():
    """Without a caption a frame shows its output-size arithmetic: the subtitle already names the op, its shapes
    and its arguments (the old default said them again, abbreviated as K, P, S, D, G, shapes as tuples)."""
    scene = parse_scene(base(op={"padding": 1, "stride": 2}), "x.toml")
    assert scene.caption_text() == "H, W: floor((5 + 2×1 − 1×(3 − 1) − 1) / 2) + 1 = 3"
    pool = parse_scene({"op": {"kind": "avg_pool2d", "kernel_size": 2}, "input": {"shape": [1, 4, 4]}}, "x.toml")
    assert pool.caption_text() == "H, W: floor((4 + 2×0 − 1×(2 − 1) − 1) / 2) + 1 = 2"
    relu = parse_scene({"op": {"kind": "relu"}, "input": {"shape": [1, 4, 4]}}, "x.toml")
    assert relu.caption_text() == ""


def test_step_choices():
    assert parse_scene(base(), "x.toml").step_indices() == list(range(9))
    assert parse_scene(base(render={"steps": {"first": 4}}), "x.toml").step_indices() == [0, 1, 2, 3]
    assert parse_scene(base(render={"steps": {"every": 4}}), "x.toml").step_indices() == [0, 4, 8]
    scene = parse_scene(base(render={"steps": [8, 0, 3]}), "x.toml")
    assert scene.step_indices() == [8, 0, 3] and scene.info()["frames"] == 4


def test_transposed_views_count_their_steps():
    document = {
        "op": {"kind": "conv_transpose2d", "out_channels": 1, "kernel_size": 3, "stride": 2, "padding": 1,
               "output_padding": 1},
        "input": {"shape": [1, 3, 3]},
    }
    scene = parse_scene(document, "c09.toml")
    assert scene.view_name() == "zero_insertion"
    assert scene.info()["output_shape"] == (1, 6, 6)  # (3-1)*2 - 2 + 2 + 1 + 1
    assert scene.info()["frames"] == 36 + 1
    assert scene.weight_array().shape == (1, 1, 3, 3)
    scatter = parse_scene({**document, "render": {"view": "scatter"}}, "c09.toml")
    assert scatter.info()["frames"] == 9 + 1


def test_json_schema_describes_the_format():
    schema = scene_json_schema()
    json.dumps(schema)
    assert {"op", "input", "weights", "render", "output", "caption"} <= set(schema["$defs"]["SceneFile"]["properties"])
    text = json.dumps(schema)
    for word in ("conv_transpose2d", "lp_pool2d", "sobel_x", "arange", "max_frames"):
        assert word in text


def test_every_scene_in_the_repository_loads():
    paths = sorted(SCENES.glob("*.toml"))
    assert paths
    for path in paths:
        scene = load_scene(path)
        scene.caption_text()
        if "still" in scene.info():  # a still's frame count is known once its figure is drawn
            continue
        assert scene.info()["frames"] >= 2


# ---- malformed scenes: exact messages ---------------------------------------------------------------

def test_syntax_error_has_line_and_column(tmp_path):
    path = write(tmp_path, 'title = "x"\n[op]\nkind = conv2d\n')
    with pytest.raises(SceneError) as caught:
        load_scene(path)
    assert caught.value.lines() == [f"{path}: TOML syntax error at line 3, column 8: Invalid value"]
    assert caught.value.problems == [("", "TOML syntax error at line 3, column 8: Invalid value")]


def test_unreadable_files_are_scene_errors(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(SceneError) as caught:
        load_scene(missing)
    assert caught.value.lines() == [f"{missing}: cannot read the scene file: it does not exist"]
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b'title = "\xff"\n')
    with pytest.raises(SceneError) as caught:
        load_scene(binary)
    assert caught.value.lines() == [
        f"{binary}: cannot read the scene file: not UTF-8 text (byte 0xff at offset 9; save it as UTF-8)"
    ]
    with pytest.raises(SceneError) as caught:
        load_scene(tmp_path)
    assert caught.value.lines() == [f"{tmp_path}: cannot read the scene file: it is a directory"]


def test_unknown_keys_suggest_the_closest_name():
    assert problems_of(base(op={"dilaton": 2}, titel="x")) == [
        "scenes/x.toml: titel: unknown key (did you mean 'title'?)",
        "scenes/x.toml: op.dilaton: unknown key (did you mean 'dilation'?)",
    ]
    assert problems_of(base(render={"zzz": 1})) == [
        "scenes/x.toml: render.zzz: unknown key (allowed: duration_ms, hold_ms, loop_ms, width, aspect, theme, colours, steps, max_frames, view, font_scale, text, taps, receptive_field, quiz)"
    ]


def test_unsupported_kind_lists_the_kinds():
    assert problems_of(base(op={"kind": "conv3d"})) == [
        "scenes/x.toml: op.kind: 'conv3d' is not supported (one of conv1d, conv2d, conv_transpose1d, "
        "conv_transpose2d, max_pool1d, max_pool2d, avg_pool1d, avg_pool2d, lp_pool1d, lp_pool2d, relu, flatten, linear, upsample) "
        "(did you mean 'conv2d'?)"
    ]


def test_wrong_types():
    document = base(
        op={"kernel_size": 3.0, "bias": 1, "out_channels": True, "padding": "full"},
        input={"shape": "7x7", "seed": -1},
        render={"duration_ms": "fast", "theme": "drak"},
        title=3,
        weights=[1, 2],
    )
    assert problems_of(document) == [
        "scenes/x.toml: title: 3 is not a string",
        "scenes/x.toml: op.out_channels: true is not an integer",
        "scenes/x.toml: op.kernel_size: 3.0 is not an integer or a list of integers",
        "scenes/x.toml: op.padding: 'full' is not a padding (an integer, a list of integers, 'same', 'valid' "
        "or pairs [[top, bottom], [left, right]])",
        "scenes/x.toml: op.bias: 1 is not true or false",
        "scenes/x.toml: input.shape: '7x7' is not a shape (write [C, L] or [C, H, W] with positive integers)",
        "scenes/x.toml: input.seed: -1 is out of range (must be at least 0)",
        "scenes/x.toml: weights: [1, 2] is not a table (write [weights] with keys under it)",
        "scenes/x.toml: render.duration_ms: 'fast' is not an integer",
        "scenes/x.toml: render.theme: 'drak' is not supported (one of light, dark, print, colorblind, auto (light and dark), or a list of themes) (did you mean 'dark'?)",
    ]


def test_an_aspect_that_is_a_list_is_a_problem_not_a_crash():
    """Regression (found by tests/test_scene_fuzz.py): `aspect = []` raised TypeError (unhashable) in the rule that
    gives an aspect its default width."""
    assert problems_of(base(render={"aspect": []})) == [
        "scenes/x.toml: render.aspect: [] is not supported (one of auto, 16:9, 4:3)"]


def test_missing_tables_and_keys():
    assert problems_of({"op": {"kernel_size": 3}}) == [
        "scenes/x.toml: op.kind: required key is missing (one of conv1d, conv2d, conv_transpose1d, "
        "conv_transpose2d, max_pool1d, max_pool2d, avg_pool1d, avg_pool2d, lp_pool1d, lp_pool2d, relu, flatten, linear, upsample)",
        "scenes/x.toml: input: required table is missing",
    ]


def test_groups_must_divide_the_channels():
    assert problems_of(base(op={"groups": 3, "out_channels": 3}, input={"shape": [4, 7, 7]})) == [
        "scenes/x.toml: op.groups: 3 does not divide in_channels=4"
    ]


def test_window_larger_than_the_padded_input():
    assert problems_of(base(op={"kernel_size": 9, "padding": 1})) == [
        "scenes/x.toml: op.kernel_size: the window spans 9 cells on H (1 + 1*(9 - 1)) but the padded input has only 7"
    ]


def test_same_padding_with_stride_two():
    assert problems_of(base(op={"padding": "same", "stride": 2})) == [
        "scenes/x.toml: op.padding: padding='same' is not supported for strided convolutions (stride must be 1)"
    ]


def test_input_of_the_wrong_rank_for_the_kind():
    assert problems_of(base(input={"shape": [1, 5]})) == [
        "scenes/x.toml: input.shape: conv2d needs a (C, H, W) input, got (1, 5)"
    ]


def test_data_of_the_wrong_shape():
    values = [[[1] * 6] * 7] * 2
    assert problems_of(base(input={"shape": [2, 7, 7], "values": values})) == [
        "scenes/x.toml: input.values: shape (2, 7, 6) does not match input.shape (2, 7, 7)"
    ]
    assert problems_of(base(op={"out_channels": 2}, weights={"values": [[[[1, 2, 3]] * 3]]})) == [
        "scenes/x.toml: weights.values: shape (1, 1, 3, 3) does not match the weight shape (2, 1, 3, 3) "
        "of this conv2d (C_out, C_in/groups, kH, kW)"
    ]
    transposed = {"op": {"kind": "conv_transpose1d", "out_channels": 4, "kernel_size": 2, "groups": 2},
                  "input": {"shape": [2, 5]}, "weights": {"values": [[[1, 2]] * 4] * 2}}
    assert problems_of(transposed) == [
        "scenes/x.toml: weights.values: shape (2, 4, 2) does not match the weight shape (2, 2, 2) "
        "of this conv_transpose1d (C_in, C_out/groups, k)"
    ]


def test_bad_numbers_in_data():
    document = base(input={"values": [[[1, float("nan")]]]}, weights={"values": [[[[1], 2]]], "bias": float("inf")})
    assert problems_of(document) == [
        "scenes/x.toml: input.values: nan at [0][0][1] is not a finite number ('random', 'arange' or nested lists "
        "of numbers)",
        "scenes/x.toml: weights.values: 2 at [0][0][1] is not a list (the lists are not rectangular) ('random', "
        "nested lists of numbers or a preset)",
        "scenes/x.toml: weights.bias: inf is not a finite number ('random', a number or a list of numbers, "
        "one per output channel)",
    ]
    assert problems_of(base(input={"values": [[[1e300] * 5] * 5]}, weights={"bias": [True]})) == [
        "scenes/x.toml: input.values: 1e+300 at [0][0][0] is too large (numbers up to ±1e+09) ('random', 'arange' "
        "or nested lists of numbers)",
        "scenes/x.toml: weights.bias: [true] is not a bias ('random', a finite number or a list of finite numbers, "
        "one per output channel)",
    ]


def test_presets_need_a_3x3_2d_kernel():
    assert problems_of(base(op={"kernel_size": 5}, input={"shape": [1, 9, 9]}, weights={"values": "sobel_x"})) == [
        "scenes/x.toml: weights.values: preset 'sobel_x' is a 3×3 kernel for 2D convolutions, but this conv2d "
        "has a 5×5 kernel (use op.kernel_size = 3 in a 2D convolution)"
    ]
    assert problems_of(base(weights={"values": "sobel"})) == [
        "scenes/x.toml: weights.values: 'sobel' is not a way to fill the weights ('random', nested lists of numbers "
        "or a preset: identity, box, sobel_x, sobel_y, laplacian, sharpen, gaussian) (did you mean 'sobel_y'?)"
    ]


def test_unknown_placeholder():
    assert problems_of(base(caption="{input_shap} -> {output_shape}")) == [
        "scenes/x.toml: caption: unknown placeholder {input_shap} (did you mean {input_shape}?)"
    ]
    assert problems_of(base(caption="{kind.__class__}")) == [
        "scenes/x.toml: caption: {kind.__class__} is not a placeholder (write {name} only) (placeholders: "
        "input_shape, output_shape, kernel_size, stride, padding, dilation, in_channels, out_channels, params, "
        "macs, formula, effective_kernel_size, kind, weight_shape, groups, bias, padding_mode, output_padding, "
        "ceil_mode, count_include_pad, norm_type)"
    ]
    assert problems_of(base(caption="{oops")) == [
        "scenes/x.toml: caption: has an unmatched '{' or '}' (write {{ and }} for literal braces)"
    ]


def test_several_problems_are_reported_together():
    document = base(
        op={"dilaton": 2, "groups": 3, "out_channels": 3},
        input={"shape": [4, 7, 7], "values": [[[1] * 7] * 7]},
        caption="{input_shap}",
        render={"theme": "drak"},
    )
    assert problems_of(document) == [
        "scenes/x.toml: caption: unknown placeholder {input_shap} (did you mean {input_shape}?)",
        "scenes/x.toml: op.dilaton: unknown key (did you mean 'dilation'?)",
        "scenes/x.toml: render.theme: 'drak' is not supported (one of light, dark, print, colorblind, auto (light and dark), or a list of themes) (did you mean 'dark'?)",
        "scenes/x.toml: input.values: shape (1, 7, 7) does not match input.shape (4, 7, 7)",
        "scenes/x.toml: op.groups: 3 does not divide in_channels=4",
    ]


def test_bias_given_but_switched_off_and_wrong_length():
    assert problems_of(base(op={"bias": False}, weights={"bias": 1})) == [
        "scenes/x.toml: weights.bias: is given but op.bias = false (remove weights.bias or set op.bias = true)"
    ]
    assert problems_of(base(op={"out_channels": 2}, weights={"bias": [1, 2, 3]})) == [
        "scenes/x.toml: weights.bias: has 3 values but op.out_channels = 2 (one per output channel)"
    ]


def test_keys_and_tables_that_do_not_apply_to_pools():
    document = {"op": {"kind": "max_pool2d", "kernel_size": 2, "groups": 2}, "input": {"shape": [1, 4, 4]},
                "weights": {}, "caption": "{groups}"}
    assert problems_of(document) == [
        "scenes/x.toml: op.groups: not used by max_pool2d (its keys: kind, kernel_size, stride, padding, dilation, "
        "ceil_mode)",
        "scenes/x.toml: weights: max_pool2d has no weights (remove the [weights] table)",
        "scenes/x.toml: caption: {groups} does not apply to max_pool2d (placeholders for max_pool2d: input_shape, "
        "output_shape, kernel_size, stride, padding, dilation, in_channels, out_channels, params, macs, formula, "
        "effective_kernel_size, kind, ceil_mode)",
    ]


def test_a_batched_shape_gets_the_shape_without_its_batch_dimension():
    assert problems_of(base(input={"shape": [1, 1, 5, 5]})) == [
        "scenes/x.toml: input.shape: [1, 1, 5, 5] is not a shape (write [C, L] or [C, H, W] with positive integers; "
        "without the batch dimension: [1, 5, 5])"
    ]


def test_views_are_checked_per_kind():
    assert problems_of(base(render={"view": "scatter"})) == [
        "scenes/x.toml: render.view: 'scatter' is not a view of conv2d (one of conv, volume)"
    ]
    assert parse_scene(base(render={"view": "conv"}), "x.toml").view_name() == "conv"  # the default has a name too
    transposed = {"op": {"kind": "conv_transpose2d", "kernel_size": 2}, "input": {"shape": [1, 2, 2]},
                  "render": {"view": "scater"}}
    assert problems_of(transposed) == [
        "scenes/x.toml: render.view: 'scater' is not a view of conv_transpose2d (one of zero_insertion, scatter) "
        "(did you mean 'scatter'?)"
    ]


def test_too_many_frames_names_the_limit_and_the_way_past_it():
    document = base(input={"shape": [1, 92, 92]})
    assert problems_of(document) == [
        "scenes/x.toml: render.steps: 8100 step frames exceed render.max_frames=2000 (raise render.max_frames "
        "or sample with render.steps = {every = k})"
    ]
    assert parse_scene(base(input={"shape": [1, 92, 92]}, render={"steps": {"every": 5}}), "x.toml")
    assert parse_scene(base(input={"shape": [1, 92, 92]}, render={"max_frames": 8100}), "x.toml")


def test_step_indices_out_of_range():
    assert problems_of(base(render={"steps": [0, 9, 12]})) == [
        "scenes/x.toml: render.steps: step index 9, 12 out of range (this scene has 9 steps: 0..8)"
    ]


def test_huge_input_is_refused_naming_the_limit():
    assert problems_of(base(input={"shape": [3, 7000, 7000]})) == [
        "scenes/x.toml: input.shape: 7000 cells on H exceed the maximum of 4096 (a fixed limit)"
    ]
    assert problems_of(base(input={"shape": [100, 400, 400]})) == [
        "scenes/x.toml: input.shape: (100, 400, 400) has 16000000 elements, more than the 1000000 allowed "
        "(a fixed limit: use a smaller input)"
    ]


def test_derived_sizes_are_limited():
    transposed = {"op": {"kind": "conv_transpose2d", "kernel_size": 3, "stride": 1000000, "padding": 999999},
                  "input": {"shape": [1, 3, 3]}}
    assert problems_of(transposed) == [
        "scenes/x.toml: op.stride: the zero-inserted input would span 2000001 cells ((n - 1)*s + 1 = "
        "(3 - 1)*1000000 + 1), more than the 4096 allowed (a fixed limit)"
    ]


def test_output_name_must_be_plain():
    for name in ("../x", "/abs", "a/b", ""):
        assert problems_of(base(output={"name": name})) == [
            f"scenes/x.toml: output.name: {name!r} is not a plain file name (letters, digits, '_', '-' and '.', "
            "no '/' or '..', at most 100 characters)"
        ]


def test_document_that_is_not_a_table():
    assert problems_of([1, 2]) == ["scenes/x.toml: the document is [1, 2], not a table of keys"]


def test_read_document_lets_callers_override_keys_before_validation(tmp_path):
    from convgif.scene import read_document

    path = write(tmp_path, FULL)
    document = read_document(path)
    document["render"]["duration_ms"] = 0
    with pytest.raises(SceneError) as caught:
        parse_scene(document, str(path))
    assert caught.value.lines() == [f"{path}: render.duration_ms: 0 is out of range (must be at least 1)"]
    document["render"]["duration_ms"] = 250
    assert parse_scene(document, str(path)).render.duration_ms == 250


def test_long_loops_speed_up_after_the_first_row_to_stay_within_loop_ms():
    scene = parse_scene(base(input={"shape": [1, 12, 12]}, render={"duration_ms": 500, "hold_ms": 2000}), "x.toml")
    durations = scene.step_durations(100)  # 10×10 outputs
    assert durations[:10] == [500] * 10  # the first row at the scene's pace, while the reader learns a step
    assert len(set(durations[10:])) == 1 and durations[10] % 10 == 0 and durations[10] >= 120
    assert sum(durations) + 2000 <= 20_000
    assert parse_scene(base(render={"loop_ms": 0}), "x.toml").step_durations(9) == [600] * 9
    short = parse_scene(base(), "x.toml")
    assert short.step_durations(9) == [600] * 9  # a loop that fits keeps every step at duration_ms


def test_every_gallery_animation_loops_in_20_s_or_less():
    longest = {}
    for path in sorted((Path(__file__).resolve().parent.parent / "scenes").glob("*.toml")):
        scene = load_scene(path)
        if scene.scene_type == "op":
            count = len(scene.step_indices())
            longest[path.name] = sum(scene.step_durations(count)) + scene.render.hold_ms
    assert max(longest.values()) <= 20_000, sorted(longest.items(), key=lambda item: -item[1])[:3]


# ---- input.labels (catalogue C7: the words of a sentence under a conv1d's input columns) ---------------------
def text_scene(**op) -> dict:
    return {"op": {"kind": "conv1d", "out_channels": 1, "kernel_size": 3, **op}, "input": {"shape": [2, 4]}}


def test_input_labels_one_short_string_per_position():
    document = text_scene()
    document["input"]["labels"] = ["the", "cat", "sat", "down"]
    assert parse_scene(document, "x.toml").input.labels == ("the", "cat", "sat", "down")
    assert parse_scene(text_scene(), "x.toml").input.labels is None


@pytest.mark.parametrize("labels, shape, kind, message", [
    (["a", "b"], [2, 4], "conv1d", "input.labels: has 2 labels but the input has 4 positions (input.shape (2, 4): "
                                   "one label per position)"),
    (["a", "b", "c", "abcdefghijklm"], [2, 4], "conv1d", "input.labels: label 'abcdefghijklm' is longer than 12 characters"),
    ([1, 2, 3, 4], [2, 4], "conv1d", "input.labels: [1, 2, 3, 4] is not a list of strings (one label per input position)"),
    ("a b c d", [2, 4], "conv1d", "input.labels: 'a b c d' is not a list of strings (one label per input position)"),
    (["a", "b", "c", "d"], [1, 4, 4], "conv2d", "input.labels: is for 1D inputs (C, L), but input.shape (1, 4, 4) is 2D "
                                               "(remove input.labels)"),
    (["a", "b", "c", "d"], [2, 4], "max_pool1d", "input.labels: are drawn by conv1d frames only, not by max_pool1d "
                                                 "(remove input.labels)"),
])
def test_wrong_input_labels_are_one_line_naming_the_key(labels, shape, kind, message):
    op = {"kind": kind, "kernel_size": 3} if kind == "max_pool1d" else {"kind": kind, "out_channels": 1, "kernel_size": 3}
    document = {"op": op, "input": {"shape": shape, "labels": labels}}
    assert problems_of(document) == [f"scenes/x.toml: {message}"]
