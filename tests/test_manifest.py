"""The layout manifest (`layout` format) and what it lets tests check about every animated frame without reading
pixels by eye: that its boxes are where the pixels are, that every number a cell shows is the tensor's value there
(computed by torch, not by the layout), that windows sit on the cells the trace step names, and the picture rules
of issue 13 (legible text, no overlaps, one notation, a legend for what is drawn, 1D alignment)."""

from __future__ import annotations

import json
import random
import re
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from convgif.render.fonts import text_width
from convgif.render.labels import label
from convgif.render.manifest import frame_items
from convgif.render.primitives import fmt_number
from convgif.scene import load_scene, parse_scene
from convgif.sources import build_trace, build_view

SCENES = Path(__file__).resolve().parent.parent / "scenes"
ANIMATED = sorted(p.stem for p in SCENES.glob("*.toml") if "\n[op]" in "\n" + p.read_text(encoding="utf-8"))


# ---- the frames under test ------------------------------------------------------------------------------

class Case:
    """A scene's view and a few sampled frames of it: the first step, one in the middle, the last, the hold frame."""

    def __init__(self, scene):
        self.scene = scene
        self.trace = build_trace(scene)
        self.view = build_view(scene, self.trace)
        total = len(self.trace)
        self.steps = sorted({0, total // 2, total - 1})
        self.frames = {step: frame_items(self.view, step) for step in [*self.steps, None]}

    def pixels(self) -> dict:
        pictures = dict(zip(self.steps, (p for p, _ in self.view.frames_with_text(self.steps))))
        pictures[None] = self.view.final_frame()
        return pictures


@cache
def gallery_case(name: str) -> Case:
    return Case(load_scene(SCENES / f"{name}.toml"))


@cache
def random_case(seed: int) -> Case:
    """The view and sampled frames of random_scene(seed), built once for the tests that read it."""
    return Case(random_scene(seed))


def random_scene(seed: int):
    """A small random conv, transposed conv or pool scene, 1D or 2D."""
    rng = random.Random(seed)
    ndim = rng.choice([1, 2])
    kind = rng.choice(["conv", "conv_transpose", "max_pool", "avg_pool"])
    size = [rng.randint(3, 6) for _ in range(ndim)]
    kernel = [rng.randint(1, min(3, n)) for n in size]
    channels = rng.randint(1, 2)
    op = {"kind": f"{kind}{ndim}d", "kernel_size": kernel, "stride": rng.randint(1, 2)}
    if kind == "conv":
        op.update(out_channels=rng.randint(1, 2), padding=rng.randint(0, 1), dilation=rng.randint(1, 2),
                  bias=rng.random() < 0.5)
    elif kind == "conv_transpose":
        op.update(out_channels=rng.randint(1, 2), padding=0, bias=rng.random() < 0.5)
    else:
        op.update(padding=rng.randint(0, min(kernel) // 2))
    document = {"title": f"random {seed}", "op": op, "input": {"shape": [channels, *size], "seed": seed}}
    if kind in ("conv", "conv_transpose"):
        document["weights"] = {"seed": seed + 1}
    return parse_scene(document, f"random_{seed}.toml")


# ---- torch, independent of the layout --------------------------------------------------------------------

def torch_values(scene, trace) -> dict[str, np.ndarray]:
    """The input, weight, bias and output as torch computes them from the scene's arrays."""
    arrays = scene.arrays()
    g = trace.geometry
    ndim = g.ndim
    x = torch.tensor(np.asarray(arrays["input"], dtype=np.float64))
    x = x.unsqueeze(0) if x.dim() == ndim + 1 else x  # one batch element: (1, C, *S)
    values = {"input": x.numpy()}
    kind = g.kind
    if arrays.get("weight") is not None:
        values["weight"] = np.asarray(arrays["weight"], dtype=np.float64)
    if arrays.get("bias") is not None:
        values["bias"] = np.asarray(arrays["bias"], dtype=np.float64)
    w = None if arrays.get("weight") is None else torch.tensor(values["weight"])
    b = None if arrays.get("bias") is None else torch.tensor(values["bias"])
    if kind.startswith("conv_transpose"):
        conv_t = F.conv_transpose1d if ndim == 1 else F.conv_transpose2d
        out = conv_t(x, w, b, stride=g.stride, padding=tuple(p for p, _ in g.padding),
                     output_padding=g.output_padding or 0, groups=g.groups, dilation=g.dilation)
    elif kind.startswith("conv"):
        pads = [p for before_after in reversed(g.padding) for p in before_after]
        mode = {"zeros": "constant"}.get(g.padding_mode, g.padding_mode)
        padded = F.pad(x, pads, mode=mode)
        conv = F.conv1d if ndim == 1 else F.conv2d
        out = conv(padded, w, b, stride=g.stride, dilation=g.dilation, groups=g.groups)
    else:
        out = pool_by_torch(kind, x, g, trace)
    values["output"] = out.numpy()
    return values


def pool_by_torch(kind: str, x, g, trace):
    ndim = g.ndim
    padding = tuple(p for p, _ in g.padding)
    if kind.startswith("max"):
        pool = F.max_pool1d if ndim == 1 else F.max_pool2d
        return pool(x, g.kernel_size, g.stride, padding, g.dilation, ceil_mode=g.ceil_mode)
    if kind.startswith("avg"):
        pool = F.avg_pool1d if ndim == 1 else F.avg_pool2d
        extra = {} if ndim == 1 else {"divisor_override": trace.divisor_override}
        return pool(x, g.kernel_size, g.stride, padding, ceil_mode=g.ceil_mode,
                    count_include_pad=trace.count_include_pad, **extra)
    pool = F.lp_pool1d if ndim == 1 else F.lp_pool2d
    return pool(x, trace.norm_type, g.kernel_size, g.stride, ceil_mode=g.ceil_mode)


def shown_number(value: float, pool: bool) -> str:
    if pool and value == float("-inf"):
        return "\u2212\u221e"
    return fmt_number(value)


def check_numbers(case: Case) -> list[str]:
    """Every cell number of the sampled frames against torch's value of that tensor at that index; a number that
    would fit is shown."""
    trace, g = case.trace, case.trace.geometry
    values = torch_values(case.scene, trace)
    transposed = g.kind.startswith("conv_transpose")
    scatter = hasattr(trace, "full_shape")
    pool = "pool" in g.kind
    wrong = []
    for step, items in case.frames.items():
        batch = trace.step(step).batch if step is not None else int(trace.input.shape[0]) - 1
        for item in items:
            if item["role"] != "cell" or item.get("padding") or "index" not in item:
                continue
            tensor, index = item["tensor"], tuple(item["index"])
            if tensor == "output":
                if scatter:
                    continue  # running sums, not the output
                if item.get("state") == "empty":
                    if "text" in item:
                        wrong.append(f"step {step}: output {index} not computed yet shows {item['text']}")
                    continue
                expected = values["output"][(batch, item["channel"], *index)]
            elif tensor == "input":
                expected = values["input"][(batch, item["channel"], *index)]
            elif tensor == "weight" and not transposed and len(index) == values["weight"].ndim:
                expected = values["weight"][index]
            else:
                continue
            number = shown_number(float(expected), pool)
            if "text" in item and item["text"] != number:
                wrong.append(f"step {step}: {tensor} ch {item['channel']} {index} shows {item['text']}, "
                             f"torch says {number}")
            elif "text" not in item and fits(number, item["box"]):
                wrong.append(f"step {step}: {tensor} ch {item['channel']} {index} hides {number}, which fits")
    return wrong


def fits(number: str, box: list[int]) -> bool:
    """Whether `number` fits in a cell of `box` at 10 px, the smallest legible size (with the 3 px the cells keep)."""
    return text_width(number, 10) <= box[2] - box[0] - 1 - 3 and box[3] - box[1] - 1 >= 16


# ---- geometry: windows on the cells the step names ---------------------------------------------------------

def check_windows(case: Case) -> list[str]:
    trace = case.trace
    if hasattr(trace, "full_shape") or hasattr(trace, "cell_kind"):
        return []  # scatter windows sit on the output; zero insertion on its spread grid (not the input's indices)
    wrong = []
    for step_index in case.steps:
        step = trace.step(step_index)
        items = case.frames[step_index]
        channels = getattr(step, "in_channels", None) or (step.channel,)
        if case.scene.view_name() == "volume":  # the window's front face is on the first channel it reads; the box
            channels = channels[:1]  # through the rest is tests/test_volume.py's
        coords = np.asarray(step.input_coords).reshape(-1, trace.geometry.ndim)
        overhang = np.asarray(getattr(step, "overhang_mask", np.zeros(len(coords), bool))).reshape(-1)
        wanted = {tuple(int(v) for v in c) for c, o in zip(coords, overhang) if not o}
        for channel in channels:
            boxes = [i["box"] for i in items if i["role"] == "cell" and i["tensor"] == "input"
                     and i["channel"] == channel and tuple(i["index"]) in wanted]
            if not boxes and case.scene.view_name() == "volume":  # a face behind the front one: its cells are
                taps = np.asarray(step.tap_coords).reshape(-1, trace.geometry.ndim)  # seen through the block
                boxes = [case.view.cell_box("input", channel, t) for t, o in zip(taps, overhang) if not o]
            windows = [i["box"] for i in items if i["role"] == "window" and i["tensor"] == "input"
                       and i["channel"] == channel]
            expected = [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                        max(b[3] for b in boxes)]
            if windows != [expected]:
                wrong.append(f"step {step_index} ch {channel}: window {windows}, the step's taps span {expected}")
    return wrong


# ---- picture rules ------------------------------------------------------------------------------------------

NOTATION = re.compile(r"\*|->|(?<![A-Za-z])-(?=\d)")  # a hyphen in a word ("stride-1") is no minus sign


def texts(items):
    for item in items:
        if item["role"] == "text":
            yield item["text"], item["font_px"], item["box"]
        elif item["role"] == "cell" and "text" in item:
            yield item["text"], item["font_px"], item["text_box"]


def text_sizes(items):
    """(text, px) of every text a frame sets: labels, lines, cells' numbers and the legend's words."""
    yield from ((t, px) for t, px, _ in texts(items))
    yield from ((item["entry"], item["font_px"]) for item in items if item["role"] == "legend")


def small_text(case: Case) -> list[str]:
    return sorted({f"{t!r} at {px} px" for items in case.frames.values() for t, px in text_sizes(items) if px < 10})


def text_outside_or_overlapping(case: Case) -> list[str]:
    """Texts leaving the frame, and two texts on one another. A text under a veil (a faded channel: the volume's
    front face while a step works on a channel behind it) may lie under what is drawn over the veil."""
    width, height = case.view.size
    wrong = set()
    for step, items in case.frames.items():
        boxes = list(texts(items))
        for t, _, (x0, y0, x1, y1) in boxes:
            if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
                wrong.add(f"{t!r} leaves the frame")
        clear = list(texts(i for i in items if not i.get("veiled")))
        for i, (a, _, ba) in enumerate(clear):
            for b, _, bb in clear[i + 1:]:
                if ba[0] < bb[2] and bb[0] < ba[2] and ba[1] < bb[3] and bb[1] < ba[3]:
                    wrong.add(f"{a!r} overlaps {b!r}")
    return sorted(wrong)


ABBREVIATED = re.compile(r"(?<![\w(])(?:K|P|S|D|G|OP) \d")  # "K 3 P 1 S 2": the subtitle says kernel, padding, stride
TORN = re.compile(r" [=+\u2212\u00d7/]$")  # a wrapped line ending on an operator (a long sum may break before one)


def notation(case: Case) -> list[str]:
    """ASCII operators, arguments abbreviated to a letter, shapes written as tuples (frames write a shape as their
    headers do, 3×5×5, the arguments in words), and a formula torn from its result by a line break ("+ 1 =" / "8")."""
    g = case.trace.geometry
    tuples = {"(" + ", ".join(map(str, shape)) + ")" for shape in (g.input_shape, g.output_shape, g.weight_shape)
              if shape and len(shape) > 1}
    wrapped = {item["text"] for items in case.frames.values() for item in items  # lines a long text wraps into
               if item["role"] == "text" and item["kind"] in ("title", "subtitle", "caption", "note")}
    return sorted({t for items in case.frames.values() for t, _, _ in texts(items)
                   if NOTATION.search(t) or ABBREVIATED.search(t) or (t in wrapped and TORN.search(t))
                   or any(shape in t for shape in tuples)})


def missing_legend(case: Case) -> list[str]:
    language = case.scene.language
    missing = []
    for step, items in case.frames.items():
        legend = [i for i in items if i["role"] == "legend"]
        window_colours = {i["colour"] for i in items if i["role"] == "window"}
        swatch_colours = {c for entry in legend for c in entry["colours"]}
        if not window_colours <= swatch_colours:
            missing.append(f"step {step}: window")  # a swatch in the window's colour (scatter: "just written")
        # a frame round a cell or a span of cells (the current output, the current kernel, a max pool's pick)
        missing += [f"step {step}: {i['tensor']} marker {i['colour']}" for i in items
                    if i["role"] == "marker" and i["colour"] not in swatch_colours]
        if any(i["role"] == "veil" for i in items) and not any(entry.get("veil") for entry in legend):
            missing.append(f"step {step}: faded parts")  # what a step does not read
        drawn = {"padding": any(i["role"] == "cell" and i.get("padding") and i["tensor"] == "input"
                                and "grid_index" not in i for i in items),
                 "weight": any(i["role"] == "cell" and i["tensor"] == "weight" for i in items)}
        missing += [f"step {step}: {role}" for role, shown in drawn.items()  # "weight (flipped)" names weights
                    if shown and not any(entry["entry"].startswith(label(language, role)) for entry in legend)]
    return sorted(set(missing))


def hold_frame_gaps(case: Case) -> list[str]:
    """The hold frame shows every kernel weight and every bias value."""
    g = case.trace.geometry
    items = case.frames[None]
    gaps = []
    if g.weight_shape:
        weight_cells = len({tuple(i["index"]) for i in items if i["role"] == "cell" and i["tensor"] == "weight"
                            and "text" in i})
        # the volume view shows each kernel block's front slice; its deeper slices are inside the block
        shown = g.weight_shape[0] * int(np.prod(g.weight_shape[2:])) if case.scene.view_name() == "volume" else int(
            np.prod(g.weight_shape))
        if weight_cells < shown:
            gaps.append(f"{weight_cells} of {shown} weights shown")
    bias = case.scene.arrays().get("bias")
    if bias is not None:  # in words, not a cell that happens to hold the same number
        words = " ".join(i["text"] for i in items if i["role"] == "text")
        named = rf"(?:{re.escape(label(case.scene.language, 'bias'))} ?\(?|b\()"  # "bias 1", "bias (−1)", "b(1)"
        gaps += [f"bias {fmt_number(float(b))} not shown" for b in np.asarray(bias).reshape(-1)
                 if not re.search(rf"{named}{re.escape(fmt_number(float(b)))}(?![\d.])", words)]
    return gaps


def misaligned_1d(case: Case) -> list[str]:
    """In a 1D view each output cell stands under the input it is computed for: its window's last tap with
    left-only (causal) padding, else its window's centre."""
    trace, g = case.trace, case.trace.geometry
    if g.ndim != 1 or hasattr(trace, "full_shape") or hasattr(trace, "cell_kind"):
        return []
    (before, after), = g.padding
    causal = before > 0 and after == 0
    wrong = []
    for step_index in case.steps:
        step = trace.step(step_index)
        items = case.frames[step_index]
        taps = [int(c[0]) for c in np.asarray(step.tap_coords).reshape(-1, 1)]
        channel = (getattr(step, "in_channels", None) or (step.channel,))[0]
        inputs = {i["grid_index"][0] if "grid_index" in i else i["index"][0] + before: i["box"] for i in items
                  if i["role"] == "cell" and i["tensor"] == "input" and i["channel"] == channel}
        out_channel = getattr(step, "out_channel", getattr(step, "channel", 0))
        out = [i["box"] for i in items if i["role"] == "cell" and i["tensor"] == "output"
               and i["channel"] == out_channel and i["index"] == [int(step.position[0])]]
        if not out or taps[-1] not in inputs:
            continue
        centre = lambda box: (box[0] + box[2]) / 2
        target = centre(inputs[taps[-1]]) if causal else (centre(inputs[taps[0]]) + centre(inputs[taps[-1]])) / 2
        if abs(centre(out[0]) - target) > 1:
            wrong.append(f"step {step_index}: output {step.position} at x {centre(out[0])}, its input at {target}")
    return wrong


def numbers_under_the_window_line(case: Case) -> list[str]:
    """The window's 3 px line covers its cells' border and 1 px in: a number in its first or last column keeps a
    pixel clear of it (f01's 3-digit pixel values touched it)."""
    wrong = set()
    for step, items in case.frames.items():
        for window in (i for i in items if i["role"] == "window" and i["tensor"] == "input"):
            x0, y0, x1, y1 = window["box"]
            for cell in items:
                if cell["role"] != "cell" or cell["tensor"] != "input" or "text_box" not in cell:
                    continue
                bx0, by0, bx1, by1 = cell["box"]
                if not (x0 <= bx0 and bx1 <= x1 and y0 <= by0 and by1 <= y1):
                    continue
                tx0, _, tx1, _ = cell["text_box"]
                if tx0 < x0 + 3 or tx1 > x1 - 3:
                    wrong.add(f"step {step}: {cell['text']!r} under the window's line")
    return sorted(wrong)


RULES = {"numbers": check_numbers, "windows": check_windows, "text_size": small_text,
         "text_placement": text_outside_or_overlapping, "notation": notation, "legend": missing_legend,
         "hold_frame": hold_frame_gaps, "alignment_1d": misaligned_1d, "window_line": numbers_under_the_window_line}

# (rule, scene) pairs that fail today, with the issue 13 item that fixes them
KNOWN_FAILURES: dict[tuple[str, str], str] = {}


def rule_cases():
    for rule in RULES:
        for name in ANIMATED:
            reason = KNOWN_FAILURES.get((rule, name))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(rule, name, id=f"{rule}-{name}", marks=marks)


@pytest.mark.parametrize("rule, name", rule_cases())
def test_gallery_frames_follow_the_rule(rule, name):
    assert RULES[rule](gallery_case(name)) == []


RANDOM_SEEDS = range(12)


@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_random_scenes_show_torch_numbers_and_windows_on_their_taps(seed):
    case = random_case(seed)
    assert check_numbers(case) == []
    assert check_windows(case) == []


@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_random_1d_outputs_sit_under_their_inputs(seed):
    assert misaligned_1d(random_case(seed)) == []


# ---- the manifest against the pixels -----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["a01_plain_conv", "c05_max_pool", "c07_causal_conv1d", "c08_transposed_scatter"])
def test_manifest_boxes_are_where_the_pixels_are(name):
    """Each text's ink lies inside its box (ink inside, only the background just left and right of it in its own
    rows); each cell's border lines run along its box's edges (in the hold frame, where no window covers them)."""
    case = gallery_case(name)
    for step, pixels in case.pixels().items():
        for text, _, (x0, y0, x1, y1) in texts(case.frames[step]):
            if x0 < 1 or x1 >= pixels.shape[1]:
                continue
            left, right = pixels[y0:y1, x0 - 1], pixels[y0:y1, x1]
            background = left[0]
            assert (left == background).all() and (right == background).all(), (step, text, "ink outside its box")
            assert (pixels[y0:y1, x0:x1] != background).any(axis=-1).any(), (step, text, "no ink in its box")
        if step is not None:
            continue
        for item in case.frames[None]:
            if item["role"] != "cell" or item.get("padding") or item["tensor"] not in ("input", "output"):
                continue
            x0, y0, x1, y1 = item["box"]
            middle = (y0 + y1) // 2
            # a line on each edge (a neighbour's dashed padding edge or an outline may be drawn over it)
            assert (pixels[middle, x0] != pixels[middle, x0 + 1]).any(), (item, "no line at the box's left edge")
            assert (pixels[middle, x1 - 1] != pixels[middle, x1 - 2]).any(), (item, "no line at the box's right edge")


def test_the_layout_format_writes_every_frame(tmp_path):
    from convgif.pipeline import render_scene

    scene = load_scene(SCENES / "a01_plain_conv.toml")
    scene = scene.model_copy(update={"output": scene.output.model_copy(update={"formats": ("layout",)})})
    result = render_scene(scene, tmp_path)
    manifest = json.loads(result.path.read_text(encoding="utf-8"))
    assert result.path.name == "a01_plain_conv.layout.json"
    assert (manifest["scene"], manifest["width"], manifest["height"]) == ("a01_plain_conv", *gallery_case(
        "a01_plain_conv").view.size)
    frames = manifest["frames"]
    assert [f["step"] for f in frames] == [*range(len(frames) - 1), None]
    first = frames[0]["items"]
    assert {"role": "window", "tensor": "input", "channel": 0} in [
        {k: i[k] for k in ("role", "tensor", "channel")} for i in first if i["role"] == "window"]
    assert any(i["role"] == "text" and i["kind"] == "arithmetic" for i in first)
