"""Rules that join several keys (run after each key passed its own checks; failed keys are skipped).

Every shape and cross-argument rule comes from the engine's geometry functions; this module only
maps their `GeometryError(argument, ...)` to scene keys and adds the limits that keep a scene small
enough to draw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from convgif.engine.geometry import Geometry
from convgif.errors import GeometryError
from convgif.scene import caption as captions
from convgif.ops import OpFamily, family_of
from convgif.scene.problems import Problem
from convgif.scene.spec import (
    MAX_INPUT_ELEMENTS,
    MAX_SPATIAL_SIZE,
    FINAL,
    InputSpec,
    OpSpec,
    OutputSpec,
    RenderSpec,
    WeightsSpec,
)
from convgif.engine.notation import shape_text
from convgif.scene.values import PRESETS, shape_tuple
from convgif.suggest import did_you_mean


@dataclass(frozen=True)
class Parts:
    """What passed per-key validation. A section is None when it could not be built at all."""

    op: OpSpec | None
    op_keys_given: tuple[str, ...]
    input: InputSpec | None
    weights: WeightsSpec | None
    weights_given: bool
    render: RenderSpec | None
    caption: str | None
    failed: frozenset[str]  # dotted keys (and whole sections) that already have a problem
    output: OutputSpec | None = None  # when given, key_steps / svg_step are checked against the step count


def geometry_key(argument: str) -> str:
    return "input.shape" if argument == "input_shape" else f"op.{argument}"


def cross_check(parts: Parts) -> list[Problem]:
    problems: list[Problem] = []
    op, failed = parts.op, parts.failed
    if op is None:
        return problems
    kind = op.kind
    family = family_of(kind)
    for key in parts.op_keys_given:
        if key in OpSpec.model_fields and key not in family.keys and f"op.{key}" not in failed:
            problems.append((f"op.{key}", f"not used by {kind} (its keys: {', '.join(family.keys)})"))

    if parts.weights_given and not family.has_weights:
        problems.append(("weights", f"{kind} has no weights (remove the [weights] table)"))

    render = parts.render
    view_known = render is not None and "render.view" not in failed and render.view in (None, *family.view_names)
    if render is not None and not view_known and "render.view" not in failed:
        views = family.view_names
        problems.append(("render.view", f"{render.view!r} is not a view of {kind} (one of {', '.join(views)})"
                         + did_you_mean(render.view, views)))

    if parts.caption is not None:
        for name in dict.fromkeys(captions.placeholders(parts.caption)):
            if name not in captions.applicable(kind):
                problems.append(("caption", f"{{{name}}} does not apply to {kind} "
                                 f"(placeholders for {kind}: {', '.join(captions.applicable(kind))})"))

    if parts.input is not None and parts.input.labels is not None and kind != "conv1d" \
            and "input.labels" not in failed and "input.shape" not in failed and len(parts.input.shape) == 2:
        problems.append(("input.labels", f"are drawn by conv1d frames only, not by {kind} (remove input.labels)"))

    if "kernel_size" in family.keys and op.kernel_size is None and "op.kernel_size" not in failed:
        problems.append(("op.kernel_size", "required key is missing"))
        return problems
    geometry_ready = (
        parts.input is not None
        and "input.shape" not in failed
        and not any(f"op.{key}" in failed for key in family.keys)
    )
    if not geometry_ready:
        return problems
    try:
        geometry = family.geometry(op, parts.input.shape)
    except GeometryError as error:
        problems.append((geometry_key(error.argument), error.message))
        return problems
    if view_known and geometry.ndim not in family.view(render.view).ndims:
        dims = " or ".join(f"{n}D" for n in family.view(render.view).ndims)
        problems.append(("render.view", f"{render.view!r} draws {dims} operations only, and {kind} is "
                                        f"{geometry.ndim}D (leave render.view out for the default view)"))
        return problems
    size_problems = _size_limits(family, geometry)
    problems += size_problems
    if size_problems:
        return problems
    problems += _weight_rules(family, geometry, parts)
    if view_known:
        total = step_count(family, geometry, render.view)
        problems += _step_rules(total, render, parts)
        if parts.output is not None:
            problems += output_step_problems(parts.output, total)
    return problems


def step_count(family: OpFamily, geometry: Geometry, view: str | None) -> int:
    """Steps before sampling: one per output element, or per input element where the view steps over the input."""
    over_input = family.view(view).steps_over == "input"
    return math.prod(geometry.input_shape if over_input else geometry.output_shape)


def output_step_problems(output: OutputSpec, total: int) -> list[Problem]:
    """`output.key_steps` and `output.svg_step` must name steps this scene has (0..total-1, or "final")."""
    problems: list[Problem] = []
    listed = output.key_steps if isinstance(output.key_steps, tuple) else ()  # None or "all": nothing to check
    outside = [s for s in listed if s != FINAL and s >= total]
    if outside:
        shown = ", ".join(str(i) for i in outside[:5]) + (", ..." if len(outside) > 5 else "")
        problems.append(("output.key_steps", f"step index {shown} out of range (this scene has {total} steps: "
                         f"0..{total - 1}, or \"final\")"))
    if output.svg_step is not None and output.svg_step != FINAL and output.svg_step >= total:
        problems.append(("output.svg_step", f"step index {output.svg_step} out of range (this scene has {total} "
                         f"steps: 0..{total - 1}, or \"final\")"))
    return problems


def input_values_rule(input_spec: InputSpec | None, failed: frozenset[str]) -> list[Problem]:
    """Nested-list input values must have exactly input.shape (needs only the [input] table)."""
    if input_spec is None or {"input.shape", "input.values"} & failed or isinstance(input_spec.values, str):
        return []
    shape = _nested_shape(input_spec.values)
    if shape != input_spec.shape:
        return [("input.values", f"shape {shape_tuple(shape)} does not match input.shape {shape_tuple(input_spec.shape)}")]
    return []


def input_labels_rule(input_spec: InputSpec | None, failed: frozenset[str]) -> list[Problem]:
    """input.labels: 1D inputs only, one label per position along the last axis (needs only the [input] table)."""
    if input_spec is None or input_spec.labels is None or {"input.shape", "input.labels"} & failed:
        return []
    shape = input_spec.shape
    if len(shape) != 2:
        return [("input.labels", f"is for 1D inputs (C, L), but input.shape {shape_tuple(shape)} is 2D "
                 "(remove input.labels)")]
    if len(input_spec.labels) != shape[-1]:
        return [("input.labels", f"has {len(input_spec.labels)} labels but the input has {shape[-1]} positions "
                 f"(input.shape {shape_tuple(shape)}: one label per position)")]
    return []


def _nested_shape(values) -> tuple[int, ...]:
    shape = []
    while isinstance(values, tuple):
        shape.append(len(values))
        values = values[0]
    return tuple(shape)


def _too_big(what: str, shape: tuple[int, ...], advice: str) -> str | None:
    elements = math.prod(shape)
    if elements > MAX_INPUT_ELEMENTS:
        return f"{what} {shape_tuple(shape)} would have {elements} elements, more than the {MAX_INPUT_ELEMENTS} allowed ({advice})"
    if any(n > MAX_SPATIAL_SIZE for n in shape[1:]):
        return f"{what} {shape_tuple(shape)} would be wider than {MAX_SPATIAL_SIZE} cells ({advice})"
    return None


def _size_limits(family: OpFamily, geometry: Geometry) -> list[Problem]:
    """Derived arrays must stay drawable: output, padded input, weight, window span, zero-inserted input."""
    problems: list[Problem] = []
    for n, k, d in zip(geometry.effective_kernel_size, geometry.kernel_size, geometry.dilation):
        if n > MAX_SPATIAL_SIZE:
            key = "op.kernel_size" if k > MAX_SPATIAL_SIZE else "op.dilation"
            problems.append((key, f"the window spans {n} cells (1 + {d}*({k}-1)), more than the "
                             f"{MAX_SPATIAL_SIZE} allowed (a fixed limit)"))
            return problems
    message = _too_big("the output", geometry.output_shape, "a fixed limit: use a smaller input or op")
    if message:
        problems.append(("op", message))
    message = None if not family.padding_grows_input else _too_big(
        "the padded input", geometry.padded_input_shape, "a fixed limit: use less padding")
    if message:
        problems.append(("op.padding", message))
    if geometry.weight_shape:
        message = _too_big("the weight", geometry.weight_shape, "a fixed limit: use fewer channels or a smaller kernel")
        if message:
            problems.append(("op", message))
    if family.size_problems is not None:
        problems += family.size_problems(geometry, MAX_SPATIAL_SIZE)
    return problems


def _weight_rules(family: OpFamily, geometry: Geometry, parts: Parts) -> list[Problem]:
    op, weights, failed = parts.op, parts.weights, parts.failed
    if weights is None or not family.has_weights:
        return []
    problems: list[Problem] = []
    values = weights.values
    if "weights.values" not in failed:
        if isinstance(values, str) and values in PRESETS:
            if geometry.ndim != 2 or geometry.kernel_size != (3, 3):
                problems.append(("weights.values", f"preset {values!r} is a 3×3 kernel for 2D convolutions, but this "
                                 f"{op.kind} has a {shape_text(geometry.kernel_size)} kernel "
                                 "(use op.kernel_size = 3 in a 2D convolution)"))
        elif not isinstance(values, str):
            shape = _nested_shape(values)
            if shape != geometry.weight_shape:
                layout = family.weight_layout.format(kernel="kH, kW" if geometry.ndim == 2 else "k")
                problems.append(("weights.values", f"shape {shape_tuple(shape)} does not match the weight shape "
                                 f"{shape_tuple(geometry.weight_shape)} of this {op.kind} {layout}"))
    bias = weights.bias
    if "weights.bias" not in failed and bias is not None:
        if not op.bias:
            problems.append(("weights.bias", "is given but op.bias = false (remove weights.bias or set op.bias = true)"))
        elif isinstance(bias, tuple) and (len(bias),) != geometry.bias_shape:
            what = ("op.out_features", "feature") if op.kind == "linear" else ("op.out_channels", "channel")
            problems.append(("weights.bias", f"has {len(bias)} values but {what[0]} = {geometry.bias_shape[0]} "
                             f"(one per output {what[1]})"))
    return problems


def _step_rules(total: int, render: RenderSpec, parts: Parts) -> list[Problem]:
    if {"render.steps", "render.max_frames"} & parts.failed:
        return []
    steps = render.steps
    if steps == "all":
        chosen = total
    elif isinstance(steps[0], str):
        how, count = steps
        chosen = min(count, total) if how == "first" else -(-total // count)
    else:
        outside = [i for i in steps if i >= total]
        if outside:
            shown = ", ".join(str(i) for i in outside[:5]) + (", ..." if len(outside) > 5 else "")
            return [("render.steps", f"step index {shown} out of range (this scene has {total} steps: 0..{total - 1})")]
        chosen = len(steps)
    if chosen > render.max_frames:
        return [("render.steps", f"{chosen} step frames exceed render.max_frames={render.max_frames} "
                 "(raise render.max_frames or sample with render.steps = {every = k})")]
    return []


__all__ = ["Parts", "cross_check", "input_values_rule", "input_labels_rule", "geometry_key", "output_step_problems"]
