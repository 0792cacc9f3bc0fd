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
    def window_has_gaps(self) -> bool:
        """Whether a window skips cells between its taps (a dilation above 1 along an axis with 2+ taps)."""
        return any(d > 1 and k > 1 for d, k in zip(self.dilation, self.kernel_size))

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
    def comparisons(self) -> int:
        """Comparisons of one forward pass: a max pool's, taps − 1 a window (other ops compare nothing)."""
        if not self.kind.startswith("max_pool"):
            return 0
        return math.prod(self.output_shape) * (math.prod(self.kernel_size) - 1)

    @property
    def macs(self) -> int:
        """Multiply-adds of one (unbatched) forward pass. A max pool has none (it compares: `comparisons`); an
        average or power-average pool one a window tap (its sum of values, or of powers, scaled)."""
        if self.comparisons:
            return 0
        if not self.weight_shape:
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
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in shape):
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
                f"the window spans {span} cells on {axis} (1 + {dd}*({kk} - 1)) but the padded input has only {padded}",
            )
        out = (padded - span) // ss + 1
        pad_text = f"2*{b}" if b == a else f"{b} + {a}"
        formulas.append(f"{axis}: floor(({n} + {pad_text} - {dd}*({kk} - 1) - 1) / {ss}) + 1 = {out}")
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
        formulas.append(f"{axis}: ({n} - 1)*{ss} - 2*{pp} + {dd}*({kk} - 1) + {oo} + 1 = {out}")
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


# --- pooling and resampling -------------------------------------------------------------------------

import numbers  # noqa: E402  (kept with the code that needs it: this section was appended)

POOL_KINDS = ("max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "lp_pool1d", "lp_pool2d")


def pool_output_size(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> tuple[int, bool]:
    """torch's pooling_output_shape: (output size, whether the ceil-mode last-window rule dropped one)."""
    span = dilation * (kernel - 1) + 1
    out = (size + 2 * pad - span + (stride - 1 if ceil_mode else 0)) // stride + 1  # // rounds down, as div_rtn
    # torch: with ceil_mode the last window must start inside the input or the left padding
    if ceil_mode and (out - 1) * stride >= size + pad:
        return out - 1, True
    return out, False


def pool_geometry(
    kind: str,
    input_shape: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
) -> Geometry:
    """Geometry of max/avg/lp pooling (`kind` as the torch function's name) on an unbatched input."""
    if kind not in POOL_KINDS:
        raise GeometryError("kind", f"must be one of {', '.join(POOL_KINDS)}, got {kind!r}")
    shape = _check_shape(input_shape, kind)
    ndim = _expect_ndim(kind, shape)
    k = positive(as_tuple(kernel_size, ndim, "kernel_size"), "kernel_size")
    # torch: a missing (or empty) stride means stride = kernel_size
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else positive(
        as_tuple(stride, ndim, "stride"), "stride"
    )
    p = non_negative(as_tuple(padding, ndim, "padding"), "padding")
    d = positive(as_tuple(dilation, ndim, "dilation"), "dilation")
    if not kind.startswith("max") and any(v != 1 for v in d):
        raise GeometryError("dilation", f"{kind} has no dilation (it must be 1), got {d}")
    if kind.startswith("lp") and any(v != 0 for v in p):
        raise GeometryError("padding", f"{kind} has no padding (it must be 0), got {p}")
    if not isinstance(ceil_mode, bool) or type(ceil_mode).__name__ == "bool_":
        raise GeometryError("ceil_mode", f"must be True or False, got {ceil_mode!r}")
    for pp, kk, axis in zip(p, k, SPATIAL_NAMES[ndim]):
        if pp > kk // 2:
            raise GeometryError(
                "padding", f"{pp} on {axis} is more than half the kernel size {kk} (padding <= kernel_size // 2)"
            )
    out_sizes = []
    formulas = []
    for n, kk, ss, pp, dd, axis in zip(shape[1:], k, s, p, d, SPATIAL_NAMES[ndim]):
        out, dropped = pool_output_size(n, kk, ss, pp, dd, bool(ceil_mode))
        rounding = "ceil" if ceil_mode else "floor"
        text = f"{axis}: {rounding}(({n} + 2*{pp} - {dd}*({kk} - 1) - 1) / {ss}) + 1"
        if dropped:
            text += f" - 1 = {out} (the last window would start in the right padding, so it is dropped)"
        else:
            text += f" = {out}"
        if out < 1:
            raise GeometryError("kernel_size", f"the output size on {axis} would be {out}: {text}")
        out_sizes.append(out)
        formulas.append(text)
    return Geometry(
        kind=kind,
        input_shape=shape,
        output_shape=(shape[0], *out_sizes),
        kernel_size=k,
        stride=s,
        padding=tuple((pp, pp) for pp in p),
        dilation=d,
        ceil_mode=bool(ceil_mode),
        formulas=tuple(formulas),
    )


INTERPOLATE_MODES = {"nearest": (1, 2), "linear": (1,), "bilinear": (2,)}


@dataclass(frozen=True, slots=True)
class ResampleGeometry:
    """Shapes and source-index rule of one `interpolate` call on an unbatched (C, *S) input."""

    mode: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    align_corners: bool | None
    # per spatial dim, the source-to-output scale torch's kernel uses (None: input/output sizes)
    scale_factors: tuple[float, ...] | None
    formulas: tuple[str, ...] = ()

    @property
    def ndim(self) -> int:
        return len(self.input_shape) - 1

    @property
    def source_scales(self) -> tuple[float, ...]:
        """How far apart, in input cells, two neighbouring output cells sample (torch's area_pixel_compute_scale)."""
        scales = []
        for i, (n, o) in enumerate(zip(self.input_shape[1:], self.output_shape[1:])):
            if self.align_corners:
                scales.append((n - 1) / (o - 1) if o > 1 else 0.0)
            elif self.scale_factors is not None and self.scale_factors[i] > 0:
                scales.append(1.0 / self.scale_factors[i])
            else:
                scales.append(n / o)
        return tuple(scales)


def interpolate_geometry(
    input_shape: Any,
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
) -> ResampleGeometry:
    """Output shape of `torch.nn.functional.interpolate` on an unbatched (C, *S) input, with torch's checks."""
    shape = _check_shape(input_shape, "interpolate")
    ndim = len(shape) - 1
    if mode not in INTERPOLATE_MODES:
        raise GeometryError("mode", f"must be one of {', '.join(INTERPOLATE_MODES)}, got {mode!r}")
    if ndim not in INTERPOLATE_MODES[mode]:
        want = " or ".join(f"{n + 2}D" for n in INTERPOLATE_MODES[mode])
        raise GeometryError("input", f"mode {mode!r} needs a {want} (batched) input, got {ndim + 2}D")
    if mode == "nearest":
        if align_corners is not None:
            raise GeometryError("align_corners", "can only be set with the interpolating modes linear and bilinear")
    elif align_corners is None:
        align_corners = False
    if size is not None and scale_factor is not None:
        raise GeometryError("size", "only one of size or scale_factor may be given")
    if size is None and scale_factor is None:
        raise GeometryError("size", "either size or scale_factor must be given")
    if size is not None and recompute_scale_factor:
        raise GeometryError("recompute_scale_factor", "is not meaningful with an explicit size")
    axes = SPATIAL_NAMES[ndim]
    scales: tuple[float, ...] | None = None
    formulas = []
    if size is not None:
        out = as_tuple(size, ndim, "size") if not isinstance(size, (tuple, list)) or len(size) == ndim else None
        if out is None:
            raise GeometryError("size", f"must have {ndim} entries (one per spatial dimension), got {size!r}")
        formulas = [f"{axis}: {o} (given)" for axis, o in zip(axes, out)]
    else:
        if isinstance(scale_factor, (tuple, list)):
            if len(scale_factor) != ndim:
                raise GeometryError(
                    "scale_factor", f"must have {ndim} entries (one per spatial dimension), got {scale_factor!r}"
                )
            factors = tuple(scale_factor)
        else:
            factors = (scale_factor,) * ndim
        if not all(isinstance(f, numbers.Real) and not isinstance(f, bool) for f in factors):
            raise GeometryError("scale_factor", f"must be a number or a tuple of numbers, got {scale_factor!r}")
        factors = tuple(float(f) for f in factors)
        # torch truncates n * scale_factor towards zero (a C++ int cast)
        out = tuple(int(n * f) for n, f in zip(shape[1:], factors))
        formulas = [f"{axis}: trunc({n} * {f:g}) = {o}" for axis, n, f, o in zip(axes, shape[1:], factors, out)]
        scales = None if recompute_scale_factor else factors
    for o, axis in zip(out, axes):
        if o <= 0:
            raise GeometryError("size", f"the output size on {axis} must be positive, got {o}")
    return ResampleGeometry(
        mode=mode,
        input_shape=shape,
        output_shape=(shape[0], *out),
        align_corners=align_corners,
        scale_factors=scales,
        formulas=tuple(formulas),
    )
