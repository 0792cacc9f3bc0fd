"""Per-step traces of the layers without a window (relu, flatten, linear, upsample): one `MapStep` per output
element, saying which input elements it reads, with which coefficients, and the value the engine computed."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from convgif.engine.activation import flatten, relu
from convgif.engine.geometry_layers import LayerGeometry
from convgif.engine.linear import linear
from convgif.engine.resample import linear_source_weights, nearest_source_index, resample
from convgif.engine.trace import frozen


@dataclass(frozen=True, slots=True)
class MapStep:
    """One output element of a windowless layer. Indices are unbatched (into input_shape / output_shape)."""

    index: int
    batch: int
    position: tuple[int, ...]  # the output element
    sources: tuple[tuple[int, ...], ...]  # the input elements it reads
    source_values: tuple[float, ...]
    coefficients: tuple[float, ...] | None  # linear: the weight row; upsample: the blend weights; else None
    bias: float | None
    value: float


@dataclass(frozen=True, slots=True)
class MapTrace:
    """A relu / flatten / linear / upsample and its steps. Arrays are batched (N, ...) and read-only."""

    kind: str
    geometry: LayerGeometry
    input: np.ndarray
    output_array: np.ndarray  # computed by the engine function (not from the steps)
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None

    @property
    def batch_size(self) -> int:
        return self.input.shape[0]

    def __len__(self) -> int:
        return self.batch_size * math.prod(self.geometry.output_shape)

    def output(self) -> np.ndarray:
        return np.array(self.output_array)

    def __iter__(self) -> Iterator[MapStep]:
        return (self.step(i) for i in range(len(self)))

    def step(self, index: int) -> MapStep:
        if not 0 <= index < len(self):
            raise IndexError(f"step {index} out of range 0..{len(self) - 1}")
        g = self.geometry
        batch, *position = (int(v) for v in np.unravel_index(index, (self.batch_size, *g.output_shape)))
        position = tuple(position)
        sources, coefficients, bias = self._sources(position)
        values = tuple(float(self.input[(batch, *s)]) for s in sources)
        return MapStep(index=index, batch=batch, position=position, sources=sources, source_values=values,
                       coefficients=coefficients, bias=bias, value=float(self.output_array[(batch, *position)]))

    def _sources(self, position: tuple[int, ...]):
        g = self.geometry
        if self.kind == "relu":
            return (position,), None, None
        if self.kind == "flatten":
            # the merged dimension counts the input's dimensions start..end in row-major order
            start, end = g.start_dim - 1, g.end_dim - 1  # unbatched numbering
            merged = np.unravel_index(position[start], g.input_shape[start:end + 1])
            source = (*position[:start], *(int(v) for v in merged), *position[start + 1:])
            return (source,), None, None
        if self.kind == "linear":
            *lead, o = position
            features = g.input_shape[-1]
            row = tuple(float(w) for w in self.weight[o])
            bias = None if self.bias is None else float(self.bias[o])
            return tuple((*lead, i) for i in range(features)), row, bias
        return self._upsample_sources(position)

    def _upsample_sources(self, position: tuple[int, ...]):
        r = self.geometry.resample
        channel, *cell = position
        per_axis = []
        for axis, o in enumerate(cell):
            if r.mode == "nearest":
                per_axis.append([(int(nearest_source_index(r, axis)[o]), 1.0)])
            else:
                i0, i1, l1 = (array[o] for array in linear_source_weights(r, axis))
                if int(i1) == int(i0):  # the last cell blends with itself
                    pairs = [(int(i0), 1.0)]
                else:
                    pairs = [(int(i0), 1.0 - float(l1)), (int(i1), float(l1))]
                per_axis.append([(i, w) for i, w in pairs if w > 0] or [(int(i0), 1.0)])
        combos = [((), 1.0)]
        for pairs in per_axis:
            combos = [((*idx, i), w * wi) for idx, w in combos for i, wi in pairs]
        sources = tuple((channel, *idx) for idx, _ in combos)
        weights = tuple(w for _, w in combos)
        return sources, (None if r.mode == "nearest" else weights), None


def _batched(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def relu_trace(x, geometry: LayerGeometry) -> MapTrace:
    """`x` batched (N, *input_shape)."""
    x = _batched(x)
    return MapTrace("relu", geometry, frozen(x), frozen(relu(x)))


def flatten_trace(x, geometry: LayerGeometry) -> MapTrace:
    x = _batched(x)
    return MapTrace("flatten", geometry, frozen(x), frozen(flatten(x, geometry.start_dim, geometry.end_dim)))


def linear_trace(x, weight, bias, geometry: LayerGeometry) -> MapTrace:
    x = _batched(x)
    return MapTrace("linear", geometry, frozen(x), frozen(linear(x, weight, bias)), frozen(weight),
                    None if bias is None else frozen(bias))


def upsample_trace(x, geometry: LayerGeometry) -> MapTrace:
    x = _batched(x)
    return MapTrace("upsample", geometry, frozen(x), frozen(resample(x, geometry.resample)))
