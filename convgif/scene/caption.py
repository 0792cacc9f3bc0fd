"""Caption placeholders: which exist, which apply to which op, and filling them in.

How values are written (the same everywhere):
- shapes (`input_shape`, `output_shape`, `weight_shape`) and sizes of a window (`kernel_size`,
  `effective_kernel_size`), as the frames' headers write them: `2×7×7`, `3×3`, `5×2`; in 1D `1×12`, `3`;
  `weight_shape` of a pool: `none`
- per-dimension arguments (`stride`, `dilation`, `output_padding`): `2` when every dimension agrees,
  else `(1, 3)`, the way torch's arguments are written
- `padding`: the resolved pads ('same' shows the numbers it chose), as the frames write them: `1`, `(1, 2)`
  for per-dimension pads, `2/0` for an axis padded 2 before and 0 after, `(0/1, 1)`
- counts (`groups`, `in_channels`, `out_channels`, `params`, `macs`): plain integers
- flags (`bias`, `ceil_mode`, `count_include_pad`): `yes` / `no`; `norm_type`: `2` or `1.5`
- `formula`: the engine's output-size formula with the numbers filled in, written once for axes where it
  is the same (`H, W: floor((7 + 2*1 - 1*(3-1) - 1) / 1) + 1 = 7`); `kind`: `conv2d`

Placeholders are looked up by name only: `{name}`. Attribute access, indexing, conversions and format
specs are refused, and nothing in a caption is evaluated. `{{` and `}}` write literal braces.
"""

from __future__ import annotations

import string
from typing import Any

from convgif.engine.geometry import Geometry
from convgif.engine.notation import typeset
from convgif.ops import FAMILIES, family_of
from convgif.engine.notation import merged_formulas, pads_text, per_dim_text, shape_text
from convgif.scene.values import number_text
from convgif.suggest import did_you_mean

# placeholders every op has; each family's record adds its own (OpFamily.placeholders)
COMMON = ("input_shape", "output_shape", "kernel_size", "stride", "padding", "dilation", "in_channels",
          "out_channels", "params", "macs", "formula", "effective_kernel_size", "kind")
ALL = tuple(dict.fromkeys(COMMON + tuple(name for family in FAMILIES for name in family.placeholders)))


def applicable(kind: str) -> tuple[str, ...]:
    """The placeholders that mean something for `kind`."""
    return COMMON + family_of(kind).placeholders


def default_caption(kind: str) -> str:
    return family_of(kind).caption


def _parts(template: str) -> list[tuple[str, str | None]]:
    """(literal text, placeholder name or None) pieces; raises ValueError with a user-facing message."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        raise ValueError("has an unmatched '{' or '}' (write {{ and }} for literal braces)") from None
    parts = []
    wrong = []  # every bad placeholder, so one message names them all
    for literal, name, spec, conversion in parsed:
        if name is None:
            parts.append((literal, None))
            continue
        if spec or conversion or not name.isidentifier():
            whole = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            wrong.append(f"{whole[:40]} is not a placeholder (write {{name}} only)")
        elif name not in ALL:
            wrong.append(f"unknown placeholder {{{name}}}" + did_you_mean(name, ALL, braces=True))
        parts.append((literal, name))
    if wrong:
        listing = "" if all("did you mean" in w for w in wrong) else f" (placeholders: {', '.join(ALL)})"
        raise ValueError("; ".join(dict.fromkeys(wrong)) + listing)
    return parts


def placeholders(template: str) -> list[str]:
    """The placeholder names in `template`, in order (ValueError on unknown ones or stray braces)."""
    return [name for _, name in _parts(template) if name is not None]


def values(op: Any, geometry: Geometry) -> dict[str, str]:
    """Every applicable placeholder's text for this op (its `[op]` table) and geometry."""
    flag = {True: "yes", False: "no"}
    texts = {
        "input_shape": shape_text(geometry.input_shape),
        "output_shape": shape_text(geometry.output_shape),
        "kernel_size": shape_text(geometry.kernel_size),
        "effective_kernel_size": shape_text(geometry.effective_kernel_size),
        "stride": per_dim_text(geometry.stride),
        "dilation": per_dim_text(geometry.dilation),
        "padding": pads_text(geometry.padding),
        "in_channels": str(geometry.in_channels),
        "out_channels": str(geometry.out_channels),
        "params": str(geometry.params),
        "macs": str(geometry.macs),
        "formula": formula_text(geometry.formulas),
        "kind": op.kind,
        "weight_shape": shape_text(geometry.weight_shape) if geometry.weight_shape else "none",
        "groups": str(geometry.groups),
        "bias": flag[bool(geometry.bias_shape)],
        "padding_mode": geometry.padding_mode,
        "output_padding": per_dim_text(geometry.output_padding) if geometry.output_padding else "0",
        "ceil_mode": flag[bool(op.ceil_mode)],
        "count_include_pad": flag[bool(op.count_include_pad)],
        "norm_type": number_text(op.norm_type),
    }
    return {name: texts[name] for name in applicable(op.kind)}


def formula_text(formulas: tuple[str, ...]) -> str:
    """Per-axis formulas ("H: ...", "W: ...") joined by "; ", with axes whose formula is the same written once:
    a square case reads `H, W: floor(...) + 1 = 7` instead of the same arithmetic twice. Typeset (× −) for readers."""
    return "; ".join(typeset(line) for line in merged_formulas(formulas))


def fill(template: str, texts: dict[str, str]) -> str:
    """`template` with each placeholder replaced by its text (plain substitution, nothing evaluated)."""
    return "".join(literal + (texts[name] if name is not None else "") for literal, name in _parts(template))
