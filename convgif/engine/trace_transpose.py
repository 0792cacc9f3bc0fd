"""Two step-by-step views of a transposed convolution, both derived from the engine.

- zero insertion: spread the input with stride-1 zeros, pad by d(k-1)-p (negative crops), add the
  output_padding cells, then run a plain stride-1 convolution with the flipped, in/out-swapped kernel;
- scatter: each input element, in raster order, times its group's kernel slice, added into the output.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from convgif.engine.conv_transpose import (
    _conv_transpose_nd,
    conv_transpose_setup,
    crop_full,
    full_output_shape,
    scatter_full,
)
from convgif.engine.geometry import Geometry
from convgif.engine.trace import ConvStep, ConvTrace, conv_trace, frozen

# cell kinds of the zero-insertion grid
INPUT_VALUE, INSERTED_ZERO, PADDING, OUTPUT_PADDING = 0, 1, 2, 3
CELL_KIND_NAMES = ("input value", "inserted zero", "padding", "output padding")


def _setup(input, weight, bias, stride, padding, output_padding, groups, dilation):
    weight_array = np.asarray(weight, dtype=np.float64)
    ndim = weight_array.ndim - 2
    if ndim not in (1, 2):
        from convgif.errors import GeometryError

        raise GeometryError("weight", f"expected a 3D or 4D weight (C_in, C_out/groups, *k), got shape {weight_array.shape}")
    return conv_transpose_setup(input, weight_array, bias, stride, padding, output_padding, groups, dilation, ndim)


def grid_padding(geometry: Geometry) -> tuple[int, ...]:
    """Cells added on each side of the zero-spread input, per dim: d(k-1) - p (negative: cells cropped)."""
    return tuple(d * (k - 1) - p for d, k, (p, _) in zip(geometry.dilation, geometry.kernel_size, geometry.padding))


def grid_shape(geometry: Geometry) -> tuple[int, ...]:
    """The spatial shape of the zero-inserted, padded grid the flipped kernel steps over, per dim: the spread input
    (n - 1)s + 1, the grid padding on both sides and the output padding after."""
    return tuple((n - 1) * s + 1 + 2 * q + op for n, s, q, op in zip(
        geometry.input_shape[1:], geometry.stride, grid_padding(geometry), geometry.output_padding))


def _axis_kinds(n: int, s: int, q: int, length: int) -> np.ndarray:
    spread = (n - 1) * s + 1
    z = np.arange(length) - q  # index into the zero-spread input
    kinds = np.full(length, PADDING, dtype=np.int8)
    inside = (z >= 0) & (z < spread)
    kinds[inside] = np.where(z[inside] % s == 0, INPUT_VALUE, INSERTED_ZERO)
    past_end = z - spread  # cells after the spread input: first max(q, 0) are padding, the rest output_padding
    kinds[(z >= spread) & (past_end >= max(q, 0))] = OUTPUT_PADDING
    return kinds


def direct_conv_weight(weight: np.ndarray, groups: int) -> np.ndarray:
    """The (C_out, C_in/groups, *k) direct-conv weight equal to a transposed conv's (C_in, C_out/groups, *k):
    in/out swapped within each group and every kernel spatially flipped."""
    c_in, c_out_g = weight.shape[:2]
    k = weight.shape[2:]
    grouped = weight.reshape(groups, c_in // groups, c_out_g, *k)
    swapped = np.swapaxes(grouped, 1, 2).reshape(groups * c_out_g, c_in // groups, *k)
    return np.flip(swapped, axis=tuple(range(2, 2 + len(k))))


@dataclass(frozen=True, slots=True)
class ZeroInsertionTrace:
    """The transposed conv as a direct conv over the zero-inserted, padded grid. Arrays are batched and read-only."""

    geometry: Geometry  # the transposed convolution's
    input: np.ndarray  # (N, C_in, *S)
    weight: np.ndarray  # (C_in, C_out/groups, *K) as torch's
    bias: np.ndarray | None
    grid: np.ndarray  # (N, C_in, *G): the intermediate grid per input channel
    cell_kind: np.ndarray  # (*G) int8, same shape as each channel's grid: INPUT_VALUE .. OUTPUT_PADDING
    grid_padding: tuple[int, ...]  # d(k-1) - p per dim (negative: cropped)
    direct_weight: np.ndarray  # (C_out, C_in/groups, *K): flipped, in/out swapped per group
    direct: ConvTrace  # stride 1, padding 0, same dilation and groups, over `grid`

    def __len__(self) -> int:
        return len(self.direct)

    def step(self, index: int) -> ConvStep:
        return self.direct.step(index)

    def steps(self, indices: Iterable[int] | None = None) -> Iterator[ConvStep]:
        return self.direct.steps(indices)

    def __iter__(self) -> Iterator[ConvStep]:
        return self.direct.steps()

    def output(self) -> np.ndarray:
        """(N, C_out, *O) from the engine's scatter conv_transpose (independent of the grid)."""
        g = self.geometry
        return _conv_transpose_nd(self.input, self.weight, self.bias, g.stride, tuple(p for p, _ in g.padding),
                                  g.output_padding, g.groups, g.dilation, g.ndim)


def zero_insertion_trace(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The zero-insertion view of conv_transpose1d/2d (chosen by the weight's dimensions), torch's arguments."""
    x, _, weight_array, bias_array, geometry = _setup(
        input, weight, bias, stride, padding, output_padding, groups, dilation
    )
    q = grid_padding(geometry)
    spatial = x.shape[2:]
    kinds_per_axis = [
        _axis_kinds(n, s, qq, length) for n, s, qq, length in zip(spatial, geometry.stride, q, grid_shape(geometry))
    ]
    grid = np.zeros(x.shape[:2] + tuple(len(k) for k in kinds_per_axis))
    # input element i sits at grid index i*s + q; those falling outside the grid were cropped
    targets = [np.arange(n) * s + qq for n, s, qq in zip(spatial, geometry.stride, q)]
    keep = [(t >= 0) & (t < len(kinds)) for t, kinds in zip(targets, kinds_per_axis)]
    grid[(slice(None), slice(None)) + np.ix_(*[t[k] for t, k in zip(targets, keep)])] = x[
        (slice(None), slice(None)) + np.ix_(*[np.nonzero(k)[0] for k in keep])
    ]
    cell_kind = kinds_per_axis[0]
    for kinds in kinds_per_axis[1:]:
        cell_kind = np.maximum.outer(cell_kind, kinds)  # output padding > padding > inserted zero > value
    direct_weight = direct_conv_weight(weight_array, geometry.groups)
    direct = conv_trace(grid, direct_weight, bias_array, 1, 0, geometry.dilation, geometry.groups)
    return ZeroInsertionTrace(
        geometry=geometry,
        input=frozen(x),
        weight=frozen(weight_array),
        bias=None if bias_array is None else frozen(bias_array),
        grid=frozen(grid),
        cell_kind=frozen(cell_kind.astype(np.int8)),
        grid_padding=q,
        direct_weight=frozen(direct_weight),
        direct=direct,
    )


@dataclass(frozen=True, slots=True)
class ScatterStep:
    """One input element scattered into the output: its kernel-sized block of products, and the sum so far.

    "Full" coordinates index the uncropped output every element writes into (size (n-1)s + d(k-1) + 1 +
    output_padding per dim); the torch output is full[p : p + out]. `output_coords` are the same taps in
    torch output coordinates (negative or past the end where padding crops them).
    """

    index: int  # raster order over (batch, in_channel, *position)
    batch: int
    in_channel: int
    position: tuple[int, ...]  # input spatial index
    value: float  # the input value
    group: int
    out_channels: tuple[int, ...]  # the output channels this element writes (its group's)
    window_origin: tuple[int, ...]  # full coordinates of the first tap: position * stride
    output_origin: tuple[int, ...]  # the same in output coordinates: position * stride - padding (may be < 0)
    tap_coords: np.ndarray  # (*K, ndim) full coordinates of every tap (dilation applied)
    output_coords: np.ndarray  # (*K, ndim) output coordinates of every tap
    output_mask: np.ndarray  # (*K,) True where the tap lands inside the (cropped) output
    weights: np.ndarray  # (C_out/groups, *K) weight[in_channel]
    products: np.ndarray  # (C_out/groups, *K) value * weights
    running: RunningSum = field(repr=False, compare=False)  # the sums below, computed when first read

    @property
    def accumulated(self) -> np.ndarray:
        """(N, C_out, *F) running sum in full coordinates after this step, no bias."""
        return self.running.full()

    @property
    def accumulated_output(self) -> np.ndarray:
        """(N, C_out, *O) the same cropped to the output, no bias."""
        return self.running.output()


class RunningSum:
    """A scatter step's running sum: given (streaming steps accumulate it anyway), or computed by the engine from
    the elements up to the step when first read (a step taken alone; a view that shows the sums it collected in
    one pass over the steps never reads it, and recomputing it for every frame was a tenth of drawing one)."""

    __slots__ = ("_trace", "_index", "_full", "_output")

    def __init__(self, trace: ScatterTrace, index: int, full: np.ndarray | None = None):
        self._trace, self._index, self._full, self._output = trace, index, full, None

    def full(self) -> np.ndarray:
        if self._full is None:
            trace = self._trace
            upto = np.zeros(len(trace), dtype=bool)
            upto[: self._index + 1] = True
            partial = np.where(upto.reshape(trace.input.shape), trace.input, 0.0)
            self._full = frozen(scatter_full(partial, trace.weight, trace.geometry))
        return self._full

    def output(self) -> np.ndarray:
        if self._output is None:
            self._output = frozen(crop_full(self.full(), self._trace.geometry))
        return self._output


@dataclass(frozen=True, slots=True)
class ScatterTrace:
    """The scatter view of a transposed conv; steps are produced lazily."""

    geometry: Geometry
    input: np.ndarray  # (N, C_in, *S)
    weight: np.ndarray  # (C_in, C_out/groups, *K)
    bias: np.ndarray | None
    full_shape: tuple[int, ...]  # (*F)

    @property
    def batch_size(self) -> int:
        return self.input.shape[0]

    def __len__(self) -> int:
        return math.prod(self.input.shape)

    def output(self) -> np.ndarray:
        """(N, C_out, *O) from the engine's conv_transpose, bias included."""
        g = self.geometry
        return _conv_transpose_nd(self.input, self.weight, self.bias, g.stride, tuple(p for p, _ in g.padding),
                                  g.output_padding, g.groups, g.dilation, g.ndim)

    def finish(self, accumulated_output: np.ndarray) -> np.ndarray:
        """A cropped running sum plus the bias (what the last step's sum becomes)."""
        if self.bias is None:
            return accumulated_output
        return accumulated_output + self.bias.reshape((1, -1) + (1,) * self.geometry.ndim)

    def _block(self, index: int) -> dict:
        g = self.geometry
        batch, in_channel, *position = (int(v) for v in np.unravel_index(index, self.input.shape))
        position = tuple(position)
        c_out_g = self.weight.shape[1]
        group = in_channel // (g.in_channels // g.groups)
        origin = tuple(p * s for p, s in zip(position, g.stride))
        tap_grid = np.stack(
            np.meshgrid(*[o + d * np.arange(k) for o, d, k in zip(origin, g.dilation, g.kernel_size)], indexing="ij"),
            axis=-1,
        )
        before = np.array([b for b, _ in g.padding])
        output_coords = tap_grid - before
        output_mask = np.all((output_coords >= 0) & (output_coords < np.array(g.output_shape[1:])), axis=-1)
        value = float(self.input[(batch, in_channel) + position])
        weights = self.weight[in_channel]
        return dict(
            index=index, batch=batch, in_channel=in_channel, position=position, value=value, group=group,
            out_channels=tuple(range(group * c_out_g, (group + 1) * c_out_g)),
            window_origin=origin, output_origin=tuple(o - b for o, b in zip(origin, before.tolist())),
            tap_coords=frozen(tap_grid), output_coords=frozen(output_coords), output_mask=frozen(output_mask),
            weights=weights, products=frozen(value * weights),
        )

    def _window(self, block: dict) -> tuple:
        g = self.geometry
        return (block["batch"], slice(block["out_channels"][0], block["out_channels"][-1] + 1)) + tuple(
            slice(o, o + d * (k - 1) + 1, d) for o, d, k in zip(block["window_origin"], g.dilation, g.kernel_size)
        )

    def step(self, index: int) -> ScatterStep:
        """One step on its own: the running sum is recomputed by the engine from the elements up to `index` (when
        first read)."""
        if not 0 <= index < len(self):
            raise IndexError(f"step {index} out of range 0..{len(self) - 1}")
        return ScatterStep(**self._block(index), running=RunningSum(self, index))

    def steps(self, indices: Iterable[int] | None = None) -> Iterator[ScatterStep]:
        """Steps in raster order, accumulating as they go; or only those at `indices` (each computed alone)."""
        if indices is not None:
            for index in indices:
                yield self.step(index)
            return
        accumulated = np.zeros((self.batch_size, self.geometry.out_channels, *self.full_shape))
        for index in range(len(self)):
            block = self._block(index)
            accumulated[self._window(block)] += block["products"]
            yield ScatterStep(**block, running=RunningSum(self, index, frozen(accumulated)))

    def __iter__(self) -> Iterator[ScatterStep]:
        return self.steps()


def scatter_trace(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The scatter view of conv_transpose1d/2d (chosen by the weight's dimensions), torch's arguments."""
    x, _, weight_array, bias_array, geometry = _setup(
        input, weight, bias, stride, padding, output_padding, groups, dilation
    )
    return ScatterTrace(
        geometry=geometry,
        input=frozen(x),
        weight=frozen(weight_array),
        bias=None if bias_array is None else frozen(bias_array),
        full_shape=full_output_shape(geometry),
    )
