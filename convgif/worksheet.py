"""Worksheets: printable exercises with an answer key, every answer read from the engine's traces.

The `worksheet` output format (`convgif.formats`) takes the "variants" selection: instead of pictures, the pipeline
hands its writer (`convgif.encode.worksheet`) one frame per variant built here, each carrying the text and number
grids its pages print and its answers.json entry. A writer is handed frames, and a worksheet needs traces, not
pictures: so this module (beside the pipeline, allowed to read scenes, the engine and the renderer's number
notation) writes everything the writer prints, and the writer only lays it out. That keeps one notation (`×`, `−`,
negatives in parentheses: `convgif.render.primitives`) and keeps `encode` free of `render`.

Variants. Variant k (1..N, N = `output.variants` / `--variants`, default 1) has seed s = k and is the scene with its
values redrawn in the scene's ranges: the input from `input.seed = s` (`input.values = "random"`), the weights and
bias from `weights.seed = s + 2**32` (a chain's stage `ops[i]` from `ops[i].weights.seed = s + (i + 1)·2**32`), so
the input and weight streams are never the same stream. Every other key (shapes, stride, padding, dilation, groups,
bias on/off, pool kind, output_padding, the chain's stages) is the scene's. answers.json lists these keys under
"reproduce": set them in the scene file and `convgif render` shows the same numbers.

Questions. Every stage's output shape; three output cells of the first stage that has arithmetic (conv, transposed
conv, pool, linear), chosen from the variant's seed for variety (one that reads padding when there is padding, one
in another output channel when there are several, one interior), and one cell of each later stage with arithmetic
(its arithmetic reads the previous stage's values, which the answer key prints). relu, flatten and upsample stages
ask their shape only. The arithmetic of a transposed convolution's cell lists the contributions that sum into it:
the input values its zero-insertion (gather) window reads, times the kernel entries they meet; inserted zeros and
padding add nothing and are left out.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from convgif.encode.frame import Frame
from convgif.encode.worksheet import Grid, Grids, Line, SheetVariant, text
from convgif.engine.notation import typeset
from convgif.engine.trace import ConvStep
from convgif.engine.trace_map import MapStep
from convgif.engine.trace_pool import PoolStep
from convgif.engine.trace_transpose import INPUT_VALUE, ZeroInsertionTrace
from convgif.render.labels import label
from convgif.render.layout_pool import fmt_power, fmt_root, fmt_value
from convgif.render.primitives import TIMES, fmt_factor, fmt_number
from convgif.engine.notation import shape_text

WEIGHT_STREAM = 2**32  # weights.seed = seed + WEIGHT_STREAM (chain stage i: seed + (i + 1) * WEIGHT_STREAM)
MAX_SIDE = {1: 24, 2: 12}  # input cells per channel a page prints legibly (9 pt digits in 7 mm cells)
MAX_INPUT_NUMBERS = 300  # all input channels together
MAX_WEIGHT_NUMBERS = 300  # one stage's weight
MAX_PRINTED_OUTPUT = 600  # the answer key prints a stage's whole output up to this many numbers...
MAX_PRINTED_COLUMNS = 20  # ...and this many columns (a row of A4 at 9 pt)
FIRST_CELLS, LATER_CELLS = 3, 1  # cells asked in the first stage with arithmetic, and in each later one
ARITHMETIC = ("conv", "conv_transpose", "max_pool", "avg_pool", "lp_pool", "linear")  # families with cells to ask
WORK_ROOM_MM = 24.0  # blank room under each asked cell


# ---- what a worksheet refuses -------------------------------------------------------------------------------------

def worksheet_problems(scene) -> list[tuple[str, str]]:
    """(dotted key, message) for a scene a worksheet cannot print: an image input, an input or weight too big for a
    page, or no operation with arithmetic to ask."""
    if scene.input.image is not None:
        return [("input.image", "a worksheet prints every input number: an image input is too big to print "
                 "(use a small input.shape with values = \"random\")")]
    problems = []
    shape = scene.input.shape
    side = MAX_SIDE.get(len(shape) - 1, 0)
    if any(n > side for n in shape[1:]) or math.prod(shape) > MAX_INPUT_NUMBERS:
        limit = "×".join([str(side)] * (len(shape) - 1))
        problems.append(("input.shape", f"{shape_text(shape)} is too big to print legibly on a worksheet (at most "
                         f"{limit} per channel and {MAX_INPUT_NUMBERS} numbers in all)"))
    for prefix, stage in _named_stages(scene):
        g = stage.geometry()
        if g.weight_count > MAX_WEIGHT_NUMBERS:
            key = "out_features" if stage.kind == "linear" else "out_channels"
            problems.append((f"{prefix}.{key}", f"the weight {shape_text(g.weight_shape)} has {g.weight_count} "
                             f"numbers, more than the {MAX_WEIGHT_NUMBERS} a worksheet prints"))
    if not any(stage.family.name in ARITHMETIC for _, stage in _named_stages(scene)):
        key = "op.kind" if scene.scene_type == "op" else "ops"
        problems.append((key, f"a worksheet asks for arithmetic: {scene.kind} has none to ask (conv, transposed "
                         "conv, pool or linear have)"))
    return problems


def _named_stages(scene) -> list[tuple[str, Any]]:
    """(key prefix, op scene) of each stage: `op` for an op scene, `ops[i]` for a chain's."""
    if scene.scene_type == "op":
        return [("op", scene)]
    return [(f"ops[{i}]", stage) for i, stage in enumerate(scene.stages())]


# ---- variants -----------------------------------------------------------------------------------------------------

def variant_seeds(scene) -> list[int]:
    return list(range(1, (scene.output.variants or 1) + 1))


def reproduce_keys(scene, seed: int) -> dict[str, Any]:
    """The scene keys that give variant `seed`'s values (what answers.json's "reproduce" holds)."""
    keys: dict[str, Any] = {"input.values": "random", "input.seed": seed}
    for stream, prefix, op in _weighted(scene):
        keys[f"{prefix}weights.values"] = "random"
        keys[f"{prefix}weights.seed"] = seed + stream * WEIGHT_STREAM
        if op.bias:
            keys[f"{prefix}weights.bias"] = "random"
    return keys


def _weighted(scene) -> list[tuple[int, str, Any]]:
    """(weight stream, key prefix "" or "ops[i].", the `[op]` table) of each stage with weights."""
    if scene.scene_type == "op":
        return [(1, "", scene.op)] if scene.family.has_weights and scene.weights is not None else []
    from convgif.ops import family_of

    return [(i + 1, f"ops[{i}].", op) for i, (op, weights) in enumerate(zip(scene.ops, scene.stage_weights))
            if family_of(op.kind).has_weights and weights is not None]


def variant_scene(scene, seed: int):
    """The scene with the values of variant `seed`: what loading the file with `reproduce_keys` gives."""
    keys = reproduce_keys(scene, seed)
    update: dict[str, Any] = {"input": scene.input.model_copy(update={"values": "random", "seed": seed})}
    if scene.scene_type == "op":
        if "weights.seed" in keys:
            update["weights"] = scene.weights.model_copy(update=_weight_update(keys, ""))
    else:
        weights = list(scene.stage_weights)
        for i, spec in enumerate(weights):
            if f"ops[{i}].weights.seed" in keys:
                weights[i] = spec.model_copy(update=_weight_update(keys, f"ops[{i}]."))
        update["stage_weights"] = tuple(weights)
    return scene.model_copy(update=update)


def _weight_update(keys: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {name: keys[f"{prefix}weights.{name}"] for name in ("values", "seed", "bias")
            if f"{prefix}weights.{name}" in keys}


def variant_frames(scene) -> Iterator[Frame]:
    """One frame per variant, its `sheet` what the worksheet prints for it (no pixels: nothing is drawn)."""
    seeds = variant_seeds(scene)
    for number, seed in enumerate(seeds, start=1):
        sheet = _sheet(scene, number, len(seeds), seed)
        yield Frame(pixels=np.zeros((0, 0, 3), dtype=np.uint8), duration_ms=0, step=None,
                    text=f"variant {number}, seed {seed}", sheet=sheet)


# ---- one variant's stages -----------------------------------------------------------------------------------------

class _Stage:
    """One stage of a variant: its op scene, names, call, trace and output."""

    def __init__(self, stage, index: int, count: int):
        self.scene, self.index = stage, index
        self.family = stage.family.name
        self.geometry = g = stage.geometry()
        self.x_name = "x" if index == 0 else f"h{index}"
        self.out_name = "y" if index == count - 1 else f"h{index + 1}"
        suffix = "" if count == 1 else str(index + 1)
        self.w_name, self.b_name = f"w{suffix}", f"b{suffix}"
        self.weight, self.bias = stage.weight_array(), stage.bias_array()
        view = stage.family.view("zero_insertion") if self.family == "conv_transpose" else stage.family.default_view
        self.trace = view.trace(stage.input_array(), self.weight, self.bias, g, stage.op)
        self.output_shape = (1, *g.output_shape)
        self.output = np.asarray(self.trace.output()).reshape(self.output_shape)

    @property
    def asks_cells(self) -> bool:
        return self.family in ARITHMETIC

    def step(self, position: tuple[int, ...]):
        return self.trace.step(int(np.ravel_multi_index(position, self.geometry.output_shape)))

    def call(self) -> str:
        return f"{self.out_name} = {_call(self)}"


def _per_dim(values) -> str:
    values = tuple(values)
    return str(values[0]) if len(set(values)) == 1 else "(" + ", ".join(str(v) for v in values) + ")"


def _call(s: _Stage) -> str:
    """The stage as torch.nn.functional writes it, with the scene's arguments."""
    op, g, kind = s.scene.op, s.geometry, s.scene.kind
    w_b = f"{s.w_name}, {s.b_name}" if s.bias is not None else s.w_name
    if s.family == "conv":
        x = s.x_name
        pairs = isinstance(op.padding, tuple) and op.padding and isinstance(op.padding[0], tuple)
        if op.padding_mode != "zeros" or pairs:  # torch pads these with F.pad first
            pads = ", ".join(str(v) for before, after in reversed(g.padding) for v in (before, after))
            mode = "" if op.padding_mode == "zeros" else f", mode='{op.padding_mode}'"
            x, padding = f"F.pad({x}, ({pads}){mode})", "0"
        elif isinstance(op.padding, str):
            padding = f"'{op.padding}'"
        else:
            padding = _per_dim(op.padding if isinstance(op.padding, tuple) else (op.padding,))
        return (f"F.{kind}({x}, {w_b}, stride={_per_dim(g.stride)}, padding={padding}, "
                f"dilation={_per_dim(g.dilation)}, groups={g.groups})")
    if s.family == "conv_transpose":
        return (f"F.{kind}({s.x_name}, {w_b}, stride={_per_dim(g.stride)}, "
                f"padding={_per_dim(p for p, _ in g.padding)}, output_padding={_per_dim(g.output_padding)}, "
                f"groups={g.groups}, dilation={_per_dim(g.dilation)})")
    window = f"kernel_size={_per_dim(g.kernel_size)}, stride={_per_dim(g.stride)}"
    if s.family == "max_pool":
        return (f"F.{kind}({s.x_name}, {window}, padding={_per_dim(p for p, _ in g.padding)}, "
                f"dilation={_per_dim(g.dilation)}, ceil_mode={g.ceil_mode})")
    if s.family == "avg_pool":
        return (f"F.{kind}({s.x_name}, {window}, padding={_per_dim(p for p, _ in g.padding)}, "
                f"ceil_mode={g.ceil_mode}, count_include_pad={op.count_include_pad})")
    if s.family == "lp_pool":
        return f"F.{kind}({s.x_name}, norm_type={fmt_number(op.norm_type)}, {window}, ceil_mode={g.ceil_mode})"
    if s.family == "linear":
        return f"F.linear({s.x_name}, {w_b})"
    if s.family == "flatten":
        return f"torch.flatten({s.x_name}, start_dim={op.start_dim}, end_dim={op.end_dim})"
    if s.family == "relu":
        return f"F.relu({s.x_name})"
    size = f"size={_per_dim(op.size if isinstance(op.size, tuple) else (op.size,))}" if op.size is not None \
        else f"scale_factor={op.scale_factor}"
    return f"F.interpolate({s.x_name}, {size}, mode='{op.mode}')"


# ---- which cells to ask -------------------------------------------------------------------------------------------

def _reads_padding(s: _Stage, step) -> bool:
    if isinstance(step, PoolStep):
        return bool(step.padding_mask.any())
    if isinstance(step, ConvStep) and not isinstance(s.trace, ZeroInsertionTrace):
        return bool(step.padding_mask.any())
    return False


def choose_cells(s: _Stage, count: int, rng: np.random.Generator) -> list[tuple[int, ...]]:
    """`count` output positions (unbatched), varied: one reading padding if any does, one in another output channel
    if there are several, then interior ones; in raster order."""
    positions = [tuple(int(v) for v in p) for p in np.ndindex(*s.geometry.output_shape)]
    shuffled = [positions[i] for i in rng.permutation(len(positions))]
    padded = [p for p in shuffled if _reads_padding(s, s.step(p))]
    inner = [p for p in shuffled if p not in set(padded)]
    chosen: list[tuple[int, ...]] = []

    def take(options) -> None:
        for p in options:
            if p not in chosen:
                chosen.append(p)
                return

    take(padded)
    channels = len(s.geometry.output_shape) > 1 and s.geometry.output_shape[0] > 1
    if channels and chosen:
        take([p for p in inner + padded if p[0] != chosen[0][0]])
    while len(chosen) < min(count, len(positions)):
        before = len(chosen)
        take(inner)
        if len(chosen) == before:
            take(padded)
    return sorted(chosen[:count])


# ---- the arithmetic of one cell, in the frames' notation ---------------------------------------------------------

def _joined(terms: list[str], joiner: str = " + ") -> list[str]:
    return [t if i == 0 else joiner + t for i, t in enumerate(terms)]


def _bias(value: float | None) -> list[str]:
    return [] if value is None else [label("en", "bias_term", value=fmt_number(value))]


def cell_lines(s: _Stage, step) -> list[tuple[str, ...]]:
    """The arithmetic of one asked cell, every term written out (no elision), each line as breakable pieces."""
    result = f" = {fmt_number(step.value)}" if not isinstance(step, PoolStep) else f" = {fmt_value(step.value)}"
    if isinstance(step, ConvStep):
        keep = np.ones(step.tap_values.shape, dtype=bool)
        if isinstance(s.trace, ZeroInsertionTrace):  # the input values the gather window reads: the contributions
            kinds = s.trace.cell_kind[tuple(step.tap_coords[..., i] for i in range(step.tap_coords.shape[-1]))]
            keep = np.broadcast_to(kinds == INPUT_VALUE, step.tap_values.shape)
        terms = []
        for j in range(len(step.in_channels)):
            values, weights = step.tap_values[j][keep[j]], step.weights[j][keep[j]]
            terms.append([f"{fmt_factor(float(v))}{TIMES}{fmt_factor(float(w))}" for v, w in zip(values, weights)])
        if len(terms) == 1:
            return [tuple(_joined(terms[0] or ["0"]) + _bias(step.bias) + [result])]
        lines = [tuple([f"ch{c}: "] + _joined(t or ["0"]) + [f" = {fmt_number(float(step.channel_sums[j]))}"])
                 for j, (c, t) in enumerate(zip(step.in_channels, terms))]
        sums = [fmt_factor(float(v)) for v in step.channel_sums]
        return lines + [tuple(_joined(sums) + _bias(step.bias) + [result])]
    if isinstance(step, PoolStep):
        values = [float(v) for v in np.asarray(step.tap_values)[~np.asarray(step.overhang_mask)].reshape(-1)]
        if step.selected is not None or s.family == "max_pool":
            return [tuple(["max("] + _joined([fmt_value(v) for v in values], ", ") + [")" + result])]
        if s.family == "avg_pool":
            return [tuple(["("] + _joined([fmt_factor(v) for v in values]) +
                          [f") / {fmt_number(step.divisor)}{result}"])]
        p = step.norm_type
        if math.isinf(p):
            return [tuple(["max(" if p > 0 else "min("] + _joined([f"|{fmt_value(v)}|" for v in values], ", ")
                          + [")" + result])]
        return [tuple([f"{fmt_root(p)}("] + _joined([f"{fmt_factor(v)}{fmt_power(p)}" for v in values])
                      + [")" + result])]
    if isinstance(step, MapStep) and step.coefficients is not None:
        terms = [f"{fmt_factor(v)}{TIMES}{fmt_factor(w)}" for v, w in zip(step.source_values, step.coefficients)]
        return [tuple(_joined(terms) + _bias(step.bias) + [result])]
    return [(f"{fmt_number(step.value)}",)]


# ---- the printed blocks -------------------------------------------------------------------------------------------

def _index_text(name: str, index: tuple[int, ...]) -> str:
    return f"{name}[{', '.join(str(i) for i in index)}]"


def _shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + (",)" if len(shape) == 1 else ")")


def _rows(plane: np.ndarray) -> tuple[tuple[str, ...], ...]:
    plane = np.atleast_2d(plane)
    return tuple(tuple(fmt_number(float(v)) for v in row) for row in plane)


def tensor_grids(name: str, array: np.ndarray) -> list[Grid]:
    """A batched tensor (1, C, *S) as one grid per channel (1D: a row each), or (1, F) as one row."""
    if array.ndim == 2:
        return [Grid(_index_text(name, (0,)), _rows(array[0]))]
    return [Grid(_index_text(name, (0, c)), _rows(array[0, c])) for c in range(array.shape[1])]


def weight_grids(s: _Stage) -> list[Grid]:
    """Every kernel slice w[i, j] (a linear weight: one grid)."""
    w = s.weight
    if w.ndim == 2:
        return [Grid(s.w_name, _rows(w))]
    return [Grid(_index_text(s.w_name, (i, j)), _rows(w[i, j])) for i in range(w.shape[0]) for j in range(w.shape[1])]


def _pad_kind(s: _Stage) -> str:
    """What a stage's padding cells hold, in words."""
    if s.family == "max_pool":
        return "−∞ for max pooling"
    mode = getattr(s.scene.op, "padding_mode", "zeros")
    return "zeros" if mode == "zeros" else f"{mode} padding copies input values"


def _call_line(s: _Stage, size: float = 10.0) -> Line:
    """The stage's call, breakable after each argument."""
    parts = s.call().split(", ")
    return Line(tuple(part + ", " for part in parts[:-1]) + (parts[-1],), size=size, bold=True,
                space_after_mm=0.5)


def _printable(array: np.ndarray) -> bool:
    return array.size <= MAX_PRINTED_OUTPUT and array.shape[-1] <= MAX_PRINTED_COLUMNS


def _sheet(scene, number: int, count: int, seed: int) -> SheetVariant:
    varied = variant_scene(scene, seed)
    ops = [varied] if varied.scene_type == "op" else list(varied.stages())
    stages = [_Stage(op, i, len(ops)) for i, op in enumerate(ops)]
    rng = np.random.default_rng([seed, 7])  # the asked cells' own stream: never the values' streams
    asked: list[tuple[_Stage, tuple[int, ...]]] = []
    first = True
    for s in stages:
        if s.asks_cells:
            asked += [(s, p) for p in choose_cells(s, FIRST_CELLS if first else LATER_CELLS, rng)]
            first = False
    title = scene.title or scene.stem
    questions = _questions(stages, asked, number, count, seed)
    answers, cells = _answers(stages, asked, number, seed)
    record: dict[str, Any] = {"variant": number, "seed": seed, "reproduce": reproduce_keys(scene, seed),
                              "output_shape": list(stages[-1].output_shape), "cells": cells}
    if len(stages) > 1:
        record["stages"] = [{"stage": s.index + 1, "kind": s.scene.kind, "tensor": s.out_name,
                             "output_shape": list(s.output_shape)} for s in stages]
    return SheetVariant(scene=scene.stem, title=title, questions=tuple(questions), answers=tuple(answers),
                        record=record)


def _questions(stages: list[_Stage], asked, number: int, count: int, seed: int) -> list:
    blocks: list = [text(f"Variant {number} of {count} · seed {seed} · a batch of 1, every index counts from 0")]
    blocks += [_call_line(s, size=10.5) for s in stages]
    shapes = [f"x: {_shape_text(stages[0].output_shape[:1] + stages[0].geometry.input_shape)}"]
    for s in stages:
        if s.weight is not None:
            shapes.append(f"{s.w_name}: {_shape_text(s.weight.shape)}")
        if s.bias is not None:
            shapes.append(f"{s.b_name}: {_shape_text(s.bias.shape)}")
    blocks.append(text("   ".join(shapes), space_after_mm=1))
    padded = [s for s in stages if s.scene.family.padding_grows_input and any(b or a for b, a in s.geometry.padding)]
    if padded:  # (a transposed conv's padding crops its output instead)
        kinds = dict.fromkeys(_pad_kind(s) for s in padded)
        blocks.append(text(f"Padding is not drawn: add it yourself, as the call says ({', '.join(kinds)}).",
                           space_after_mm=2))
    first = stages[0]
    blocks.append(Grids(tuple(tensor_grids("x", first.scene.input_array()[np.newaxis]))))
    for s in stages:
        if s.weight is not None:
            blocks.append(Grids(tuple(weight_grids(s)), space_after_mm=1))
            if s.family == "conv_transpose":
                blocks.append(text(f"{s.w_name} is laid out (C_in, C_out/groups, kernel) as torch's "
                                   "conv_transpose weight.", space_after_mm=1))
        if s.bias is not None:
            values = ", ".join(fmt_number(float(v)) for v in s.bias)
            blocks.append(text(f"{s.b_name} = [{values}]", space_after_mm=3))
    blocks.append(Line(("Questions",), size=12, bold=True, space_after_mm=2))
    k = 1
    for s in stages:
        blocks.append(text(f"{k}. Shape of {s.out_name}: ______________________", space_after_mm=6))
        k += 1
    for s, position in asked:
        blocks.append(text(f"{k}. {_index_text(s.out_name, (0, *position))} = ______________",
                           space_after_mm=WORK_ROOM_MM))
        k += 1
    return blocks


def _answers(stages: list[_Stage], asked, number: int, seed: int) -> tuple[list, list[dict]]:
    blocks: list = [Line((f"Variant {number} · seed {seed}",), size=12, bold=True, rule=number > 1)]
    cells: list[dict] = []
    for s in stages:
        blocks.append(_call_line(s))
        blocks.append(text(f"Shape of {s.out_name}: {_shape_text(s.output_shape)}", indent_mm=4,
                           space_after_mm=0.5))
        blocks += [text(typeset(formula), indent_mm=8, space_after_mm=0.5) for formula in s.geometry.formulas]
        mine = [position for stage, position in asked if stage is s]
        if mine and isinstance(s.trace, ZeroInsertionTrace):
            blocks.append(text("Each cell sums the input values that reach it times the kernel entries they meet "
                               "(inserted zeros and padding add 0):", indent_mm=4, space_after_mm=0.5))
        for position in mine:
            step = s.step(position)
            index = (0, *position)
            blocks.append(Line((f"{_index_text(s.out_name, index)} = {fmt_number(step.value)}",), bold=True,
                               indent_mm=4, space_after_mm=0.5))
            blocks += [Line(line, indent_mm=8, space_after_mm=0.5) for line in cell_lines(s, step)]
            cell = {"tensor": s.out_name, "index": list(index), "value": float(step.value)}
            cells.append({"stage": s.index + 1, **cell} if len(stages) > 1 else cell)
        if _printable(s.output):
            blocks.append(Grids(tuple(tensor_grids(s.out_name, s.output)), space_after_mm=4))
        else:
            blocks.append(text(f"({s.out_name} has {s.output.size} numbers: too many to print here)", indent_mm=4))
    return blocks, cells
