"""max / avg / lp pooling (1D and 2D) as torch.nn.functional has them, in float64 NumPy."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from convgif.engine._args import spatial_ndim_of
from convgif.engine.geometry import Geometry, pool_geometry
from convgif.errors import GeometryError


def pool_setup(
    kind: str, input: Any, kernel_size: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: Any
) -> tuple[np.ndarray, bool, Geometry]:
    """Validate a pooling call: (batched x, was_unbatched, geometry)."""
    ndim = 1 if kind.endswith("1d") else 2
    x, unbatched = spatial_ndim_of(np.asarray(input, dtype=np.float64), ndim)
    if any(n == 0 for n in x.shape[1:]):
        raise GeometryError("input", f"must not have an empty channel or spatial dimension, got {tuple(x.shape)}")
    geometry = pool_geometry(
        kind, tuple(int(n) for n in x.shape[1:]), kernel_size, stride, padding, dilation, ceil_mode
    )
    return x, unbatched, geometry


def window_extent(geometry: Geometry) -> tuple[int, ...]:
    """Cells the windows reach per spatial dim, from the padded grid's start (ceil mode may pass its end)."""
    return tuple(
        (o - 1) * s + d * (k - 1) + 1
        for o, s, d, k in zip(geometry.output_shape[1:], geometry.stride, geometry.dilation, geometry.kernel_size)
    )


def overhang(geometry: Geometry) -> tuple[int, ...]:
    """Cells past the end of the padded input that ceil-mode windows cover, per spatial dim."""
    return tuple(max(0, e - p) for e, p in zip(window_extent(geometry), geometry.padded_input_shape[1:]))


def pad_for_windows(x: np.ndarray, geometry: Geometry, fill: float) -> np.ndarray:
    """x (N, C, *S) padded with `fill` on both sides, plus the ceil-mode overhang at the end (same fill)."""
    pads = [(0, 0), (0, 0)] + [(b, a + extra) for (b, a), extra in zip(geometry.padding, overhang(geometry))]
    if not any(b or a for b, a in pads):
        return x
    return np.pad(x, pads, mode="constant", constant_values=fill)


def pool_windows(grid: np.ndarray, geometry: Geometry) -> np.ndarray:
    """(N, C, *out, *K) view of the values under every tap of every window of `grid` (from pad_for_windows)."""
    ndim = geometry.ndim
    span = tuple(d * (k - 1) + 1 for k, d in zip(geometry.kernel_size, geometry.dilation))
    view = sliding_window_view(grid, span, axis=tuple(range(2, 2 + ndim)))
    index = (slice(None), slice(None))
    index += tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(geometry.output_shape[1:], geometry.stride))
    index += tuple(slice(None, None, d) for d in geometry.dilation)
    return view[index]


def avg_divisors(geometry: Geometry, count_include_pad: bool, divisor_override: Any = None) -> np.ndarray:
    """(*out) divisor of each window, torch's rule: the window clipped to input + padding (count_include_pad)
    or to the input alone; the ceil-mode overhang never counts."""
    if divisor_override is not None:
        return np.full(geometry.output_shape[1:], float(divisor_override))
    per_dim = []
    for n, (p, _), o, s, k in zip(
        geometry.input_shape[1:], geometry.padding, geometry.output_shape[1:], geometry.stride, geometry.kernel_size
    ):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if count_include_pad:
            per_dim.append(end - start)
        else:
            per_dim.append(np.minimum(end, n) - np.maximum(start, 0))
    divisor = per_dim[0].astype(np.float64)
    for sizes in per_dim[1:]:
        divisor = np.multiply.outer(divisor, sizes)
    return divisor


def flat_input_index(tap_flat: np.ndarray, geometry: Geometry) -> np.ndarray:
    """torch's max-pool indices: each selected tap (flat index into the kernel) as h*W + w into its input plane.

    A window whose taps all fall on padding (possible with dilation) gets torch's fallback: the first tap
    position at or after the input's start, stepping by the dilation.
    """
    taps = np.unravel_index(tap_flat, geometry.kernel_size)
    out_shape = geometry.output_shape[1:]
    flat = np.zeros(tap_flat.shape, dtype=np.int64)
    all_padding = np.zeros(out_shape, dtype=bool)
    fallback = np.zeros(out_shape, dtype=np.int64)
    for axis, (t, n, s, d, k, (b, _)) in enumerate(
        zip(taps, geometry.input_shape[1:], geometry.stride, geometry.dilation, geometry.kernel_size, geometry.padding)
    ):
        shape = (-1,) + (1,) * (len(out_shape) - 1 - axis)
        start = (np.arange(out_shape[axis]) * s - b).reshape(shape)
        flat = flat * n + start + t * d  # broadcasts over (N, C, *out)
        first = start + d * np.maximum(0, -(start // d))  # torch: while (start < 0) start += dilation
        fallback = fallback * n + first
        all_padding = all_padding | (first >= np.minimum(start + d * (k - 1) + 1, n))
    return np.where(all_padding, fallback, flat)


def _check_divisor_override(divisor_override: Any) -> None:
    if divisor_override is None:
        return
    if isinstance(divisor_override, bool) or not isinstance(divisor_override, numbers.Integral):
        raise GeometryError("divisor_override", f"must be an int or None, got {divisor_override!r}")
    if divisor_override == 0:
        raise GeometryError("divisor_override", "must not be zero")


def _max_pool(kind, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x, unbatched, geometry = pool_setup(kind, input, kernel_size, stride, padding, dilation, ceil_mode)
    view = pool_windows(pad_for_windows(x, geometry, -np.inf), geometry)
    taps = view.reshape(*view.shape[: 2 + geometry.ndim], -1)
    out = taps.max(axis=-1)
    if not return_indices:
        return out[0] if unbatched else out
    selected = taps.argmax(axis=-1)  # the first maximum, as torch's strict `>` scan
    indices = flat_input_index(selected, geometry)
    return (out[0], indices[0]) if unbatched else (out, indices)


def _avg_pool(kind, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    _check_divisor_override(divisor_override)
    x, unbatched, geometry = pool_setup(kind, input, kernel_size, stride, padding, 1, ceil_mode)
    view = pool_windows(pad_for_windows(x, geometry, 0.0), geometry)
    sums = view.sum(axis=tuple(range(-geometry.ndim, 0)))
    out = sums / avg_divisors(geometry, bool(count_include_pad), divisor_override)
    return out[0] if unbatched else out


def check_norm_type(norm_type: Any) -> float:
    """lp pooling's p as a float (torch computes x**p and a 1/p power, so 0 and NaN are refused)."""
    if isinstance(norm_type, bool) or not isinstance(norm_type, numbers.Real):
        raise GeometryError("norm_type", f"must be a number, got {norm_type!r}")
    if norm_type == 0 or math.isnan(norm_type):
        raise GeometryError("norm_type", f"must not be zero or NaN (the result is a 1/norm_type power), got {norm_type!r}")
    return float(norm_type)


def check_lp_kernel(kind: str, kernel_size: Any) -> None:
    """torch multiplies by the kernel_size argument itself: lp_pool1d needs an int, lp_pool2d an int or a pair."""
    if isinstance(kernel_size, (tuple, list)) and (kind.endswith("1d") or len(kernel_size) != 2):
        want = "an int" if kind.endswith("1d") else "an int or a pair of ints"
        raise GeometryError("kernel_size", f"{kind} (with a finite norm_type) takes {want}, got {kernel_size!r}")


def _lp_pool(kind, input, norm_type, kernel_size, stride, ceil_mode):
    p = check_norm_type(norm_type)
    x = np.asarray(input, dtype=np.float64)
    max_kind = kind.replace("lp", "max")
    if p == math.inf:  # torch: the max of |x|
        return _max_pool(max_kind, np.abs(x), kernel_size, stride, 0, 1, ceil_mode, False)
    if p == -math.inf:  # torch: the min of |x|
        return -_max_pool(max_kind, -np.abs(x), kernel_size, stride, 0, 1, ceil_mode, False)
    check_lp_kernel(kind, kernel_size)
    kernel_cells = math.prod(pool_setup(kind, x, kernel_size, stride, 0, 1, ceil_mode)[2].kernel_size)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        powered = np.power(x, p)
        # torch: avg_pool(x**p) * prod(kernel) — so a clipped ceil-mode window is scaled up, not a plain sum
        mean = _avg_pool(kind.replace("lp", "avg"), powered, kernel_size, stride, 0, ceil_mode, True, None)
        return np.power(np.sign(mean) * np.maximum(np.abs(mean), 0.0) * kernel_cells, 1.0 / p)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """torch.nn.functional.max_pool1d on (C, L) or (N, C, L); indices index each input row."""
    return _max_pool("max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """torch.nn.functional.max_pool2d on (C, H, W) or (N, C, H, W); indices are h*W + w into each input plane."""
    return _max_pool("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """torch.nn.functional.avg_pool1d on (C, L) or (N, C, L)."""
    return _avg_pool("avg_pool1d", input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(
    input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None
):
    """torch.nn.functional.avg_pool2d on (C, H, W) or (N, C, H, W)."""
    return _avg_pool("avg_pool2d", input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """torch.nn.functional.lp_pool1d: (kernel_size * avg_pool1d(x**p)) ** (1/p), with torch's ceil-mode scaling."""
    return _lp_pool("lp_pool1d", input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """torch.nn.functional.lp_pool2d: (kh*kw * avg_pool2d(x**p)) ** (1/p), with torch's ceil-mode scaling."""
    return _lp_pool("lp_pool2d", input, norm_type, kernel_size, stride, ceil_mode)
