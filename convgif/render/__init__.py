"""Rendering: traces -> RGB frames (layout as pixel primitives, painted by matplotlib once and Pillow per frame)."""

from convgif.render.theme import Theme, get_theme, theme_names
from convgif.render.view import ConvView

__all__ = ["ConvView", "Theme", "get_theme", "theme_names"]
