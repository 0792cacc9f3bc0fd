"""conv_transpose1d/2d and its two traces (zero insertion, scatter) against torch."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from convgif.engine.conv_transpose import conv_transpose1d, conv_transpose2d
from convgif.engine.geometry import conv_transpose_geometry
from convgif.engine.trace_transpose import (
    INPUT_VALUE,
    INSERTED_ZERO,
    OUTPUT_PADDING,
    PADDING,
    grid_shape,
    scatter_trace,
    zero_insertion_trace,
)
from convgif.errors import GeometryError

OURS = {1: conv_transpose1d, 2: conv_transpose2d}
TORCHS = {1: F.conv_transpose1d, 2: F.conv_transpose2d}


def per_dim(draw, ndim, values):
    v = tuple(draw(values) for _ in range(ndim))
    return v[0] if draw(st.booleans()) else v


@st.composite
def configs(draw, *, valid_only=False):
    ndim = draw(st.sampled_from([1, 2]))
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, 2))
    c_out_g = draw(st.integers(1, 3))
    lo = 0 if not valid_only else 1
    cfg = dict(
        ndim=ndim,
        batched=draw(st.booleans()),
        batch=draw(st.integers(1, 2)),
        spatial=tuple(draw(st.integers(1, 5)) for _ in range(ndim)),
        c_in=c_in,
        weight_in=c_in if valid_only or draw(st.integers(0, 9)) else c_in + 1,
        c_out_g=c_out_g,
        kernel=tuple(draw(st.integers(1, 4)) for _ in range(ndim)),
        stride=per_dim(draw, ndim, st.integers(lo, 3)),
        padding=per_dim(draw, ndim, st.integers(0 if valid_only else -1, 3)),
        output_padding=per_dim(draw, ndim, st.integers(0 if valid_only else -1, 3)),
        dilation=per_dim(draw, ndim, st.integers(lo, 3)),
        groups=groups if valid_only or draw(st.integers(0, 9)) else groups + 1,
        bias=draw(st.booleans()),
        seed=draw(st.integers(0, 2**16)),
    )
    return cfg


def arrays(cfg):
    rng = np.random.default_rng(cfg["seed"])
    shape = ((cfg["batch"],) if cfg["batched"] else ()) + (cfg["c_in"], *cfg["spatial"])
    x = rng.standard_normal(shape)
    w = rng.standard_normal((cfg["weight_in"], cfg["c_out_g"], *cfg["kernel"]))
    groups = cfg["groups"]
    b = rng.standard_normal(cfg["c_out_g"] * groups) if cfg["bias"] else None
    return x, w, b


def call_args(cfg):
    return cfg["stride"], cfg["padding"], cfg["output_padding"], cfg["groups"], cfg["dilation"]


def torch_result(cfg, x, w, b):
    try:
        out = TORCHS[cfg["ndim"]](
            torch.tensor(x), torch.tensor(w), None if b is None else torch.tensor(b), *call_args(cfg)
        )
    except (RuntimeError, ValueError):
        return None
    return out.numpy()


@settings(max_examples=150, deadline=None, derandomize=True)
@given(configs())
def test_conv_transpose_matches_torch_or_both_reject(cfg):
    x, w, b = arrays(cfg)
    expected = torch_result(cfg, x, w, b)
    if expected is None:
        with pytest.raises(GeometryError):
            OURS[cfg["ndim"]](x, w, b, *call_args(cfg))
        return
    got = OURS[cfg["ndim"]](x, w, b, *call_args(cfg))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(configs(valid_only=True))
def test_zero_insertion_trace_steps_equal_torch(cfg):
    x, w, b = arrays(cfg)
    expected = torch_result(cfg, x, w, b)
    if expected is None:  # e.g. output_padding >= stride and dilation, or an empty output
        with pytest.raises(GeometryError):
            zero_insertion_trace(x, w, b, *call_args(cfg))
        return
    trace = zero_insertion_trace(x, w, b, *call_args(cfg))
    batched_expected = expected if cfg["batched"] else expected[None]
    values = np.array([step.value for step in trace.steps()]).reshape(batched_expected.shape)
    np.testing.assert_allclose(values, batched_expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(trace.output(), batched_expected, rtol=1e-10, atol=1e-12)
    # the grid holds the input values exactly where cell_kind says so, zeros everywhere else
    assert trace.cell_kind.shape == trace.grid.shape[2:]
    g = trace.geometry  # a stride-1 conv of the flipped kernel over the grid gives the output: grid = out + d(k - 1)
    assert grid_shape(g) == trace.grid.shape[2:] == tuple(
        o + d * (k - 1) for o, d, k in zip(g.output_shape[1:], g.dilation, g.kernel_size))
    assert trace.cell_kind.dtype == np.int8
    assert not trace.grid[..., trace.cell_kind != INPUT_VALUE].any()
    kept = trace.grid[..., trace.cell_kind == INPUT_VALUE]
    assert kept.shape[-1] <= np.prod(trace.input.shape[2:])
    assert np.isin(kept, trace.input).all()


@settings(max_examples=100, deadline=None, derandomize=True)
@given(configs(valid_only=True), st.integers(0, 10**6))
def test_scatter_trace_accumulates_to_torch(cfg, pick):
    x, w, b = arrays(cfg)
    expected = torch_result(cfg, x, w, b)
    if expected is None:
        with pytest.raises(GeometryError):
            scatter_trace(x, w, b, *call_args(cfg))
        return
    trace = scatter_trace(x, w, b, *call_args(cfg))
    batched_expected = expected if cfg["batched"] else expected[None]
    steps = list(trace.steps())
    assert len(steps) == x.size
    last = steps[-1]
    np.testing.assert_allclose(trace.finish(last.accumulated_output), batched_expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(trace.output(), batched_expected, rtol=1e-10, atol=1e-12)
    # random access recomputes the running sum independently of the streaming accumulation
    i = pick % len(trace)
    alone = trace.step(i)
    np.testing.assert_allclose(alone.accumulated, steps[i].accumulated, rtol=1e-10, atol=1e-12)
    step = steps[i]
    assert step.value == pytest.approx(float(trace.input[(step.batch, step.in_channel, *step.position)]))
    np.testing.assert_allclose(step.products, step.value * w[step.in_channel])
    # the taps inside the output are where this element's products land (in output coordinates)
    inside = step.output_coords[step.output_mask]
    assert ((inside >= 0) & (inside < np.array(trace.geometry.output_shape[1:]))).all()


def test_zero_insertion_cell_kinds_by_hand():
    # 1D: n=3, s=2, k=3, p=1, op=1 -> q = 1*(3-1) - 1 = 1: [pad, v, 0, v, 0, v, pad, op]
    trace = zero_insertion_trace(np.array([[1.0, 2.0, 3.0]]), np.ones((1, 1, 3)), stride=2, padding=1, output_padding=1)
    P, V, Z, O = PADDING, INPUT_VALUE, INSERTED_ZERO, OUTPUT_PADDING
    assert trace.cell_kind.tolist() == [P, V, Z, V, Z, V, P, O]
    assert trace.grid[0, 0].tolist() == [0, 1, 0, 2, 0, 3, 0, 0]
    assert trace.geometry.output_shape == (1, 6)


def test_zero_insertion_negative_grid_padding_crops_and_keeps_values():
    # k=1, p=1 -> q = -1: the spread input loses a cell each side; output_padding=1 brings back the last value
    x = np.array([[1.0, 2.0, 3.0]])
    trace = zero_insertion_trace(x, np.ones((1, 1, 1)), stride=2, padding=1, output_padding=1)
    assert trace.grid_padding == (-1,)
    assert trace.grid[0, 0].tolist() == [0, 2, 0, 3]
    assert trace.cell_kind.tolist() == [INSERTED_ZERO, INPUT_VALUE, INSERTED_ZERO, INPUT_VALUE]
    expected = F.conv_transpose1d(torch.tensor(x[None]), torch.ones(1, 1, 1, dtype=torch.float64), stride=2,
                                  padding=1, output_padding=1).numpy()
    np.testing.assert_allclose([s.value for s in trace.steps()], expected.ravel())


def test_catalogue_c8_c9_c11_shapes():
    # C8: 3x3 in, K3, S2, P1 -> 5x5; grid 3x3 spread to 5x5, padded by 1 -> 7x7
    trace = zero_insertion_trace(np.ones((1, 3, 3)), np.ones((1, 1, 3, 3)), stride=2, padding=1)
    assert trace.grid.shape == (1, 1, 7, 7) and trace.geometry.output_shape == (1, 5, 5)
    assert trace.geometry.formulas[0] == "H: (3 - 1)*2 - 2*1 + 1*(3 - 1) + 0 + 1 = 5"
    # C9: output_padding=1 gives 6x6 (one extra row and column of output padding)
    trace = zero_insertion_trace(np.ones((1, 3, 3)), np.ones((1, 1, 3, 3)), stride=2, padding=1, output_padding=1)
    assert trace.geometry.output_shape == (1, 6, 6)
    assert (trace.cell_kind[-1] == OUTPUT_PADDING).all() and (trace.cell_kind[:, -1] == OUTPUT_PADDING).all()
    # C11: 32x32 -> 64x64
    g = conv_transpose_geometry((1, 32, 32), 1, 3, 2, 1, 1)
    assert g.output_shape == (1, 64, 64)


def test_flipped_swapped_direct_weight():
    w = np.arange(2 * 3 * 2, dtype=float).reshape(2, 3, 2)  # (C_in=2, C_out=3, k=2), groups 1
    trace = zero_insertion_trace(np.ones((2, 4)), w)
    assert trace.direct_weight.shape == (3, 2, 2)
    assert trace.direct_weight[1, 0].tolist() == w[0, 1, ::-1].tolist()


def test_traces_are_lazy_and_frozen():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 8, 96, 96))
    w = rng.standard_normal((8, 4, 3, 3))
    scatter = scatter_trace(x, w, stride=2, padding=1, output_padding=1)  # how fast: benchmarks/trace_bench.py
    first = next(scatter.steps())
    zero = zero_insertion_trace(x, w, stride=2, padding=1, output_padding=1)
    next(zero.steps())
    assert len(scatter) == x.size
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.value = 0.0
    for array in (first.products, first.accumulated, first.tap_coords, zero.grid, zero.cell_kind, scatter.input):
        with pytest.raises(ValueError):
            array.flat[0] = 1


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        (dict(stride=0), "stride"),
        (dict(padding=-1), "padding"),
        (dict(output_padding=2, stride=2), "output_padding"),
        (dict(groups=3), "groups"),
        (dict(padding=5), "padding"),
    ],
)
def test_rejections_name_the_argument(kwargs, argument):
    with pytest.raises(GeometryError) as err:
        conv_transpose2d(np.ones((2, 3, 3)), np.ones((2, 1, 3, 3)), **kwargs)
    assert err.value.argument == argument
    assert str(err.value).startswith(f"{argument}: ")
