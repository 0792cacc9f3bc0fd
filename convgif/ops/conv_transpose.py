"""conv_transpose1d / conv_transpose2d: drawn as a direct conv over the zero-inserted input, or as scatter."""

from __future__ import annotations

from convgif.engine.geometry import conv_transpose_geometry
from convgif.ops.record import OpFamily, OpView


def geometry(op, input_shape):
    return conv_transpose_geometry(input_shape, op.out_channels, op.kernel_size,
                                   1 if op.stride is None else op.stride, op.padding, op.output_padding, op.groups,
                                   op.bias, op.dilation, kind=op.kind)


def _arguments(g):
    return dict(stride=g.stride, padding=tuple(p for p, _ in g.padding), output_padding=g.output_padding,
                groups=g.groups, dilation=g.dilation)


def zero_insertion(x, weight, bias, g, op):
    from convgif.engine.trace_transpose import zero_insertion_trace  # on first use: a conv scene never loads it

    return zero_insertion_trace(x, weight, bias, **_arguments(g))


def scatter(x, weight, bias, g, op):
    from convgif.engine.trace_transpose import scatter_trace

    return scatter_trace(x, weight, bias, **_arguments(g))


def size_problems(g, limit: int) -> list[tuple[str, str]]:
    """The zero-inserted input must stay drawable."""
    for n, s in zip(g.input_shape[1:], g.stride):
        spread = (n - 1) * s + 1
        if spread > limit:
            return [("op.stride", f"the zero-inserted input would span {spread} cells ((n - 1)*s + 1 = "
                     f"({n} - 1)*{s} + 1), more than the {limit} allowed (a fixed limit)")]
    return []


CONV_TRANSPOSE = OpFamily(
    name="conv_transpose",
    kinds=("conv_transpose1d", "conv_transpose2d"),
    keys=("kind", "out_channels", "kernel_size", "stride", "padding", "output_padding", "dilation", "groups",
          "bias"),
    geometry=geometry,
    views=(
        OpView("zero_insertion", zero_insertion, "convgif.render.layout_transpose:ZeroInsertionLayout",
               description="a direct conv with the flipped kernel over the zero-inserted, padded input",
               alt=("alt_zero_insertion", "alt_zero_insertion_short")),
        OpView("scatter", scatter, "convgif.render.layout_transpose:ScatterLayout", steps_over="input",
               description="each input element scatters its kernel-weighted copy into the output",
               alt=("alt_scatter", "alt_scatter_short")),
    ),
    caption="{formula}",
    placeholders=("weight_shape", "groups", "bias", "output_padding"),
    has_weights=True,
    weight_layout="(C_in, C_out/groups, {kernel})",
    padding_grows_input=False,  # a transposed conv's padding crops its output
    size_problems=size_problems,
)
