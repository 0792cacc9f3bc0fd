"""A scene's shapes and parameter counts agree with the torch module its [op] table describes."""

from __future__ import annotations

import pytest
import torch

from convgif.scene import parse_scene

CASES = [
    ({"kind": "conv2d", "out_channels": 4, "kernel_size": 3}, [3, 7, 7]),
    ({"kind": "conv2d", "out_channels": 2, "kernel_size": [5, 2]}, [3, 7, 9]),
    ({"kind": "conv2d", "out_channels": 2, "kernel_size": 3, "stride": [1, 3]}, [3, 9, 9]),
    ({"kind": "conv2d", "out_channels": 1, "kernel_size": 3, "padding": 1, "dilation": [4, 2]}, [2, 7, 7]),
    ({"kind": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 2, "stride": 2, "groups": 2}, [2, 7, 7]),
    ({"kind": "conv2d", "out_channels": 2, "kernel_size": 3, "padding": 1, "stride": 2, "dilation": 2,
      "bias": False}, [3, 7, 7]),
    ({"kind": "conv2d", "out_channels": 1, "kernel_size": 4, "padding": "same"}, [1, 6, 6]),
    ({"kind": "conv2d", "out_channels": 1, "kernel_size": 3, "padding": 2, "padding_mode": "reflect"}, [1, 5, 5]),
    ({"kind": "conv1d", "out_channels": 3, "kernel_size": 3, "stride": 2}, [4, 11]),
    ({"kind": "conv_transpose2d", "out_channels": 1, "kernel_size": 3, "stride": 2, "padding": 1,
      "output_padding": 1}, [1, 3, 3]),
    ({"kind": "conv_transpose2d", "out_channels": 4, "kernel_size": 2, "stride": 2, "groups": 2}, [2, 3, 3]),
    ({"kind": "conv_transpose1d", "out_channels": 2, "kernel_size": 3, "dilation": 2}, [1, 5]),
]


def torch_module(op: dict, in_channels: int) -> torch.nn.Module:
    args = {k: (tuple(v) if isinstance(v, list) else v) for k, v in op.items() if k != "kind"}
    kind = op["kind"]
    cls = {"conv1d": torch.nn.Conv1d, "conv2d": torch.nn.Conv2d, "conv_transpose1d": torch.nn.ConvTranspose1d,
           "conv_transpose2d": torch.nn.ConvTranspose2d}[kind]
    return cls(in_channels, **args)


@pytest.mark.parametrize("op, shape", CASES, ids=[f"{op['kind']}-{i}" for i, (op, _) in enumerate(CASES)])
def test_conv_scene_matches_torch(op, shape):
    scene = parse_scene({"op": op, "input": {"shape": shape}}, "x.toml")
    module = torch_module(op, shape[0])
    with torch.no_grad():
        out = module(torch.zeros(shape, dtype=torch.float64).float())
    info = scene.info()
    assert info["output_shape"] == tuple(out.shape)
    assert info["weight_shape"] == tuple(module.weight.shape)
    assert info["params"] == sum(p.numel() for p in module.parameters())
    assert scene.weight_array().shape == tuple(module.weight.shape)
    bias = scene.bias_array()
    assert (bias is None) == (module.bias is None)
    if bias is not None:
        assert bias.shape == tuple(module.bias.shape)


POOLS = [
    ({"kind": "max_pool2d", "kernel_size": 2}, [2, 6, 6], lambda x: torch.nn.functional.max_pool2d(x, 2)),
    ({"kind": "max_pool2d", "kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True},
     [1, 9, 9], lambda x: torch.nn.functional.max_pool2d(x, 3, 2, 1, 2, ceil_mode=True)),
    ({"kind": "avg_pool2d", "kernel_size": 2, "stride": 2}, [3, 7, 7], lambda x: torch.nn.functional.avg_pool2d(x, 2, 2)),
    ({"kind": "avg_pool1d", "kernel_size": 3, "padding": 1, "ceil_mode": True}, [1, 8],
     lambda x: torch.nn.functional.avg_pool1d(x, 3, padding=1, ceil_mode=True)),
    ({"kind": "lp_pool2d", "kernel_size": 2, "norm_type": 2}, [1, 5, 5],
     lambda x: torch.nn.functional.lp_pool2d(x, 2, 2)),
    ({"kind": "lp_pool1d", "kernel_size": 2, "stride": 1, "norm_type": 1.5}, [2, 6],
     lambda x: torch.nn.functional.lp_pool1d(x, 1.5, 2, 1)),
]


@pytest.mark.parametrize("op, shape, reference", POOLS, ids=[f"{op['kind']}-{i}" for i, (op, *_) in enumerate(POOLS)])
def test_pool_scene_matches_torch(op, shape, reference):
    scene = parse_scene({"op": op, "input": {"shape": shape}}, "x.toml")
    info = scene.info()
    assert info["output_shape"] == tuple(reference(torch.ones(shape)).shape)
    assert info["weight_shape"] is None and info["params"] == 0
    assert scene.weights is None and scene.weight_array() is None and scene.bias_array() is None
    assert info["frames"] == torch.Size(info["output_shape"]).numel() + 1
