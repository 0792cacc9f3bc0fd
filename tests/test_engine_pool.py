"""max / avg / lp pooling, pool_geometry and pool traces against torch."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

import convgif.engine.pool as pool
from convgif.engine.geometry import pool_geometry
from convgif.engine.trace_pool import pool_trace
from convgif.errors import GeometryError


def per_dim(draw, ndim, values):
    v = tuple(draw(values) for _ in range(ndim))
    return v[0] if draw(st.booleans()) else v


@st.composite
def pool_configs(draw, *, valid_only=False):
    ndim = draw(st.sampled_from([1, 2]))
    kind = draw(st.sampled_from(["max", "avg", "lp"]))
    lo = 1 if valid_only else 0
    cfg = dict(
        kind=kind,
        ndim=ndim,
        name=f"{kind}_pool{ndim}d",
        batched=draw(st.booleans()),
        shape=(draw(st.integers(1, 2)), draw(st.integers(1, 2)), *(draw(st.integers(1, 8)) for _ in range(ndim))),
        kernel=per_dim(draw, ndim, st.integers(lo, 4)),
        stride=draw(st.none()) if draw(st.booleans()) else per_dim(draw, ndim, st.integers(lo, 3)),
        padding=per_dim(draw, ndim, st.integers(0 if valid_only else -1, 2)),
        dilation=per_dim(draw, ndim, st.integers(lo, 3)),
        ceil_mode=draw(st.booleans()),
        count_include_pad=draw(st.booleans()),
        divisor_override=draw(st.sampled_from([None, None, 0, 1, 3, -2])) if not valid_only else None,
        norm_type=draw(st.sampled_from([1.0, 2.0, 3.0, 1.5, -1.0, math.inf, -math.inf])),
        positive=draw(st.booleans()),
        seed=draw(st.integers(0, 2**16)),
    )
    if kind == "lp" and ndim == 1 and draw(st.booleans()):
        cfg["kernel"] = cfg["kernel"][0] if isinstance(cfg["kernel"], tuple) else cfg["kernel"]
    return cfg


def make_input(cfg):
    rng = np.random.default_rng(cfg["seed"])
    x = rng.standard_normal(cfg["shape"])
    if cfg["positive"]:
        x = np.abs(x) + 0.1
    if cfg["kind"] == "max" and cfg["seed"] % 3 == 0:
        x = np.round(x)  # ties: torch keeps the first maximum
    return x if cfg["batched"] else x[0]


def args(cfg):
    if cfg["kind"] == "max":
        return (cfg["kernel"], cfg["stride"], cfg["padding"], cfg["dilation"], cfg["ceil_mode"], True)
    if cfg["kind"] == "avg":
        extra = (cfg["divisor_override"],) if cfg["ndim"] == 2 else ()
        return (cfg["kernel"], cfg["stride"], cfg["padding"], cfg["ceil_mode"], cfg["count_include_pad"], *extra)
    return (cfg["norm_type"], cfg["kernel"], cfg["stride"], cfg["ceil_mode"])


def torch_pool(cfg, x):
    try:
        return getattr(F, cfg["name"])(torch.tensor(x), *args(cfg))
    except Exception:  # RuntimeError, ValueError, and TypeError from lp_pool1d's kernel_size * tensor
        return None


@settings(max_examples=200, deadline=None, derandomize=True)
@given(pool_configs())
def test_pool_matches_torch_or_both_reject(cfg):
    x = make_input(cfg)
    expected = torch_pool(cfg, x)
    ours = getattr(pool, cfg["name"])
    if expected is None:
        with pytest.raises(GeometryError):
            ours(x, *args(cfg))
        return
    got = ours(x, *args(cfg))
    if cfg["kind"] == "max":
        values, indices = got
        assert values.shape == tuple(expected[0].shape)
        np.testing.assert_array_equal(values, expected[0].numpy())
        np.testing.assert_array_equal(indices, expected[1].numpy())
    else:
        assert got.shape == tuple(expected.shape)
        np.testing.assert_allclose(got, expected.numpy(), rtol=1e-10, atol=1e-12, equal_nan=True)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(pool_configs(valid_only=True))
def test_pool_trace_steps_equal_torch(cfg):
    x = make_input(cfg)
    expected = torch_pool(cfg, x)
    kw = dict(stride=cfg["stride"], ceil_mode=cfg["ceil_mode"])
    if cfg["kind"] == "max":
        kw.update(padding=cfg["padding"], dilation=cfg["dilation"])
    elif cfg["kind"] == "avg":
        kw.update(padding=cfg["padding"], count_include_pad=cfg["count_include_pad"])
    else:
        kw.update(norm_type=cfg["norm_type"])
    if expected is None:
        with pytest.raises(GeometryError):
            pool_trace(cfg["name"], x, cfg["kernel"], **kw)
        return
    trace = pool_trace(cfg["name"], x, cfg["kernel"], **kw)
    values = expected[0] if cfg["kind"] == "max" else expected
    values = values.numpy() if cfg["batched"] else values.numpy()[None]
    steps = list(trace.steps())
    assert len(steps) == values.size
    np.testing.assert_allclose([s.value for s in steps], values.ravel(), rtol=1e-10, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(trace.output(), values, rtol=1e-10, atol=1e-12, equal_nan=True)
    pad_value = -np.inf if cfg["kind"] == "max" else 0.0
    assert (trace.padded_input[..., trace.padding_cells] == pad_value).all()
    if cfg["kind"] == "max":
        indices = (expected[1].numpy() if cfg["batched"] else expected[1].numpy()[None]).ravel()
        spatial = trace.input.shape[2:]
        for step, index in zip(steps, indices):
            real = ~(step.padding_mask | step.overhang_mask)
            if not real.any():
                continue  # every tap on padding: torch reports -inf and a placeholder index
            coords = step.input_coords.reshape(-1, trace.geometry.ndim)[step.selected]
            assert np.ravel_multi_index(tuple(coords), spatial) == index
            assert step.tap_values.flat[step.selected] == step.value
    if cfg["kind"] == "avg":
        for step in steps:
            assert step.divisor is not None and step.divisor > 0
            assert (step.tap_values[step.padding_mask | step.overhang_mask] == 0).all()


def test_pool_geometry_formulas_pinned_and_match_torch():
    g = pool_geometry("max_pool2d", (1, 7, 7), 3, 2, 1)
    assert g.formulas == ("H: floor((7 + 2*1 - 1*(3 - 1) - 1) / 2) + 1 = 4", "W: floor((7 + 2*1 - 1*(3 - 1) - 1) / 2) + 1 = 4")
    assert g.output_shape == (1, 4, 4) == tuple(F.max_pool2d(torch.zeros(1, 7, 7), 3, 2, 1).shape)
    assert g.weight_shape == ()
    # ceil mode, the last window would start in the right padding: torch drops it
    g = pool_geometry("max_pool1d", (1, 5), 2, 2, 1, ceil_mode=True)
    assert g.formulas == ("L: ceil((5 + 2*1 - 1*(2 - 1) - 1) / 2) + 1 - 1 = 3 (the last window would start in the right padding, so it is dropped)",)
    assert g.output_shape[1] == F.max_pool1d(torch.zeros(1, 5), 2, 2, 1, ceil_mode=True).shape[-1] == 3
    g = pool_geometry("avg_pool1d", (1, 6), 3, 2, ceil_mode=True)
    assert g.formulas == ("L: ceil((6 + 2*0 - 1*(3 - 1) - 1) / 2) + 1 = 3",)


def test_max_pool_index_when_every_tap_is_padding():
    # dilation 2 on a 1-cell input: both taps (-1 and 1) miss it; torch returns -inf and a fallback index
    x = np.array([[[0.5]]])
    values, indices = pool.max_pool1d(x, 2, 2, 1, 2, return_indices=True)
    t_values, t_indices = F.max_pool1d(torch.tensor(x), 2, 2, 1, 2, return_indices=True)
    assert values.tolist() == t_values.tolist() == [[[-np.inf]]]
    assert indices.tolist() == t_indices.tolist()
    x = np.ones((1, 1, 1, 1))
    _, indices = pool.max_pool2d(x, 2, 2, 1, 2, return_indices=True)
    assert indices.tolist() == F.max_pool2d(torch.tensor(x), 2, 2, 1, 2, return_indices=True)[1].tolist()


def test_catalogue_c5_pool_window_2_stride_2():
    x = np.arange(16, dtype=float).reshape(1, 4, 4)
    np.testing.assert_array_equal(pool.max_pool2d(x, 2, 2), [[[5, 7], [13, 15]]])
    np.testing.assert_array_equal(pool.avg_pool2d(x, 2, 2), [[[2.5, 4.5], [10.5, 12.5]]])
    np.testing.assert_allclose(pool.lp_pool2d(x, 2, 2, 2)[0, 0, 0], math.sqrt(0 + 1 + 16 + 25))


def test_lp_ceil_mode_scales_clipped_windows_like_torch():
    # the last window holds one value, torch divides by 1 then multiplies by the kernel size 2
    x = np.array([[1.0, 2.0, 3.0]])
    got = pool.lp_pool1d(x, 1, 2, 2, ceil_mode=True)
    np.testing.assert_allclose(got, [[3.0, 6.0]])
    np.testing.assert_allclose(got, F.lp_pool1d(torch.tensor(x), 1, 2, 2, ceil_mode=True).numpy())


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda x: pool.max_pool2d(x, 3, padding=2), "padding"),
        (lambda x: pool.max_pool2d(x, 0), "kernel_size"),
        (lambda x: pool.max_pool2d(x, 2, stride=0), "stride"),
        (lambda x: pool.max_pool2d(x, 2, dilation=0), "dilation"),
        (lambda x: pool.avg_pool2d(x, 9), "kernel_size"),
        (lambda x: pool.avg_pool2d(x, 2, divisor_override=0), "divisor_override"),
        (lambda x: pool.lp_pool2d(x, 0, 2), "norm_type"),
        (lambda x: pool.lp_pool1d(x[0], 2, (2,)), "kernel_size"),
    ],
)
def test_rejections_name_the_argument(call, argument):
    with pytest.raises(GeometryError) as err:
        call(np.ones((1, 5, 5)))
    assert err.value.argument == argument


def test_pool_trace_is_lazy_and_frozen():
    x = np.random.default_rng(0).standard_normal((2, 16, 256, 256))
    trace = pool_trace("max_pool2d", x, 3, 2, 1)  # how fast: benchmarks/trace_bench.py
    step = next(trace.steps())
    assert step.index == 0 and step.window_origin == (0, 0)
    assert step.padding_mask.tolist() == [[True, True, True], [True, False, False], [True, False, False]]
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.value = 1.0
    with pytest.raises(ValueError):
        step.tap_values.flat[0] = 1.0
