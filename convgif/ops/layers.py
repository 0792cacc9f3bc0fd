"""relu, flatten, linear and upsample: the layers a chain puts between convolutions, one record each.

Each is drawn by the map view (convgif.render.layout_map): the input, what the layer does, the output, one step
per output element. Their `[op]` keys are torch's: nn.Flatten's start_dim / end_dim, nn.Linear's out_features
(in_features optional, checked), nn.Upsample's size / scale_factor / mode.
"""

from __future__ import annotations

import numpy as np

from convgif.engine.geometry_layers import flatten_geometry, linear_geometry, relu_geometry, upsample_geometry
from convgif.ops.record import OpFamily, OpView

MAP_LAYOUT = "convgif.render.layout_map:MapLayout"
MAP_ALT = ("alt_map", "alt_map_short")  # no window: the input turned into the output, a value per step
NDIMS = (0, 1, 2)  # a vector (after flatten: 0 spatial dimensions), a 1D signal or a 2D map
NO_CAPTION = ""  # the subtitle already says the shapes, and a map layer has no output-size arithmetic


def _batched(x):
    return np.asarray(x, dtype=np.float64)[None]


def relu_trace_of(x, weight, bias, g, op):
    from convgif.engine.trace_map import relu_trace  # on first use (as the others): a conv scene never loads it

    return relu_trace(_batched(x), g)


def flatten_trace_of(x, weight, bias, g, op):
    from convgif.engine.trace_map import flatten_trace

    return flatten_trace(_batched(x), g)


def linear_trace_of(x, weight, bias, g, op):
    from convgif.engine.trace_map import linear_trace

    return linear_trace(_batched(x), weight, bias, g)


def upsample_trace_of(x, weight, bias, g, op):
    from convgif.engine.trace_map import upsample_trace

    return upsample_trace(_batched(x), g)


RELU = OpFamily(
    name="relu", kinds=("relu",), keys=("kind",),
    geometry=lambda op, shape: relu_geometry(shape),
    views=(OpView("map", relu_trace_of, MAP_LAYOUT, description="each element and max(0, x)", ndims=NDIMS,
                  alt=MAP_ALT),),
    caption=NO_CAPTION,
)

FLATTEN = OpFamily(
    name="flatten", kinds=("flatten",), keys=("kind", "start_dim", "end_dim"),
    geometry=lambda op, shape: flatten_geometry(shape, op.start_dim, op.end_dim),
    views=(OpView("map", flatten_trace_of, MAP_LAYOUT,
                  description="each element landing in its place in the flat vector", ndims=NDIMS,
                  alt=MAP_ALT),),
    caption=NO_CAPTION,
)

LINEAR = OpFamily(
    name="linear", kinds=("linear",), keys=("kind", "in_features", "out_features", "bias"),
    geometry=lambda op, shape: linear_geometry(shape, op.out_features, op.bias, op.in_features),
    views=(OpView("map", linear_trace_of, MAP_LAYOUT,
                  description="the input vector times one weight row per output feature", ndims=NDIMS,
                  alt=MAP_ALT),),
    caption=NO_CAPTION,
    placeholders=("weight_shape", "bias"),
    has_weights=True,
    weight_layout="(out_features, in_features)",
)

UPSAMPLE = OpFamily(
    name="upsample", kinds=("upsample",), keys=("kind", "size", "scale_factor", "mode"),
    geometry=lambda op, shape: upsample_geometry(shape, op.size, op.scale_factor, op.mode),
    views=(OpView("map", upsample_trace_of, MAP_LAYOUT,
                  description="which input cells each output cell copies or blends", ndims=NDIMS, alt=MAP_ALT),),
    caption="{formula}",
)
