"""Chinese frames say everything in Chinese: animated views (conv, transposed, pool) and still figures.

The check is on the words drawn, not on the label table: every Text a zh frame draws (static layer, every
step's marks, the hold frame) and every string a zh still hands matplotlib is searched for ASCII words of 3+
letters. What may stay is notation, listed below with the reason, and the same check run on English frames
must find English words (so it is not vacuous).
"""

from __future__ import annotations

import dataclasses
import functools
import re
import tomllib
import warnings
from pathlib import Path

import matplotlib.text
import numpy as np
import pytest
from fontTools.ttLib import TTFont
from PIL import Image

from convgif.engine.presets import KERNEL_PRESETS
from convgif.errors import SceneError
from convgif.pipeline import build_trace, build_view, still_frames
from convgif.render import fonts
from convgif.render.layout_common import cjk_wrap, wrap_text
from convgif.render.primitives import Text
from convgif.scene import load_scene, parse_scene
from convgif.scene.still import StillScene

ROOT = Path(__file__).resolve().parents[1]
SCENES = ROOT / "scenes"
SAMPLES = Path("/tmp/zh_samples")

# ASCII words a Chinese frame may draw, each notation rather than English prose:
NOTATION = {
    "floor", "max", "min",  # functions inside the output-size formulas and the pooling arithmetic
    "ReLU", "PyTorch", "Keras", "Conv2d", "Conv2D", "False",  # proper names, the torch / Keras layer names
    "Cout", "Cin",  # axis names of a weight tensor: (Cout, Cin/groups, kH, kW)
}
NOTATION |= set(KERNEL_PRESETS)  # a feature-map still's kernels, named as the scene names them (sobel_x, gaussian)
IDENTIFIER = re.compile(r"[A-Za-z0-9]*(\d|_)[A-Za-z0-9_]*")  # conv2d, max_pool2d, sobel_x: op kinds, preset names
ARGUMENT = re.compile(r"\b([A-Za-z_]+)\s*=")  # kernel_size=3, groups = 16: torch argument names written as code
PHRASES = ("Cin/groups",)  # the weight tensor's shape as torch's documentation writes it


def english_words(text: str) -> list[str]:
    """ASCII words of 3+ letters in `text` that are not notation (see NOTATION, IDENTIFIER, ARGUMENT)."""
    if text.startswith("$"):  # matplotlib mathtext: a tick label such as $\mathdefault{10^{3}}$
        return []
    arguments = set(ARGUMENT.findall(text))
    for phrase in PHRASES:
        text = text.replace(phrase, "")
    words = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)
    return [w for w in words if sum(ch.isalpha() for ch in w) >= 3 and w not in NOTATION and w not in arguments
            and not IDENTIFIER.fullmatch(w)]


def _document(name: str, **changes) -> dict:
    """The scene file's document with `changes`; an English scene made Chinese loses its title and caption (the
    author's own text, in the language they wrote it)."""
    document = tomllib.loads((SCENES / name).read_text())
    if changes.get("language") == "zh" and document.get("language") != "zh":
        for key in ("title", "caption"):
            document.pop(key, None)
    for key, value in changes.items():
        if isinstance(value, dict):
            document.setdefault(key, {}).update(value)
        else:
            document[key] = value
    return document


def _view(name: str, **changes):
    scene = parse_scene(_document(name, **changes), str(SCENES / name))
    return build_view(scene, build_trace(scene))


def frame_texts(view) -> list[Text]:
    """Every Text a view draws: static layer, each step's marks, the hold frame."""
    layout = view.layout
    items = list(layout.static(0)) + list(layout.final_transient())
    for index in range(len(view.trace)):
        items += layout.transient(view.trace.step(index))
    return [item for item in items if isinstance(item, Text)]


@functools.lru_cache(maxsize=None)
def _font(path: str) -> TTFont:
    """A font file read whole, once per test session."""
    with open(path, "rb") as handle:
        font = TTFont(handle, lazy=False)
        font.ensureDecompiled()
    return font


def _draws_a_glyph(font: TTFont, char: str) -> bool:
    name = font.getBestCmap().get(ord(char))
    return name is not None and name != ".notdef" and font["glyf"][name].numberOfContours != 0


# zh views covering every layout: the new transposed scene, the scatter view, the three pools, conv1d strips
ZH_VIEWS = {
    "zero_insertion": ("zh_transposed_conv.toml", {}),
    "zero_insertion_output_padding": ("c09_transposed_output_padding.toml", {"language": "zh"}),
    "scatter": ("c08_transposed_scatter.toml", {"language": "zh"}),
    "max_pool": ("c05_max_pool.toml", {"language": "zh"}),
    "avg_pool_padding": ("c05_avg_pool.toml", {"language": "zh", "op": {"padding": 1, "count_include_pad": False}}),
    "lp_pool": ("c05_lp_pool.toml", {"language": "zh"}),
    "conv2d_groups_dilation": ("a09_everything.toml", {"language": "zh"}),
    "conv1d": ("c07_causal_conv1d.toml", {"language": "zh"}),
}


@pytest.mark.parametrize("case", sorted(ZH_VIEWS))
def test_a_chinese_view_draws_no_english_word_and_every_glyph(case):
    name, changes = ZH_VIEWS[case]
    view = _view(name, **changes)
    assert view.theme.language == "zh"
    texts = frame_texts(view)
    leftovers = {t.text: english_words(t.text) for t in texts if english_words(t.text)}
    assert leftovers == {}, leftovers
    assert any(fonts.font_path(t.bold, t.text) == fonts.cjk_path(t.bold) for t in texts)  # Chinese is drawn
    for item in {(t.text, t.bold): t for t in texts}.values():  # each line's font has a real glyph for each char
        font = _font(fonts.font_path(item.bold, item.text))
        assert all(_draws_a_glyph(font, ch) for ch in item.text if not ch.isspace()), item.text
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns on a glyph it cannot find
        frame = next(view.frames([min(3, len(view.trace) - 1)]))
        reference = view.reference_frame(None)
    SAMPLES.mkdir(parents=True, exist_ok=True)
    Image.fromarray(frame).save(SAMPLES / f"view_{case}.png")
    Image.fromarray(reference).save(SAMPLES / f"view_{case}_final.png")


@pytest.mark.parametrize("case", ["zero_insertion", "scatter", "avg_pool_padding"])
def test_the_english_word_check_finds_english_in_english_frames(case):
    name, changes = ZH_VIEWS[case]
    changes = {key: value for key, value in changes.items() if key != "language"}
    words = {w for t in frame_texts(_view(name, **changes, language="en")) for w in english_words(t.text)}
    assert {"input", "output"} <= words and len(words) >= 8, words


def test_the_notation_allowance_is_narrow():
    assert english_words("conv_transpose2d · H: floor((3 − 1)×2) + 1 = 5 · max(1, 2)") == []
    assert english_words("align_corners=False：加权平均 · groups = 16") == []
    assert english_words("输出填充 output padding") == ["output", "padding"]  # words outside code stay English
    assert english_words("kernel_size 3") == []  # an identifier, not a word...
    assert english_words("kernel size 3") == ["kernel", "size"]  # ...but the words are


# ---- stills -------------------------------------------------------------------------------------------

def _still_scenes() -> list[str]:
    return sorted(p.name for p in SCENES.glob("*.toml") if "still" in tomllib.loads(p.read_text()))


@pytest.fixture
def drawn_strings(monkeypatch) -> list[str]:
    """Every string matplotlib is asked to draw while the test runs (titles, labels, ticks, ax.text)."""
    seen: list[str] = []
    original = matplotlib.text.Text.set_text

    def recording(self, s):
        if s is not None and str(s):
            seen.append(str(s))
        return original(self, s)

    monkeypatch.setattr(matplotlib.text.Text, "set_text", recording)
    return seen


@pytest.mark.parametrize("name", _still_scenes())
def test_a_chinese_still_draws_no_english_word(name, drawn_strings):
    document = _document(name, language="zh")
    scene = parse_scene(document, str(SCENES / name))
    assert isinstance(scene, StillScene) and scene.language == "zh"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph is a warning in matplotlib
        frames = still_frames(scene)
    # known gap: a pipeline still's layer lines ("Conv2d 5→6, K3, S1, padding 'valid'") and notes are written by
    # the scene layer (convgif.scene.stills_shapes), not by the renderer, and stay English
    scene_lines = set()
    if scene.kind == "cnn_pipeline":
        scene_lines = {text for stage in scene.still.stages() for text in (stage.label, *stage.note.splitlines())}
    leftovers = {s: english_words(s) for s in drawn_strings
                 if english_words(s) and not any(s in line or line in s for line in scene_lines if line)}
    assert leftovers == {}, leftovers
    assert any(re.search(r"[\u4e00-\u9fff]", s) for s in drawn_strings)
    SAMPLES.mkdir(parents=True, exist_ok=True)
    Image.fromarray(frames[-1][0]).save(SAMPLES / f"still_{Path(name).stem}.png")


def test_the_still_check_finds_english_in_an_english_still(drawn_strings):
    scene = load_scene(SCENES / "b04_receptive_field.toml")
    still_frames(scene)
    words = {w for s in drawn_strings for w in english_words(s)}
    assert {"input", "layer", "output", "cells"} <= words, words


def test_still_scenes_take_a_language_key():
    scene = load_scene(SCENES / "zh_receptive_field.toml")
    assert isinstance(scene, StillScene) and scene.language == "zh"
    assert load_scene(SCENES / "b04_receptive_field.toml").language == "en"
    document = _document("b04_receptive_field.toml", language="fr")
    with pytest.raises(SceneError) as caught:
        parse_scene(document, "x.toml")
    assert str(caught.value).splitlines() == ["x.toml: language: 'fr' is not a label language (one of en, zh)"]


def test_the_two_chinese_scenes_render(tmp_path):
    from convgif.pipeline import render_scene

    for name in ("zh_transposed_conv.toml", "zh_receptive_field.toml"):
        scene = load_scene(SCENES / name)
        assert scene.language == "zh"
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = render_scene(scene, tmp_path)
        assert result is not None
    transposed = load_scene(SCENES / "zh_transposed_conv.toml")
    c8 = load_scene(SCENES / "c08_transposed_zero_insertion.toml")
    assert transposed.op == c8.op and transposed.input == c8.input and transposed.weights == c8.weights
    assert transposed.render.view == "zero_insertion"
    words = " ".join(t.text for t in frame_texts(build_view(transposed, build_trace(transposed))))
    for expected in ("插零网格", "翻转的卷积核", "原卷积核", "插入的零", "权重（翻转）", "每边填充", "已完成"):
        assert expected in words, expected
    still = dataclasses.replace(load_scene(SCENES / "zh_receptive_field.toml"))
    assert still.kind == "receptive_field"


# ---- wrapping Chinese ---------------------------------------------------------------------------------

def test_chinese_wraps_between_characters_within_the_width():
    text = "每加一层，感受野增加 (k − 1)·d·(前面各层步长之积)，最后一层的一个格看到输入的 5×5 区域。" * 2
    lines = wrap_text(text, 13, 220)
    assert len(lines) >= 3
    assert all(fonts.text_width(line, 13) <= 220 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")  # nothing lost, only breaks added
    assert not any(line[0] in "，。：；）" for line in lines)  # closing punctuation stays with its character
    # English still breaks only at spaces, as before
    assert wrap_text("padding keeps the size of the output", 13, 120) == ["padding keeps the", "size of the output"]


def test_cjk_wrap_keeps_latin_words_whole():
    lines = cjk_wrap("输出 conv_transpose2d 很长很长很长", lambda s: len(s) <= 12)
    assert "conv_transpose2d" in lines  # a word longer than the line gets a line of its own, unbroken
    assert all(len(line) <= 12 for line in lines if line != "conv_transpose2d")


def test_frames_of_the_new_scenes_for_a_look(tmp_path):
    """Not a check: writes the zh frames to /tmp/zh_samples for a person to look at."""
    SAMPLES.mkdir(parents=True, exist_ok=True)
    view = build_view(s := load_scene(SCENES / "zh_transposed_conv.toml"), build_trace(s))
    for index in (0, 4):
        Image.fromarray(next(view.frames([index]))).save(SAMPLES / f"zh_transposed_conv_{index}.png")
    Image.fromarray(view.final_frame()).save(SAMPLES / "zh_transposed_conv_final.png")
    for i, (frame, _) in enumerate(still_frames(load_scene(SCENES / "zh_receptive_field.toml"))):
        Image.fromarray(np.asarray(frame)).save(SAMPLES / f"zh_receptive_field_{i}.png")
