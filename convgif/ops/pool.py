"""max_pool, avg_pool and lp_pool in 1D and 2D: torch.nn.functional's pools, drawn window by window."""

from __future__ import annotations

from convgif.engine.geometry import pool_geometry
from convgif.ops.record import OpFamily, OpView

POOL_LAYOUT = "convgif.render.layout_pool:PoolLayout"
VOLUME_LAYOUT = "convgif.render.layout_volume:PoolVolumeLayout"


def geometry(op, input_shape):
    return pool_geometry(op.kind, input_shape, op.kernel_size, stride=op.stride, padding=op.padding,
                         dilation=op.dilation, ceil_mode=op.ceil_mode)


def _padded(x, g, op, **options):
    from convgif.engine.trace_pool import pool_trace  # on first use: a conv scene never loads it

    return pool_trace(op.kind, x, g.kernel_size, stride=g.stride, padding=tuple(p for p, _ in g.padding),
                      dilation=g.dilation, ceil_mode=g.ceil_mode, **options)


def max_trace(x, weight, bias, g, op):
    return _padded(x, g, op)


def avg_trace(x, weight, bias, g, op):
    return _padded(x, g, op, count_include_pad=op.count_include_pad)


def lp_trace(x, weight, bias, g, op):
    # torch's lp_pool1d takes plain ints (the engine follows it); lp_pool2d takes pairs
    from convgif.engine.trace_pool import pool_trace

    one_d = len(g.kernel_size) == 1
    return pool_trace(op.kind, x, g.kernel_size[0] if one_d else g.kernel_size,
                      stride=g.stride[0] if one_d else g.stride, ceil_mode=g.ceil_mode, norm_type=op.norm_type)


def _pool(name: str, keys: tuple[str, ...], trace, placeholders: tuple[str, ...]) -> OpFamily:
    return OpFamily(
        name=name, kinds=(f"{name}1d", f"{name}2d"), keys=("kind", "kernel_size", "stride", *keys),
        geometry=geometry, views=(OpView("pool", trace, POOL_LAYOUT, description="window, taps and result"),
                                  OpView("volume", trace, VOLUME_LAYOUT, ndims=(2,),
                                         description="channels as the depth of 3D blocks, the window a box "
                                                     "through its channel", alt=("alt_volume", "alt_window_short"))),
        caption="{formula}",
        placeholders=placeholders,
    )


# the keys as torch.nn.MaxPool / AvgPool / LPPool take them
MAX_POOL = _pool("max_pool", ("padding", "dilation", "ceil_mode"), max_trace, ("ceil_mode",))
AVG_POOL = _pool("avg_pool", ("padding", "ceil_mode", "count_include_pad"), avg_trace, ("ceil_mode", "count_include_pad"))
LP_POOL = _pool("lp_pool", ("ceil_mode", "norm_type"), lp_trace, ("ceil_mode", "norm_type"))
