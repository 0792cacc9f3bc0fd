"""Chains (`[[ops]]`): every stage's input, output, shapes and parameter counts agree with a torch nn.Sequential of
the same modules, the chain's weights copied in; the new layers (relu, flatten, linear, upsample) as single ops
too; and the engine's linear against torch.nn.functional.linear."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from convgif.engine.linear import linear
from convgif.errors import GeometryError
from convgif.scene import parse_scene

CONV_ARGS = ("out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias", "padding_mode",
             "output_padding")
POOL_ARGS = ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "count_include_pad", "norm_type")


def _args(op: dict, names) -> dict:
    return {k: (tuple(v) if isinstance(v, list) else v) for k, v in op.items() if k in names}


def torch_stage(op: dict, shape: tuple[int, ...]) -> torch.nn.Module:
    """The torch module an `[[ops]]` table describes, for an input of unbatched `shape`."""
    kind = op["kind"]
    convs = {"conv1d": torch.nn.Conv1d, "conv2d": torch.nn.Conv2d, "conv_transpose1d": torch.nn.ConvTranspose1d,
             "conv_transpose2d": torch.nn.ConvTranspose2d}
    pools = {"max_pool1d": torch.nn.MaxPool1d, "max_pool2d": torch.nn.MaxPool2d, "avg_pool1d": torch.nn.AvgPool1d,
             "avg_pool2d": torch.nn.AvgPool2d}
    if kind in convs:
        padding = op.get("padding", 0)
        if isinstance(padding, list) and all(isinstance(p, list) for p in padding):  # (before, after) pairs
            pads = [n for pair in reversed(padding) for n in pair]  # torch's pad order: last dimension first
            conv = convs[kind](shape[0], **_args({**op, "padding": 0}, CONV_ARGS)).double()
            return torch.nn.Sequential(torch.nn.ConstantPad1d(pads, 0.0) if len(padding) == 1
                                       else torch.nn.ConstantPad2d(pads, 0.0), conv)
        return convs[kind](shape[0], **_args(op, CONV_ARGS)).double()
    if kind in pools:
        return pools[kind](**_args(op, POOL_ARGS))
    if kind == "relu":
        return torch.nn.ReLU()
    if kind == "flatten":
        return torch.nn.Flatten(op.get("start_dim", 1), op.get("end_dim", -1))
    if kind == "linear":
        return torch.nn.Linear(shape[-1], op["out_features"], bias=op.get("bias", True)).double()
    if kind == "upsample":
        return torch.nn.Upsample(size=op.get("size"), scale_factor=op.get("scale_factor"),
                                 mode=op.get("mode", "nearest"))
    raise AssertionError(kind)


CHAINS = {
    "c6_conv_relu_pool_flatten_linear": ([1, 6, 6], [
        {"kind": "conv2d", "out_channels": 2, "kernel_size": 3},
        {"kind": "relu"},
        {"kind": "max_pool2d", "kernel_size": 2},
        {"kind": "flatten"},
        {"kind": "linear", "out_features": 3},
    ]),
    "depthwise_pointwise": ([3, 5, 5], [
        {"kind": "conv2d", "out_channels": 3, "kernel_size": 3, "groups": 3, "padding": 1},
        {"kind": "conv2d", "out_channels": 4, "kernel_size": 1},
    ]),
    "c9_conv_then_transposed": ([1, 6, 6], [
        {"kind": "conv2d", "out_channels": 1, "kernel_size": 3, "stride": 2, "padding": 1},
        {"kind": "conv_transpose2d", "out_channels": 1, "kernel_size": 3, "stride": 2, "padding": 1,
         "output_padding": 1},
    ]),
    "encoder_decoder": ([2, 8, 8], [
        {"kind": "conv2d", "out_channels": 3, "kernel_size": 2, "stride": 2},
        {"kind": "relu"},
        {"kind": "conv_transpose2d", "out_channels": 2, "kernel_size": 2, "stride": 2},
    ]),
    "wavenet_causal_stack": ([1, 20], [
        {"kind": "conv1d", "out_channels": 1, "kernel_size": 2, "dilation": d, "padding": [[d, 0]]}
        for d in (1, 2, 4, 8)
    ]),
    "upsample_nearest_and_bilinear": ([2, 3, 4], [
        {"kind": "upsample", "scale_factor": 2},
        {"kind": "avg_pool2d", "kernel_size": 2},
        {"kind": "upsample", "size": [5, 7], "mode": "bilinear"},
    ]),
    "conv1d_pool_flatten_linear_relu": ([2, 12], [
        {"kind": "conv1d", "out_channels": 3, "kernel_size": 3, "stride": 1},
        {"kind": "avg_pool1d", "kernel_size": 2},
        {"kind": "flatten", "start_dim": 2},  # (3, 5) stays (3, 5): merges nothing after the channels
        {"kind": "linear", "out_features": 4, "bias": False},
        {"kind": "relu"},
        {"kind": "flatten"},
        {"kind": "linear", "out_features": 2},
    ]),
    "upsample_1d_linear_mode": ([1, 5], [
        {"kind": "upsample", "scale_factor": 2.5, "mode": "linear"},
        {"kind": "conv1d", "out_channels": 2, "kernel_size": 3, "padding": 1},
    ]),
}


def _module_for_stage(op, stage_arrays, shape):
    module = torch_stage(op, shape)
    target = module[-1] if isinstance(module, torch.nn.Sequential) else module  # a padded conv: the conv
    with torch.no_grad():
        if stage_arrays["weight"] is not None:
            target.weight.copy_(torch.from_numpy(stage_arrays["weight"]))
        if stage_arrays["bias"] is not None:
            target.bias.copy_(torch.from_numpy(stage_arrays["bias"]))
    return module


@pytest.mark.parametrize("name", CHAINS)
def test_every_stage_matches_a_torch_sequential(name):
    shape, ops = CHAINS[name]
    scene = parse_scene({"input": {"shape": shape, "range": [-5, 5]}, "ops": ops}, f"{name}.toml")
    arrays = scene.arrays()
    stages = arrays["stages"]
    assert len(stages) == len(ops)
    modules, shape_in = [], tuple(shape)
    for op, stage in zip(ops, stages):
        modules.append(_module_for_stage(op, stage, shape_in))
        shape_in = stage["output"].shape
    sequential = torch.nn.Sequential(*modules)
    x = torch.from_numpy(arrays["input"])[None]
    info = scene.info()
    with torch.no_grad():
        for k, (module, stage, facts) in enumerate(zip(sequential, stages, info["stages"])):
            assert np.array_equal(stage["input"], x[0].numpy()), f"stage {k} does not read stage {k - 1}'s output"
            x = module(x)
            np.testing.assert_allclose(stage["output"], x[0].numpy(), rtol=1e-9, atol=1e-9, err_msg=f"stage {k}")
            assert facts["output_shape"] == tuple(x.shape[1:])
            assert facts["params"] == sum(p.numel() for p in module.parameters())
            assert facts["kind"] == ops[k]["kind"]
        # the whole Sequential at once, too
        np.testing.assert_allclose(arrays["output"], sequential(torch.from_numpy(arrays["input"])[None])[0].numpy(),
                                   rtol=1e-9, atol=1e-9)
    assert info["output_shape"] == tuple(x.shape[1:])
    assert info["params"] == sum(p.numel() for p in sequential.parameters())


def test_stages_with_default_weights_get_different_seeds():
    shape, ops = CHAINS["wavenet_causal_stack"]
    stages = parse_scene({"input": {"shape": shape}, "ops": ops}, "w.toml").arrays()["stages"]
    kernels = {tuple(stage["weight"].ravel()) + tuple(stage["bias"]) for stage in stages}
    assert len(kernels) == len(stages)


def test_given_linear_weights_are_used_as_written():
    weight = [[1, 0, -1, 2], [0.5, 0.5, 0.5, 0.5]]
    scene = parse_scene({"input": {"shape": [1, 2, 2], "values": [[[1, 2], [3, 4]]]},
                         "ops": [{"kind": "flatten"},
                                 {"kind": "linear", "out_features": 2, "weights": {"values": weight,
                                                                                   "bias": [1, -1]}}]}, "l.toml")
    out = scene.arrays()["output"]
    expected = torch.nn.functional.linear(torch.tensor([1.0, 2, 3, 4], dtype=torch.float64),
                                          torch.tensor(weight, dtype=torch.float64),
                                          torch.tensor([1.0, -1], dtype=torch.float64))
    np.testing.assert_allclose(out, expected.numpy())


@pytest.mark.parametrize("op, shape", [
    ({"kind": "relu"}, [2, 3, 3]),
    ({"kind": "flatten"}, [2, 3, 3]),
    ({"kind": "flatten", "start_dim": 2}, [2, 3, 4]),
    ({"kind": "linear", "out_features": 3}, [2, 5]),
    ({"kind": "upsample", "scale_factor": 2}, [1, 3, 3]),
    ({"kind": "upsample", "scale_factor": 1.5, "mode": "bilinear"}, [1, 4, 4]),
])
def test_the_new_layers_as_single_ops_match_torch(op, shape):
    scene = parse_scene({"op": op, "input": {"shape": shape, "range": [-5, 5]}}, "x.toml")
    arrays = scene.arrays()
    module = _module_for_stage(op, arrays, tuple(shape))
    with torch.no_grad():
        expected = module(torch.from_numpy(arrays["input"])[None])[0].numpy()
    np.testing.assert_allclose(arrays["output"], expected, rtol=1e-9, atol=1e-9)
    assert scene.info()["output_shape"] == expected.shape
    assert scene.info()["params"] == sum(p.numel() for p in module.parameters())


def test_engine_linear_matches_torch():
    rng = np.random.default_rng(3)
    x, w, b = rng.normal(size=(2, 3, 5)), rng.normal(size=(4, 5)), rng.normal(size=4)
    expected = torch.nn.functional.linear(*(torch.from_numpy(a) for a in (x, w, b))).numpy()
    np.testing.assert_allclose(linear(x, w, b), expected, rtol=1e-12)
    np.testing.assert_allclose(linear(x, w), expected - b, rtol=1e-12, atol=1e-12)
    with pytest.raises(GeometryError):
        linear(x, w[:, :4])


@pytest.mark.parametrize("name", ["c6_conv_relu_pool_flatten_linear", "upsample_nearest_and_bilinear"])
def test_every_step_of_a_map_trace_reads_the_values_the_output_is_made_of(name):
    """relu / flatten / linear / upsample steps: the value each step states is the engine's output there, and its
    sources and coefficients give that value (what the frame's arithmetic line writes)."""
    from convgif.sources import build_trace

    shape, ops = CHAINS[name]
    scene = parse_scene({"input": {"shape": shape, "range": [-5, 5]}, "ops": ops}, f"{name}.toml")
    for stage in scene.stages():
        if stage.kind not in ("relu", "flatten", "linear", "upsample"):
            continue
        trace = build_trace(stage)
        output = stage.arrays()["output"]
        for step in trace:
            assert step.value == pytest.approx(output[step.position])
            values = np.array(step.source_values)
            if stage.kind == "relu":
                assert step.value == max(values[0], 0.0)
            elif stage.kind == "flatten":
                assert step.value == values[0]
            else:
                coefficients = np.ones(1) if step.coefficients is None else np.array(step.coefficients)
                assert step.value == pytest.approx(float(values @ coefficients) + (step.bias or 0.0))
