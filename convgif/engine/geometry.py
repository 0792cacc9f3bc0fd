"""Every output-size formula, weight shape, parameter count and multiply-add count, in one place.

Each `*_geometry` function validates its arguments with torch's rules (raising `GeometryError` naming
the argument and the rule) and returns a frozen description of the operation. The ops and the traces
take their shapes from here; nothing else computes an output size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from convgif.engine._args import (
    PADDING_MODES,
    as_tuple,
    non_negative,
    positive,
    resolve_conv_padding,
)
from convgif.errors import GeometryError

SPATIAL_NAMES = {1: ("L",), 2: ("H", "W")}


@dataclass(frozen=True, slots=True)
class Geometry:
    """Shapes, cost and formulas of one operation on one (unbatched) input shape."""

    kind: str
    input_shape: tuple[int, ...]  # (C, *spatial)
    output_shape: tuple[int, ...]  # (C_out, *spatial)
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]  # explicit (before, after) per spatial dim
    dilation: tuple[int, ...]
    groups: int = 1
    output_padding: tuple[int, ...] = ()
    weight_shape: tuple[int, ...] = ()  # () for ops without weights
    bias_shape: tuple[int, ...] = ()  # () when there is no bias
    padding_mode: str = "zeros"
    ceil_mode: bool = False
    formulas: tuple[str, ...] = ()  # one per spatial dim, numbers filled in

    @property
    def ndim(self) -> int:
        return len(self.kernel_size)

    @property
    def in_channels(self) -> int:
        return self.input_shape[0]

    @property
    def out_channels(self) -> int:
        return self.output_shape[0]

    @property
    def effective_kernel_size(self) -> tuple[int, ...]:
        return effective_kernel_size(self.kernel_size, self.dilation)

    @property
    def padded_input_shape(self) -> tuple[int, ...]:
        return (self.input_shape[0],) + tuple(
            n + b + a for n, (b, a) in zip(self.input_shape[1:], self.padding)
        )

    @property
    def weight_count(self) -> int:
        return math.prod(self.weight_shape) if self.weight_shape else 0

    @property
    def bias_count(self) -> int:
        return math.prod(self.bias_shape) if self.bias_shape else 0

    @property
    def params(self) -> int:
        return self.weight_count + self.bias_count

    @property
    def macs(self) -> int:
        """Multiply-adds of one (unbatched) forward pass."""
        if not self.weight_shape:  # pooling and resampling: one op per window tap
            return math.prod(self.output_shape) * math.prod(self.kernel_size)
        if self.kind.startswith("conv_transpose"):
            # every input element times every tap of its group's kernel slice
            return math.prod(self.input_shape) * math.prod(self.weight_shape[1:])
        return math.prod(self.output_shape) * math.prod(self.weight_shape[1:])

    @property
    def formula(self) -> str:
        return "; ".join(self.formulas)


def effective_kernel_size(kernel_size: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[int, ...]:
    """The span a dilated kernel covers: 1 + d(k-1) per dimension."""
    return tuple(1 + d * (k - 1) for k, d in zip(kernel_size, dilation))


def _check_shape(input_shape: Any, kind: str) -> tuple[int, ...]:
    shape = tuple(input_shape)
    if len(shape) not in (2, 3):
        raise GeometryError("input_shape", f"must be (C, L) or (C, H, W), got {shape}")
    if not all(isinstance(n, int) for n in shape):
        raise GeometryError("input_shape", f"must hold integers, got {shape}")
    if any(n <= 0 for n in shape):
        raise GeometryError("input_shape", f"sizes must be positive, got {shape}")
    return shape


def _expect_ndim(kind: str, shape: tuple[int, ...]) -> int:
    want = 1 if kind.endswith("1d") else 2
    if len(shape) != want + 1:
        layout = "(C, L)" if want == 1 else "(C, H, W)"
        raise GeometryError("input_shape", f"{kind} needs a {layout} input, got {shape}")
    return want


def _check_groups(groups: Any, in_channels: int, out_channels: int) -> int:
    if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
        raise GeometryError("groups", f"must be a positive integer, got {groups!r}")
    if in_channels % groups:
        raise GeometryError("groups", f"{groups} does not divide in_channels={in_channels}")
    if out_channels % groups:
        raise GeometryError("groups", f"{groups} does not divide out_channels={out_channels}")
    return groups


def conv_geometry(
    input_shape: Any,
    out_channels: int,
    kernel_size: Any,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
    bias: bool = True,
    padding_mode: str = "zeros",
    *,
    kind: str | None = None,
) -> Geometry:
    """Geometry of `nn.Conv1d/2d(in_channels, out_channels, kernel_size, ...)` on an unbatched input."""
    shape = _check_shape(input_shape, kind or "conv")
    kind = kind or ("conv1d" if len(shape) == 2 else "conv2d")
    ndim = _expect_ndim(kind, shape)
    if isinstance(out_channels, bool) or not isinstance(out_channels, int) or out_channels <= 0:
        raise GeometryError("out_channels", f"must be a positive integer, got {out_channels!r}")
    if padding_mode not in PADDING_MODES:
        raise GeometryError("padding_mode", f"must be one of {', '.join(PADDING_MODES)}, got {padding_mode!r}")
    in_channels = shape[0]
    k = positive(as_tuple(kernel_size, ndim, "kernel_size"), "kernel_size")
    s = positive(as_tuple(stride, ndim, "stride"), "stride")
    d = positive(as_tuple(dilation, ndim, "dilation"), "dilation")
    g = _check_groups(groups, in_channels, out_channels)
    pads = resolve_conv_padding(padding, ndim, k, s, d)
    if padding_mode in ("reflect", "circular"):
        for n, (b, a), axis in zip(shape[1:], pads, SPATIAL_NAMES[ndim]):
            limit_ok = (b < n and a < n) if padding_mode == "reflect" else (b <= n and a <= n)
            if not limit_ok:
                rule = "smaller than" if padding_mode == "reflect" else "at most"
                raise GeometryError(
                    "padding", f"{padding_mode} padding of ({b}, {a}) on {axis}={n} must be {rule} the input size"
                )
    out_sizes = []
    formulas = []
    for n, (b, a), kk, ss, dd, axis in zip(shape[1:], pads, k, s, d, SPATIAL_NAMES[ndim]):
        padded = n + b + a
        span = dd * (kk - 1) + 1
        if span > padded:
            raise GeometryError(
                "kernel_size",
                f"the window spans {span} cells on {axis} (1 + {dd}*({kk}-1)) but the padded input has only {padded}",
            )
        out = (padded - span) // ss + 1
        pad_text = f"2*{b}" if b == a else f"{b} + {a}"
        formulas.append(f"{axis}: floor(({n} + {pad_text} - {dd}*({kk}-1) - 1) / {ss}) + 1 = {out}")
        out_sizes.append(out)
    return Geometry(
        kind=kind,
        input_shape=shape,
        output_shape=(out_channels, *out_sizes),
        kernel_size=k,
        stride=s,
        padding=pads,
        dilation=d,
        groups=g,
        weight_shape=(out_channels, in_channels // g, *k),
        bias_shape=(out_channels,) if bias else (),
        padding_mode=padding_mode,
        formulas=tuple(formulas),
    )


def conv_transpose_geometry(
    input_shape: Any,
    out_channels: int,
    kernel_size: Any,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    bias: bool = True,
    dilation: Any = 1,
    *,
    kind: str | None = None,
) -> Geometry:
    """Geometry of `nn.ConvTranspose1d/2d` (argument order as torch's) on an unbatched input."""
    shape = _check_shape(input_shape, kind or "conv_transpose")
    kind = kind or ("conv_transpose1d" if len(shape) == 2 else "conv_transpose2d")
    ndim = _expect_ndim(kind, shape)
    if isinstance(out_channels, bool) or not isinstance(out_channels, int) or out_channels <= 0:
        raise GeometryError("out_channels", f"must be a positive integer, got {out_channels!r}")
    if isinstance(padding, str):
        raise GeometryError("padding", f"transposed convolutions take an int or a tuple, got {padding!r}")
    in_channels = shape[0]
    k = positive(as_tuple(kernel_size, ndim, "kernel_size"), "kernel_size")
    s = positive(as_tuple(stride, ndim, "stride"), "stride")
    d = positive(as_tuple(dilation, ndim, "dilation"), "dilation")
    p = non_negative(as_tuple(padding, ndim, "padding"), "padding")
    op = non_negative(as_tuple(output_padding, ndim, "output_padding"), "output_padding")
    g = _check_groups(groups, in_channels, out_channels)
    for o, ss, dd in zip(op, s, d):
        if not (o < ss or o < dd):
            raise GeometryError(
                "output_padding", f"{o} must be smaller than either stride ({ss}) or dilation ({dd})"
            )
    out_sizes = []
    formulas = []
    for n, kk, ss, pp, oo, dd, axis in zip(shape[1:], k, s, p, op, d, SPATIAL_NAMES[ndim]):
        out = (n - 1) * ss - 2 * pp + dd * (kk - 1) + oo + 1
        formulas.append(f"{axis}: ({n} - 1)*{ss} - 2*{pp} + {dd}*({kk}-1) + {oo} + 1 = {out}")
        if out <= 0:
            raise GeometryError("padding", f"the output size on {axis} would be {out}: {formulas[-1]}")
        out_sizes.append(out)
    return Geometry(
        kind=kind,
        input_shape=shape,
        output_shape=(out_channels, *out_sizes),
        kernel_size=k,
        stride=s,
        padding=tuple((pp, pp) for pp in p),
        dilation=d,
        groups=g,
        output_padding=op,
        weight_shape=(in_channels, out_channels // g, *k),
        bias_shape=(out_channels,) if bias else (),
        formulas=tuple(formulas),
    )
