"""Random scene values that do not look like a bug.

A student reads two output channels with equal kernels, an output row or column of zeros, or two output
channels sharing a row as a mistake in the picture, not as chance. So a scene's `values = "random"` input and
weights are drawn as before, and only when that first draw shows one of these flaws are they drawn again, from
derived streams (`values.random_integers(..., redraw=n)`): scenes whose first draw is fine keep their values, and
the same seeds always give the same values.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

from convgif.engine.geometry import Geometry
from convgif.scene.values import random_integers

# Enough that a chance flaw is gone (one draw in a few is flawed at worst); a flaw every draw shows comes from
# the scene's shape (windows that read only padding, an all-zero range) and the first draw is kept.
REDRAWS = 16


def channel_kernels(weight: np.ndarray, geometry: Geometry) -> list[np.ndarray]:
    """The kernel each output channel is computed with: `weight[o]`, or for a transposed convolution
    (weight (C_in, C_out/groups, *k)) its group's input-channel block of `weight[:, o % (C_out/groups)]`."""
    if not geometry.kind.startswith("conv_transpose"):
        return list(weight)
    in_per_group = weight.shape[0] // geometry.groups
    out_per_group = weight.shape[1]
    return [weight[(o // out_per_group) * in_per_group:(o // out_per_group + 1) * in_per_group, o % out_per_group]
            for o in range(geometry.out_channels)]


def flaws(output: np.ndarray, kernels: list[np.ndarray] = (), bias: np.ndarray | None = None) -> list[str]:
    """What in an output (C, *spatial), its channels' kernels and bias reads as a bug: equal kernels, a row or
    column (of 2+ cells) of a channel that is all zero before the bias (nothing but the bias reaches it), two
    channels with an identical row (of 2+ cells)."""
    found = [f"output channels {a} and {b} have equal kernels"
             for a, b in itertools.combinations(range(len(kernels)), 2) if np.array_equal(kernels[a], kernels[b])]
    maps = output.reshape(output.shape[0], -1, output.shape[-1])  # 1D outputs: one row per channel
    height, width = maps.shape[1:]
    biases = np.zeros(len(maps)) if bias is None else np.asarray(bias, dtype=np.float64)
    for channel, grid in enumerate(maps - biases.reshape(-1, 1, 1)):
        before_bias = " before the bias" if biases[channel] else ""
        if width > 1:
            found += [f"output channel {channel} has an all-zero row {r}{before_bias}" for r in range(height)
                      if not grid[r].any()]
        if height > 1:
            found += [f"output channel {channel} has an all-zero column {c}{before_bias}" for c in range(width)
                      if not grid[:, c].any()]
    if width > 1:
        for a, b in itertools.combinations(range(len(maps)), 2):
            rows_of_a = {row.tobytes() for row in maps[a]}
            found += [f"output channels {a} and {b} share the row {r} of channel {b}" for r in range(height)
                      if maps[b][r].tobytes() in rows_of_a]
    return found


def scene_flaws(scene, arrays: dict[str, np.ndarray | None]) -> list[str]:
    """`flaws` of an op scene's arrays (`OpSceneSpec.arrays()`): its output, its weight's kernels, its bias."""
    geometry = scene.geometry()
    weight = arrays["weight"]
    output = np.asarray(arrays["output"]).reshape(geometry.output_shape)
    if geometry.kernel_size == ():  # a layer without a window (relu, flatten, linear, upsample): rows of weights
        rows = [] if weight is None else list(weight)
        return flaws(output.reshape(1, -1) if output.ndim == 1 else output, rows)
    kernels = [] if weight is None else channel_kernels(weight, geometry)
    return flaws(output, kernels, arrays["bias"])


@functools.lru_cache(maxsize=8)  # input_array() and weight_array() ask in turn; each draw runs the engine
def fair_draws(scene) -> tuple[np.ndarray, np.ndarray | None]:
    """(input, weight) of an op scene whose input or weights are `"random"`: the first draw without `flaws`
    (the very first draw when every redraw has them too). Read-only arrays: callers copy them."""
    geometry = scene.geometry()
    draw_input = scene.input.image is None and scene.input.values == "random"
    draw_weight = scene.family.has_weights and scene.weights is not None and scene.weights.values == "random"
    fixed_input = None if draw_input else scene.input_array()
    fixed_weight = None if draw_weight else scene.weight_array()
    bias = scene.bias_array()
    first = None
    for redraw in range(REDRAWS + 1):
        x = random_integers(scene.input.seed, scene.input.range, scene.input.shape, redraw) if draw_input \
            else fixed_input
        weight = random_integers(scene.weights.seed, scene.weights.range, geometry.weight_shape, redraw) \
            if draw_weight else fixed_weight
        for array, drawn in ((x, draw_input), (weight, draw_weight)):
            if drawn:
                array.flags.writeable = False
        if first is None:
            first = (x, weight)
        trace = scene.family.default_view.trace(x, weight, bias, geometry, scene.op)
        if not scene_flaws(scene, {"output": trace.output(), "weight": weight, "bias": bias}):
            return x, weight
    return first
