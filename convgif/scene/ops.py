"""Which operations a scene can show, which `[op]` keys and views each takes, and its engine geometry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convgif.engine.geometry import Geometry, conv_geometry, conv_transpose_geometry
from convgif.errors import GeometryError

if TYPE_CHECKING:
    from convgif.scene.spec import OpSpec

CONV_KINDS = ("conv1d", "conv2d")
TRANSPOSED_KINDS = ("conv_transpose1d", "conv_transpose2d")
POOL_KINDS = ("max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "lp_pool1d", "lp_pool2d")
KINDS = CONV_KINDS + TRANSPOSED_KINDS + POOL_KINDS

_CONV_KEYS = ("kind", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias", "padding_mode")
_TRANSPOSED_KEYS = ("kind", "out_channels", "kernel_size", "stride", "padding", "output_padding", "dilation",
                    "groups", "bias")
# as torch.nn.MaxPool / AvgPool / LPPool take them
_POOL_KEYS = {
    "max_pool": ("kind", "kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    "avg_pool": ("kind", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"),
    "lp_pool": ("kind", "kernel_size", "stride", "ceil_mode", "norm_type"),
}

# Views: ways to draw the same operation. The first one is the default.
VIEWS: dict[str, tuple[str, ...]] = {kind: ("zero_insertion", "scatter") for kind in TRANSPOSED_KINDS}


def family(kind: str) -> str:
    """'conv', 'conv_transpose', 'max_pool', 'avg_pool' or 'lp_pool'."""
    return kind[:-2]


def has_weights(kind: str) -> bool:
    return kind in CONV_KINDS or kind in TRANSPOSED_KINDS


def op_keys(kind: str) -> tuple[str, ...]:
    """The `[op]` keys that mean something for `kind`."""
    if kind in CONV_KINDS:
        return _CONV_KEYS
    if kind in TRANSPOSED_KINDS:
        return _TRANSPOSED_KEYS
    return _POOL_KEYS[family(kind)]


def default_view(kind: str) -> str | None:
    views = VIEWS.get(kind, ())
    return views[0] if views else None


def op_geometry(op: OpSpec, input_shape: tuple[int, ...]) -> Geometry:
    """The engine's geometry of the scene's op on its input (raises GeometryError naming the argument)."""
    if op.kind in CONV_KINDS:
        return conv_geometry(
            input_shape, op.out_channels, op.kernel_size, 1 if op.stride is None else op.stride, op.padding,
            op.dilation, op.groups, op.bias, op.padding_mode, kind=op.kind,
        )
    if op.kind in TRANSPOSED_KINDS:
        return conv_transpose_geometry(
            input_shape, op.out_channels, op.kernel_size, 1 if op.stride is None else op.stride, op.padding,
            op.output_padding, op.groups, op.bias, op.dilation, kind=op.kind,
        )
    pool_geometry = load_pool_geometry()
    if pool_geometry is None:
        raise GeometryError("kind", f"{op.kind} needs convgif.engine.geometry.pool_geometry, which is not installed")
    return pool_geometry(
        op.kind, input_shape, op.kernel_size, stride=op.stride, padding=op.padding, dilation=op.dilation,
        ceil_mode=op.ceil_mode,
    )


def load_pool_geometry():
    """The engine's pool_geometry, imported on first use (it may be missing from older engines)."""
    try:
        from convgif.engine.geometry import pool_geometry
    except ImportError:
        return None
    return pool_geometry
