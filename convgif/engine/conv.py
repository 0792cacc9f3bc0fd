"""conv1d / conv2d as torch.nn.functional has them (plus `padding_mode`), in float64 NumPy."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from convgif.engine._args import pad_array, spatial_ndim_of
from convgif.engine.geometry import Geometry, conv_geometry
from convgif.errors import GeometryError


def _check_weight(weight: np.ndarray, ndim: int, in_channels: int, groups: int) -> None:
    if weight.ndim != ndim + 2:
        raise GeometryError("weight", f"expected {ndim + 2} dimensions (C_out, C_in/groups, *k), got {weight.shape}")
    if weight.shape[1] * groups != in_channels:
        raise GeometryError(
            "weight",
            f"shape {tuple(weight.shape)} expects {weight.shape[1] * groups} input channels "
            f"(C_in/groups = {weight.shape[1]}, groups = {groups}), input has {in_channels}",
        )


def _check_bias(bias: np.ndarray | None, out_channels: int) -> np.ndarray | None:
    if bias is None:
        return None
    bias = np.asarray(bias, dtype=np.float64)
    if bias.shape != (out_channels,):
        raise GeometryError("bias", f"expected shape ({out_channels},), got {bias.shape}")
    return bias


# conv_geometry names its own arguments; a conv call has `input` and `weight` instead.
_CALL_ARGUMENT = {"input_shape": "input", "out_channels": "weight", "kernel_size": "weight"}


def conv_setup(
    input: Any, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any, groups: int,
    padding_mode: str, ndim: int,
) -> tuple[np.ndarray, bool, np.ndarray, np.ndarray | None, Geometry]:
    """Validate and normalise a conv call: (batched x, was_unbatched, weight, bias, geometry)."""
    x, unbatched = spatial_ndim_of(np.asarray(input, dtype=np.float64), ndim)
    weight = np.asarray(weight, dtype=np.float64)
    if weight.ndim != ndim + 2:
        raise GeometryError("weight", f"expected {ndim + 2} dimensions (C_out, C_in/groups, *k), got {weight.shape}")
    # An empty batch is fine (torch returns an empty output); empty channels or grids are not.
    # torch does accept 0 input channels, returning zeros: we refuse that on purpose, nothing to show.
    if any(n <= 0 for n in x.shape[1:]):
        raise GeometryError("input", f"channel and spatial sizes must be positive, got shape {tuple(x.shape)}")
    if weight.shape[0] <= 0 or any(k <= 0 for k in weight.shape[2:]):
        raise GeometryError(
            "weight", f"C_out and kernel sizes must be positive, got shape {tuple(weight.shape)}"
        )
    if isinstance(groups, (bool, np.bool_)) or not isinstance(groups, (int, np.integer)) or groups <= 0:
        raise GeometryError("groups", f"must be a positive integer, got {groups!r}")
    groups = int(groups)
    in_channels, out_channels = x.shape[1], weight.shape[0]
    if in_channels % groups:
        raise GeometryError("groups", f"{groups} does not divide the input's {in_channels} channels")
    if out_channels % groups:
        raise GeometryError("groups", f"{groups} does not divide the weight's {out_channels} output channels")
    _check_weight(weight, ndim, in_channels, groups)
    try:
        geometry = conv_geometry(
            tuple(int(n) for n in x.shape[1:]), int(out_channels), tuple(int(k) for k in weight.shape[2:]),
            stride, padding, dilation, groups, bias is not None, padding_mode,
            kind=f"conv{ndim}d",
        )
    except GeometryError as error:
        if error.argument not in _CALL_ARGUMENT:
            raise
        raise GeometryError(_CALL_ARGUMENT[error.argument], error.message) from error
    return x, unbatched, weight, _check_bias(bias, out_channels), geometry


def windows(padded: np.ndarray, geometry: Geometry) -> np.ndarray:
    """(N, C, *out, *k) view of the input values under every tap of every window."""
    ndim = geometry.ndim
    axes = tuple(range(2, 2 + ndim))
    view = sliding_window_view(padded, geometry.effective_kernel_size, axis=axes)
    index = (slice(None), slice(None))
    index += tuple(slice(None, None, s) for s in geometry.stride)
    index += tuple(slice(None, None, d) for d in geometry.dilation)
    view = view[index]
    out_spatial = geometry.output_shape[1:]
    return view[(slice(None), slice(None)) + tuple(slice(0, o) for o in out_spatial)]


def _conv_nd(input, weight, bias, stride, padding, dilation, groups, padding_mode, ndim):
    x, unbatched, weight, bias, geometry = conv_setup(
        input, weight, bias, stride, padding, dilation, groups, padding_mode, ndim
    )
    padded = pad_array(x, geometry.padding, geometry.padding_mode)
    view = windows(padded, geometry)  # (N, C, *O, *K)
    n, c = view.shape[:2]
    g = geometry.groups
    out_spatial = view.shape[2 : 2 + ndim]
    k = view.shape[2 + ndim :]
    grouped = view.reshape(n, g, c // g, *out_spatial, *k)
    w = weight.reshape(g, weight.shape[0] // g, c // g, *k)
    letters_o = "xyz"[:ndim]
    letters_k = "uvw"[:ndim]
    spec = f"ngc{letters_o}{letters_k},goc{letters_k}->ngo{letters_o}"
    out = np.einsum(spec, grouped, w, optimize=True).reshape(n, weight.shape[0], *out_spatial)
    if bias is not None:
        out = out + bias.reshape((1, -1) + (1,) * ndim)
    return out[0] if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, padding_mode="zeros"):
    """torch.nn.functional.conv1d on (C, L) or (N, C, L) arrays."""
    return _conv_nd(input, weight, bias, stride, padding, dilation, groups, padding_mode, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, padding_mode="zeros"):
    """torch.nn.functional.conv2d on (C, H, W) or (N, C, H, W) arrays.

    `padding` also takes explicit asymmetric pads ((top, bottom), (left, right)); `padding_mode` is
    that of torch.nn.Conv2d (zeros, reflect, replicate, circular).
    """
    return _conv_nd(input, weight, bias, stride, padding, dilation, groups, padding_mode, 2)
