"""Normalising torch-style arguments (int | tuple | str) into per-dimension tuples, with torch's checks."""

from __future__ import annotations

from typing import Any

import numpy as np

from convgif.errors import GeometryError

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def as_tuple(value: Any, ndim: int, name: str) -> tuple[int, ...]:
    """An int or a sequence of `ndim` ints, as a tuple of ints (bools and floats are refused, as torch does)."""
    if isinstance(value, (bool, np.bool_)):
        raise GeometryError(name, f"must be an int or a tuple of {ndim} ints, got {value!r}")
    if isinstance(value, (int, np.integer)):
        return (int(value),) * ndim
    if isinstance(value, (tuple, list)):
        if len(value) == 1 and ndim > 1:
            value = tuple(value) * ndim
        if len(value) != ndim or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in value
        ):
            raise GeometryError(name, f"must be an int or a tuple of {ndim} ints, got {value!r}")
        return tuple(int(v) for v in value)
    raise GeometryError(name, f"must be an int or a tuple of {ndim} ints, got {value!r}")


def positive(values: tuple[int, ...], name: str) -> tuple[int, ...]:
    if any(v <= 0 for v in values):
        raise GeometryError(name, f"must be positive, got {_show(values)}")
    return values


def non_negative(values: tuple[int, ...], name: str) -> tuple[int, ...]:
    if any(v < 0 for v in values):
        raise GeometryError(name, f"must not be negative, got {_show(values)}")
    return values


def _show(values: tuple[int, ...]) -> str:
    return str(values[0]) if len(values) == 1 else str(tuple(values))


def resolve_conv_padding(
    padding: Any, ndim: int, kernel_size: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]
) -> tuple[tuple[int, int], ...]:
    """Explicit (before, after) pads per spatial dimension, torch rules for 'same' and 'valid'.

    Also accepts explicit asymmetric pairs: ((top, bottom), (left, right)) for 2D, ((left, right),) or
    (left, right) pairs for 1D when given as a list of pairs.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * ndim
        if padding == "same":
            if any(s != 1 for s in stride):
                raise GeometryError(
                    "padding", "padding='same' is not supported for strided convolutions (stride must be 1)"
                )
            pads = []
            for k, d in zip(kernel_size, dilation):
                total = d * (k - 1)
                pads.append((total // 2, total - total // 2))  # torch puts the odd extra cell after
            return tuple(pads)
        raise GeometryError("padding", f"must be an int, a tuple, 'same' or 'valid', got {padding!r}")
    if isinstance(padding, (tuple, list)) and padding and all(isinstance(p, (tuple, list)) for p in padding):
        if len(padding) != ndim or not all(len(p) == 2 for p in padding):
            raise GeometryError(
                "padding", f"explicit pads must be {ndim} (before, after) pair(s), got {padding!r}"
            )
        pairs = tuple((as_tuple(p[0], 1, "padding")[0], as_tuple(p[1], 1, "padding")[0]) for p in padding)
        non_negative(tuple(v for pair in pairs for v in pair), "padding")
        return pairs
    sym = non_negative(as_tuple(padding, ndim, "padding"), "padding")
    return tuple((p, p) for p in sym)


def pad_array(x: np.ndarray, pads: tuple[tuple[int, int], ...], mode: str = "zeros") -> np.ndarray:
    """Pad the trailing len(pads) axes of `x` as torch's padding modes do."""
    if mode not in PADDING_MODES:
        raise GeometryError("padding_mode", f"must be one of {', '.join(PADDING_MODES)}, got {mode!r}")
    full = [(0, 0)] * (x.ndim - len(pads)) + [tuple(p) for p in pads]
    if not any(b or a for b, a in pads):
        return x
    np_mode = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    return np.pad(x, full, mode=np_mode)


def spatial_ndim_of(x: np.ndarray, ndim: int, name: str = "input") -> tuple[np.ndarray, bool]:
    """Return x batched (N, C, *S) and whether it was unbatched."""
    if x.ndim == ndim + 1:
        return x[None], True
    if x.ndim == ndim + 2:
        return x, False
    raise GeometryError(
        name,
        f"expected a {ndim + 1}D (unbatched) or {ndim + 2}D (batched) array, got {x.ndim}D with shape {tuple(x.shape)}",
    )
