"""What an op-family record holds: its kinds, `[op]` keys, geometry, caption and the views that draw it.

A view names its layout as "module:Class" (imported on first use by the pipeline, as imageio names its
plugins), so this layer stays below `scene` and `render` and imports only the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any, Literal

from convgif.engine.geometry import Geometry

# (input (N, C, *spatial), weight or None, bias or None, the resolved geometry, the `[op]` table) -> a trace
TraceBuilder = Callable[[Any, Any, Any, Geometry, Any], Any]


@dataclass(frozen=True, slots=True)
class OpView:
    """One way to draw a family's operation: the trace it needs and the layout that draws that trace."""

    name: str  # the `[render] view` value
    trace: TraceBuilder
    layout: str  # "module:Class" of its layout (convgif.render.layout.Layout)
    steps_over: Literal["output", "input"] = "output"  # one step per output element, or per input element
    description: str = ""
    ndims: tuple[int, ...] = (1, 2)  # the spatial dimensions it draws (the volume view: 2D only)
    # the label keys of its alt-text sentences, longest first (convgif.alt fills them: kind, kernels, count, input,
    # output, and for a transposed conv the zero-inserted grid)
    alt: tuple[str, ...] = ("alt_window", "alt_window_short")

    def layout_type(self) -> type:
        module, _, name = self.layout.partition(":")
        return getattr(import_module(module), name)


@dataclass(frozen=True, slots=True)
class OpFamily:
    """Everything convgif knows about one family of torch operations, in one place."""

    name: str  # 'conv', 'conv_transpose', 'max_pool', ...
    kinds: tuple[str, ...]  # the `op.kind` values, e.g. conv1d, conv2d
    keys: tuple[str, ...]  # the `[op]` keys that mean something for these kinds
    geometry: Callable[[Any, tuple[int, ...]], Geometry]  # ([op] table, input shape) -> the engine's geometry
    views: tuple[OpView, ...]  # the first one is the default
    caption: str  # the default caption template: the output-size arithmetic (`{formula}`), or "" for none
    placeholders: tuple[str, ...] = ()  # caption placeholders of this family beyond the common ones
    has_weights: bool = False
    weight_layout: str = ""  # how its weight is laid out, e.g. "(C_out, C_in/groups, kH, kW)" in 2D
    padding_grows_input: bool = True  # False where padding crops the output instead (transposed conv)
    # extra size limits: (geometry, limit) -> [(dotted key, message)]
    size_problems: Callable[[Geometry, int], list[tuple[str, str]]] | None = None

    @property
    def default_view(self) -> OpView:
        return self.views[0]

    @property
    def view_names(self) -> tuple[str, ...]:
        return tuple(view.name for view in self.views)

    def view(self, name: str | None) -> OpView:
        """The named view (None: the default); KeyError for a name the family does not have."""
        if name is None:
            return self.default_view
        for view in self.views:
            if view.name == name:
                return view
        raise KeyError(name)
