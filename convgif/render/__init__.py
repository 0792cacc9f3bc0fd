"""Rendering: traces -> RGB frames (layout as pixel primitives, painted by matplotlib once and Pillow per frame)."""

from convgif.render.theme import Theme, get_theme, theme_names
from convgif.render.view import ConvView, PoolView, TransposeView, View, make_view

__all__ = ["ConvView", "PoolView", "Theme", "TransposeView", "View", "get_theme", "make_view", "theme_names"]
