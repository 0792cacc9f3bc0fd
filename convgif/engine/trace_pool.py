"""Per-step traces of max / avg / lp pooling: one `PoolStep` per output element, produced lazily."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from convgif.engine.geometry import POOL_KINDS, Geometry
from convgif.engine.pool import (
    _check_divisor_override,
    avg_divisors,
    check_lp_kernel,
    check_norm_type,
    max_pool1d,
    max_pool2d,
    avg_pool1d,
    avg_pool2d,
    lp_pool1d,
    lp_pool2d,
    pool_setup,
)
from convgif.engine.trace import frozen
from convgif.errors import GeometryError

_POOL_FUNCTIONS = {
    "max_pool1d": max_pool1d, "max_pool2d": max_pool2d, "avg_pool1d": avg_pool1d, "avg_pool2d": avg_pool2d,
    "lp_pool1d": lp_pool1d, "lp_pool2d": lp_pool2d,
}


@dataclass(frozen=True, slots=True)
class PoolStep:
    """Everything about one output element of a pooling.

    Coordinates are per spatial dim; "padded" coordinates index `padded_input`. Taps past the end of the
    padded input (ceil-mode windows that hang over) are flagged in `overhang_mask` and hold the pad value.
    """

    index: int
    batch: int
    channel: int
    position: tuple[int, ...]  # output spatial index
    window_origin: tuple[int, ...]  # padded coordinates of the first tap
    tap_coords: np.ndarray  # (*K, ndim) padded coordinates (dilation applied)
    input_coords: np.ndarray  # (*K, ndim) unpadded coordinates (may lie outside the input)
    padding_mask: np.ndarray  # (*K,) True where the tap is on padding (inside the padded grid)
    overhang_mask: np.ndarray  # (*K,) True where the tap is past the end of the padded grid (ceil_mode)
    tap_values: np.ndarray  # (*K,) values under the taps (-inf / 0 on padding and overhang)
    selected: int | None  # max pool: flat tap index of the (first) maximum; None for avg / lp
    divisor: float | None  # avg pool: what the window sum is divided by; lp: the in-input tap count
    norm_type: float | None  # lp pool's p
    value: float  # the output value at this index

    @property
    def output_index(self) -> tuple[int, ...]:
        return (self.batch, self.channel, *self.position)


@dataclass(frozen=True, slots=True)
class PoolTrace:
    """A pooling and its steps. Arrays are batched (N, C, ...) and read-only."""

    kind: str
    geometry: Geometry
    input: np.ndarray  # (N, C, *S)
    padded_input: np.ndarray  # (N, C, *P) padded with -inf (max) or 0 (avg, lp)
    padding_cells: np.ndarray  # (*P,) True where a padded-grid cell is padding
    count_include_pad: bool = True
    divisor_override: int | None = None
    norm_type: float | None = None

    @property
    def batch_size(self) -> int:
        return self.input.shape[0]

    @property
    def pad_value(self) -> float:
        return -math.inf if self.kind.startswith("max") else 0.0

    def __len__(self) -> int:
        return self.batch_size * math.prod(self.geometry.output_shape)

    def output(self) -> np.ndarray:
        """The whole output (N, C, *O) from the engine's pooling (not from the steps)."""
        g = self.geometry
        fn = _POOL_FUNCTIONS[self.kind]
        if self.kind.startswith("max"):
            return fn(self.input, g.kernel_size, g.stride, tuple(p for p, _ in g.padding), g.dilation, g.ceil_mode)
        if self.kind.startswith("avg"):
            extra = (self.divisor_override,) if self.kind == "avg_pool2d" else ()
            return fn(self.input, g.kernel_size, g.stride, tuple(p for p, _ in g.padding), g.ceil_mode,
                      self.count_include_pad, *extra)
        kernel = g.kernel_size[0] if g.ndim == 1 else g.kernel_size
        return fn(self.input, self.norm_type, kernel, g.stride, g.ceil_mode)

    def steps(self, indices: Iterable[int] | None = None) -> Iterator[PoolStep]:
        """Steps in raster order, or only those at `indices` (in the order given)."""
        for index in range(len(self)) if indices is None else indices:
            yield self.step(index)

    def __iter__(self) -> Iterator[PoolStep]:
        return self.steps()

    def step(self, index: int) -> PoolStep:
        g = self.geometry
        if not 0 <= index < len(self):
            raise IndexError(f"step {index} out of range 0..{len(self) - 1}")
        batch, channel, *position = (int(v) for v in np.unravel_index(index, (self.batch_size, *g.output_shape)))
        position = tuple(position)
        origin = tuple(p * s for p, s in zip(position, g.stride))
        tap_grid = np.stack(
            np.meshgrid(*[o + d * np.arange(k) for o, d, k in zip(origin, g.dilation, g.kernel_size)], indexing="ij"),
            axis=-1,
        )  # (*K, ndim)
        before = np.array([b for b, _ in g.padding])
        input_coords = tap_grid - before
        inside_input = np.all((input_coords >= 0) & (input_coords < np.array(g.input_shape[1:])), axis=-1)
        inside_padded = np.all(tap_grid < np.array(g.padded_input_shape[1:]), axis=-1)
        plane = self.padded_input[batch, channel]
        clipped = np.minimum(tap_grid, np.array(g.padded_input_shape[1:]) - 1)
        tap_values = np.where(
            inside_padded, plane[tuple(clipped[..., i] for i in range(g.ndim))], self.pad_value
        )
        selected = divisor = None
        if self.kind.startswith("max"):
            selected = int(np.argmax(tap_values))  # the first maximum, as torch's strict `>` scan
            value = float(tap_values.flat[selected])
        elif self.kind.startswith("avg"):
            divisor = float(avg_divisors(g, self.count_include_pad, self.divisor_override)[position])
            value = float(tap_values.sum() / divisor)
        else:
            value, divisor = self._lp_value(tap_values, inside_input, position)
        return PoolStep(
            index=index,
            batch=batch,
            channel=channel,
            position=position,
            window_origin=origin,
            tap_coords=frozen(tap_grid),
            input_coords=frozen(input_coords),
            padding_mask=frozen(inside_padded & ~inside_input),
            overhang_mask=frozen(~inside_padded),
            tap_values=frozen(tap_values),
            selected=selected,
            divisor=divisor,
            norm_type=self.norm_type,
            value=value,
        )

    def _lp_value(self, tap_values: np.ndarray, inside_input: np.ndarray, position: tuple[int, ...]):
        p = self.norm_type
        taps = tap_values[inside_input]
        if p == math.inf:
            return float(np.abs(taps).max()), None
        if p == -math.inf:
            return float(np.abs(taps).min()), None
        # torch: avg_pool(x**p) (window clipped to the input) * kernel cells, then ** (1/p)
        count = float(avg_divisors(self.geometry, True)[position])
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            mean = np.power(taps, p).sum() / count
            scaled = np.sign(mean) * max(abs(mean), 0.0) * math.prod(self.geometry.kernel_size)
            return float(np.power(scaled, 1.0 / p)), count


def pool_trace(
    kind, input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, count_include_pad=True,
    norm_type=2.0, *, divisor_override=None,
):
    """The trace of a pooling `kind` (max_pool1d/2d, avg_pool1d/2d, lp_pool1d/2d) with torch's arguments.

    Arguments a kind does not have (dilation for avg/lp, padding for lp) must keep their defaults.
    """
    if kind not in POOL_KINDS:
        raise GeometryError("kind", f"must be one of {', '.join(POOL_KINDS)}, got {kind!r}")
    norm = None
    if kind.startswith("lp"):
        norm = check_norm_type(norm_type)
        if math.isfinite(norm):
            check_lp_kernel(kind, kernel_size)
    if kind.startswith("avg"):
        _check_divisor_override(divisor_override)
        if divisor_override is not None and kind != "avg_pool2d":
            raise GeometryError("divisor_override", f"{kind} has no divisor_override")
    x, _, geometry = pool_setup(kind, input, kernel_size, stride, padding, dilation, ceil_mode)
    fill = -np.inf if kind.startswith("max") else 0.0
    pads = [(0, 0), (0, 0)] + [tuple(p) for p in geometry.padding]
    padded = np.pad(x, pads, mode="constant", constant_values=fill)
    padding_cells = np.ones(geometry.padded_input_shape[1:], dtype=bool)
    padding_cells[tuple(slice(b, b + n) for (b, _), n in zip(geometry.padding, geometry.input_shape[1:]))] = False
    return PoolTrace(
        kind=kind,
        geometry=geometry,
        input=frozen(x),
        padded_input=frozen(padded),
        padding_cells=frozen(padding_cells),
        count_include_pad=bool(count_include_pad),
        divisor_override=divisor_override,
        norm_type=norm,
    )
