"""Slide-shaped frames (`[render] aspect`, issue 14): every animated gallery scene at 16:9 and 4:3 is exactly that
shape with its numbers shown, the frames keep the picture rules the layout manifest holds (tests/test_manifest.py),
and at 1920×1080 a small scene's digits are at least 20 px and every other text at least 16 px."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest
from test_manifest import ANIMATED, RULES, Case, text_sizes

from convgif.cli import main
from convgif.render.manifest import frame_items
from convgif.scene import load_scene, parse_scene
from convgif.sources import build_trace, build_view, frame_source

SCENES = Path(__file__).resolve().parent.parent / "scenes"
SIZES = {"16:9": (1280, 720), "4:3": (1024, 768)}
# scenes whose blog frames hide their numbers too (c11's 64×64 output): no frame width shows them
HIDDEN_EVERYWHERE = {"c11_transposed_32_to_64"}


def on_slide(name: str, aspect: str, width: int | None = None):
    scene = load_scene(SCENES / f"{name}.toml")
    render = scene.render.model_copy(update={"aspect": aspect, "width": width or SIZES[aspect][0]})
    return scene.model_copy(update={"render": render})


@cache
def slide_view(name: str, aspect: str):
    scene = on_slide(name, aspect)
    return build_view(scene, build_trace(scene))


@pytest.mark.parametrize("aspect", SIZES)
@pytest.mark.parametrize("name", ANIMATED)
def test_every_animated_scene_fits_the_slide_with_its_numbers(name, aspect):
    view = slide_view(name, aspect)
    assert view.size == SIZES[aspect]
    first = next(view.frames([0]))
    assert first.shape == (SIZES[aspect][1], SIZES[aspect][0], 3)
    assert view.final_frame().shape == first.shape
    layout = view.layout
    if name not in HIDDEN_EVERYWHERE:
        assert layout.input_value_size is not None and layout.output_value_size is not None, layout.cells
        assert min(layout.input_value_size, layout.output_value_size) >= 10
    assert layout.note_lines == [] or name in HIDDEN_EVERYWHERE or not any(
        "hidden" in line.lower() for line in layout.note_lines)


@pytest.mark.parametrize("aspect", SIZES)
@pytest.mark.parametrize("name", ANIMATED)
def test_no_text_on_a_slide_is_under_10_px(name, aspect):
    """Words, numbers and the legend, on the first, middle and hold frames: where a slide's numbers would need
    smaller text, the numbers hide instead (the test above holds that none of the gallery's do)."""
    view = slide_view(name, aspect)
    small = {f"{text!r} at {px} px" for step in sorted({0, len(view.trace) // 2}) + [None]
             for text, px in text_sizes(frame_items(view, step)) if px < 10}
    assert not small, sorted(small)[:5]


class SlideCase(Case):
    def __init__(self, name: str, aspect: str):
        super().__init__(on_slide(name, aspect))


# the slide arrangements (channels side by side, kernels stacked or in a row, the bank under the outputs, lanes
# side by side, 1D kernel rows beside their inputs) and the plain ones, held to the blog frames' rules
RULED = ["a03_input_channels", "a08_groups", "a09_everything", "b06_depthwise_stage", "c07_text_conv1d",
         "c05_max_pool", "c08_transposed_zero_insertion", "c08_transposed_scatter", "dark_grouped_conv"]


@pytest.mark.parametrize("name", RULED)
def test_slide_frames_follow_the_picture_rules(name):
    case = SlideCase(name, "16:9")
    broken = {rule: found for rule, check in RULES.items() if (found := check(case))}
    assert broken == {}


def small_scenes() -> list[str]:
    """Gallery scenes of up to 3 input channels of at most 9×9 (padded), 2D; in 1D, up to 4 channels of at most 16
    positions (a sentence's embeddings, a short series)."""
    names = []
    for name in ANIMATED:
        geometry = build_trace(load_scene(SCENES / f"{name}.toml")).geometry
        shape = getattr(geometry, "padded_input_shape", geometry.input_shape)
        if (geometry.ndim == 2 and shape[0] <= 3 and max(shape[1:]) <= 9
                or geometry.ndim == 1 and shape[0] <= 4 and shape[1] <= 16):
            names.append(name)
    return names


@cache
def sizes_at_1920(name: str) -> dict[str, int]:
    """The smallest text size (px) at 1920×1080, by what it is: "input", "kernel", "output" cells, "text"."""
    scene = on_slide(name, "16:9", width=1920)
    view = build_view(scene, build_trace(scene))
    assert view.size == (1920, 1080)
    smallest: dict[str, int] = {"legend": view.layout.sz.legend}
    for step in [*sorted({0, len(view.trace) // 2}), None]:
        for item in frame_items(view, step):
            if item["role"] == "cell" and "font_px" in item:
                what = "output" if item["tensor"] == "output" else "input" if item["tensor"] == "input" else "kernel"
            elif item["role"] == "text":
                what = "text"
            else:
                continue
            smallest[what] = min(smallest.get(what, 99), item["font_px"])
    return smallest


@pytest.mark.parametrize("name", small_scenes())
def test_back_row_text_sizes_at_1920(name):
    """Digits in every cell (input, kernels, outputs, the bank) at least 20 px, every other text at least 16 px."""
    sizes = sizes_at_1920(name)
    assert min(sizes["input"], sizes["output"], sizes.get("kernel", 20)) >= 20, sizes
    assert sizes["text"] >= 16 and sizes["legend"] >= 16, sizes


def test_small_scenes_are_the_ones_the_issue_names():
    """The 1920 check covers real scenes: the plain, padded, dilated, 3-channel ones."""
    assert {"a01_plain_conv", "a03_input_channels", "a09_everything", "c05_max_pool",
            "c07_text_conv1d", "c07_causal_conv1d"} <= set(small_scenes())


@pytest.mark.parametrize("name", ["c04_relu", "b04_receptive_field", "c01_conv_as_matrix"])
def test_stills_fill_the_slide_exactly(name):
    scene = on_slide(name, "4:3")
    source = frame_source(scene)
    for frame in source.frames("steps"):
        assert frame.pixels.shape == (768, 1024, 3)
        background = frame.pixels[0, 0]
        assert not np.all(frame.pixels == background)  # something is drawn


SCENE = """\
title = "slides"
[op]
kind = "conv2d"
kernel_size = 3
bias = false
[input]
shape = [1, 5, 5]
values = "arange"
[render]
width = 720
"""


def test_cli_aspect_takes_the_slide_width_unless_width_is_given(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text(SCENE, encoding="utf-8")
    from PIL import Image

    assert main(["render", str(path), "--aspect", "16:9", "-o", str(tmp_path / "a"), "-q"]) == 0
    assert Image.open(tmp_path / "a" / "s.gif").size == (1280, 720)
    assert main(["render", str(path), "--aspect", "4:3", "--width", "800", "-o", str(tmp_path / "b"), "-q"]) == 0
    assert Image.open(tmp_path / "b" / "s.gif").size == (800, 600)


def test_aspect_in_the_file_and_its_errors():
    scene = parse_scene({"op": {"kind": "conv2d", "kernel_size": 3}, "input": {"shape": [1, 5, 5]},
                         "render": {"aspect": "16:9"}}, "x.toml")
    assert (scene.render.width, scene.render.frame_height()) == (1280, 720)
    from convgif.errors import SceneError

    with pytest.raises(SceneError) as error:
        parse_scene({"op": {"kind": "conv2d", "kernel_size": 3}, "input": {"shape": [1, 5, 5]},
                     "render": {"aspect": "16:10"}}, "x.toml")
    assert "render.aspect" in str(error.value)


def test_key_steps_all_is_every_shown_step_then_the_finished_picture():
    scene = parse_scene({"op": {"kind": "conv2d", "kernel_size": 3}, "input": {"shape": [1, 5, 5]},
                         "render": {"steps": {"every": 2}}, "output": {"key_steps": "all"}}, "x.toml")
    assert scene.key_steps() == [0, 2, 4, 6, 8, None]
    default = parse_scene({"op": {"kind": "conv2d", "kernel_size": 3}, "input": {"shape": [1, 5, 5]}}, "x.toml")
    assert default.key_steps() == [0, 4, 8, None]
    assert default.key_steps(default="all") == [*range(9), None]
    assert frame_source(default).count("slides") == 10


def test_pdf_pages_follow_the_aspect(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(SCENE + '[output]\nkey_steps = "all"\n', encoding="utf-8")
    assert main(["render", str(path), "--aspect", "4:3", "--format", "pdf", "-o", str(tmp_path), "-q"]) == 0
    data = (tmp_path / "s.pdf").read_bytes()
    assert data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") + data.count(b"/Type /Page>") >= 1
    import re

    boxes = {tuple(round(float(v)) for v in m.groups()) for m in
             re.finditer(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)}
    assert len(boxes) == 1
    (w, h), = boxes
    assert abs(w / h - 4 / 3) < 0.01
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", data)) == 10  # 9 steps and the finished picture


CHAINS = sorted(p.stem for p in SCENES.glob("*.toml") if "\n[[ops]]" in "\n" + p.read_text(encoding="utf-8"))


@pytest.mark.parametrize("width, smallest", [(1280, 10), (1920, 16)])
@pytest.mark.parametrize("name", CHAINS)
def test_a_chain_stage_sets_its_words_as_large_as_the_slide_does(name, width, smallest):
    """A stage under the chain's header scaled its text with the height left to it, not the slide's: at 1280×720
    its subtitle and legend were 9 px, at 1920×1080 13 px (the README promises 16)."""
    from convgif.render.primitives import Text

    source = frame_source(on_slide(name, "16:9", width))
    assert source.size == (width, width * 9 // 16)
    for view in source.views:
        layout = view.layout
        drawn = layout.static(0) + layout.transient(view.trace.step(0)) + layout.final_transient()
        sizes = [p.size for p in drawn if isinstance(p, Text)]
        assert min(sizes) >= smallest, (view.trace.geometry.kind, sorted(set(sizes))[:4])
