"""How a formula is written for a reader: × for products, − (U+2212) for minus, → for arrows.

The engine's formulas (`Geometry.formulas`) stay plain ASCII, so tests can evaluate them against torch; every
place that shows one to a reader (frames, captions, the gallery page) writes it through `typeset`.
"""

from __future__ import annotations

TIMES = "\u00d7"
MINUS = "\u2212"
ARROW = "\u2192"


def shape_text(sizes) -> str:
    """A shape or a window's size as every picture writes it, a product of sizes unspaced: `3×5×5`, a kernel
    `3×3`, a 1D input `1×12`, a vector `8`. Not `(3, 5, 5)`: a tuple is how a per-axis argument is written."""
    return TIMES.join(str(n) for n in sizes)


def per_dim_text(values: tuple[int, ...]) -> str:
    """A per-axis argument (stride, dilation, padding, output_padding) as torch takes it: one number when every
    axis has the same, else the tuple, `2` or `(2, 1)`. Not `2×2`: that is how sizes (kernel, shapes) are written."""
    if len(set(values)) == 1:
        return str(values[0])
    return "(" + ", ".join(str(v) for v in values) + ")"


def pads_text(pads) -> str:
    """Padding, (before, after) per axis, as torch takes it (`per_dim_text`), an axis padded unevenly as
    before/after: `1`, `(2, 1)`, `2/0` (every axis 2 before and 0 after), `(1, 2/0)`."""
    pads = tuple(pads)
    if all(b == a for b, a in pads):
        return per_dim_text(tuple(b for b, _ in pads))
    per_axis = [str(b) if b == a else f"{b}/{a}" for b, a in pads]
    return per_axis[0] if len(set(per_axis)) == 1 else "(" + ", ".join(per_axis) + ")"


def merged_formulas(formulas) -> list[str]:
    """Per-axis formulas ("H: …", "W: …") with the axes whose arithmetic is the same written once, in order: a
    square case reads `H, W: floor(…) + 1 = 7`, not the same arithmetic twice."""
    axes_of: dict[str, list[str]] = {}
    for line in formulas:
        axis, _, arithmetic = line.partition(": ")
        axes_of.setdefault(arithmetic, []).append(axis)
    return [f"{', '.join(axes)}: {arithmetic}" for arithmetic, axes in axes_of.items()]


def typeset(text: str) -> str:
    """`text` with `*` as ×, `->` as → and every ASCII minus as −."""
    return text.replace("->", ARROW).replace("*", TIMES).replace("-", MINUS)
