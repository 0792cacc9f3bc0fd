"""conv_geometry / conv_transpose_geometry against torch modules: shapes, parameter counts, costs, formulas."""

from __future__ import annotations

import math
import re

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from convgif.engine.geometry import conv_geometry, conv_transpose_geometry, effective_kernel_size
from convgif.errors import GeometryError

# per-test settings, not a loaded profile: a profile would change every other module's tests too
ORACLE = settings(derandomize=True, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
pytestmark = [
    pytest.mark.filterwarnings("ignore:Initializing zero-element tensors"),
    pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel"),
]

MODES = ("zeros", "reflect", "replicate", "circular")
FORMULA = re.compile(r"(?P<axis>[LHW]): (?P<expr>.+) = (?P<value>-?\d+)")


def evaluate(formula: str) -> tuple[str, int, int]:
    """(axis, value of the expression, value printed after '=') of one formula line."""
    match = FORMULA.fullmatch(formula)
    assert match, formula
    expr = match["expr"]
    assert re.fullmatch(r"[\d\s+\-*/()floor]+", expr), expr  # numbers and arithmetic only
    value = eval(expr.replace("floor", "math.floor"), {"math": math, "__builtins__": {}})
    return match["axis"], value, int(match["value"])


def as_tuple(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def sample(draw, values, ndim):
    return draw(values) if draw(st.booleans()) else tuple(draw(values) for _ in range(ndim))


def mostly(valid, invalid):
    """Usually a valid value, about 5% of the time an invalid one."""
    return st.integers(0, 99).flatmap(lambda roll: st.sampled_from(invalid if roll < 5 else valid))


# ---------------------------------------------------------------- conv_geometry


@st.composite
def conv_config(draw, ndim: int):
    groups = draw(mostly([1, 1, 2, 3], [0, 4]))
    in_channels = draw(mostly([max(groups, 1) * m for m in (1, 2)], [1, 3]))
    out_channels = draw(mostly([max(groups, 1) * m for m in (1, 2, 3)], [0, 5]))
    input_shape = (in_channels, *[draw(mostly([3, 4, 5, 6, 7, 9], [0, 1, 2])) for _ in range(ndim)])
    kernel = sample(draw, mostly([1, 2, 3], [0, 4, 6]), ndim)
    stride = sample(draw, mostly([1, 1, 2, 3], [0, -1]), ndim)
    dilation = sample(draw, mostly([1, 1, 2], [0, 3]), ndim)
    kind = draw(mostly(["int", "tuple", "same", "valid"], ["bad"]))
    if kind in ("int", "tuple"):
        padding = sample(draw, mostly([0, 1, 2], [-1, 3, 5]), ndim) if kind == "tuple" else draw(mostly([0, 1, 2], [-1, 4]))
    elif kind == "bad":
        padding = "full"
    else:
        padding = kind
    return dict(
        input_shape=input_shape, out_channels=out_channels, kernel_size=kernel, stride=stride, padding=padding,
        dilation=dilation, groups=groups, bias=draw(st.booleans()), padding_mode=draw(st.sampled_from(MODES)),
    )


def torch_conv_module(cfg):
    ndim = len(cfg["input_shape"]) - 1
    padding = cfg["padding"]
    if cfg["padding_mode"] != "zeros" and any(
        p < 0 for p in ([padding] if isinstance(padding, int) else padding if isinstance(padding, tuple) else [])
    ):
        # nn.ConvNd hands a negative pad to F.pad, which crops; we refuse negative padding in every mode.
        raise ValueError("negative padding refused on purpose")
    return (nn.Conv1d if ndim == 1 else nn.Conv2d)(
        cfg["input_shape"][0], cfg["out_channels"], cfg["kernel_size"], cfg["stride"], padding,
        cfg["dilation"], cfg["groups"], cfg["bias"], cfg["padding_mode"],
    )


def check_conv_geometry(cfg):
    try:
        module = torch_conv_module(cfg)
        with torch.no_grad():
            out = module(torch.zeros(1, *cfg["input_shape"]))
        torch_error = None
    except (RuntimeError, ValueError, TypeError) as error:
        torch_error = error
    try:
        geometry = conv_geometry(**cfg)
        our_error = None
    except GeometryError as error:
        our_error = error
    event("rejected" if torch_error else "accepted")
    assert (our_error is None) == (torch_error is None), f"torch: {torch_error!r}; convgif: {our_error!r}"
    if our_error is not None:
        assert our_error.argument in {
            "input_shape", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "padding_mode"
        }
        return
    assert geometry.output_shape == tuple(out.shape[1:])
    assert geometry.weight_shape == tuple(module.weight.shape)
    assert geometry.bias_shape == (() if module.bias is None else tuple(module.bias.shape))
    assert geometry.params == sum(p.numel() for p in module.parameters())
    k = module.kernel_size
    cin, cout, g = cfg["input_shape"][0], cfg["out_channels"], cfg["groups"]
    assert geometry.macs == math.prod(out.shape[1:]) * (cin // g) * math.prod(k)
    assert geometry.effective_kernel_size == tuple(1 + d * (kk - 1) for kk, d in zip(k, module.dilation))
    assert geometry.in_channels == cin and geometry.out_channels == cout
    # the padded grid torch's conv sees
    pad_flat = [v for before, after in reversed(geometry.padding) for v in (before, after)]
    padded = F.pad(torch.zeros(1, *cfg["input_shape"]), pad_flat)
    assert geometry.padded_input_shape == tuple(padded.shape[1:])
    assert len(geometry.formulas) == len(k) and geometry.formula == "; ".join(geometry.formulas)
    for formula, axis, torch_size in zip(geometry.formulas, "HW" if len(k) == 2 else "L", out.shape[2:]):
        got_axis, evaluated, printed = evaluate(formula)
        assert (got_axis, evaluated, printed) == (axis, torch_size, torch_size), formula


@settings(ORACLE, max_examples=200)
@given(conv_config(1))
def test_conv1d_geometry_matches_torch(cfg):
    check_conv_geometry(cfg)


@settings(ORACLE, max_examples=200)
@given(conv_config(2))
def test_conv2d_geometry_matches_torch(cfg):
    check_conv_geometry(cfg)


def test_known_conv_formula():
    geometry = conv_geometry((1, 7, 7), 1, 3, stride=2, padding=1, dilation=2)
    assert geometry.formulas[0] == "H: floor((7 + 2*1 - 2*(3 - 1) - 1) / 2) + 1 = 3"
    assert evaluate(geometry.formulas[0])[1:] == (3, 3)
    torch_out = nn.Conv2d(1, 1, 3, stride=2, padding=1, dilation=2)(torch.zeros(1, 1, 7, 7))
    assert geometry.output_shape == tuple(torch_out.shape[1:]) == (1, 3, 3)


def test_same_padding_formula_shows_both_sides():
    # even kernel: torch pads one more cell after than before
    geometry = conv_geometry((1, 6, 6), 1, (4, 3), padding="same")
    assert geometry.padding == ((1, 2), (1, 1))
    assert geometry.formulas[0] == "H: floor((6 + 1 + 2 - 1*(4 - 1) - 1) / 1) + 1 = 6"
    assert evaluate(geometry.formulas[0])[1:] == (6, 6)


def test_effective_kernel_size():
    assert effective_kernel_size((3, 3), (4, 2)) == (9, 5)
    assert effective_kernel_size((1,), (7,)) == (1,)


def test_catalogue_parameter_count():
    # A10: k*k*Cin*Cout (+ Cout)
    with_bias = conv_geometry((3, 7, 7), 2, 3)
    without = conv_geometry((3, 7, 7), 2, 3, bias=False)
    assert with_bias.params == 3 * 3 * 3 * 2 + 2 == sum(p.numel() for p in nn.Conv2d(3, 2, 3).parameters())
    assert without.params == 3 * 3 * 3 * 2


@pytest.mark.parametrize("shape", [(True, 5, 5), (1.0, 5, 5), (1, 5), (1, 2, 3, 4), (1, 0, 5)])
def test_bad_input_shapes(shape):
    if len(shape) == 2:  # (1, 5) is a fine conv1d shape, but not for a 2D kernel tuple
        with pytest.raises(GeometryError) as caught:
            conv_geometry(shape, 1, (3, 3))
        assert caught.value.argument == "kernel_size"
        return
    with pytest.raises(GeometryError) as caught:
        conv_geometry(shape, 1, 3)
    assert caught.value.argument == "input_shape"


# ---------------------------------------------------------------- conv_transpose_geometry


@st.composite
def transpose_config(draw, ndim: int):
    groups = draw(mostly([1, 1, 2], [0, 3]))
    in_channels = draw(mostly([max(groups, 1) * m for m in (1, 2)], [1, 3]))
    out_channels = draw(mostly([max(groups, 1) * m for m in (1, 2)], [0, 3]))
    input_shape = (in_channels, *[draw(mostly([1, 2, 3, 4, 5], [0])) for _ in range(ndim)])
    stride = sample(draw, mostly([1, 2, 3], [0]), ndim)
    dilation = sample(draw, mostly([1, 2], [0]), ndim)
    return dict(
        input_shape=input_shape, out_channels=out_channels,
        kernel_size=sample(draw, mostly([1, 2, 3, 4], [0]), ndim), stride=stride,
        padding=sample(draw, mostly([0, 0, 1, 2], [-1, 3, 5]), ndim),
        output_padding=sample(draw, st.integers(0, 3), ndim),  # often >= stride and dilation
        groups=groups, bias=draw(st.booleans()), dilation=dilation,
    )


def check_transpose_geometry(cfg):
    ndim = len(cfg["input_shape"]) - 1
    try:
        module = (nn.ConvTranspose1d if ndim == 1 else nn.ConvTranspose2d)(
            cfg["input_shape"][0], cfg["out_channels"], cfg["kernel_size"], cfg["stride"], cfg["padding"],
            cfg["output_padding"], cfg["groups"], cfg["bias"], cfg["dilation"],
        )
        with torch.no_grad():
            out = module(torch.zeros(1, *cfg["input_shape"]))
        torch_error = None
        if min(as_tuple(cfg["dilation"])) <= 0:
            # torch's depthwise transposed path skips its own "dilation should be greater than zero"
            # check (other paths raise); we refuse dilation 0 everywhere.
            torch_error = ValueError("dilation 0 refused on purpose")
    except (RuntimeError, ValueError, TypeError) as error:
        torch_error = error
    try:
        geometry = conv_transpose_geometry(**cfg)
        our_error = None
    except GeometryError as error:
        our_error = error
    event("rejected" if torch_error else "accepted")
    assert (our_error is None) == (torch_error is None), f"torch: {torch_error!r}; convgif: {our_error!r}"
    if our_error is not None:
        assert our_error.argument in {
            "input_shape", "out_channels", "kernel_size", "stride", "padding", "output_padding", "dilation", "groups"
        }
        return
    assert geometry.output_shape == tuple(out.shape[1:])
    assert geometry.weight_shape == tuple(module.weight.shape)
    assert geometry.params == sum(p.numel() for p in module.parameters())
    cin, cout, g = cfg["input_shape"][0], cfg["out_channels"], cfg["groups"]
    # every input element is multiplied by every tap of the (C_out/groups) kernels of its group
    assert geometry.macs == math.prod(cfg["input_shape"]) * (cout // g) * math.prod(module.kernel_size)
    for formula, axis, torch_size in zip(geometry.formulas, "HW" if ndim == 2 else "L", out.shape[2:]):
        assert evaluate(formula) == (axis, torch_size, torch_size), formula


@settings(ORACLE, max_examples=150)
@given(transpose_config(1))
def test_conv_transpose1d_geometry_matches_torch(cfg):
    check_transpose_geometry(cfg)


@settings(ORACLE, max_examples=150)
@given(transpose_config(2))
def test_conv_transpose2d_geometry_matches_torch(cfg):
    check_transpose_geometry(cfg)


def test_known_transpose_formulas():
    # C9 / C11: K 3, S 2, P 1 maps 6x6 and 5x5 to 3x3; output_padding=1 picks 6x6 on the way back
    geometry = conv_transpose_geometry((1, 3, 3), 1, 3, stride=2, padding=1, output_padding=1)
    assert geometry.formulas[0] == "H: (3 - 1)*2 - 2*1 + 1*(3 - 1) + 1 + 1 = 6"
    assert evaluate(geometry.formulas[0]) == ("H", 6, 6)
    big = conv_transpose_geometry((1, 32, 32), 1, 3, stride=2, padding=1, output_padding=1)
    torch_out = nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1)(torch.zeros(1, 1, 32, 32))
    assert big.output_shape == tuple(torch_out.shape[1:]) == (1, 64, 64)


def test_transpose_rejects_string_padding():
    with pytest.raises(GeometryError) as caught:
        conv_transpose_geometry((1, 3, 3), 1, 3, padding="same")
    assert caught.value.argument == "padding"


def test_a_max_pool_compares_and_has_no_multiply_adds():
    """A max pool keeps the largest of a window's values: taps − 1 comparisons a window, no multiply-adds (its deck
    said "multiply-adds: 36", and a chain's total counted them). Average and power-average pools scale a sum: one
    multiply-add a tap, as before."""
    from pathlib import Path

    from convgif.engine.geometry import pool_geometry
    from convgif.scene import load_scene
    from convgif.sources import frame_source

    pooled = pool_geometry("max_pool2d", (1, 6, 6), kernel_size=2, stride=2)
    assert (pooled.macs, pooled.comparisons) == (0, 9 * 3)
    averaged = pool_geometry("avg_pool2d", (1, 6, 6), kernel_size=2, stride=2)
    assert (averaged.macs, averaged.comparisons) == (9 * 4, 0)
    scenes = Path(__file__).resolve().parent.parent / "scenes"
    assert "comparisons: 27" in frame_source(load_scene(scenes / "c05_max_pool.toml")).deck().facts
    chain = load_scene(scenes / "c06_chain_conv_relu_pool_linear.toml").info()
    assert [stage["macs"] for stage in chain["stages"]] == [2 * 4 * 4 * 9, 0, 0, 0, 3 * 8]  # conv, relu, pool, flatten, linear
    assert chain["macs"] == 288 + 24
