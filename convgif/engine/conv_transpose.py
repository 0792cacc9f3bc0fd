"""conv_transpose1d / conv_transpose2d as torch.nn.functional has them, in float64 NumPy (scatter form)."""

from __future__ import annotations

from typing import Any

import numpy as np

from convgif.engine._args import spatial_ndim_of
from convgif.engine.geometry import Geometry, conv_transpose_geometry
from convgif.errors import GeometryError


def conv_transpose_setup(
    input: Any, weight: Any, bias: Any, stride: Any, padding: Any, output_padding: Any, groups: Any,
    dilation: Any, ndim: int,
) -> tuple[np.ndarray, bool, np.ndarray, np.ndarray | None, Geometry]:
    """Validate and normalise a transposed-conv call: (batched x, was_unbatched, weight, bias, geometry)."""
    x, unbatched = spatial_ndim_of(np.asarray(input, dtype=np.float64), ndim)
    weight = np.asarray(weight, dtype=np.float64)
    if weight.ndim != ndim + 2:
        raise GeometryError(
            "weight", f"expected {ndim + 2} dimensions (C_in, C_out/groups, *k), got shape {tuple(weight.shape)}"
        )
    if isinstance(groups, (bool, np.bool_)) or not isinstance(groups, (int, np.integer)) or groups <= 0:
        raise GeometryError("groups", f"must be a positive integer, got {groups!r}")
    groups = int(groups)
    if weight.shape[0] != x.shape[1]:
        raise GeometryError(
            "weight",
            f"shape {tuple(weight.shape)} expects {weight.shape[0]} input channels (weight is (C_in, C_out/groups, *k)), "
            f"input has {x.shape[1]}",
        )
    if any(n == 0 for n in weight.shape):
        raise GeometryError("weight", f"must not have an empty dimension, got shape {tuple(weight.shape)}")
    geometry = conv_transpose_geometry(
        tuple(int(n) for n in x.shape[1:]), int(weight.shape[1]) * groups, tuple(int(k) for k in weight.shape[2:]),
        stride, padding, output_padding, groups, bias is not None, dilation,
        kind=f"conv_transpose{ndim}d",
    )
    if bias is not None:
        bias = np.asarray(bias, dtype=np.float64)
        if bias.shape != (geometry.out_channels,):
            raise GeometryError("bias", f"expected shape ({geometry.out_channels},), got {tuple(bias.shape)}")
    return x, unbatched, weight, bias, geometry


def full_output_shape(geometry: Geometry) -> tuple[int, ...]:
    """Spatial size of the uncropped output every input element scatters into: (n-1)s + d(k-1) + 1 + output_padding.

    The cropped (torch) output is `full[p : p + out]` per dimension.
    """
    return tuple(
        (n - 1) * s + d * (k - 1) + 1 + op
        for n, s, d, k, op in zip(
            geometry.input_shape[1:], geometry.stride, geometry.dilation, geometry.kernel_size,
            geometry.output_padding,
        )
    )


def crop_full(full: np.ndarray, geometry: Geometry) -> np.ndarray:
    """The torch output (trailing axes) cut out of a full-coordinates array."""
    index = tuple(slice(b, b + o) for (b, _), o in zip(geometry.padding, geometry.output_shape[1:]))
    return full[(Ellipsis,) + index]


def scatter_full(x: np.ndarray, weight: np.ndarray, geometry: Geometry) -> np.ndarray:
    """(N, C_out, *full) sum of every input element times its group's kernel slice, no crop, no bias."""
    ndim = geometry.ndim
    g = geometry.groups
    n, c_in = x.shape[:2]
    c_in_g = c_in // g
    c_out_g = weight.shape[1]
    spatial = x.shape[2:]
    k = geometry.kernel_size
    xg = x.reshape(n, g, c_in_g, *spatial)
    wg = weight.reshape(g, c_in_g, c_out_g, *k)
    letters_s = "xy"[:ndim]
    letters_k = "uv"[:ndim]
    # products[n, g, o, *spatial, *k] = sum over the group's input channels
    products = np.einsum(f"ngc{letters_s},gco{letters_k}->ngo{letters_s}{letters_k}", xg, wg, optimize=True)
    full = np.zeros((n, g, c_out_g, *full_output_shape(geometry)))
    for tap in np.ndindex(*k):
        # tap t of input position i lands on full index i*s + d*t
        index = tuple(
            slice(d * t, d * t + (size - 1) * s + 1, s)
            for t, d, s, size in zip(tap, geometry.dilation, geometry.stride, spatial)
        )
        full[(slice(None), slice(None), slice(None)) + index] += products[(Ellipsis,) + tap]
    return full.reshape(n, g * c_out_g, *full.shape[3:])


def _conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups, dilation, ndim):
    x, unbatched, weight, bias, geometry = conv_transpose_setup(
        input, weight, bias, stride, padding, output_padding, groups, dilation, ndim
    )
    out = crop_full(scatter_full(x, weight, geometry), geometry)
    if bias is not None:
        out = out + bias.reshape((1, -1) + (1,) * ndim)
    return out[0] if unbatched else np.ascontiguousarray(out)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """torch.nn.functional.conv_transpose1d on (C_in, L) or (N, C_in, L); weight (C_in, C_out/groups, k)."""
    return _conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """torch.nn.functional.conv_transpose2d on (C_in, H, W) or (N, C_in, H, W); weight (C_in, C_out/groups, kh, kw)."""
    return _conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)
