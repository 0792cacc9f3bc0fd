"""Elementwise ReLU and torch.flatten, the two steps between a conv stack and a dense layer."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from convgif.errors import GeometryError


def relu(input: Any) -> np.ndarray:
    """torch.nn.functional.relu: max(x, 0) elementwise (NaN stays NaN), any shape."""
    return np.maximum(np.asarray(input, dtype=np.float64), 0.0)


def _wrap_dim(dim: Any, ndim: int, name: str) -> int:
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise GeometryError(name, f"must be an int, got {dim!r}")
    rank = max(ndim, 1)  # torch treats a 0-d tensor as having one dimension here
    if not -rank <= dim < rank:
        raise GeometryError(name, f"{dim} is out of range for a {ndim}-dimensional input (expected {-rank}..{rank - 1})")
    return int(dim) % rank


def flatten(input: Any, start_dim: int = 0, end_dim: int = -1) -> np.ndarray:
    """torch.flatten: merge dimensions start_dim..end_dim (inclusive) into one."""
    x = np.asarray(input, dtype=np.float64)
    start = _wrap_dim(start_dim, x.ndim, "start_dim")
    end = _wrap_dim(end_dim, x.ndim, "end_dim")
    if start > end:
        raise GeometryError("start_dim", f"{start_dim} comes after end_dim={end_dim} (start_dim <= end_dim)")
    if x.ndim == 0:
        return x.reshape(1)
    merged = math.prod(x.shape[start : end + 1])
    return x.reshape(x.shape[:start] + (merged,) + x.shape[end + 1 :])
