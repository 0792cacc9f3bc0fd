"""How a formula is written for a reader: × for products, − (U+2212) for minus, → for arrows.

The engine's formulas (`Geometry.formulas`) stay plain ASCII, so tests can evaluate them against torch; every
place that shows one to a reader (frames, captions, the gallery page) writes it through `typeset`.
"""

from __future__ import annotations

TIMES = "\u00d7"
MINUS = "\u2212"
ARROW = "\u2192"


def typeset(text: str) -> str:
    """`text` with `*` as ×, `->` as → and every ASCII minus as −."""
    return text.replace("->", ARROW).replace("*", TIMES).replace("-", MINUS)
