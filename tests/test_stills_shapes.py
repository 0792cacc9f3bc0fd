"""Shape-and-count stills: specs validate (and name the bad key), numbers match torch, every scene renders."""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from pydantic import ValidationError
from torch.utils.flop_counter import FlopCounterMode

from convgif.render.stills import STILL_RENDERERS
from convgif.render.stills.shapes import MAX_SHEETS, cuboid_size, draw_cuboid, params_text, pipeline_layer_lines
from convgif.render.stills.toolkit import SHAPES_PAGE, Sheet, words
from convgif.render.theme import get_theme
from convgif.scene.stills_shapes import (
    STILL_MODELS,
    CnnPipelineStill,
    DepthwiseSeparableStill,
    ParamCountsStill,
    ParamCurvesStill,
    ReluMapStill,
    WeightTensorStill,
    as_pair,
)

SCENES = Path(__file__).resolve().parent.parent / "scenes"
SCENE_FILES = {
    "e01_weight_tensor": "weight_tensor",
    "d01_keras_shapes": "cnn_pipeline",
    "d03_keras_same_stride2": "cnn_pipeline",
    "c06_pipeline_flatten": "cnn_pipeline",
    "c04_relu": "relu_map",
    "e03_param_counts": "param_counts",
    "a11_param_curves": "param_curves",
    "b06_depthwise_separable": "depthwise_separable",
}


def torch_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def torch_macs(module: torch.nn.Module, x: torch.Tensor) -> int:
    """Multiply-adds of one forward pass as torch's flop counter sees them (2 flops per multiply-add)."""
    with FlopCounterMode(display=False) as counter:
        module(x)
    return counter.get_total_flops() // 2


def errors_of(excinfo) -> str:
    return " | ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in excinfo.value.errors())


# ---- every scene: parses, renders at its width, frames are RGB uint8 -------------------------------------

@pytest.mark.parametrize("name", sorted(SCENE_FILES))
def test_scene_renders(name):
    doc = tomllib.loads((SCENES / f"{name}.toml").read_text())
    assert doc["still"]["kind"] == SCENE_FILES[name]
    spec = STILL_MODELS[doc["still"]["kind"]].model_validate(doc["still"])
    frames = STILL_RENDERERS[spec.kind](spec, theme=doc["render"]["theme"], width=doc["render"]["width"],
                                         title=doc["title"], caption=doc.get("description"))
    assert frames
    for frame, duration_ms in frames:
        assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
        assert frame.shape[1] == doc["render"]["width"]
        assert 200 < frame.shape[0] < 2000
        assert duration_ms > 0
        assert frame.std() > 5  # something was drawn


def test_other_width_and_theme_object():
    spec = WeightTensorStill(kind="weight_tensor", input_shape=(3, 8, 8), out_channels=20, kernel_size=(2, 4),
                             groups=1)
    (frame, _), = STILL_RENDERERS["weight_tensor"](spec, theme=get_theme("light"), width=560)
    assert frame.shape[1] == 560


def test_models_and_renderers_cover_the_same_kinds():
    from convgif.scene.stills_views import STILL_MODELS as VIEW_MODELS

    assert set(STILL_MODELS) == set(SCENE_FILES.values())
    assert set(STILL_MODELS) | set(VIEW_MODELS) == set(STILL_RENDERERS)
    for kind, model in STILL_MODELS.items():
        assert model.model_config["extra"] == "forbid" and model.model_config["frozen"]


@pytest.mark.parametrize("face", [(90, 70), (21, 21)])  # a tensor's face, and a kernel's (b06)
def test_a_channel_stack_shows_a_sheet_per_channel_or_marks_the_ones_left_out(face):
    """A student counts the sheets: a stack draws one per channel, or, deeper than MAX_SHEETS, fewer with "⋰" on
    the back sheet between them (10 channels drawn as 6 sheets, with no mark, read as 6)."""
    fw, fh = face
    for depth in range(1, 17):
        sheet = Sheet(300, 300, get_theme("light"), SHAPES_PAGE)
        draw_cuboid(sheet, 20, 20, fw, fh, depth, fill=(255, 255, 255))
        boxes = [(a.get_x(), a.get_y(), a.get_x() + a.get_width(), a.get_y() + a.get_height())
                 for a in sheet.ax.artists + sheet.ax.patches]
        sheets = [b for b in boxes if (b[2] - b[0], b[3] - b[1]) == (fw, fh)]  # back first, as painted
        dots = [b for b in boxes if b not in sheets]
        w, h = cuboid_size(fw, fh, depth)
        assert min(b[0] for b in sheets) == 20 and max(b[2] for b in sheets) == 20 + w
        assert min(b[1] for b in sheets) == 20 and max(b[3] for b in sheets) == 20 + h
        if depth <= MAX_SHEETS:
            assert len(sheets) == depth and not dots
            continue
        assert len(sheets) < depth and len(dots) == 3
        back, front = sheets[0], sheets[1:]
        for x0, y0, x1, y1 in dots:  # each dot lies on the back sheet, clear of every sheet drawn over it
            assert back[0] <= x0 and x1 <= back[2] and back[1] <= y0 and y1 <= back[3]
            assert all(x1 <= f[0] or x0 >= f[2] or y1 <= f[1] or y0 >= f[3] for f in front)
        assert [d[0] for d in dots] == sorted(d[0] for d in dots)  # "⋰": up and to the right, along the depth
        assert [d[1] for d in dots] == sorted((d[1] for d in dots), reverse=True)


# ---- 1. weight_tensor --------------------------------------------------------------------------------------

@pytest.mark.parametrize("cin, cout, k, stride, padding, dilation, groups, bias, hw", [
    (5, 10, 3, 1, 0, 1, 1, True, (100, 100)),
    (4, 6, (3, 2), (2, 1), 1, 1, 2, False, (9, 7)),
    (6, 6, 3, 1, "same", 2, 3, True, (8, 8)),
    (2, 4, 5, 3, 2, 1, 1, True, (11, 13)),
])
def test_weight_tensor_matches_torch(cin, cout, k, stride, padding, dilation, groups, bias, hw):
    spec = WeightTensorStill(kind="weight_tensor", input_shape=(cin, *hw), batch=2, out_channels=cout,
                             kernel_size=k, stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias)
    g = spec.geometry()
    conv = torch.nn.Conv2d(cin, cout, k, stride, padding, dilation, groups, bias)
    out = conv(torch.zeros(2, cin, *hw))
    assert g.weight_shape == tuple(conv.weight.shape)
    assert g.params == torch_params(conv)
    assert (spec.batch, *g.output_shape) == tuple(out.shape)


def test_weight_tensor_parameter_text_as_in_the_post():
    g = WeightTensorStill(kind="weight_tensor", input_shape=(5, 100, 100), out_channels=10, kernel_size=3).geometry()
    assert params_text(g.weight_shape, g.bias_count, g.params) == "10×5×3×3 + 10 = 460"
    # factors written as counts, with separators like the total (c06_pipeline_flatten read "10×1568 + 10 = 15,690")
    assert params_text((10, 1568), 10, 15690) == "10×1,568 + 10 = 15,690"
    assert torch_params(torch.nn.Conv2d(5, 10, 3)) == 460


@pytest.mark.parametrize("changes, key", [
    ({"out_channels": 0}, "out_channels"),
    ({"kernel_size": -1}, "kernel_size"),
    ({"groups": True}, "groups"),
    ({"colour": "red"}, "colour"),
    ({"input_shape": [5, 100]}, "input_shape"),
])
def test_weight_tensor_field_errors_name_the_field(changes, key):
    spec = {"kind": "weight_tensor", "input_shape": [5, 100, 100], "out_channels": 10, "kernel_size": 3, **changes}
    with pytest.raises(ValidationError) as excinfo:
        WeightTensorStill.model_validate(spec)
    assert any(e["loc"] and e["loc"][0] == key for e in excinfo.value.errors()), errors_of(excinfo)


@pytest.mark.parametrize("changes, text", [
    ({"groups": 2}, "groups: 2 does not divide in_channels=5"),
    ({"kernel_size": 101}, "kernel_size: the window spans 101 cells on H"),
    ({"padding": "same", "stride": 2}, "padding: padding='same' is not supported for strided convolutions"),
])
def test_weight_tensor_geometry_errors_name_the_key(changes, text):
    spec = {"kind": "weight_tensor", "input_shape": [5, 100, 100], "out_channels": 10, "kernel_size": 3, **changes}
    with pytest.raises(ValidationError) as excinfo:
        WeightTensorStill.model_validate(spec)
    assert text in errors_of(excinfo)
    with pytest.raises(Exception):  # torch refuses the same configuration
        cin, h, w = spec["input_shape"]
        torch.nn.Conv2d(cin, 10, spec["kernel_size"], spec.get("stride", 1), spec.get("padding", 0),
                        groups=spec.get("groups", 1))(torch.zeros(1, cin, h, w))


# ---- 2. cnn_pipeline ---------------------------------------------------------------------------------------

def test_pipeline_matches_a_torch_sequential():
    spec = CnnPipelineStill.model_validate({
        "kind": "cnn_pipeline", "input_shape": [3, 32, 30], "convention": "pytorch",
        "layers": [
            {"type": "conv2d", "out_channels": 8, "kernel_size": 5, "padding": 1},
            {"type": "relu"},
            {"type": "max_pool2d", "kernel_size": 2},
            {"type": "conv2d", "filters": 4, "kernel_size": [3, 2], "stride": [2, 1], "bias": False},
            {"type": "avg_pool2d", "kernel_size": 3, "stride": 2, "padding": 1},
            {"type": "flatten"},
            {"type": "linear", "out_features": 10},
        ],
    })
    modules = [torch.nn.Conv2d(3, 8, 5, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
               torch.nn.Conv2d(8, 4, (3, 2), (2, 1), bias=False), torch.nn.AvgPool2d(3, 2, 1),
               torch.nn.Flatten(0), None]
    x = torch.zeros(3, 32, 30)
    stages = spec.stages()
    assert len(stages) == 7
    torch_shapes = []
    for stage, module in zip(stages, modules):
        torch_shapes.append(tuple(x.shape))
        if module is None:
            module = torch.nn.Linear(x.numel(), 10)
        x = module(x)
        assert stage.output_shape == tuple(x.shape), stage
        assert stage.params == torch_params(module), stage
        if stage.torch_weight_shape:
            assert stage.torch_weight_shape == tuple(module.weight.shape)
        # what the figure names each layer by is the module's own arguments
        if stage.layer_type == "conv2d":
            assert (stage.in_channels, stage.out_channels) == (module.in_channels, module.out_channels)
            assert (stage.kernel_size, stage.stride) == (module.kernel_size, module.stride)
            assert stage.pads == tuple((p, p) for p in module.padding)
        elif stage.layer_type in ("max_pool2d", "avg_pool2d"):
            assert stage.kernel_size == as_pair(module.kernel_size) and stage.stride == as_pair(module.stride)
        elif stage.layer_type == "linear":
            assert (stage.in_features, stage.out_features) == (module.in_features, module.out_features)
    # Keras kernels are torch weights with axes (2, 3, 1, 0); dense kernels are transposed
    assert stages[0].keras_weight_shape == tuple(torch.zeros(8, 3, 5, 5).permute(2, 3, 1, 0).shape)
    assert stages[6].keras_weight_shape == (stages[5].output_shape[0], 10)
    c, h, w = torch_shapes[5]  # what flatten receives, as torch computed it
    assert stages[5].merged_shape == (c, h, w)
    english = words(get_theme("light"))
    assert ("note", f"{c}×{h}×{w} = {c * h * w:,} values in one vector") in pipeline_layer_lines(
        stages[5], "pytorch", english)
    assert pipeline_layer_lines(stages[3], "pytorch", english)[0] == ("head", "4. Conv2d 8→4, kernel 3×2, stride (2, 1), padding 0 ('valid')")
    assert pipeline_layer_lines(stages[2], "pytorch", english)[0] == ("head", "3. MaxPool2d, kernel 2×2, stride 2")
    # a padded pool says so, as nn.AvgPool2d(3, 2, 1) is written with its padding
    assert pipeline_layer_lines(stages[4], "pytorch", english)[0] == ("head", "5. AvgPool2d, kernel 3×3, stride 2, padding 1")
    chinese = words(get_theme("light", language="zh"))
    assert pipeline_layer_lines(stages[4], "pytorch", chinese)[0] == ("head", "5. AvgPool2d，核 3×3，步长 2，填充 1")
    assert pipeline_layer_lines(stages[6], "pytorch", english)[0] == ("head", f"7. Linear {c * h * w}→10")


@pytest.mark.parametrize("n", [5, 6, 7, 8, 9, 16, 17])
def test_keras_same_stride_two_matches_tf_rule_and_torch(n):
    spec = CnnPipelineStill.model_validate({
        "kind": "cnn_pipeline", "input_shape": [2, n, n + 1], "convention": "keras",
        "layers": [{"type": "conv2d", "filters": 3, "kernel_size": 5, "stride": 2, "padding": "same"}],
    })
    stage, = spec.stages()
    # TF documents padding='same' as output = ceil(input / stride)
    assert stage.output_shape == (3, math.ceil(n / 2), math.ceil((n + 1) / 2))
    (top, bottom), (left, right) = stage.pads
    assert bottom - top in (0, 1) and right - left in (0, 1)
    # the numbers the figure shows for TF's rule, axis by axis
    assert stage.same_rule == "tf" and not stage.torch_refuses_same  # keras alone: no PyTorch to refuse it
    for axis, size, pads in zip(stage.same_axes, (n, n + 1), stage.pads):
        assert (axis.size, axis.kernel, axis.stride, axis.dilation) == (size, 5, 2, 1)
        assert axis.out == math.ceil(size / 2) and (axis.before, axis.after) == pads
        assert axis.total == max((axis.out - 1) * 2 + 5 - size, 0)
    # torch with those pads given explicitly gives the same shape
    x = F.pad(torch.zeros(1, 2, n, n + 1), (left, right, top, bottom))
    assert tuple(torch.nn.Conv2d(2, 3, 5, 2)(x).shape[1:]) == stage.output_shape


def test_keras_same_notes_show_the_uneven_pads():
    doc = tomllib.loads((SCENES / "d03_keras_same_stride2.toml").read_text())
    first, second = CnnPipelineStill.model_validate(doc["still"]).stages()
    assert first.pads == ((2, 2), (2, 2)) and first.output_shape[1:] == (4, 4)
    assert second.pads == ((1, 2), (1, 2)) and second.output_shape[1:] == (2, 2)
    assert second.same_rule == "tf" and second.torch_refuses_same
    assert [(a.axis, a.size, a.out, a.before, a.after) for a in second.same_axes] == [("H", 4, 2, 1, 2), ("W", 4, 2, 1, 2)]
    notes = [text for style, text in pipeline_layer_lines(second, "both", words(get_theme("light"))) if style == "note"]
    assert notes == [
        "'same' (TF rule), H and W: out = ceil(4 / 2) = 2; pad total = (2 − 1)×2 + 5 − 4 = 3 → top/left 1, bottom/right 2",
        "the odd extra pad cell goes after (bottom/right)",
        "PyTorch refuses padding='same' with stride > 1: give these pads explicitly",
    ]
    chinese = [text for style, text in pipeline_layer_lines(second, "both", words(get_theme("light", language="zh")))
               if style == "note"]
    assert chinese == [
        "'same'（TF 规则），H 和 W：输出 = ceil(4 / 2) = 2；填充总数 = (2 − 1)×2 + 5 − 4 = 3 → 上、左各 1，下、右各 2",
        "多出的一格填充放在后面（下方和右方）",
        "步长 > 1 时 PyTorch 不接受 padding='same'：请显式给出这些填充",
    ]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")  # torch's note on its speed
def test_pipeline_same_notes_per_axis_and_with_torch_rule():
    """H and W differ: one TF line per axis (a dilated kernel's span written out); PyTorch's own rule at stride 1."""
    layers = [{"type": "conv2d", "filters": 4, "kernel_size": 3, "stride": [2, 3], "padding": "same", "dilation": 2}]
    stage, = CnnPipelineStill.model_validate({"kind": "cnn_pipeline", "input_shape": [3, 9, 10], "convention": "keras",
                                              "layers": layers}).stages()
    assert stage.pads == ((2, 2), (2, 2)) and stage.output_shape == (4, 5, 4) and not stage.torch_refuses_same
    notes = [text for style, text in pipeline_layer_lines(stage, "keras", words(get_theme("light"))) if style == "note"]
    assert notes == [
        "'same' (TF rule), H: out = ceil(9 / 2) = 5; pad total = (5 − 1)×2 + 2×(3 − 1) + 1 − 9 = 4 → top 2, bottom 2",
        "'same' (TF rule), W: out = ceil(10 / 3) = 4; pad total = (4 − 1)×3 + 2×(3 − 1) + 1 − 10 = 4 → left 2, right 2",
    ]
    layers = [{"type": "conv2d", "filters": 4, "kernel_size": [4, 3], "padding": "same"}]
    stage, = CnnPipelineStill.model_validate({"kind": "cnn_pipeline", "input_shape": [3, 9, 10],
                                              "convention": "pytorch", "layers": layers}).stages()
    x = torch.zeros(1, 3, 9, 10)
    assert tuple(torch.nn.Conv2d(3, 4, (4, 3), padding="same")(x).shape[1:]) == stage.output_shape
    assert stage.same_rule == "torch" and stage.same_axes == () and stage.pads == ((1, 2), (1, 1))
    lines = pipeline_layer_lines(stage, "pytorch", words(get_theme("light")))
    assert lines[0] == ("head", "1. Conv2d 3→4, kernel 4×3, stride 1, padding 'same'")
    assert lines[-1] == ("note", "'same' (torch rule): pads top 1, bottom 2, left 1, right 1")


@pytest.mark.parametrize("size, kernel, stride, dilation", [(4, 1, 2, 1), (9, 3, 2, 2), (7, 1, 3, 1), (5, 2, 4, 1),
                                                           (10, 3, 3, 1)])
def test_tf_same_rule_line_is_arithmetic_that_holds(size, kernel, stride, dilation):
    """The written rule evaluates to the pads TF uses, also when the kernel is shorter than the stride and the
    raw total is negative (TF pads max(total, 0)): a teaching line must never show a false equation."""
    layers = [{"type": "conv2d", "filters": 2, "kernel_size": kernel, "stride": stride, "padding": "same",
               "dilation": dilation}]
    stage, = CnnPipelineStill.model_validate({"kind": "cnn_pipeline", "input_shape": [1, size, size],
                                              "convention": "keras", "layers": layers}).stages()
    line = next(text for style, text in pipeline_layer_lines(stage, "keras", words(get_theme("light")))
                if style == "note")
    rule = re.search(r"pad total = (.*) = (\d+) →", line)
    assert rule, line
    expression = rule.group(1).replace("×", "*").replace("\u2212", "-")
    assert eval(expression) == int(rule.group(2)) == sum(stage.pads[0]), line  # noqa: S307 (our own digits)
    raw = (-(-size // stride) - 1) * stride + dilation * (kernel - 1) + 1 - size
    assert ("max(" in expression) == (raw < 0), line
    assert [axis.unclamped_total for axis in stage.same_axes] == [raw, raw]


def test_d01_scene_numbers():
    doc = tomllib.loads((SCENES / "d01_keras_shapes.toml").read_text())
    stages = CnnPipelineStill.model_validate(doc["still"]).stages()
    model = torch.nn.Sequential(torch.nn.Conv2d(5, 6, 3), torch.nn.Conv2d(6, 4, 10))
    assert [s.output_shape for s in stages] == [(6, 62, 62), (4, 53, 53)]
    assert tuple(model(torch.zeros(1, 5, 64, 64)).shape) == (1, 4, 53, 53)
    assert [s.keras_weight_shape for s in stages] == [(3, 3, 5, 6), (10, 10, 6, 4)]
    assert sum(s.params for s in stages) == torch_params(model)


@pytest.mark.parametrize("layers, convention, text", [
    ([{"type": "conv2d", "filters": 4, "kernel_size": 5, "stride": 2, "padding": "same"}], "pytorch",
     "layers.0.padding: padding='same' is not supported for strided convolutions"),
    ([{"type": "flatten"}, {"type": "conv2d", "filters": 4, "kernel_size": 3}], "both",
     "layers.1.type: conv2d needs a (C, H, W) tensor"),
    ([{"type": "linear", "out_features": 3}], "both", "layers.0.type: linear needs a flat vector"),
    ([{"type": "conv2d", "filters": 4, "kernel_size": 9}], "both", "layers.0.kernel_size: the window spans 9"),
    ([{"type": "max_pool2d", "kernel_size": 2, "padding": 2}], "both", "layers.0.padding: 2 on H is more than half"),
])
def test_pipeline_chain_errors_name_the_layer_key(layers, convention, text):
    with pytest.raises(ValidationError) as excinfo:
        CnnPipelineStill.model_validate({"kind": "cnn_pipeline", "input_shape": [3, 8, 8],
                                         "convention": convention, "layers": layers})
    assert text in errors_of(excinfo)


def test_pipeline_field_errors_name_the_layer_field():
    with pytest.raises(ValidationError) as excinfo:
        CnnPipelineStill.model_validate({"kind": "cnn_pipeline", "input_shape": [3, 8, 8],
                                         "layers": [{"type": "conv2d", "filters": 0, "kernel_size": 3}]})
    assert errors_of(excinfo).startswith("layers.0.conv2d.filters:")
    with pytest.raises(ValidationError) as excinfo:
        CnnPipelineStill.model_validate({"kind": "cnn_pipeline", "input_shape": [3, 8, 8],
                                         "layers": [{"type": "dropout"}]})
    assert "layers.0" in errors_of(excinfo) and "dropout" in errors_of(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        CnnPipelineStill.model_validate({"kind": "cnn_pipeline", "input_shape": [3, 8, 8],
                                         "convention": "tensorflow", "layers": [{"type": "relu"}]})
    assert errors_of(excinfo).startswith("convention:")


# ---- 3. relu_map -------------------------------------------------------------------------------------------

def test_relu_map_values_and_frames():
    spec = ReluMapStill(kind="relu_map", shape=(4, 7), seed=5, range=(-3, 2))
    before = spec.feature_map()
    assert before.shape == (4, 7) and before.min() >= -3 and before.max() <= 2 and (before < 0).any()
    np.testing.assert_array_equal(spec.after_relu(), torch.relu(torch.from_numpy(before)).numpy())
    np.testing.assert_array_equal(spec.feature_map(), before)  # the seed fixes the values
    assert spec.negative_count() == int((before < 0).sum())
    frames = STILL_RENDERERS["relu_map"](spec, theme="light", width=720)
    assert len(frames) == 2
    zeroed = np.array(get_theme("light").output_current, dtype=np.uint8)
    # the zeroed-negative highlight (beyond the legend swatch) appears only once ReLU has been applied,
    # one filled cell per negative value
    hits = [int(np.all(frame == zeroed, axis=-1).sum()) for frame, _ in frames]
    assert hits[0] < 300
    assert hits[1] - hits[0] > 500 * int((before < 0).sum())


def test_relu_map_given_values():
    spec = ReluMapStill.model_validate({"kind": "relu_map", "values": [[-1.5, 2], [0, -3]]})
    np.testing.assert_array_equal(spec.after_relu(), [[0, 2], [0, 0]])


@pytest.mark.parametrize("spec, text", [
    ({"kind": "relu_map"}, "shape: give shape"),
    ({"kind": "relu_map", "shape": [3, 3], "range": [4, -4]}, "range: low 4 is above high -4"),
    ({"kind": "relu_map", "shape": [3, 3], "values": [[1, 2], [3, 4]]}, "shape: (3, 3) does not match"),
    ({"kind": "relu_map", "values": [[1, 2], [3]]}, "values: must be a non-empty list of rows"),
    ({"kind": "relu_map", "shape": [0, 3]}, "shape.0"),
])
def test_relu_map_errors(spec, text):
    with pytest.raises(ValidationError) as excinfo:
        ReluMapStill.model_validate(spec)
    assert text in errors_of(excinfo)


# ---- 4. param_counts ---------------------------------------------------------------------------------------

def test_param_counts_match_torch():
    cmp = ParamCountsStill(kind="param_counts").comparison()
    conv = torch.nn.Conv2d(3, 192, 3)
    assert cmp.kernel_weights == 27 == conv.weight[0].numel()
    assert cmp.conv.weight_count == 5184 == conv.weight.numel()
    assert cmp.conv.params == 5376 == torch_params(conv)
    dense = torch.nn.Linear(768 * 1024 * 3, 1)
    assert cmp.dense_weights_per_unit == 2_359_296 == dense.weight.numel()
    assert cmp.dense_params == torch_params(dense)
    assert cmp.conv_positions == (768 - 2) * (1024 - 2)  # a 3×3 kernel, no padding
    assert f"{cmp.dense_to_conv:,.0f}" == "439"  # 2,359,296 / 5,376


def test_param_counts_hidden_units_and_errors():
    cmp = ParamCountsStill(kind="param_counts", image_shape=(8, 6, 2), in_channels=2, hidden_units=5).comparison()
    assert cmp.dense_params == torch_params(torch.nn.Linear(8 * 6 * 2, 5))
    with pytest.raises(ValidationError) as excinfo:
        ParamCountsStill(kind="param_counts", in_channels=4)
    assert "in_channels: 4 does not match the image's channels" in errors_of(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        ParamCountsStill.model_validate({"kind": "param_counts", "hidden_units": 0})
    assert errors_of(excinfo).startswith("hidden_units:")


# ---- 5. param_curves ---------------------------------------------------------------------------------------

def test_param_curves_match_torch():
    spec = ParamCurvesStill.model_validate({
        "kind": "param_curves", "base": {"input_shape": [4, 12, 10], "out_channels": 6, "kernel_size": 3, "groups": 2},
    })
    curves = spec.curves()
    assert [c.argument for c in curves] == list(spec.sweep)
    base = spec.base.arguments()
    for curve in curves:
        assert curve.base_value == base[curve.argument]
        assert curve.base_value in curve.values
        for value, params, macs in list(zip(curve.values, curve.params, curve.macs))[::3]:
            args = {**base, curve.argument: value}
            conv = torch.nn.Conv2d(args["in_channels"], args["out_channels"], args["kernel_size"], args["stride"],
                                   args["padding"], args["dilation"], args["groups"])
            x = torch.zeros(1, args["in_channels"], 12, 10)
            assert params == torch_params(conv), (curve.argument, value)
            assert macs == torch_macs(conv, x), (curve.argument, value)
        for value in curve.skipped:  # skipped values are the ones torch refuses
            args = {**base, curve.argument: value}
            with pytest.raises((ValueError, RuntimeError)):
                torch.nn.Conv2d(args["in_channels"], args["out_channels"], args["kernel_size"], args["stride"],
                                args["padding"], args["dilation"], args["groups"])(
                    torch.zeros(1, args["in_channels"], 12, 10))
    groups = next(c for c in curves if c.argument == "groups")
    assert groups.values == (1, 2) and 3 in groups.skipped  # 4 in, 6 out: only 1 and 2 divide both


@pytest.mark.parametrize("spec, text", [
    ({"base": {"input_shape": [4, 8, 8], "out_channels": 6, "kernel_size": 3, "groups": 4}},
     "base.groups: 4 does not divide out_channels=6"),
    ({"base": {"input_shape": [4, 8, 8], "out_channels": 6, "kernel_size": 3}, "sweep": ["stride", "stride"]},
     "sweep: names an argument twice"),
    ({"base": {"input_shape": [4, 8, 8], "out_channels": 6, "kernel_size": 3}, "sweep": ["bias"]}, "sweep.0"),
    ({"base": {"input_shape": [4, 8, 8], "out_channels": 6, "kernel_size": 0}}, "base.kernel_size"),
])
def test_param_curves_errors(spec, text):
    with pytest.raises(ValidationError) as excinfo:
        ParamCurvesStill.model_validate({"kind": "param_curves", **spec})
    assert text in errors_of(excinfo)


# ---- 6. depthwise_separable --------------------------------------------------------------------------------

@pytest.mark.parametrize("cin, cout, k, bias, hw", [(16, 32, 3, False, (32, 32)), (3, 8, (3, 5), True, (9, 11))])
def test_depthwise_separable_matches_torch(cin, cout, k, bias, hw):
    cmp = DepthwiseSeparableStill(kind="depthwise_separable", input_shape=(cin, *hw), out_channels=cout,
                                  kernel_size=k, bias=bias).comparison()
    standard = torch.nn.Conv2d(cin, cout, k, bias=bias)
    depthwise = torch.nn.Conv2d(cin, cin, k, groups=cin, bias=bias)
    pointwise = torch.nn.Conv2d(cin, cout, 1, bias=bias)
    x = torch.zeros(1, cin, *hw)
    assert cmp.standard.params == torch_params(standard)
    assert cmp.depthwise.params == torch_params(depthwise)
    assert cmp.pointwise.params == torch_params(pointwise)
    assert cmp.separable_params == torch_params(depthwise) + torch_params(pointwise)
    assert cmp.standard.macs == torch_macs(standard, x)
    assert cmp.separable_macs == torch_macs(torch.nn.Sequential(depthwise, pointwise), x)
    assert tuple(pointwise(depthwise(x)).shape[1:]) == cmp.pointwise.output_shape == cmp.standard.output_shape


def test_depthwise_separable_b06_numbers():
    doc = tomllib.loads((SCENES / "b06_depthwise_separable.toml").read_text())
    cmp = DepthwiseSeparableStill.model_validate(doc["still"]).comparison()
    assert (cmp.standard.params, cmp.separable_params) == (4608, 656)
    assert f"{cmp.params_ratio:.1f}" == "7.0"
    assert cmp.macs_ratio == cmp.standard.macs / cmp.separable_macs > 1


def test_depthwise_separable_errors():
    with pytest.raises(ValidationError) as excinfo:
        DepthwiseSeparableStill.model_validate({"kind": "depthwise_separable", "input_shape": [4, 3, 3],
                                                "out_channels": 8, "kernel_size": 5})
    assert "kernel_size: the window spans 5 cells" in errors_of(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        DepthwiseSeparableStill.model_validate({"kind": "depthwise_separable", "input_shape": [4, 3, 3],
                                                "out_channels": 8, "kernel_size": 3, "stride": 2})
    assert errors_of(excinfo).startswith("stride:")
