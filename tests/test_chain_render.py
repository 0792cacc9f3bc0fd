"""Chains (`[[ops]]`) through the frame-source interface: every output format renders a chain, every frame has one
size and a header saying where in the chain it is, transitions and per-stage sampling, the receptive field traced
back through a chain (checked against torch's gradients and brute force), and the pinned validation messages."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageSequence

from conftest import require
from convgif.cli import main
from convgif.errors import SceneError
from convgif.formats import format_names
from convgif.pipeline import render_scene
from convgif.render import get_theme
from convgif.scene import load_scene, parse_scene
from convgif.sources import frame_source

SCENES = Path(__file__).resolve().parent.parent / "scenes"
WIDTH = 480
CHAIN = {
    "title": "tiny chain",
    "input": {"shape": [1, 4, 4], "range": [-3, 3]},
    "render": {"width": WIDTH, "duration_ms": 200, "hold_ms": 1000},
    "ops": [
        {"kind": "conv2d", "out_channels": 1, "kernel_size": 2},
        {"kind": "relu", "render": {"steps": {"every": 3}}},
        {"kind": "flatten"},
        {"kind": "linear", "out_features": 2},
    ],
}
# conv 9 steps, relu 9 sampled every 3 = 3, flatten 9, linear 2; a transition before stages 2..4, a "done" after
# stages 1..3, the final hold frame
FRAMES = 9 + 3 + 9 + 2 + 3 + 3 + 1
FORMATS = [f for f in format_names() if f != "layout"]  # the layout manifest describes single-op layouts only


def chain(**extra):
    document = {**CHAIN, **extra}
    return parse_scene(document, "tiny_chain.toml")


@pytest.fixture(scope="module")
def every_format(tmp_path_factory):
    require("imageio_ffmpeg", "pip install -e '.[test]'")
    require("pptx", "pip install -e '.[pptx]'")
    out = tmp_path_factory.mktemp("chain_formats")
    scene = chain(output={"formats": FORMATS})
    return scene, render_scene(scene, out), out


def test_the_frame_plan_and_counts():
    scene = chain()
    source = frame_source(scene)
    assert source.frame_count == FRAMES == scene.info()["frames"]
    kinds = [what for what, _, _ in source.plan]
    assert kinds.count("transition") == 3 and kinds.count("done") == 4
    assert [step for what, k, step in source.plan if what == "step" and k == 1] == [0, 3, 6]  # [ops.render] steps


def test_every_format_writes_a_chain(every_format):
    scene, result, out = every_format
    names = {p.name for p in result.paths}
    for expected in ("tiny_chain.gif", "tiny_chain", "tiny_chain_strip.png", "tiny_chain.pdf", "tiny_chain.svg",
                     "tiny_chain.webp", "tiny_chain.apng", "tiny_chain.mp4", "tiny_chain.webm", "tiny_chain.html",
                     "tiny_chain.pptx", "tiny_chain.tex", "tiny_chain.reveal.html", "tiny_chain.poster.png"):
        assert expected in names, expected
    assert result.frames == FRAMES


@pytest.mark.parametrize("name", ["tiny_chain.gif", "tiny_chain.webp", "tiny_chain.apng"])
def test_animations_hold_every_frame_at_one_size(every_format, name):
    scene, _, out = every_format
    size = frame_source(scene).size
    with Image.open(out / name) as image:
        assert image.n_frames == FRAMES
        assert image.size == size
        durations = []
        for frame in ImageSequence.Iterator(image):
            frame.load()  # Pillow's WebP reader sets a frame's duration when it decodes it
            durations.append(frame.info["duration"])
    assert durations[-1] == 1000


def test_png_frames_pdf_pages_and_svg(every_format):
    scene, _, out = every_format
    assert len(list((out / "tiny_chain").glob("frame_*.png"))) == FRAMES
    pdf = (out / "tiny_chain.pdf").read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))
    assert pages == frame_source(scene).count("key_steps") == 3 + 4  # the transitions and each stage's finish
    svg = (out / "tiny_chain.svg").read_text()
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg[:400]
    assert "stage" in svg  # the header's words are text in the vector picture


def test_the_player_and_the_slide_formats_hold_every_frame(every_format):
    _, _, out = every_format
    html = (out / "tiny_chain.html").read_text()
    assert html.count("data:image/") >= 1
    with zipfile.ZipFile(out / "tiny_chain.pptx") as deck:
        slides = [n for n in deck.namelist() if re.fullmatch(r"ppt/slides/slide\d+\.xml", n)]
    assert len(slides) >= FRAMES  # a title slide, a slide per frame (and the looping animation)
    tex = (out / "tiny_chain.tex").read_text()
    assert tex.count("\\includegraphics") + tex.count("\\animategraphics") >= 1
    assert "stage 2 of 4" in tex  # the step's text (header line) goes into the notes
    reveal = (out / "tiny_chain.reveal.html").read_text()
    assert "stage 2 of 4" in reveal


def test_video_plays_the_whole_chain(every_format):
    ffmpeg = require("imageio_ffmpeg", "pip install -e '.[test]'")
    scene, _, out = every_format
    source = frame_source(scene)
    total = sum(frame.duration_ms for frame in source.frames("steps")) / 1000
    for name in ("tiny_chain.mp4", "tiny_chain.webm"):
        reader = ffmpeg.read_frames(str(out / name))
        meta = next(reader)
        assert meta["duration"] == pytest.approx(total, abs=0.1)


def test_the_header_names_the_stage_and_highlights_it():
    scene = chain()
    source = frame_source(scene)
    theme = get_theme("light")
    frames = list(source.frames("steps"))
    for frame, (what, k, _) in zip(frames, source.plan):
        if frame.step is None:
            assert frame.text.startswith("all 4 stages done")
            continue
        if what == "step":
            assert frame.text.startswith(f"stage {k + 1} of 4: {scene.stages()[k].kind}")
        # the current stage's box is the only one in the current-output colour, and it is box k + 1 (0: input)
        x, y, w, _ = source.header.chips[k + 1]
        box = frame.pixels[y + 2:y + source.header.chip_h - 2, x + 2:x + w - 2].reshape(-1, 3)
        if what != "field":
            assert (box == theme.output_current).all(axis=1).mean() > 0.5, (what, k)
            for i, (x2, y2, w2, _) in enumerate(source.header.chips):
                if i != k + 1:
                    other = frame.pixels[y2 + 2:y2 + source.header.chip_h - 2, x2 + 2:x2 + w2 - 2].reshape(-1, 3)
                    assert (other == theme.output_current).all(axis=1).mean() < 0.2


def test_a_transition_frames_the_next_input_holding_the_previous_output():
    scene = chain()
    source = frame_source(scene)
    number = next(i for i, (what, k, _) in enumerate(source.plan) if what == "transition" and k == 1)
    frame = list(source.frames("steps"))[number]
    assert "input of stage 2 (relu) = output of stage 1 (conv2d)" in frame.text
    theme = get_theme("light")
    layout = source.views[1].layout
    x0, y0, x1, y1 = layout.input_grids[0].outer
    top = source.header.height
    ring = frame.pixels[top + y0 - 2:top + y0, x0:x1]  # the accent frame just outside the input grid
    assert (ring == theme.accent).all(axis=-1).mean() > 0.8
    # ... and clear of the grid's label over it: the label's rows are the stage's own picture, descenders whole (the
    # frame was 3 px on every side and cut them)
    label = np.asarray(source.views[1].static_image(0))[y0 - 20:y0 - 2, x0:x1]
    assert (label != theme.background).any()
    np.testing.assert_array_equal(frame.pixels[top + y0 - 20:top + y0 - 2, x0:x1], label)


def test_a_16_9_chain_has_every_frame_exactly_1280_by_720(tmp_path):
    scene = chain(render={**CHAIN["render"], "aspect": "16:9", "width": 1280}, output={"formats": ["gif"]})
    result = render_scene(scene, tmp_path)
    with Image.open(result.path) as image:
        assert image.size == (1280, 720)
        assert image.n_frames == FRAMES


def test_cli_info_json_lists_the_stages(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text((SCENES / "c06_chain_conv_relu_pool_linear.toml").read_text())
    assert main(["info", "--json", str(path)]) == 0
    import json

    info = json.loads(capsys.readouterr().out)
    assert [s["kind"] for s in info["stages"]] == ["conv2d", "relu", "max_pool2d", "flatten", "linear"]
    assert info["output_shape"] == info["stages"][-1]["output_shape"]
    assert set(info["stages"][0]) == {"kind", "output_shape", "params", "macs"}
    assert main(["info", "--json", "--values", str(path)]) == 0
    values = json.loads(capsys.readouterr().out)
    assert set(values["stages"][0]) >= {"kind", "input", "weight", "bias", "output"}


# ---- receptive field --------------------------------------------------------------------------------------

WAVENET = SCENES / "c07_wavenet_stack.toml"


def torch_stack(scene, weights_one: bool) -> torch.nn.Sequential:
    layers = []
    for op, stage in zip(scene.ops, scene.stage_arrays()):
        (before, after), = op.padding
        conv = torch.nn.Conv1d(stage["input"].shape[0], op.out_channels, op.kernel_size, dilation=op.dilation,
                               bias=op.bias).double()
        with torch.no_grad():
            conv.weight.copy_(torch.ones_like(conv.weight) if weights_one else torch.from_numpy(stage["weight"]))
            if conv.bias is not None:
                conv.bias.copy_(torch.zeros_like(conv.bias) if weights_one else torch.from_numpy(stage["bias"]))
        layers += [torch.nn.ConstantPad1d((before, after), 0.0), conv]
    return torch.nn.Sequential(*layers)


def test_the_wavenet_stack_sees_16_inputs_as_torch_gradients_say():
    scene = load_scene(WAVENET)
    masks = scene.receptive_field()
    (t,) = scene.render.receptive_field
    x = torch.from_numpy(scene.arrays()["input"])[None].requires_grad_(True)
    torch_stack(scene, weights_one=True)(x)[0, 0, t].backward()
    expected = (x.grad[0] != 0).numpy()
    assert np.array_equal(masks[0], expected)
    assert masks[0].sum() == 16 and np.flatnonzero(masks[0][0]).tolist() == list(range(t - 15, t + 1))
    # and the chain's own numbers are torch's
    with torch.no_grad():
        out = torch_stack(scene, weights_one=False)(torch.from_numpy(scene.arrays()["input"])[None])
    np.testing.assert_allclose(scene.arrays()["output"], out[0].numpy(), atol=1e-9)


def test_the_receptive_field_through_conv_relu_pool_is_what_brute_force_finds():
    """Every input raised alone by a large amount, with positive weights: the chosen output changes exactly for
    the inputs in its receptive field (max pooling and ReLU included)."""
    document = {"input": {"shape": [1, 8, 8], "range": [1, 3]}, "render": {"receptive_field": [1, 0]},
                "ops": [{"kind": "conv2d", "kernel_size": 3, "padding": 1, "weights": {"range": [1, 2]}},
                        {"kind": "relu"},
                        {"kind": "max_pool2d", "kernel_size": 2},
                        {"kind": "conv2d", "kernel_size": 2, "dilation": 2, "weights": {"range": [1, 2]}}]}
    scene = parse_scene(document, "rf.toml")
    masks = scene.receptive_field()
    x0 = scene.arrays()["input"]

    def run(x):
        for stage in scene.stages():
            trace = stage.family.default_view.trace(x, stage.weight_array(), stage.bias_array(), stage.geometry(),
                                                    stage.op)
            x = np.asarray(trace.output())[0]
        return x

    base = run(x0)[0, 1, 0]
    brute = np.zeros_like(masks[0])
    for index in np.ndindex(*x0.shape):
        x = x0.copy()
        x[index] += 1000
        brute[index] = run(x)[0, 1, 0] != base
    assert np.array_equal(masks[0], brute)
    # pooled rows and cols {1, 3} x {0, 2} -> conv rows {2, 3, 6, 7} x cols {0, 1, 4, 5} -> input rows 1..7 x cols 0..6
    assert masks[0].sum() == 49


def test_receptive_field_frames_follow_the_chain_back(tmp_path):
    scene = load_scene(WAVENET)
    source = frame_source(scene)
    fields = [(i, k) for i, (what, k, _) in enumerate(source.plan) if what == "field"]
    assert [k for _, k in fields] == [3, 2, 1, 0]
    frames = list(source.frames("steps"))
    assert "in the input: 16 of 20 positions seen (t = 4..19)" in frames[fields[-1][0]].text


def test_receptive_field_rows_say_what_is_seen_in_them():
    """Each row names the tensor and how much of it the chosen output sees; the last row is the chosen output itself.
    It said "input: sees 16 of 20" (the input sees nothing) and "4 conv1d: sees 1 of 20 positions (t = 19..19)"."""
    from convgif.render.chain import field_extent

    source = frame_source(load_scene(WAVENET))
    number = next(i for i, (what, k, _) in enumerate(source.plan) if (what, k) == ("field", 0))
    words = [p.text for p in source.primitives(number) if type(p).__name__ == "Text"]
    assert "input: 16 of 20 positions seen (t = 4..19)" in words
    assert "4 conv1d: the chosen output (t = 19)" in words
    assert not [w for w in words if "sees" in w or ".." in w and re.search(r"(\d+)\.\.\1\b", w)]
    # a dilated 2D layer: 9 cells seen, spread over a 5×5 span, is not "5×5 cells"
    lit = np.zeros((1, 7, 7), dtype=bool)
    lit[0, 1:6:2, 2:7:2] = True
    assert field_extent(lit) == "9 cells seen in a 5×5 span (rows 1..5, cols 2..6)"
    lit[0, 1:6, 2:7] = True
    assert field_extent(lit) == "5×5 cells seen (rows 1..5, cols 2..6)"
    assert field_extent(lit[:, 3:4, 4:5] | False, chosen=True) == "the chosen output (row 0, col 0)"


def test_a_dilated_stages_positions_are_not_written_as_a_run():
    """WaveNet's stage 2 output: the chosen output sees t = 7, 11, 15 and 19, four positions. "(t = 7..19)" read as
    13 of them."""
    from convgif.render.chain import field_extent

    source = frame_source(load_scene(WAVENET))
    numbers = [i for i, (what, _, _) in enumerate(source.plan) if what == "field"]
    words = {p.text for i in numbers for p in source.primitives(i) if type(p).__name__ == "Text"}
    assert "2 conv1d: 4 of 20 positions seen (t = 7, 11, 15, 19)" in words
    assert "1 conv1d: 8 of 20 positions seen (t = 5, 7, \u2026, 19)" in words
    lit = np.zeros((1, 30), dtype=bool)
    lit[0, [1, 2, 4, 8, 9, 12, 20]] = True  # neither a run nor evenly spaced, too many to list
    assert field_extent(lit) == "7 of 30 positions seen, in t = 1..20"


def test_a_chain_frame_names_what_it_draws_and_nothing_else():
    """The header's legend names "this stage" and the transition's accent frame only on frames of a stage under way;
    the hold frame and the receptive-field frames highlight no stage and draw no accent frame. The receptive-field
    picture names its blue frame round each row's seen cells (it spans cells not seen, between dilated taps)."""
    source = frame_source(load_scene(WAVENET))
    legend_words = lambda primitives: {p.meta.entry for p in primitives if p.meta is not None and p.meta.role == "legend"}
    for number, (what, k, _) in enumerate(source.plan):
        last = number == len(source.plan) - 1
        words = legend_words(source.primitives(number))
        if what in ("field",) or last:
            assert words & {"this stage", "input = the stage before's output (between stages)"} == set(), (what, k)
            assert "stage done" in words
        else:
            assert {"this stage", "stage done"} <= words, (what, k)
        if what == "field":
            assert {"seen by the chosen output cell", "not seen", "span of the seen cells"} <= words


# ---- validation ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("change, expected", [
    ({3: {"kind": "linear", "out_features": 2, "in_features": 96}},
     "ops[3]: linear expects 96 input features, ops[2] (flatten) gives 9"),
    ({3: {"kind": "conv2d", "kernel_size": 2}},
     "ops[3]: conv2d: input must be (C, L) or (C, H, W), but ops[2] (flatten) gives (9,)"),
    ({0: {"kind": "conv2d", "kernel_size": [1, 2, 3]}},
     "ops[0].kernel_size: must be an int or a tuple of 2 ints, got (1, 2, 3)"),
    ({1: {"kind": "relu", "kernel_size": 3}}, "ops[1].kernel_size: not used by relu (its keys: kind)"),
    ({3: {"kind": "linear"}}, "ops[3].out_features: is required for linear (the number of output features)"),
    ({1: {"kind": "relu", "weights": {"seed": 3}}}, "ops[1].weights: relu has no weights (remove the [weights] table)"),
    ({2: {"kind": "flatten", "start_dim": 0}},
     "ops[2].start_dim: 0 would merge the batch dimension (use 1, as nn.Flatten does)"),
])
def test_a_stage_problem_names_the_stage(change, expected):
    ops = [dict(op) for op in CHAIN["ops"]]
    for k, op in change.items():
        ops[k] = op
    with pytest.raises(SceneError) as error:
        parse_scene({**CHAIN, "ops": ops}, "tiny_chain.toml")
    assert str(error.value) == f"tiny_chain.toml: {expected}"


def test_op_and_ops_together_and_a_bad_receptive_field_are_refused():
    with pytest.raises(SceneError, match=r"ops: cannot be given together with \[op\]"):
        parse_scene({**CHAIN, "op": {"kind": "relu"}}, "x.toml")
    with pytest.raises(SceneError, match=r"render.receptive_field: \[5\] is not a cell of the final output \(2,\)"):
        chain(render={"receptive_field": [5]})
    with pytest.raises(SceneError, match=r"render.view: a chain's stages each have their own views"):
        chain(render={"view": "scatter"})
    with pytest.raises(SceneError, match="render.receptive_field: is drawn for chains"):
        parse_scene({"op": {"kind": "relu"}, "input": {"shape": [1, 3]}, "render": {"receptive_field": [0]}}, "x")


def test_cli_check_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('[input]\nshape = [1, 4, 4]\n[[ops]]\nkind = "flatten"\n[[ops]]\nkind = "linear"\n'
                    'out_features = 2\nin_features = 3\n')
    out = tmp_path / "out"
    assert main(["render", str(path), "-o", str(out), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == f"{path}: ops[1]: linear expects 3 input features, ops[0] (flatten) gives 16"
    assert not out.exists() or not any(out.iterdir())


def test_the_json_schema_covers_ops():
    from jsonschema import Draft202012Validator

    from convgif.scene import scene_json_schema

    validator = Draft202012Validator(scene_json_schema())
    good = {**CHAIN, "ops": [{**CHAIN["ops"][0], "weights": {"seed": 3}}, *CHAIN["ops"][1:]]}
    validator.validate(good)
    parse_scene(good, "x.toml")
    bad_stage = {**CHAIN, "ops": [{**CHAIN["ops"][0], "kernel_size": "three"}]}
    both = {**CHAIN, "op": {"kind": "relu"}}
    unknown = {**CHAIN, "ops": [{**CHAIN["ops"][0], "render": {"colour": "red"}}]}
    for document in (bad_stage, both, unknown):
        assert not validator.is_valid(document)
        with pytest.raises(SceneError):
            parse_scene(document, "x.toml")


# ---- the gallery's chains ---------------------------------------------------------------------------------------

CHAIN_SCENES = sorted(path for path in SCENES.glob("*.toml") if "\n[[ops]]" in path.read_text(encoding="utf-8"))


def test_the_gallery_has_the_chain_scenes():
    assert {p.stem for p in CHAIN_SCENES} >= {"b06_chain_depthwise_pointwise", "c06_chain_conv_relu_pool_linear",
                                              "c09_chain_conv_then_transposed", "c08_chain_encoder_decoder",
                                              "c07_wavenet_stack"}


@pytest.mark.parametrize("path", CHAIN_SCENES, ids=lambda p: p.stem)
def test_a_gallery_chain_loops_in_20_s_or_less_and_its_text_fits(path):
    """The loop (hold included) lasts at most 20 s; on sampled frames of every kind (each stage's first and last
    step, each finished stage, each transition and receptive-field frame, the hold) every text is at least 10 px
    and ends at least 4 px inside the frame, and every pixel is a palette colour."""
    from convgif.render import fonts
    from convgif.render.primitives import Text

    scene = load_scene(path)
    source = frame_source(scene)
    frames = list(source.frames("steps"))
    assert sum(frame.duration_ms for frame in frames) <= 20_000
    width = source.size[0]
    sampled = set()
    for k in range(len(source.stages)):
        numbers = [i for i, (what, stage, _) in enumerate(source.plan) if stage == k]
        sampled |= {numbers[0], numbers[1], numbers[-1]}
    sampled |= {i for i, (what, _, _) in enumerate(source.plan) if what != "step"}
    palette = source.palette()
    assert not palette.nearest_off_palette  # crisp text: every colour is declared, none approximated
    for number in sorted(sampled):
        for text in (p for p in source.primitives(number) if isinstance(p, Text)):
            assert text.size >= 10, (path.name, number, text.text, text.size)
            drawn = fonts.text_width(text.text, text.size, text.bold, crisp=True)
            left = text.x - {"left": 0, "center": drawn / 2, "right": drawn}[text.align]
            assert 4 <= left and left + drawn <= width - 4, (path.name, number, text.text)
        pixels = frames[number].pixels
        assert pixels.shape[:2] == (source.size[1], source.size[0])
        palette.index(pixels)  # raises on a colour the palette lacks


# ---- the map view (relu, flatten, linear, upsample) ---------------------------------------------------------

@pytest.mark.parametrize("op, shape", [
    ({"kind": "relu"}, [2, 3, 3]),
    ({"kind": "flatten"}, [2, 2, 3]),
    ({"kind": "linear", "out_features": 3}, [1, 2, 4]),
    ({"kind": "upsample", "scale_factor": 2, "mode": "bilinear"}, [1, 3, 3]),
    ({"kind": "relu"}, [2, 6]),
])
def test_the_map_view_lights_the_cells_each_step_reads_and_writes(op, shape):
    """Pixel probes: each step's source cells have the tap fill, its output cell the current-output fill, and the
    cells earlier steps wrote the done fill; the arithmetic line states the step's value."""
    from convgif.pipeline import build_trace, drawable_view
    from convgif.render.primitives import fmt_number

    scene = parse_scene({"op": op, "input": {"shape": shape, "range": [-3, 3]}}, "m.toml")
    trace = build_trace(scene)
    view = drawable_view(scene, trace)
    layout, theme = view.layout, view.theme
    steps = sorted({0, len(trace) // 2, len(trace) - 1})

    def inside(box):  # a pixel inside the cell, off its number
        x0, y0, x1, y1 = box
        return y0 + 3, x0 + 3

    for (pixels, text), index in zip(view.frames_with_text(steps), steps):
        step = trace.step(index)
        for source in step.sources:
            y, x = inside(layout.element_box("input", source))
            assert tuple(pixels[y, x]) == theme.tap, (op, index, source)
        y, x = inside(layout.element_box("output", step.position))
        assert tuple(pixels[y, x]) == theme.output_current
        if index:
            done = trace.step(index - 1).position
            y, x = inside(layout.element_box("output", done))
            assert tuple(pixels[y, x]) == theme.output_done
        assert f"= {fmt_number(step.value)}" in text
        if op["kind"] == "linear":
            x0, y0, x1, y1 = layout.weight_grid.span([step.position[-1]], [0])
            assert tuple(pixels[y0 + 1, x0 + 1]) == theme.window  # the current weight row is framed


def test_the_finished_linear_picture_shows_every_number_its_outputs_are_made_of():
    """Each output cell is W row · input + bias read off the picture itself: the bias stands as a column beside W
    (before, it appeared only in the step arithmetic, so c06's finished picture read W·x = 22 beside an output 21)."""
    from convgif.pipeline import build_trace, drawable_view
    from convgif.render.primitives import Text

    scene = parse_scene({"op": {"kind": "linear", "out_features": 3}, "input": {"shape": [1, 2, 4], "range": [-3, 3]},
                         "weights": {"seed": 4}}, "m.toml")
    view = drawable_view(scene, build_trace(scene))
    layout = view.layout
    grids = layout.grids_by_role()
    assert "bias" in grids, "no bias column"
    drawn = [p for p in view.primitives(None) if isinstance(p, Text)]

    def number_in(box):
        x0, y0, x1, y1 = box
        inside = [t.text for t in drawn if x0 <= t.x <= x1 and y0 <= t.y <= y1]
        assert len(inside) == 1, (box, inside)
        return float(inside[0].replace("\u2212", "-"))

    def tensor(role, shape):
        return np.array([number_in(layout.element_box(role, i)) for i in np.ndindex(*shape)]).reshape(shape)

    (w_grid,), (b_grid,) = grids["weight"], grids["bias"]
    weight = np.array([[number_in(w_grid.box(r, c)) for c in range(w_grid.cols)] for r in range(w_grid.rows)])
    bias = np.array([number_in(b_grid.box(r, 0)) for r in range(b_grid.rows)])
    g = view.layout.trace.geometry
    x, out = tensor("input", g.input_shape), tensor("output", g.output_shape)
    assert weight.shape == (3, 4) and not np.allclose(bias, 0)
    np.testing.assert_allclose(x @ weight.T + bias, out, atol=0.011)  # numbers as drawn, to two decimals


def test_no_mark_of_a_chain_stage_looks_like_the_chains_frame_round_its_input():
    """A transition frame rings the input a stage reads in the chain's accent frame, under the stage's own marks: no
    stage's legend entry may look like it (relu's "negative → 0" was the same hollow accent square). The header's
    chips share the stages' colours on purpose: "this stage" is current, as "current output" is."""
    source = frame_source(load_scene(SCENES / "c06_chain_conv_relu_pool_linear.toml"))

    def looks(rows):
        return {label: tuple((r.fill, r.edge, r.line_width, r.dashed) for r in make((0, 0, 14, 14)))
                for *_, label, make in rows}

    (((_, edge, _, dashed),),) = [look for label, look in looks(source.header.legend_rows).items()
                                  if "between stages" in label]
    kinds = set()
    for view in source.views:
        kinds.add(getattr(view.layout.trace, "kind", "conv"))
        blank = {None, view.theme.input}  # a hollow frame, or one round a plain input cell: the line is the look
        for label, rects in looks(view.layout.legend_rows).items():
            assert not any(r[1] == edge and r[3] == dashed and r[0] in blank for r in rects), label
    assert "relu" in kinds


def test_a_loop_too_short_for_its_first_row_keeps_every_step_at_duration_ms():
    """Regression: when every shown step is in the first row and the loop is over budget (a chain stage's share of
    render.loop_ms), step_durations divided by zero."""
    scene = parse_scene({"op": {"kind": "conv1d", "kernel_size": 2}, "input": {"shape": [1, 6]},
                         "render": {"loop_ms": 1000, "duration_ms": 600}}, "x.toml")
    assert scene.step_durations(5) == [600] * 5


@pytest.mark.parametrize("name", ["c07_wavenet_stack", "c09_chain_conv_then_transposed"])
def test_a_transition_frames_only_the_cells_the_previous_stage_wrote(name):
    """The accent frame says "input of stage k = output of stage k − 1": it rings the cells holding those values, not
    the padding or a transposed conv's inserted zeros round them (it ringed the whole grid: c09's 8×8 spread grid as
    the 3×3 output, c07's causal padding zeros as part of the previous output)."""
    from convgif.engine.trace_transpose import INPUT_VALUE

    source = frame_source(load_scene(SCENES / f"{name}.toml"))
    theme = source.theme
    frames = list(source.frames("steps"))
    checked = 0
    for number, (what, k, _) in enumerate(source.plan):
        if what != "transition":
            continue
        view, top = source.views[k], source.header.height
        trace = view.trace
        grid = view.layout.grids_by_role()["input"][0]
        if hasattr(trace, "cell_kind"):
            values = (np.asarray(trace.cell_kind) == INPUT_VALUE).reshape(grid.rows, grid.cols)
        else:
            values = ~np.asarray(trace.padding_cells, dtype=bool).reshape(grid.rows, grid.cols)
        pixels = frames[number].pixels
        for col in range(grid.cols):  # the band just above the grid's top row, over each cell's middle
            x0, y0, x1, _ = grid.box(0, col)
            band = pixels[top + y0 - 2:top + y0, x0 + 4:x1 - 4]
            ringed = bool((band == theme.accent).all(axis=-1).any())
            row_values = values[:, col]
            if not row_values.any():
                assert not ringed, (number, col)
                checked += 1
            elif values[0, col]:
                assert ringed, (number, col)
    assert checked
