"""Rendering: traces -> RGB frames (layout as pixel primitives, painted by matplotlib once and Pillow per frame).

Which layout draws which trace is said by the op-family records (`convgif.ops`): `View(trace, layout_type, ...)`.
"""

from convgif.render.theme import Theme, get_theme, theme_names
from convgif.render.view import View

__all__ = ["Theme", "View", "get_theme", "theme_names"]
