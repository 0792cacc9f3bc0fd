"""Pure-NumPy convolution engine: torch.nn.functional look-alikes, geometry and per-step traces."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convgif.lazy_names import lazy_names

if TYPE_CHECKING:  # what the names are, for readers and type checkers; at run time see __getattr__ below
    from convgif.engine.activation import flatten, relu
    from convgif.engine.conv import conv1d, conv2d
    from convgif.engine.conv_transpose import conv_transpose1d, conv_transpose2d
    from convgif.engine.geometry import (
        Geometry,
        conv_geometry,
        conv_transpose_geometry,
        effective_kernel_size,
        interpolate_geometry,
        pool_geometry,
    )
    from convgif.engine.keras import (
        keras_to_torch_weight,
        tf_same_padding,
        to_channels_first,
        to_channels_last,
        torch_to_keras_weight,
    )
    from convgif.engine.pool import avg_pool1d, avg_pool2d, lp_pool1d, lp_pool2d, max_pool1d, max_pool2d
    from convgif.engine.resample import interpolate
    from convgif.engine.trace import ConvStep, ConvTrace, conv_trace
    from convgif.engine.trace_pool import PoolStep, PoolTrace, pool_trace
    from convgif.engine.trace_transpose import (
        ScatterStep,
        ScatterTrace,
        ZeroInsertionTrace,
        scatter_trace,
        zero_insertion_trace,
    )

# Each name is imported from its module on first use (PEP 562): a conv scene loads no pool, transposed-conv,
# resampling or Keras code (their modules build dataclasses: ~1 ms each of every start).
_HOMES = {
    "flatten": "activation",
    "relu": "activation",
    "conv1d": "conv",
    "conv2d": "conv",
    "conv_transpose1d": "conv_transpose",
    "conv_transpose2d": "conv_transpose",
    "Geometry": "geometry",
    "conv_geometry": "geometry",
    "conv_transpose_geometry": "geometry",
    "effective_kernel_size": "geometry",
    "interpolate_geometry": "geometry",
    "pool_geometry": "geometry",
    "keras_to_torch_weight": "keras",
    "tf_same_padding": "keras",
    "to_channels_first": "keras",
    "to_channels_last": "keras",
    "torch_to_keras_weight": "keras",
    "avg_pool1d": "pool",
    "avg_pool2d": "pool",
    "lp_pool1d": "pool",
    "lp_pool2d": "pool",
    "max_pool1d": "pool",
    "max_pool2d": "pool",
    "interpolate": "resample",
    "ConvStep": "trace",
    "ConvTrace": "trace",
    "conv_trace": "trace",
    "PoolStep": "trace_pool",
    "PoolTrace": "trace_pool",
    "pool_trace": "trace_pool",
    "ScatterStep": "trace_transpose",
    "ScatterTrace": "trace_transpose",
    "ZeroInsertionTrace": "trace_transpose",
    "scatter_trace": "trace_transpose",
    "zero_insertion_trace": "trace_transpose",
}


__getattr__, __dir__ = lazy_names(__name__, _HOMES, globals())


__all__ = [
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d",
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "lp_pool1d", "lp_pool2d",
    "interpolate", "relu", "flatten",
    "to_channels_last", "to_channels_first", "keras_to_torch_weight", "torch_to_keras_weight", "tf_same_padding",
    "Geometry", "conv_geometry", "conv_transpose_geometry", "pool_geometry", "interpolate_geometry",
    "effective_kernel_size",
    "ConvStep", "ConvTrace", "conv_trace", "PoolStep", "PoolTrace", "pool_trace",
    "ScatterStep", "ScatterTrace", "ZeroInsertionTrace", "scatter_trace", "zero_insertion_trace",
]
