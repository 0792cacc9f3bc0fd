"""Keras/TensorFlow conventions beside torch's: channels-last layouts, (k..., Cin, Cout) weights, 'same' pads."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from convgif.engine._args import as_tuple, positive
from convgif.errors import GeometryError


def _spatial_dims(x: np.ndarray, spatial_dims: int | None) -> int:
    if spatial_dims is None:
        if x.ndim == 2:
            return 1  # (C, L) / (L, C)
        if x.ndim == 4:
            return 2  # (N, C, H, W) / (N, H, W, C)
        raise GeometryError(
            "spatial_dims",
            f"a {x.ndim}D array is ambiguous: pass spatial_dims=1 for batched 1D (N, C, L) "
            f"or spatial_dims=2 for an unbatched image (C, H, W)",
        )
    if spatial_dims not in (1, 2) or x.ndim not in (spatial_dims + 1, spatial_dims + 2):
        raise GeometryError(
            "spatial_dims", f"{spatial_dims!r} does not fit a {x.ndim}D array (1 or 2, with an optional batch axis)"
        )
    return spatial_dims


def to_channels_last(x: Any, *, spatial_dims: int | None = None) -> np.ndarray:
    """(C, L) -> (L, C), (C, H, W) -> (H, W, C), and the same with a leading batch axis N."""
    x = np.asarray(x)
    ndim = _spatial_dims(x, spatial_dims)
    channel_axis = x.ndim - ndim - 1
    return np.moveaxis(x, channel_axis, -1)


def to_channels_first(x: Any, *, spatial_dims: int | None = None) -> np.ndarray:
    """(L, C) -> (C, L), (H, W, C) -> (C, H, W), and the same with a leading batch axis N."""
    x = np.asarray(x)
    ndim = _spatial_dims(x, spatial_dims)
    channel_axis = x.ndim - ndim - 1
    return np.moveaxis(x, -1, channel_axis)


def keras_to_torch_weight(w: Any) -> np.ndarray:
    """Keras kernel (kh, kw, Cin, Cout) -> torch weight (Cout, Cin, kh, kw); 1D: (k, Cin, Cout) -> (Cout, Cin, k)."""
    w = np.asarray(w)
    if w.ndim == 4:
        return np.transpose(w, (3, 2, 0, 1))
    if w.ndim == 3:
        return np.transpose(w, (2, 1, 0))
    raise GeometryError("weight", f"expected a 3D (k, Cin, Cout) or 4D (kh, kw, Cin, Cout) kernel, got shape {w.shape}")


def torch_to_keras_weight(w: Any) -> np.ndarray:
    """torch weight (Cout, Cin, kh, kw) -> Keras kernel (kh, kw, Cin, Cout); 1D: (Cout, Cin, k) -> (k, Cin, Cout)."""
    w = np.asarray(w)
    if w.ndim == 4:
        return np.transpose(w, (2, 3, 1, 0))
    if w.ndim == 3:
        return np.transpose(w, (2, 1, 0))
    raise GeometryError("weight", f"expected a 3D (Cout, Cin, k) or 4D (Cout, Cin, kh, kw) weight, got shape {w.shape}")


def tf_same_padding(input_size: Any, kernel_size: Any, stride: Any, dilation: Any = 1) -> tuple[tuple[int, int], ...]:
    """TensorFlow's padding='same' as explicit (before, after) pads per spatial dim, for any stride.

    `input_size` is (H, W) for 2D (giving ((top, bottom), (left, right))) or an int / (L,) for 1D.
    TF keeps out = ceil(n / s) and puts the odd extra cell after (bottom / right). The result can be
    passed to conv1d/conv2d as `padding`.
    """
    sizes = (input_size,) if isinstance(input_size, (int, np.integer)) else tuple(input_size)
    ndim = len(sizes)
    if ndim not in (1, 2):
        raise GeometryError("input_size", f"must be L or (H, W), got {input_size!r}")
    n = positive(as_tuple(sizes, ndim, "input_size"), "input_size")
    k = positive(as_tuple(kernel_size, ndim, "kernel_size"), "kernel_size")
    s = positive(as_tuple(stride, ndim, "stride"), "stride")
    d = positive(as_tuple(dilation, ndim, "dilation"), "dilation")
    pads = []
    for nn, kk, ss, dd in zip(n, k, s, d):
        out = math.ceil(nn / ss)
        total = max((out - 1) * ss + dd * (kk - 1) + 1 - nn, 0)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)
