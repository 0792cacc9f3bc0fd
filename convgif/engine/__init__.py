"""Pure-NumPy convolution engine: torch.nn.functional look-alikes, geometry and per-step traces."""

from convgif.engine.conv import conv1d, conv2d
from convgif.engine.geometry import Geometry, conv_geometry, conv_transpose_geometry, effective_kernel_size
from convgif.engine.trace import ConvStep, ConvTrace, conv_trace

__all__ = [
    "conv1d", "conv2d", "Geometry", "conv_geometry", "conv_transpose_geometry", "effective_kernel_size",
    "ConvStep", "ConvTrace", "conv_trace",
]
