"""Per-step traces: immutable data describing each output element's computation, produced lazily.

A trace knows nothing about drawing. One `ConvStep` per output element, in raster order
(batch, output channel, position). Nothing is precomputed for all steps, so the first step of a huge
convolution comes out at once.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from convgif.engine._args import pad_array
from convgif.engine.conv import conv_setup, _conv_nd
from convgif.engine.geometry import Geometry
from convgif.errors import GeometryError


def frozen(array: np.ndarray) -> np.ndarray:
    """A read-only copy: the caller keeps a writable original we must not see change."""
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array


def sealed(array: np.ndarray) -> np.ndarray:
    """`array` made read-only in place: for arrays just created here, which nobody else holds."""
    array.setflags(write=False)
    return array


@functools.lru_cache(maxsize=64)
def _window(kernel_size: tuple[int, ...], dilation: tuple[int, ...], before: tuple[int, ...],
            sizes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A window's tap offsets from its first tap (*K, ndim), the padding before each dimension and the input's
    spatial sizes, as arrays: the same for every step of a trace, built once."""
    offsets = np.stack(np.meshgrid(*[d * np.arange(k) for d, k in zip(dilation, kernel_size)], indexing="ij"),
                       axis=-1)
    return tuple(sealed(array) for array in (offsets, np.array(before), np.array(sizes)))


@dataclass(frozen=True, slots=True)
class ConvStep:
    """Everything about one output element of a convolution.

    Coordinates are per spatial dimension (1 for conv1d, 2 for conv2d); `K` is the kernel shape and
    `Cg` the number of input channels one group reads.
    """

    index: int  # position in the raster order of the whole trace
    batch: int
    out_channel: int
    position: tuple[int, ...]  # output spatial index
    group: int
    in_channels: tuple[int, ...]  # the input channels this output reads (its group's)
    window_origin: tuple[int, ...]  # padded coordinates of the first tap
    tap_coords: np.ndarray  # (*K, ndim) padded coordinates of each tap (dilation applied)
    input_coords: np.ndarray  # (*K, ndim) the same in unpadded input coordinates (may lie outside)
    padding_mask: np.ndarray  # (*K,) True where the tap falls on padding
    tap_values: np.ndarray  # (Cg, *K) the (padded) input values under the taps
    weights: np.ndarray  # (Cg, *K) the kernel slice of this output channel
    tap_products: np.ndarray  # (Cg, *K) tap_values * weights
    channel_sums: np.ndarray  # (Cg,) per-input-channel partial sums
    bias: float | None  # None when the convolution has no bias
    value: float  # sum(channel_sums) + bias: the output value at this index

    @property
    def output_index(self) -> tuple[int, ...]:
        return (self.batch, self.out_channel, *self.position)


@dataclass(frozen=True, slots=True)
class ConvTrace:
    """A convolution and its steps. Arrays are batched (N, C, ...) and read-only."""

    geometry: Geometry
    input: np.ndarray  # (N, C, *S)
    padded_input: np.ndarray  # (N, C, *P) padded with the padding mode
    padding_cells: np.ndarray  # (*P,) True where a padded-grid cell is padding
    weight: np.ndarray  # (C_out, C_in/groups, *K)
    bias: np.ndarray | None  # (C_out,)

    @property
    def batch_size(self) -> int:
        return self.input.shape[0]

    def __len__(self) -> int:
        return self.batch_size * math.prod(self.geometry.output_shape)

    def output(self) -> np.ndarray:
        """The whole output (N, C_out, *O), from the engine's conv (not from the steps)."""
        g = self.geometry
        return _conv_nd(self.input, self.weight, self.bias, g.stride, g.padding, g.dilation, g.groups,
                        g.padding_mode, g.ndim)

    def steps(self, indices: Iterator[int] | None = None) -> Iterator[ConvStep]:
        """Steps in raster order, or only those at `indices` (in the order given)."""
        chosen = range(len(self)) if indices is None else indices
        for index in chosen:
            yield self.step(index)

    def __iter__(self) -> Iterator[ConvStep]:
        return self.steps()

    def step(self, index: int) -> ConvStep:
        g = self.geometry
        if not 0 <= index < len(self):
            raise IndexError(f"step {index} out of range 0..{len(self) - 1}")
        batch, coords = index, []
        for size in reversed(g.output_shape):  # (C_out, *spatial) in raster order: the last dimension fastest
            batch, at = divmod(batch, size)
            coords.append(at)
        out_channel, *spatial = reversed(coords)
        position = tuple(spatial)
        per_group_out = g.out_channels // g.groups
        per_group_in = g.in_channels // g.groups
        group = out_channel // per_group_out
        in_channels = tuple(range(group * per_group_in, (group + 1) * per_group_in))
        origin = tuple(p * s for p, s in zip(position, g.stride))
        offsets, before, sizes = _window(g.kernel_size, g.dilation, tuple(b for b, _ in g.padding),
                                         tuple(g.input_shape[1:]))
        tap_grid = offsets + np.array(origin)  # (*K, ndim)
        input_coords = tap_grid - before
        padding_mask = np.any((input_coords < 0) | (input_coords >= sizes), axis=-1)
        channel_block = self.padded_input[batch, group * per_group_in : (group + 1) * per_group_in]
        tap_values = channel_block[(slice(None),) + tuple(tap_grid[..., i] for i in range(g.ndim))]
        weights = self.weight[out_channel]
        tap_products = tap_values * weights
        channel_sums = tap_products.reshape(per_group_in, -1).sum(axis=1)
        bias = None if self.bias is None else float(self.bias[out_channel])
        value = float(channel_sums.sum() + (bias or 0.0))
        return ConvStep(
            index=index,
            batch=batch,
            out_channel=out_channel,
            position=position,
            group=group,
            in_channels=in_channels,
            window_origin=origin,
            tap_coords=sealed(tap_grid),
            input_coords=sealed(input_coords),
            padding_mask=sealed(padding_mask),
            tap_values=sealed(tap_values),
            weights=weights,  # a view of the read-only trace weight, hence read-only
            tap_products=sealed(tap_products),
            channel_sums=sealed(channel_sums),
            bias=bias,
            value=value,
        )


def conv_trace(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, padding_mode="zeros"):
    """The trace of conv1d/conv2d (chosen by the weight's dimensions) with torch's arguments."""
    weight_array = np.asarray(weight, dtype=np.float64)
    ndim = weight_array.ndim - 2
    if ndim not in (1, 2):
        raise GeometryError("weight", f"expected a 3D or 4D weight, got shape {weight_array.shape}")
    x, _, weight_array, bias_array, geometry = conv_setup(
        input, weight_array, bias, stride, padding, dilation, groups, padding_mode, ndim
    )
    input_array = frozen(x)
    # pad_array returns its input unchanged when there is no padding: then both share one array
    padded = pad_array(input_array, geometry.padding, geometry.padding_mode)
    padding_cells = np.ones(geometry.padded_input_shape[1:], dtype=bool)
    padding_cells[tuple(slice(b, b + n) for (b, _), n in zip(geometry.padding, geometry.input_shape[1:]))] = False
    return ConvTrace(
        geometry=geometry,
        input=input_array,
        padded_input=padded if padded is input_array else sealed(padded),
        padding_cells=sealed(padding_cells),
        weight=frozen(weight_array),
        bias=None if bias_array is None else frozen(bias_array),
    )
