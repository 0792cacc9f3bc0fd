"""interpolate (nearest 1D/2D, linear 1D, bilinear 2D) as torch.nn.functional has it, in float64 NumPy.

Like torch, the input is batched: (N, C, L) or (N, C, H, W).
"""

from __future__ import annotations

import numpy as np

from convgif.engine.geometry import INTERPOLATE_MODES, ResampleGeometry, interpolate_geometry
from convgif.errors import GeometryError


def _floor_as_torch(real: np.ndarray) -> np.ndarray:
    # torch's CPU kernels call floorf() on the double source index: it is rounded to float32 first,
    # which moves an index like 8.9999997 up to 9. Mirroring it keeps us index-exact with torch.
    return np.floor(real.astype(np.float32)).astype(np.int64)


def nearest_source_index(geometry: ResampleGeometry, axis: int) -> np.ndarray:
    """(out,) the input index each output cell copies on spatial `axis` (torch's `nearest` rule)."""
    n, o = geometry.input_shape[1 + axis], geometry.output_shape[1 + axis]
    if geometry.ndim == 2 and o in (n, 2 * n):
        # torch's 2D kernel (nearest_idx) special-cases these sizes, whatever the scale factor
        return np.arange(o) if o == n else np.arange(o) // 2
    scale = geometry.source_scales[axis]
    if geometry.ndim == 1:  # double product, floorf (float32) floor
        index = _floor_as_torch(np.arange(o) * scale)
    else:  # float32 scale and product, as nearest_neighbor_compute_source_index
        index = np.floor(np.arange(o, dtype=np.float32) * np.float32(scale)).astype(np.int64)
    return np.minimum(index, n - 1)


def linear_source_weights(geometry: ResampleGeometry, axis: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(index0, index1, lambda1) per output cell on spatial `axis`: out = (1 - l1)*x[i0] + l1*x[i1]."""
    n, o = geometry.input_shape[1 + axis], geometry.output_shape[1 + axis]
    if n == o:  # torch copies when the sizes match, whatever the scale factor
        same = np.arange(o)
        return same, same, np.zeros(o)
    scale = geometry.source_scales[axis]
    dst = np.arange(o, dtype=np.float64)
    if geometry.align_corners:
        real = scale * dst
    else:
        real = np.maximum(scale * (dst + 0.5) - 0.5, 0.0)  # half-pixel centres, clamped at the left edge
    index0 = np.minimum(_floor_as_torch(real), n - 1)
    lambda1 = np.clip(real - index0, 0.0, 1.0)
    index1 = index0 + (index0 < n - 1)
    return index0, index1, lambda1


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
    """torch.nn.functional.interpolate for modes nearest (3D/4D input), linear (3D) and bilinear (4D)."""
    x = np.asarray(input, dtype=np.float64)
    if x.ndim not in (3, 4):
        raise GeometryError(
            "input", f"must be batched: (N, C, L) or (N, C, H, W), got {x.ndim}D with shape {tuple(x.shape)}"
        )
    if mode not in INTERPOLATE_MODES:
        raise GeometryError("mode", f"must be one of {', '.join(INTERPOLATE_MODES)}, got {mode!r}")
    if any(n == 0 for n in x.shape[1:]):
        raise GeometryError("input", f"must not have an empty channel or spatial dimension, got {tuple(x.shape)}")
    geometry = interpolate_geometry(
        tuple(int(n) for n in x.shape[1:]), size, scale_factor, mode, align_corners, recompute_scale_factor
    )
    return resample(x, geometry)


def resample(x: np.ndarray, geometry: ResampleGeometry) -> np.ndarray:
    """Apply a validated interpolate geometry to a batched array, one spatial axis at a time."""
    out = x
    for axis in range(geometry.ndim):
        array_axis = 2 + axis
        if geometry.mode == "nearest":
            out = np.take(out, nearest_source_index(geometry, axis), axis=array_axis)
        else:
            index0, index1, lambda1 = linear_source_weights(geometry, axis)
            shape = [1] * out.ndim
            shape[array_axis] = -1
            lambda1 = lambda1.reshape(shape)
            out = (1.0 - lambda1) * np.take(out, index0, axis=array_axis) + lambda1 * np.take(
                out, index1, axis=array_axis
            )
    return out

