"""conv1d / conv2d: torch.nn.functional.conv1d/conv2d, drawn as window, kernels and sums."""

from __future__ import annotations

from convgif.engine import conv_trace
from convgif.engine.geometry import conv_geometry
from convgif.ops.record import OpFamily, OpView


def geometry(op, input_shape):
    return conv_geometry(input_shape, op.out_channels, op.kernel_size, 1 if op.stride is None else op.stride,
                         op.padding, op.dilation, op.groups, op.bias, op.padding_mode, kind=op.kind)


def trace(x, weight, bias, g, op):
    return conv_trace(x, weight, bias, stride=g.stride, padding=g.padding, dilation=g.dilation, groups=g.groups,
                      padding_mode=g.padding_mode)


CONV = OpFamily(
    name="conv",
    kinds=("conv1d", "conv2d"),
    keys=("kind", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias", "padding_mode"),
    geometry=geometry,
    views=(OpView("conv", trace, "convgif.render.layout_conv:ConvLayout",
                  description="input channels, the current kernel slices and output channels side by side"),
           OpView("volume", trace, "convgif.render.layout_volume:ConvVolumeLayout", ndims=(2,),
                  description="channels as the depth of 3D blocks: the window as a box through the channels it "
                              "reads, every kernel a block, the output block filling in",
                  alt=("alt_volume", "alt_window_short"))),
    caption="{formula}",
    placeholders=("weight_shape", "groups", "bias", "padding_mode"),
    has_weights=True,
    weight_layout="(C_out, C_in/groups, {kernel})",
)
