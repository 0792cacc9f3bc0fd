"""Chains: `[[ops]]` instead of `[op]`, each stage an op scene whose input is the previous stage's output.

Every stage is validated as an `[op]` table would be, its problems named `ops[k].key`; a shape that does not
flow from one stage into the next names both stages. The validated chain builds one `OpSceneSpec` per stage (the
first reads `[input]`, each later one the numbers the stage before it computed), so that every stage is drawn,
counted and checked by exactly the code that draws a single op.
"""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from convgif.errors import GeometryError, SceneError
from convgif.ops import family_of
from convgif.scene.problems import Problem, one_line, unknown_key
from convgif.scene.rules import Parts, cross_check, input_labels_rule, input_values_rule, output_step_problems
from convgif.scene.sections import read_sections, validate_section
from convgif.scene.spec import (
    MAX_STAGES, SECTIONS, InputSpec, OpSceneSpec, OpSpec, SceneSpec, StageRenderSpec, WeightsSpec, read_words,
)
from convgif.scene.values import shape_tuple, show

STAGE_SECTIONS = ("weights", "render")  # the tables an [[ops]] table may hold besides its op keys


class ChainSceneSpec(SceneSpec):
    """A validated chain: the stages' `[op]` tables, weights and render choices, and the first stage's input."""

    scene_type: ClassVar[str] = "chain"
    ops: tuple[OpSpec, ...]
    input: InputSpec
    stage_weights: tuple[WeightsSpec | None, ...]
    stage_render: tuple[StageRenderSpec | None, ...]

    @property
    def kind(self) -> str:
        return "chain"

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(op.kind for op in self.ops)

    def stages(self) -> tuple[OpSceneSpec, ...]:
        """One op scene per stage, each reading what the stage before it computed."""
        return _stages(self)

    def stage_arrays(self) -> list[dict[str, np.ndarray | None]]:
        """Per stage: `input`, `weight`, `bias` and `output`, as `OpSceneSpec.arrays()` gives them."""
        return [stage.arrays() for stage in self.stages()]

    def arrays(self) -> dict[str, Any]:
        """The chain's `input` and final `output`, and `stages`: one mapping per stage (`input`, `weight`, `bias`,
        `output`)."""
        stages = self.stage_arrays()
        return {"input": stages[0]["input"], "output": stages[-1]["output"], "stages": stages}

    def info(self) -> dict[str, Any]:
        """Shapes, costs and frames of the whole chain, and per stage its kind, output shape, params and macs."""
        stages = self.stages()
        geometries = [stage.geometry() for stage in stages]
        return {
            "input_shape": geometries[0].input_shape,
            "output_shape": geometries[-1].output_shape,
            "params": sum(g.params for g in geometries),
            "macs": sum(g.macs for g in geometries),
            "frames": len(frame_plan(self)) + (sum(what == STEP for what, _, _ in frame_plan(self))
                                               if self.render.quiz else 0),  # a quiz shows each step twice
            "stages": [{"kind": stage.kind, "output_shape": g.output_shape, "params": g.params, "macs": g.macs}
                       for stage, g in zip(stages, geometries)],
        }

    def receptive_field(self) -> list[np.ndarray] | None:
        """With `render.receptive_field`: per tensor (the input, then each stage's output) a boolean array of
        the elements the chosen final output cell (every channel at that position) depends on; else None."""
        cell = self.render.receptive_field
        if cell is None:
            return None
        stages = self.stages()
        final = np.zeros(stages[-1].geometry().output_shape, dtype=bool)
        if final.ndim == 1:
            final[cell] = True
        else:
            final[(slice(None), *cell)] = True
        masks = [final]
        for stage in reversed(stages):
            masks.append(sees(stage, masks[-1]))
        return masks[::-1]

    def caption_text(self) -> str | None:
        return self.caption

    def output_formats(self) -> tuple[str, ...]:
        return self.output.formats or ("gif",)


def sees(stage: OpSceneSpec, wanted: np.ndarray) -> np.ndarray:
    """The input elements of `stage` that reach any `wanted` output element: the stage run with every weight 1
    and no bias (windows, copies and blends keep their shape; nothing can cancel) on one one-hot input per
    element, an input element seen where its output is positive anywhere in `wanted`."""
    geometry, view = stage.geometry(), stage.family.default_view
    weight = stage.weight_array()
    ones = None if weight is None else np.ones_like(weight)
    shape = geometry.input_shape
    seen = np.zeros(shape, dtype=bool)
    for index in np.ndindex(*shape):
        x = np.zeros(shape)
        x[index] = 1.0
        output = np.asarray(view.trace(x, ones, None, geometry, stage.op).output()).reshape(geometry.output_shape)
        seen[index] = bool((output[wanted] > 0).any())
    return seen


@functools.lru_cache(maxsize=16)
def _stages(chain: ChainSceneSpec) -> tuple[OpSceneSpec, ...]:
    stages: list[OpSceneSpec] = []
    x_spec = chain.input
    for k, (op, weights, render) in enumerate(zip(chain.ops, chain.stage_weights, chain.stage_render)):
        stage = OpSceneSpec(source=chain.source, stem=chain.stem, title=chain.title, language=chain.language,
                            op=op, input=x_spec, weights=weights, render=stage_render(chain, k),
                            output=chain.output)
        stages.append(stage)
        output = stage.arrays()["output"]
        x_spec = _given_input(output)
    return tuple(stages)


def _given_input(array: np.ndarray) -> InputSpec:
    """The `[input]` of a stage whose values are the previous stage's output (any rank: a vector after flatten)."""
    return InputSpec.model_construct(shape=tuple(int(n) for n in array.shape), values=_nested(array), seed=0,
                                     range=(0, 9), image=None, labels=None)


def _nested(array: np.ndarray):
    return tuple(_nested(a) for a in array) if array.ndim else float(array)


def stage_render(chain: SceneSpec, k: int):
    """Stage `k`'s `[render]`: the scene's, with the stage's `[ops.render]` steps and view, and an equal share of
    `render.loop_ms`."""
    render = chain.render
    own = chain.stage_render[k]
    # an equal share of what the loop leaves after the hold and the pauses between stages (the chain's hold comes
    # once, at its end); loop_ms 0 (no limit) stays 0
    n = len(chain.ops)
    pauses = (2 * (n - 1) + (n if render.receptive_field is not None else 0)) * pause_ms(render)
    share = max(1, (render.loop_ms - render.hold_ms - pauses) // n) if render.loop_ms else 0
    update: dict[str, Any] = {"loop_ms": share, "hold_ms": 0}
    if own is not None and own.steps is not None:
        update["steps"] = own.steps
    if own is not None:
        update["view"] = own.view
    else:
        update["view"] = None
    return render.model_copy(update=update)


STEP, DONE, TRANSITION, FIELD = "step", "done", "transition", "field"


def pause_ms(render) -> int:
    """How long a stage's finished picture, a transition and a receptive-field frame stay: two steps, at least
    0.8 s."""
    return max(2 * render.duration_ms, 800)


def frame_plan(chain: ChainSceneSpec) -> list[tuple[str, int, int | None]]:
    """Every frame of a chain, in order, as (what, stage, step): before each stage after the first a transition
    (the output becoming its input), the stage's chosen steps, its finished picture ("done"; the last one is the
    hold frame), then, with `render.receptive_field`, one frame per stage from the last back to the first."""
    plan: list[tuple[str, int, int | None]] = []
    stages = chain.stages()
    for k, stage in enumerate(stages):
        if k:
            plan.append((TRANSITION, k, None))
        plan += [(STEP, k, step) for step in stage.step_indices()]
        if k < len(stages) - 1:
            plan.append((DONE, k, None))
    if chain.render.receptive_field is not None:
        plan += [(FIELD, k, None) for k in reversed(range(len(stages)))]
    plan.append((DONE, len(stages) - 1, None))
    return plan


# ---- validation ---------------------------------------------------------------------------------------------

def parse_chain_scene(document: dict, source: str) -> ChainSceneSpec:
    """Validate a document with `[[ops]]` (the loader's helpers passed in: one way to validate a section)."""
    from convgif.scene.spec import SceneFile, explore_problems

    problems: list[Problem] = []
    failed: set[str] = set()
    top_keys = tuple(SceneFile.model_fields)
    for key in document:
        if key not in top_keys:
            problems.append((str(key), unknown_key(key, top_keys)))
    problems += explore_problems(document)
    if "op" in document:
        problems.append(("ops", "cannot be given together with [op] (a scene has one [op] or a list of [[ops]])"))
    if "weights" in document:
        problems.append(("weights", "a chain gives each stage its weights as [ops.weights] under its [[ops]]"))

    texts, text_problems, _ = read_words(document, caption=_caption_text)
    problems += text_problems
    language = texts["language"]

    sections, section_problems, section_failed = read_sections(
        document, {name: SECTIONS[name] for name in ("input", "render", "output")}, required=("input",))
    problems += section_problems
    failed |= section_failed
    if sections["render"] is not None and sections["render"].view is not None:
        problems.append(("render.view", "a chain's stages each have their own views: give it under the stage, as "
                         "[ops.render] view = ..."))
    problems += input_values_rule(sections["input"], frozenset(failed))
    problems += input_labels_rule(sections["input"], frozenset(failed))

    raw_ops = document["ops"]
    if not isinstance(raw_ops, list) or not raw_ops or not all(isinstance(t, dict) for t in raw_ops):
        problems.append(("ops", f"{show(raw_ops)[:60]} is not a list of tables (write [[ops]] with keys under each)"))
        raise SceneError(source, list(dict.fromkeys((one_line(k), one_line(m)) for k, m in problems)))
    if len(raw_ops) > MAX_STAGES:
        problems.append(("ops", f"has {len(raw_ops)} stages, more than the {MAX_STAGES} allowed (a fixed limit)"))
        raise SceneError(source, list(dict.fromkeys((one_line(k), one_line(m)) for k, m in problems)))

    ops, weights_list, renders = [], [], []
    shape = sections["input"].shape if sections["input"] is not None and "input.shape" not in failed else None
    previous = None  # (index, kind) of the stage before
    for k, table in enumerate(raw_ops):
        prefix = f"ops[{k}]"
        op_table = {key: value for key, value in table.items() if key not in STAGE_SECTIONS}
        op, op_problems, op_failed = validate_section(OpSpec, op_table, prefix)
        problems += op_problems
        weights, render, stage_failed = None, None, {f"op.{key.split('.', 1)[1]}" for key in op_failed if "." in key}
        if op is None:
            stage_failed.add("op")
        for name, model in (("weights", WeightsSpec), ("render", StageRenderSpec)):
            raw = table.get(name)
            if raw is None:
                continue
            if not isinstance(raw, dict):
                problems.append((f"{prefix}.{name}", f"{show(raw)} is not a table (write [ops.{name}] under the "
                                 "[[ops]] it belongs to)"))
                stage_failed.add(name)
                continue
            model_value, section_problems, section_failed = validate_section(model, raw, f"{prefix}.{name}")
            problems += section_problems
            stage_failed |= {key.replace(f"{prefix}.", "", 1) for key in section_failed}
            if name == "weights":
                weights = model_value
            else:
                render = model_value
        if weights is not None and "seed" not in table["weights"]:
            weights = weights.model_copy(update={"seed": k + 1})  # stages with default weights differ
        if op is not None and weights is None and family_of(op.kind).has_weights and "weights" not in stage_failed:
            weights = WeightsSpec(seed=k + 1)
        ops.append(op)
        weights_list.append(weights if op is not None and family_of(op.kind).has_weights else None)
        renders.append(render)
        if op is None:
            shape = None
            continue
        stage_problems, shape = _check_stage(k, op, table, shape, previous, weights, render, sections, failed,
                                             stage_failed)
        problems += stage_problems
        previous = (k, op.kind)

    if problems:
        raise SceneError(source, list(dict.fromkeys((one_line(k), one_line(m)) for k, m in problems)))
    output = sections["output"]
    stem = output.name or re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(source).stem).strip(".") or "scene"
    chain = ChainSceneSpec(source=source, stem=stem, title=texts["title"], description=texts["description"],
                           caption=texts["caption"], language=language, catalogue=texts["catalogue"], ops=tuple(ops),
                           input=sections["input"],
                           stage_weights=tuple(weights_list), stage_render=tuple(renders),
                           render=sections["render"], output=output)
    _check_frames(chain)
    _check_field(chain)
    return chain


MAX_FIELD_ELEMENTS = 4096  # the receptive field runs each stage once per input element


def _check_field(chain: ChainSceneSpec) -> None:
    cell = chain.render.receptive_field
    if cell is None:
        return
    stages = chain.stages()
    shape = stages[-1].geometry().output_shape
    spatial = shape if len(shape) == 1 else shape[1:]
    if len(cell) != len(spatial) or any(not 0 <= i < n for i, n in zip(cell, spatial)):
        where = "index" if len(shape) == 1 else ("[t]" if len(spatial) == 1 else "[row, col]")
        raise SceneError(chain.source, [("render.receptive_field", f"{show(list(cell))} is not a cell of the final "
                                         f"output {shape_tuple(shape)} (give {where}, counting from 0)")])
    largest = max(math.prod(stage.geometry().input_shape) for stage in stages)
    if largest > MAX_FIELD_ELEMENTS:
        raise SceneError(chain.source, [("render.receptive_field", f"a tensor of {largest} elements is more than "
                                         f"the {MAX_FIELD_ELEMENTS} a receptive field is traced through "
                                         "(a fixed limit: use a smaller input)")])


def _caption_text(value: Any) -> str:
    """A chain's caption is plain text: placeholders name one op's values, and a chain has several."""
    if not isinstance(value, str):
        raise ValueError(f"{show(value)} is not a string")
    if re.search(r"\{[A-Za-z_]", value):
        raise ValueError("a chain's caption takes no placeholders (they name one op's values; write the text)")
    return value.replace("{{", "{").replace("}}", "}")


def _check_stage(k, op, table, shape, previous, weights, render, sections, failed, stage_failed):
    """Stage k's problems (keys renamed to `ops[k]...`) and its output shape (None when unknown)."""
    if shape is None:
        return [], None
    if k == 0:
        input_spec = sections["input"]
    else:
        input_spec = InputSpec.model_construct(shape=shape, values="random", seed=0, range=(0, 9), image=None,
                                               labels=None)
    chain_render = sections["render"]
    stage_render_spec = None
    if chain_render is not None:
        update = {"view": render.view if render is not None else None}
        if render is not None and render.steps is not None:
            update["steps"] = render.steps
        stage_render_spec = chain_render.model_copy(update=update)
    given = tuple(key for key in table if isinstance(key, str) and key not in STAGE_SECTIONS)
    parts = Parts(op=op, op_keys_given=given,
                  input=input_spec, weights=weights, weights_given="weights" in table, render=stage_render_spec,
                  caption=None, failed=frozenset(stage_failed | ({"input.shape"} if k == 0 and "input.shape" in failed
                                                                else set())))
    problems = []
    for key, message in cross_check(parts):
        problems.append(_stage_problem(k, op, key, message, shape, previous))
    family = family_of(op.kind)
    if problems:
        return problems, None
    try:
        geometry = family.geometry(op, shape)
    except GeometryError:
        return problems, None
    return problems, tuple(geometry.output_shape)


def _stage_problem(k: int, op, key: str, message: str, shape, previous) -> Problem:
    prefix = f"ops[{k}]"
    if key == "input.shape" and previous is not None:
        before, kind = previous
        what = re.sub(r", got .*$", "", message)
        return prefix, f"{op.kind}: input {what}, but ops[{before}] ({kind}) gives {shape_tuple(shape)}"
    if key == "op.in_features" and previous is not None:
        before, kind = previous
        return prefix, (f"linear expects {op.in_features} input features, ops[{before}] ({kind}) gives "
                        f"{shape[-1]}" + (f" (shape {shape_tuple(shape)})" if len(shape) > 1 else ""))
    if key == "op":
        return prefix, message
    if key.startswith("op."):
        return f"{prefix}.{key[3:]}", message
    if key.startswith(("weights", "render")):
        return f"{prefix}.{key}", message
    return key, message


def _check_frames(chain: ChainSceneSpec) -> None:
    total = len(frame_plan(chain))
    problems = output_step_problems(chain.output, total - 1)  # the last frame is "final"
    if problems:
        raise SceneError(chain.source, [(key, message.replace("steps:", "frames before the final one:"))
                                        for key, message in problems])
    if total > chain.render.max_frames:
        raise SceneError(chain.source, [("render.steps", f"the chain has {total} frames, more than "
                                         f"render.max_frames = {chain.render.max_frames} (sample long stages with "
                                         "[ops.render] steps = {every = k}, or raise render.max_frames)")])
