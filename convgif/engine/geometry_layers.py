"""Shapes and costs of the layers a chain puts between convolutions: relu, flatten, linear, upsample.

Their input may be any unbatched shape (C, L), (C, H, W) or a vector (F,) after a flatten; torch's dimension
numbers (`start_dim`, `end_dim`) count the batch dimension, as nn.Flatten does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from convgif.engine.activation import _wrap_dim
from convgif.engine.geometry import Geometry, ResampleGeometry, interpolate_geometry
from convgif.errors import GeometryError

LAYER_KINDS = ("relu", "flatten", "linear", "upsample")


@dataclass(frozen=True, slots=True)
class LayerGeometry(Geometry):
    """A `Geometry` for a layer without a window: no kernel, stride, padding or dilation (all empty)."""

    operations: int = 0  # multiply-adds: linear's, an interpolating upsample's blends; relu and flatten have none
    resample: ResampleGeometry | None = None  # upsample: the engine's interpolate geometry
    start_dim: int = 1  # flatten (batched numbering)
    end_dim: int = -1

    @property
    def ndim(self) -> int:
        """Spatial dimensions of the input: 0 for a vector."""
        return len(self.input_shape) - 1

    @property
    def macs(self) -> int:
        return self.operations


def _shape(input_shape: Any) -> tuple[int, ...]:
    shape = tuple(input_shape)
    if not 1 <= len(shape) <= 3 or not all(isinstance(n, int) and n > 0 for n in shape):
        raise GeometryError("input_shape", f"must be (F,), (C, L) or (C, H, W) with positive sizes, got {shape}")
    return shape


def _layer(kind: str, shape: tuple[int, ...], out: tuple[int, ...], **extra) -> LayerGeometry:
    return LayerGeometry(kind=kind, input_shape=shape, output_shape=out, kernel_size=(), stride=(), padding=(),
                         dilation=(), **extra)


def relu_geometry(input_shape: Any) -> LayerGeometry:
    shape = _shape(input_shape)
    return _layer("relu", shape, shape)  # comparisons, no multiply-adds


def flatten_geometry(input_shape: Any, start_dim: int = 1, end_dim: int = -1) -> LayerGeometry:
    """torch.flatten(x, start_dim, end_dim) on the batched (1, *input_shape) tensor, as nn.Flatten: dimension 0
    is the batch and stays."""
    shape = _shape(input_shape)
    batched = (1, *shape)
    start, end = _wrap_dim(start_dim, len(batched), "start_dim"), _wrap_dim(end_dim, len(batched), "end_dim")
    if start == 0:
        raise GeometryError("start_dim", "0 would merge the batch dimension (use 1, as nn.Flatten does)")
    if start > end:
        raise GeometryError("start_dim", f"{start_dim} comes after end_dim = {end_dim} (start_dim <= end_dim)")
    merged = math.prod(batched[start:end + 1])
    out = batched[1:start] + (merged,) + batched[end + 1:]
    names = "×".join(str(n) for n in batched[start:end + 1])
    return _layer("flatten", shape, out, start_dim=start, end_dim=end,
                  formulas=(f"features: {names} = {merged}",) if end > start else ())


def linear_geometry(input_shape: Any, out_features: int, bias: bool = True,
                    in_features: int | None = None) -> LayerGeometry:
    """nn.Linear(in_features, out_features, bias) on the last dimension of `input_shape`."""
    shape = _shape(input_shape)
    if out_features is None:
        raise GeometryError("out_features", "is required for linear (the number of output features)")
    if isinstance(out_features, bool) or not isinstance(out_features, int) or out_features < 1:
        raise GeometryError("out_features", f"must be a positive integer, got {out_features!r}")
    if in_features is not None and in_features != shape[-1]:
        raise GeometryError("in_features", f"is {in_features}, but the input has {shape[-1]} features on its last "
                            f"dimension (shape {shape})")
    features = shape[-1]
    out = (*shape[:-1], out_features)
    return _layer("linear", shape, out, weight_shape=(out_features, features),
                  bias_shape=(out_features,) if bias else (),
                  operations=math.prod(shape[:-1]) * out_features * features,
                  formulas=(f"features: {features} \u2192 {out_features}",))


def upsample_geometry(input_shape: Any, size: Any = None, scale_factor: Any = None,
                      mode: str = "nearest") -> LayerGeometry:
    """nn.Upsample(size, scale_factor, mode): the engine's interpolate on (C, L) or (C, H, W)."""
    shape = _shape(input_shape)
    if len(shape) == 1:
        raise GeometryError("input_shape", f"upsample needs a (C, L) or (C, H, W) input, got {shape}")
    resample = interpolate_geometry(shape, size, scale_factor, mode)
    return _layer("upsample", shape, resample.output_shape, resample=resample,
                  # a blend of 2 (linear) or 4 (bilinear) inputs per output; nearest copies
                  operations=0 if mode == "nearest" else math.prod(resample.output_shape) * 2 ** (len(shape) - 1),
                  formulas=resample.formulas)
