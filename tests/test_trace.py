"""conv_trace against torch: every step's arithmetic, coordinates, padding mask, order, immutability, laziness."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convgif.engine.trace import ConvStep, ConvTrace, conv_trace

MODES = ("zeros", "reflect", "replicate", "circular")
# per-test settings, not a loaded profile: a profile would change every other module's tests too
ORACLE = settings(derandomize=True, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def small_conv(draw, ndim: int):
    """A valid configuration with its explicit (before, after) pads, worked out here independently."""
    groups = draw(st.integers(1, 2))
    in_channels = groups * draw(st.integers(1, 2))
    out_channels = groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(ndim))
    padding_mode = draw(st.sampled_from(MODES))
    style = draw(st.sampled_from(["int", "same", "valid", "pairs"]))
    stride = (1,) * ndim if style == "same" else tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    if style == "int":
        padding = draw(st.integers(0, 2))
        pads = ((padding, padding),) * ndim
    elif style == "same":
        padding = "same"
        # torch: total d(k-1), the odd extra cell after
        pads = tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation))
    elif style == "valid":
        padding = "valid"
        pads = ((0, 0),) * ndim
    else:
        padding = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(ndim))
        pads = padding
    sizes = []
    for (before, after), k, d in zip(pads, kernel, dilation):
        low = max(1, 1 + d * (k - 1) - before - after, before + 1, after + 1)  # also fine for reflect
        sizes.append(draw(st.integers(low, low + 3)))
    batch = (draw(st.integers(1, 2)),) if draw(st.booleans()) else ()
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return dict(
        x=rng.standard_normal(batch + (in_channels, *sizes)),
        w=rng.standard_normal((out_channels, in_channels // groups, *kernel)),
        b=rng.standard_normal(out_channels) if draw(st.booleans()) else None,
        stride=stride, padding=padding, dilation=dilation, groups=groups, padding_mode=padding_mode, pads=pads,
    )


def torch_reference(cfg):
    """(padded input, output), batched, from F.pad + F.convNd."""
    ndim = len(cfg["pads"])
    x = torch.from_numpy(cfg["x"])
    if x.dim() == ndim + 1:
        x = x.unsqueeze(0)
    flat = [v for before_after in reversed(cfg["pads"]) for v in before_after]
    padded = F.pad(x, flat, mode="constant" if cfg["padding_mode"] == "zeros" else cfg["padding_mode"])
    conv = F.conv1d if ndim == 1 else F.conv2d
    bias = None if cfg["b"] is None else torch.from_numpy(cfg["b"])
    out = conv(padded, torch.from_numpy(cfg["w"]), bias, cfg["stride"], 0, cfg["dilation"], cfg["groups"])
    return padded.numpy(), out.numpy()


def make_trace(cfg) -> ConvTrace:
    return conv_trace(cfg["x"], cfg["w"], cfg["b"], cfg["stride"], cfg["padding"], cfg["dilation"], cfg["groups"],
                      padding_mode=cfg["padding_mode"])


def check_every_step(cfg):
    padded, expected = torch_reference(cfg)
    trace = make_trace(cfg)
    ndim = len(cfg["pads"])
    in_sizes = np.array(cfg["x"].shape[-ndim:])
    before = np.array([b for b, _ in cfg["pads"]])
    out_channels = cfg["w"].shape[0]
    per_group_in = cfg["w"].shape[1]
    per_group_out = out_channels // cfg["groups"]
    raster = list(itertools.product(*(range(n) for n in expected.shape)))
    assert len(trace) == expected.size == len(raster)
    np.testing.assert_array_equal(trace.padded_input, padded)
    np.testing.assert_allclose(trace.output(), expected, rtol=1e-10, atol=1e-10)
    count = 0
    for i, step in enumerate(trace):
        count += 1
        assert isinstance(step, ConvStep)
        assert step.index == i
        assert step.output_index == raster[i]
        batch, oc, *position = raster[i]
        # arithmetic
        bias = 0.0 if cfg["b"] is None else cfg["b"][oc]
        assert step.bias is None if cfg["b"] is None else step.bias == bias
        assert step.value == pytest.approx(step.tap_products.sum() + bias, rel=1e-12, abs=1e-12)
        assert step.value == pytest.approx(expected[raster[i]], rel=1e-10, abs=1e-10)
        np.testing.assert_allclose(step.channel_sums, step.tap_products.reshape(per_group_in, -1).sum(axis=1))
        # which channels and weights
        group = oc // per_group_out
        assert step.group == group
        assert step.in_channels == tuple(range(group * per_group_in, (group + 1) * per_group_in))
        np.testing.assert_array_equal(step.weights, cfg["w"][oc])
        np.testing.assert_array_equal(step.tap_products, step.tap_values * step.weights)
        # where the taps are
        origin = tuple(p * s for p, s in zip(position, cfg["stride"]))
        assert step.window_origin == origin
        kernel = cfg["w"].shape[2:]
        assert step.tap_coords.shape == (*kernel, ndim)
        for axis in range(ndim):
            along = origin[axis] + cfg["dilation"][axis] * np.arange(kernel[axis])
            shape = [1] * ndim
            shape[axis] = kernel[axis]
            np.testing.assert_array_equal(step.tap_coords[..., axis], np.broadcast_to(along.reshape(shape), kernel))
        channels = padded[batch, group * per_group_in : (group + 1) * per_group_in]
        under_taps = channels[(slice(None), *(step.tap_coords[..., a] for a in range(ndim)))]
        np.testing.assert_array_equal(step.tap_values, under_taps)
        np.testing.assert_array_equal(step.input_coords, step.tap_coords - before)
        outside = np.any((step.input_coords < 0) | (step.input_coords >= in_sizes), axis=-1)
        np.testing.assert_array_equal(step.padding_mask, outside)
        np.testing.assert_array_equal(
            trace.padding_cells[tuple(step.tap_coords[..., a] for a in range(ndim))], outside
        )
    assert count == len(trace)


@settings(ORACLE, max_examples=100)
@given(small_conv(1))
def test_conv1d_trace_steps_match_torch(cfg):
    check_every_step(cfg)


@settings(ORACLE, max_examples=100)
@given(small_conv(2))
def test_conv2d_trace_steps_match_torch(cfg):
    check_every_step(cfg)


def test_padding_mask_on_a_known_case():
    # B2: the 4x4 input holding 1..16, K 2, padding 2: the first window sees only padding,
    # the window at (1, 1) sees one real cell (the 1 at the top left).
    x = np.arange(1, 17, dtype=float).reshape(1, 4, 4)
    trace = conv_trace(x, np.ones((1, 1, 2, 2)), padding=2)
    assert trace.geometry.output_shape == (1, 7, 7)
    first = trace.step(0)
    assert first.padding_mask.all() and first.value == 0.0
    step = trace.step(1 * 7 + 1)
    np.testing.assert_array_equal(step.padding_mask, [[True, True], [True, False]])
    assert step.value == 1.0
    centre = trace.step(3 * 7 + 3)  # input rows/cols 1..2: 6 + 7 + 10 + 11
    assert not centre.padding_mask.any() and centre.value == 34.0


def test_selected_steps_in_the_order_given():
    rng = np.random.default_rng(1)
    trace = conv_trace(rng.standard_normal((2, 5, 5)), rng.standard_normal((3, 2, 3, 3)))
    assert [s.index for s in trace.steps([5, 0, 26])] == [5, 0, 26]
    with pytest.raises(IndexError):
        trace.step(len(trace))
    with pytest.raises(IndexError):
        trace.step(-1)


def test_steps_and_arrays_are_immutable():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 5, 5))
    trace = conv_trace(x, rng.standard_normal((2, 2, 3, 3)), rng.standard_normal(2), padding=1)
    step = trace.step(3)
    for field in dataclasses.fields(ConvStep):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(step, field.name, getattr(step, field.name))
    with pytest.raises((AttributeError, TypeError)):
        step.extra = 1  # slots: no new attributes either
    for name in ("tap_coords", "input_coords", "padding_mask", "tap_values", "weights", "tap_products", "channel_sums"):
        array = getattr(step, name)
        with pytest.raises(ValueError):
            array[...] = 0
    for field in dataclasses.fields(ConvTrace):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(trace, field.name, None)
    for name in ("input", "padded_input", "padding_cells", "weight", "bias"):
        with pytest.raises(ValueError):
            getattr(trace, name)[...] = 0
    # the trace owns its data: changing the caller's array afterwards changes nothing
    before = trace.step(3).value
    x[...] = 0
    assert trace.step(3).value == before == step.value


def test_a_step_is_computed_without_the_whole_output(monkeypatch):
    """Steps come one at a time from the window they read (how fast: benchmarks/trace_bench.py)."""
    import convgif.engine.trace as trace_module

    def whole_output(*args, **kwargs):
        raise AssertionError("the whole output was computed for one step")

    monkeypatch.setattr(trace_module, "_conv_nd", whole_output)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((64, 224, 224))
    w = rng.standard_normal((64, 64, 3, 3))
    trace = conv_trace(x, w, padding=1)
    first = next(iter(trace))
    assert len(trace) == 64 * 224 * 224
    # the top-left window: rows/cols -1..1 of every channel, padding on the top and left
    expected = float((x[:, :2, :2] * w[0, :, 1:, 1:]).sum())
    assert first.value == pytest.approx(expected, rel=1e-12)
