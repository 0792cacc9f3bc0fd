"""Pure-NumPy convolution engine: torch.nn.functional look-alikes, geometry and per-step traces."""

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
