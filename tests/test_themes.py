"""Light and dark in one run (issue 15): `render.theme` as a list or "auto", `--theme light,dark`, each theme's
files named after it, and a format holding every theme handed the frames of each in turn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convgif import formats
from convgif.build_cache import MANIFEST_NAME
from convgif.cli import main
from convgif.encode.base import Writer
from convgif.errors import SceneError
from convgif.formats import OutputFormat
from convgif.pipeline import render_scene
from convgif.render import get_theme
from convgif.scene import parse_scene
from convgif.scene.spec import THEMES

SCENE = """\
title = "themes"
[op]
kind = "conv2d"
kernel_size = 2
bias = false
[input]
shape = [1, 3, 3]
values = "arange"
[render]
duration_ms = 100
hold_ms = 200
"""


def document(**render):
    return {"op": {"kind": "conv2d", "kernel_size": 2, "bias": False},
            "input": {"shape": [1, 3, 3], "values": "arange"}, "render": {"duration_ms": 100, **render}}


def background(path: Path) -> tuple[int, ...]:
    with Image.open(path) as image:
        return tuple(np.asarray(image.convert("RGB"))[0, 0])


def test_the_theme_names_are_the_renderers():
    from convgif.render.theme import theme_names

    assert sorted(THEMES) == sorted(theme_names())


def test_cli_light_and_dark_write_one_gif_each(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(SCENE, encoding="utf-8")
    assert main(["render", str(path), "--theme", "light,dark", "-o", str(tmp_path / "out"), "-q"]) == 0
    names = sorted(p.name for p in (tmp_path / "out").iterdir() if p.name != MANIFEST_NAME)
    assert names == ["s.dark.gif", "s.gif"]
    assert background(tmp_path / "out" / "s.gif") == get_theme("light").background
    assert background(tmp_path / "out" / "s.dark.gif") == get_theme("dark").background


def test_auto_in_the_file_is_light_then_dark(tmp_path):
    scene = parse_scene(document(theme="auto"), "s.toml")
    assert scene.render.themes() == ("light", "dark")
    result = render_scene(scene, tmp_path)
    assert [p.name for p in result.paths] == ["s.gif", "s.dark.gif"]
    assert result.bytes == sum(p.stat().st_size for p in result.paths)
    single = parse_scene(document(theme=["dark"]), "s.toml")
    assert single.render.themes() == ("dark",) and single.render.theme == "dark"


@pytest.mark.parametrize("theme, message", [
    ("drak", "'drak' is not supported"),
    (["light", "light"], "lists 'light' twice"),
    (["light", "sepia"], "'sepia' is not supported"),
    ([], "is not a theme name or a list of them"),
    (3, "is not a theme name or a list of them"),
])
def test_bad_themes_name_the_key(theme, message):
    with pytest.raises(SceneError) as caught:
        parse_scene(document(theme=theme), "s.toml")
    assert "render.theme" in str(caught.value) and message in str(caught.value)


class Recorder(Writer):
    """A writer that keeps which theme and step each frame it is handed shows."""

    seen: list[tuple[str, int | None]] = []

    def __init__(self, path):
        self.path = Path(path)

    @classmethod
    def open(cls, path, options):
        return cls(path)

    def setup(self) -> None:
        Recorder.seen = []

    def write_frame(self, frame) -> None:
        Recorder.seen.append((frame.theme, frame.step))

    def finish(self) -> None:
        self.path.write_text("ok", encoding="utf-8")

    def abort(self, *exc) -> None:
        pass


def test_a_format_holding_every_theme_gets_each_themes_frames_in_turn(tmp_path, monkeypatch):
    record = OutputFormat("both", "{stem}.both", f"{__name__}:Recorder", "steps", "every theme", every_theme=True)
    monkeypatch.setitem(formats._BY_NAME, "both", record)
    scene = parse_scene(document(theme="auto"), "s.toml")
    scene = scene.model_copy(update={"output": scene.output.model_copy(update={"formats": ("gif", "both")})})
    result = render_scene(scene, tmp_path)
    steps = [0, 1, 2, 3, None]
    assert Recorder.seen == [("light", s) for s in steps] + [("dark", s) for s in steps]
    assert sorted(p.name for p in result.paths) == ["s.both", "s.dark.gif", "s.gif"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.both", "s.dark.gif", "s.gif"]


def wcag_contrast(a, b) -> float:
    """WCAG 2's contrast ratio of two sRGB colours (its own formula, not the renderer's)."""
    def luminance(rgb):
        channels = [c / 255 for c in rgb]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("name", THEMES)
def test_padding_zeros_are_faint_but_readable_from_the_back_row(name):
    """Padding zeros are terms of the sums; at 2.1:1 (light) they vanished on a projector. At least WCAG's 3:1 for
    large text and marks, and still fainter than the input's own digits."""
    theme = get_theme(name)
    assert wcag_contrast(theme.padding_text, theme.padding) >= 3.0
    assert wcag_contrast(theme.padding_text, theme.padding) < wcag_contrast(theme.input_text, theme.input)
