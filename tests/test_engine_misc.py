"""interpolate, relu, flatten and the Keras helpers against torch and hand-computed facts."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from convgif.engine.activation import flatten, relu
from convgif.engine.conv import conv1d, conv2d
from convgif.engine.geometry import interpolate_geometry
from convgif.engine.keras import (
    keras_to_torch_weight,
    tf_same_padding,
    to_channels_first,
    to_channels_last,
    torch_to_keras_weight,
)
from convgif.engine.resample import interpolate
from convgif.errors import GeometryError

# Scale factors a scene would use. (torch's kernels floor source indices through float32, and for factors
# within ~1e-8 of a ratio of small integers its 1D/2D kernels disagree in the last bit; see the report.)
# 1.1 and 2.1 give out == in / out == 2*in on small inputs, where torch's kernels take shortcuts.
SCALES = [0.25, 0.3, 0.5, 2 / 3, 0.75, 1.0, 1.1, 1.25, 1.5, 1.7, 2.0, 2.1, 2.2, 2.5, 3.0, 4.0]


@st.composite
def interpolate_configs(draw):
    mode = draw(st.sampled_from(["nearest", "nearest", "linear", "bilinear", "bicubic"]))
    ndim = draw(st.sampled_from([1, 2]))
    if draw(st.integers(0, 4)):  # mostly the dims the mode needs
        ndim = {"linear": 1, "bilinear": 2}.get(mode, ndim)
    how = draw(st.sampled_from(["size", "size", "scale", "scale", "both", "neither"]))
    size = scale = None
    if how in ("size", "both"):
        size = tuple(draw(st.integers(-1, 20)) for _ in range(ndim + draw(st.sampled_from([0, 0, 0, 1]))))
        size = size[0] if draw(st.booleans()) else size
    if how in ("scale", "both"):
        scale = tuple(draw(st.sampled_from(SCALES + [-1.0])) for _ in range(ndim))
        scale = scale[0] if draw(st.booleans()) else scale
    return dict(
        mode=mode,
        shape=(draw(st.integers(1, 2)), draw(st.integers(1, 2)), *(draw(st.integers(1, 9)) for _ in range(ndim))),
        size=size,
        scale_factor=scale,
        align_corners=draw(st.sampled_from([None, False, True])),
        recompute_scale_factor=draw(st.sampled_from([None, False, True])),
        seed=draw(st.integers(0, 2**16)),
    )


@settings(max_examples=200, deadline=None, derandomize=True)
@given(interpolate_configs())
def test_interpolate_matches_torch_or_both_reject(cfg):
    x = np.random.default_rng(cfg["seed"]).standard_normal(cfg["shape"])
    kw = {k: cfg[k] for k in ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor")}
    try:
        expected = F.interpolate(torch.tensor(x), **kw).numpy()
    except Exception:  # ValueError, NotImplementedError, RuntimeError, TypeError
        expected = None
    if expected is None or cfg["mode"] == "bicubic":
        with pytest.raises(GeometryError):
            interpolate(x, **kw)
        return
    got = interpolate(x, **kw)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", ["nearest", "linear", "bilinear"])
def test_interpolate_size_shortcuts(mode):
    # trunc(5 * 1.1) = 5 and trunc(5 * 2.1) = 10: torch copies / halves indices in some kernels, not others
    for factor in (1.1, 2.1):
        x = np.arange(2 * 5 * 5, dtype=float).reshape(1, 2, 5, 5)
        if mode == "linear":
            x = x[:, :, 0]
        expected = F.interpolate(torch.tensor(x), scale_factor=factor, mode=mode).numpy()
        np.testing.assert_allclose(interpolate(x, scale_factor=factor, mode=mode), expected, rtol=1e-12)
        if mode == "nearest":
            expected = F.interpolate(torch.tensor(x[:, :, 0]), scale_factor=factor, mode=mode).numpy()
            np.testing.assert_array_equal(interpolate(x[:, :, 0], scale_factor=factor, mode=mode), expected)


def test_interpolate_facts():
    x = np.array([[[1.0, 2.0, 3.0]]])
    np.testing.assert_array_equal(interpolate(x, scale_factor=2), [[[1, 1, 2, 2, 3, 3]]])
    np.testing.assert_allclose(interpolate(x, size=5, mode="linear", align_corners=True), [[[1, 1.5, 2, 2.5, 3]]])
    # half-pixel centres: out cell 0 samples x at -0.25, clamped to 0
    np.testing.assert_allclose(interpolate(x, scale_factor=2, mode="linear"), [[[1, 1.25, 1.75, 2.25, 2.75, 3]]])
    g = interpolate_geometry((1, 32, 32), scale_factor=2, mode="bilinear")
    assert g.output_shape == (1, 64, 64) and g.source_scales == (0.5, 0.5)
    with pytest.raises(GeometryError) as err:
        interpolate(x, scale_factor=2, align_corners=True)
    assert err.value.argument == "align_corners"


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.integers(0, 4), st.integers(-6, 5), st.integers(-6, 5), st.integers(0, 2**16))
def test_flatten_matches_torch_or_both_reject(ndim, start_dim, end_dim, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(tuple(rng.integers(1, 4, ndim)))
    try:
        expected = torch.flatten(torch.tensor(x), start_dim, end_dim).numpy()
    except (IndexError, RuntimeError, ValueError):
        with pytest.raises(GeometryError):
            flatten(x, start_dim, end_dim)
        return
    got = flatten(x, start_dim, end_dim)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_relu_matches_torch():
    x = np.random.default_rng(1).standard_normal((3, 4, 5))
    x[0, 0, 0] = np.nan
    np.testing.assert_array_equal(relu(x), F.relu(torch.tensor(x)).numpy())
    # C6: o x s x s values become one vector
    assert flatten(relu(np.ones((8, 5, 5)))).shape == (200,)


@pytest.mark.parametrize(
    "n, k, s, expected",
    [
        (7, 5, 2, (2, 2)),  # out = ceil(7/2) = 4; total = 3*2 + 5 - 7 = 4 -> 2 before, 2 after
        (8, 5, 2, (1, 2)),  # out 4; total = 6 + 5 - 8 = 3 -> the odd cell goes after
        (13, 6, 5, (1, 2)),  # TensorFlow's own documented example: pad_left 1, pad_right 2
        (6, 3, 2, (0, 1)),  # out 3; total = 4 + 3 - 6 = 1
        (5, 1, 2, (0, 0)),
        (4, 3, 1, (1, 1)),
    ],
)
def test_tf_same_padding_facts(n, k, s, expected):
    assert tf_same_padding(n, k, s) == (expected,)
    assert tf_same_padding((n, n), k, s) == (expected, expected)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3),
       st.integers(1, 3), st.integers(1, 2), st.integers(0, 2**16))
def test_tf_same_padding_conv2d_equals_torch_pad_then_conv(h, w, kh, kw, sh, sw, d, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, h, w))
    weight = rng.standard_normal((4, 3, kh, kw))
    pads = tf_same_padding((h, w), (kh, kw), (sh, sw), d)
    (top, bottom), (left, right) = pads
    expected = F.conv2d(F.pad(torch.tensor(x), (left, right, top, bottom)), torch.tensor(weight),
                        stride=(sh, sw), dilation=d).numpy()
    assert expected.shape[2:] == (-(-h // sh), -(-w // sw))  # TF: out = ceil(n / s)
    got = conv2d(x, weight, None, (sh, sw), pads, d)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_keras_layouts_and_weights():
    rng = np.random.default_rng(3)
    # D1: a (64, 64, 5) Keras image, 6 filters of 3x3
    image_hwc = rng.standard_normal((9, 9, 5))
    kernel = rng.standard_normal((3, 3, 5, 6))  # Keras (kh, kw, Cin, Cout)
    torch_weight = keras_to_torch_weight(kernel)
    assert torch_weight.shape == (6, 5, 3, 3)
    np.testing.assert_array_equal(torch_to_keras_weight(torch_weight), kernel)
    chw = to_channels_first(image_hwc, spatial_dims=2)
    assert chw.shape == (5, 9, 9)
    out_hwc = to_channels_last(conv2d(chw, torch_weight), spatial_dims=2)
    # Keras' definition, written out: y[i, j, o] = sum_{a, b, c} x[i + a, j + b, c] * K[a, b, c, o]
    by_hand = np.zeros((7, 7, 6))
    for i in range(7):
        for j in range(7):
            by_hand[i, j] = np.einsum("abc,abco->o", image_hwc[i : i + 3, j : j + 3], kernel)
    np.testing.assert_allclose(out_hwc, by_hand, rtol=1e-12)
    # batched layouts agree with torch's permute; 1D kernels too
    batch = rng.standard_normal((2, 5, 4, 6))
    np.testing.assert_array_equal(to_channels_last(batch), torch.tensor(batch).permute(0, 2, 3, 1).numpy())
    np.testing.assert_array_equal(to_channels_first(to_channels_last(batch)), batch)
    np.testing.assert_array_equal(to_channels_last(batch[0, :, 0]), batch[0, :, 0].T)
    seq = rng.standard_normal((2, 7, 3))  # Keras (N, L, C)
    k1 = rng.standard_normal((3, 3, 4))  # (k, Cin, Cout)
    got = to_channels_last(conv1d(to_channels_first(seq, spatial_dims=1), keras_to_torch_weight(k1)), spatial_dims=1)
    by_hand = np.stack([np.einsum("lc,lco->o", seq[n, i : i + 3], k1) for n in range(2) for i in range(5)])
    np.testing.assert_allclose(got.reshape(-1, 4), by_hand, rtol=1e-12)
    with pytest.raises(GeometryError) as err:
        to_channels_last(np.ones((2, 3, 4)))
    assert err.value.argument == "spatial_dims"
