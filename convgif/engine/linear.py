"""torch.nn.functional.linear in float64 NumPy: y = x Wᵀ + b over the last dimension."""

from __future__ import annotations

from typing import Any

import numpy as np

from convgif.errors import GeometryError


def linear(input: Any, weight: Any, bias: Any = None) -> np.ndarray:
    """torch.nn.functional.linear: `input` (..., in_features), `weight` (out_features, in_features), `bias`
    (out_features,) or None -> (..., out_features)."""
    x = np.asarray(input, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)
    if w.ndim != 2:
        raise GeometryError("weight", f"must be 2D (out_features, in_features), got shape {tuple(w.shape)}")
    if x.ndim < 1 or x.shape[-1] != w.shape[1]:
        raise GeometryError("input", f"has {x.shape[-1] if x.ndim else 0} features on its last dimension, the "
                            f"weight {tuple(w.shape)} expects {w.shape[1]}")
    out = x @ w.T
    if bias is not None:
        b = np.asarray(bias, dtype=np.float64)
        if b.shape != (w.shape[0],):
            raise GeometryError("bias", f"must have shape ({w.shape[0]},), got {tuple(b.shape)}")
        out = out + b
    return out
