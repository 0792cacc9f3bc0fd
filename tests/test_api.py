"""The notebook API: load or build a scene, render it in memory, show it inline, save it by suffix."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import convgif
from convgif.errors import SceneError, UsageError
from convgif.scene import load_scene

SCENES = Path(__file__).resolve().parent.parent / "scenes"

# 3x3 input, 2x2 kernel, stride 1: a 2x2 output, so 4 step frames + 1 hold frame (counted by hand)
SMALL = {
    "title": "small",
    "op": {"kind": "conv2d", "kernel_size": 2, "bias": False},
    "input": {"shape": [1, 3, 3], "values": "arange"},
    "weights": {"values": [[[[1, 0], [0, 1]]]]},
    "render": {"duration_ms": 100, "hold_ms": 300, "width": 480},
}
SMALL_TOML = """\
title = "small"
[op]
kind = "conv2d"
kernel_size = 2
bias = false
[input]
shape = [1, 3, 3]
values = "arange"
[weights]
values = [[[[1, 0], [0, 1]]]]
[render]
duration_ms = 100
hold_ms = 300
width = 480
"""


@pytest.fixture(scope="module")
def small_rendering():
    return convgif.Scene.from_dict(SMALL).render()


def gif_frames(data: bytes) -> tuple[int, tuple[int, int], list[int]]:
    with Image.open(io.BytesIO(data)) as image:
        durations = []
        for index in range(image.n_frames):
            image.seek(index)
            durations.append(image.info["duration"])
        return image.n_frames, image.size, durations


def test_render_in_memory(small_rendering):
    assert small_rendering.frames == 5
    count, size, durations = gif_frames(small_rendering.gif_bytes)
    assert count == 5 and size[0] == 480 and small_rendering.size == size
    assert durations == [100, 100, 100, 100, 300]
    assert small_rendering.mime == "image/gif" and small_rendering.gif_bytes[:6] == b"GIF89a"


def test_repr_html_is_the_step_player(small_rendering):
    # issue 15 item 5: a rendered animation shows the step player inline (tests/test_notebook.py runs it in Jupyter)
    markup = small_rendering._repr_html_()
    assert '<figure class="cgp"' in markup and 'aria-label="Next step"' in markup
    assert 'alt="small: conv2d slides' in markup
    assert small_rendering.player() is small_rendering.player()  # drawn once, on first display
    assert small_rendering._repr_png_() is None  # an animation shows as HTML, not a frozen PNG


def test_load_keywords_dict_and_toml_agree(tmp_path, small_rendering):
    path = tmp_path / "small.toml"
    path.write_text(SMALL_TOML, encoding="utf-8")
    loaded = convgif.load(path)
    built = convgif.scene_from(**SMALL)
    from_toml = convgif.Scene.from_toml(SMALL_TOML)
    assert loaded.spec.model_dump(exclude={"source", "stem"}) == built.spec.model_dump(exclude={"source", "stem"}) \
        == from_toml.spec.model_dump(exclude={"source", "stem"})
    assert convgif.scene_from(SMALL, title="other").title == "other"
    assert loaded.render().gif_bytes == small_rendering.gif_bytes  # same scene, same bytes


def test_validation_messages_match_the_file_loader(tmp_path):
    bad = {"op": {"kind": "conv2d", "kernel_size": 4, "strid": 2}, "input": {"shape": [1, 3, 3]}}
    path = tmp_path / "bad.toml"
    path.write_text('[op]\nkind = "conv2d"\nkernel_size = 4\nstrid = 2\n[input]\nshape = [1, 3, 3]\n',
                    encoding="utf-8")
    with pytest.raises(SceneError) as from_file:
        load_scene(path)
    with pytest.raises(SceneError) as from_code:
        convgif.Scene.from_dict(bad, source=str(path))
    assert from_code.value.problems == from_file.value.problems
    assert any(key == "op.strid" and "stride" in message for key, message in from_code.value.problems)
    with pytest.raises(SceneError) as default_name:
        convgif.scene_from(**bad)
    assert default_name.value.lines()[0].startswith("<dict>: ")


def test_scene_keeps_its_own_copy():
    document = {**SMALL, "op": dict(SMALL["op"])}
    scene = convgif.scene_from(document)
    document["op"]["kernel_size"] = 3
    assert scene.spec.op.kernel_size == 2


def test_render_options_and_dark_theme():
    light = convgif.Scene.from_dict(SMALL).render()
    dark = convgif.Scene.from_dict(SMALL).render(theme="dark", width=640)
    assert dark.size[0] == 640
    luminance = [np.asarray(Image.open(io.BytesIO(r.png_bytes)).convert("L")).mean() for r in (light, dark)]
    assert luminance[0] > 150 > luminance[1]  # a light background, then a dark one
    with pytest.raises(UsageError, match=r"unknown render option\(s\) widht \(did you mean 'width'\?\)"):
        convgif.Scene.from_dict(SMALL).render(widht=480)
    with pytest.raises(UsageError, match="unknown render option"):
        convgif.Scene.from_dict(SMALL).render(colour="red")
    with pytest.raises(SceneError):
        convgif.Scene.from_dict(SMALL).render(theme="neon")


def test_save_by_suffix(tmp_path, small_rendering):
    scene = convgif.Scene.from_dict(SMALL)
    gif = small_rendering.save(tmp_path / "out" / "a.gif")
    assert gif.read_bytes() == small_rendering.gif_bytes
    with Image.open(small_rendering.save(tmp_path / "a.png")) as png:
        assert png.format == "PNG" and png.size == small_rendering.size and getattr(png, "n_frames", 1) == 1
    for suffix in (".webp", ".apng"):
        with Image.open(small_rendering.save(tmp_path / f"a{suffix}")) as animation:
            assert animation.n_frames == 5 and animation.size == small_rendering.size
    pdf = scene.save(tmp_path / "a.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 1
    svg = scene.save(tmp_path / "a.svg").read_text(encoding="utf-8")
    assert "<svg" in svg
    with Image.open(scene.save(tmp_path / "strip.png", format="strip")) as strip:
        assert strip.size[0] > small_rendering.size[0]  # key steps side by side
    with pytest.raises(UsageError, match="cannot tell the format"):
        small_rendering.save(tmp_path / "a.bmp")


def test_still_scene_renders_a_png():
    scene = convgif.load(SCENES / "e03_param_counts.toml")
    assert scene.is_still
    rendering = scene.render()
    assert rendering.mime == "image/png" and rendering.frames == 1
    assert rendering._repr_png_() == rendering.data
    assert rendering._repr_html_().startswith('<img src="data:image/png;base64,')
    with Image.open(io.BytesIO(rendering.gif_bytes)) as gif:
        assert gif.format == "GIF" and gif.size == rendering.size


def test_scene_formats_do_not_change_the_inline_picture():
    # a scene file asking for a strip only still shows its animation inline
    scene = convgif.Scene.from_dict({**SMALL, "output": {"formats": ["strip"]}})
    rendering = scene.render()
    assert rendering.mime == "image/gif" and gif_frames(rendering.gif_bytes)[0] == 5


def test_scene_summary_is_instant_html():
    scene = convgif.Scene.from_dict(SMALL)
    summary = scene._repr_html_()
    assert "<table>" in summary and "(1, 2, 2)" in summary and ".render()" in summary
    assert repr(scene) == "convgif.Scene('small')"
