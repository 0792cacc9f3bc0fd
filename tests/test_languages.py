"""Chinese frames say everything in Chinese: animated views (conv, transposed, pool) and still figures.

The check is on the words drawn, not on the label table: every Text a zh frame draws (static layer, every
step's marks, the hold frame) and every string a zh still hands matplotlib is searched for ASCII words of 3+
letters. What may stay is notation, listed below with the reason, and the same check run on English frames
must find English words (so it is not vacuous).
"""

from __future__ import annotations

import re
import tomllib
import warnings
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from convgif.engine.presets import KERNEL_PRESETS
from convgif.errors import SceneError
from convgif.pipeline import build_trace, build_view, still_frames
from convgif.render import fonts
from convgif.render.layout_common import cjk_wrap, greedy_wrap, wrap_text
from convgif.render.primitives import Text
from convgif.scene import load_scene, parse_scene
from test_looks import _font  # one cached font reader for both files

ROOT = Path(__file__).resolve().parents[1]
SCENES = ROOT / "scenes"

# ASCII words a Chinese frame may draw, each notation rather than English prose:
NOTATION = {
    "floor", "ceil", "max", "min",  # functions inside the output-size formulas, TF's 'same' rule, pooling arithmetic
    "ReLU", "PyTorch", "Keras", "Conv2d", "Conv2D", "Flatten", "Linear", "False",  # proper names, torch / Keras layers
    "Cout", "Cin",  # axis names of a weight tensor: (Cout, Cin/groups, kH, kW)
}
NOTATION |= set(KERNEL_PRESETS)  # a feature-map still's kernels, named as the scene names them (sobel_x, gaussian)
IDENTIFIER = re.compile(r"[A-Za-z0-9]*(\d|_)[A-Za-z0-9_]*")  # conv2d, max_pool2d, sobel_x: op kinds, preset names
ARGUMENT = re.compile(r"\b([A-Za-z_]+)\s*=")  # kernel_size=3, groups = 16: torch argument names written as code
LITERAL = re.compile(r"'[A-Za-z_][A-Za-z0-9_]*'")  # 'same', 'valid': a string argument's value, quoted as code
PHRASES = ("Cin/groups",)  # the weight tensor's shape as torch's documentation writes it


def english_words(text: str) -> list[str]:
    """ASCII words of 3+ letters in `text` that are not notation (see NOTATION, IDENTIFIER, ARGUMENT)."""
    if text.startswith("$"):  # matplotlib mathtext: a tick label such as $\mathdefault{10^{3}}$
        return []
    arguments = set(ARGUMENT.findall(text))
    for phrase in PHRASES:
        text = text.replace(phrase, "")
    text = LITERAL.sub("", text)
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
        view.reference_frame(None)


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
    assert english_words("填充 'same'，输出 = ceil(7 / 2) · padding='valid'") == []  # quoted values are code...
    assert english_words("same padding, valid") == ["same", "padding", "valid"]  # ...unquoted they are words
    assert english_words("'same' (TF rule), top/left 1") == ["rule", "top", "left"]


# ---- stills -------------------------------------------------------------------------------------------

def _still_scenes() -> list[str]:
    return sorted(p.name for p in SCENES.glob("*.toml") if "still" in tomllib.loads(p.read_text()))


@pytest.mark.parametrize("name", _still_scenes())
def test_a_chinese_still_draws_no_english_word(name, drawn_strings):
    document = _document(name, language="zh")
    scene = parse_scene(document, str(SCENES / name))
    assert scene.scene_type == "still" and scene.language == "zh"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph is a warning in matplotlib
        frames = still_frames(scene)
    leftovers = {s: english_words(s) for s in drawn_strings if english_words(s)}
    assert leftovers == {}, leftovers
    assert any(re.search(r"[\u4e00-\u9fff]", s) for s in drawn_strings)
    assert frames


def test_the_still_check_finds_english_in_an_english_still(drawn_strings):
    scene = load_scene(SCENES / "b04_receptive_field.toml")
    still_frames(scene)
    words = {w for s in drawn_strings for w in english_words(s)}
    assert {"input", "layer", "output", "cells"} <= words, words


def _pipeline_scene(language: str, convention: str, input_shape: list[int], layers: list[dict]):
    return parse_scene({"language": language, "still": {"kind": "cnn_pipeline", "input_shape": input_shape,
                                                         "convention": convention, "layers": layers}}, "x.toml")


# pipelines covering every line a pipeline still can write: each layer type, padding as a number, a pair, 'valid'
# and 'same' (PyTorch's rule, TF's rule one line for H and W or one per axis, dilated, the odd cell, PyTorch's
# refusal of a strided 'same'), pools, flatten, linear with and without bias, in the three conventions
ZH_PIPELINES = {
    "every_layer_both": ("both", [3, 32, 30], [
        {"type": "conv2d", "out_channels": 8, "kernel_size": 5, "padding": 1}, {"type": "relu"},
        {"type": "max_pool2d", "kernel_size": 2},
        {"type": "conv2d", "filters": 4, "kernel_size": [3, 2], "stride": [2, 1], "padding": [1, 0], "bias": False},
        {"type": "avg_pool2d", "kernel_size": [3, 2], "stride": 2, "padding": 1},
        {"type": "conv2d", "filters": 4, "kernel_size": 1, "padding": "valid"},
        {"type": "conv2d", "filters": 4, "kernel_size": 1},
        {"type": "flatten"}, {"type": "linear", "out_features": 1000, "bias": False}, {"type": "relu"},
        {"type": "linear", "out_features": 10}]),
    "torch_same": ("pytorch", [3, 9, 10], [
        {"type": "conv2d", "filters": 4, "kernel_size": 4, "padding": "same"},
        {"type": "conv2d", "filters": 2, "kernel_size": [3, 2], "padding": "same", "dilation": 2},
        {"type": "flatten"}, {"type": "linear", "out_features": 3}]),
    "tf_same_per_axis": ("keras", [3, 9, 10], [
        {"type": "conv2d", "filters": 4, "kernel_size": 3, "stride": [2, 3], "padding": "same", "dilation": 2},
        {"type": "conv2d", "filters": 4, "kernel_size": 4, "padding": "same"}]),
    "tf_same_strided_both": ("both", [3, 9, 10], [
        {"type": "conv2d", "filters": 4, "kernel_size": 3, "stride": [2, 3], "padding": "same", "dilation": 2},
        {"type": "conv2d", "filters": 4, "kernel_size": 5, "stride": 2, "padding": "same"}]),
}


@pytest.mark.parametrize("case", sorted(ZH_PIPELINES))
def test_a_chinese_pipeline_still_words_every_layer_line_in_chinese(case, drawn_strings):
    """The layer lines ("Conv2d 5→6, kernel 3×3, stride 1, padding 0 ('valid')", TF's 'same' rule, "values in one vector") in
    Chinese, only code and formulas left as they are, every glyph in the shipped fonts; the English figure keeps its
    English words (the check is not vacuous)."""
    convention, input_shape, layers = ZH_PIPELINES[case]
    still_frames(_pipeline_scene("en", convention, input_shape, layers))
    english = {w for s in drawn_strings for w in english_words(s)}
    assert {"padding", "parameters", "layer"} <= english, english
    drawn_strings.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns on a glyph it cannot find
        still_frames(_pipeline_scene("zh", convention, input_shape, layers))
    leftovers = {s: english_words(s) for s in drawn_strings if english_words(s)}
    assert leftovers == {}, leftovers
    heads = [s for s in drawn_strings if re.match(r"\d+\. (Conv2[dD]|Max|Avg|ReLU|Flatten|Linear)", s)]
    assert len(heads) >= len(layers)  # one head per layer (a long one wraps onto more lines)
    conv_heads = [s for s in heads if s.split(" ")[1].startswith("Conv2")]
    assert conv_heads and all("填充" in s or "，" in s for s in conv_heads), conv_heads
    # each character is drawn by DejaVu Sans or the CJK subset, in regular and in bold
    for text in set(drawn_strings):
        for bold in (False, True):
            faces = [_font(fonts.dejavu_path(bold)), _font(fonts.cjk_path(bold))]
            missing = [ch for ch in text if not ch.isspace() and not any(_draws_a_glyph(f, ch) for f in faces)]
            assert missing == [], (text, bold, missing)


def test_the_chinese_pipeline_scene_is_d03_in_chinese(drawn_strings):
    scene = load_scene(SCENES / "zh_cnn_pipeline.toml")
    english = load_scene(SCENES / "d03_keras_same_stride2.toml")
    assert scene.language == "zh" and scene.kind == "cnn_pipeline"
    assert scene.still == english.still  # the same figure: Keras 'same' with stride 2, both conventions
    assert re.search(r"[\u4e00-\u9fff]", scene.title) and re.search(r"[\u4e00-\u9fff]", scene.caption)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        still_frames(scene)
    words = "\n".join(drawn_strings)
    assert {s: english_words(s) for s in drawn_strings if english_words(s)} == {}
    for expected in ("填充 'same'", "'same'（TF 规则），H 和 W", "填充总数 = (2 − 1)×2 + 5 − 4 = 3",
                     "下、右各 2", "多出的一格填充放在后面", "PyTorch 不接受 padding='same'", "第 1 层之后", "参数总数"):
        assert expected in words, expected


def test_still_scenes_take_a_language_key():
    scene = load_scene(SCENES / "zh_receptive_field.toml")
    assert scene.scene_type == "still" and scene.language == "zh"
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
    still = load_scene(SCENES / "zh_receptive_field.toml")
    assert still.kind == "receptive_field" and still.language == "zh"


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


def test_english_lines_do_not_break_inside_brackets_or_after_a_label():
    caption = ("Input (3, 7, 9) -> output (2, 3, 8)   K 5\u00d72   H: floor((7 + 2*0 - 1*(5-1) - 1) / 1) + 1 = 3; "
               "W: floor((9 + 2*0 - 1*(2-1) - 1) / 1) + 1 = 8")
    assert greedy_wrap(caption, lambda line: len(line) <= 100) == [
        "Input (3, 7, 9) -> output (2, 3, 8)   K 5\u00d72   H: floor((7 + 2*0 - 1*(5-1) - 1) / 1) + 1 = 3;",
        "W: floor((9 + 2*0 - 1*(2-1) - 1) / 1) + 1 = 8"]
    # a bracket too long for any line still breaks between its words; unbalanced brackets lose nothing
    assert greedy_wrap("see (a b c d e f)", lambda line: len(line) <= 7) == ["see (a", "b c d e", "f)"]
    assert greedy_wrap("x) a (b c", lambda line: len(line) <= 4) == ["x) a", "(b c"]
    assert greedy_wrap("base: f(a, b, c)", lambda line: len(line) <= 8) == ["base:", "f(a, b,", "c)"]


def test_a_line_never_starts_with_a_lists_separator():
    """c10's still wrapped its transposed conv's arguments "kernel 3×3 · stride 2 · padding 1" / "· output padding 1":
    the "·" between a list's items ends its line, never starts the next one."""
    text = "kernel 3\u00d73 \u00b7 stride 2 \u00b7 padding 1 \u00b7 output padding 1"
    for width, expected in [(36, ["kernel 3\u00d73 \u00b7 stride 2 \u00b7 padding 1 \u00b7", "output padding 1"]),
                            (34, ["kernel 3\u00d73 \u00b7 stride 2 \u00b7", "padding 1 \u00b7 output padding 1"])]:
        lines = greedy_wrap(text, lambda line: len(line) <= width)
        assert lines == expected and " ".join(lines) == text


def test_a_word_keeps_the_number_that_is_its_value():
    """d01's layer heading wrapped "..., stride 1, padding" / "0 ('valid')": the argument's name and its value were
    torn apart. A label ending in ":" still starts its own line ("kernel" / "5×2: floor(...)")."""
    heading = "1. Conv2d 5→6 (Keras Conv2D filters=6), kernel 3×3, stride 1, padding 0 ('valid')"
    for width in range(20, len(heading)):
        lines = greedy_wrap(heading, lambda line: len(line) <= width)
        assert " ".join(lines) == heading
        assert not any(line.endswith(("padding", "stride", "kernel")) for line in lines), (width, lines)
    assert greedy_wrap("step −1 of 3", lambda line: len(line) <= 8) == ["step −1", "of 3"]


def test_cjk_wrap_keeps_latin_words_whole():
    lines = cjk_wrap("输出 conv_transpose2d 很长很长很长", lambda s: len(s) <= 12)
    assert "conv_transpose2d" in lines  # a word longer than the line gets a line of its own, unbroken
    assert all(len(line) <= 12 for line in lines if line != "conv_transpose2d")




def test_cjk_text_is_told_by_its_code_points_at_every_range_edge():
    """`has_cjk` (which wraps a paragraph between characters) against the ranges a Chinese line is wrapped by:
    CJK radicals to unified ideographs, compatibility ideographs, full-width forms; each edge and its neighbours."""
    from convgif.render.layout_common import has_cjk

    ranges = [(0x2E80, 0x9FFF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF)]
    for low, high in ranges:
        for code in (low - 1, low, low + 1, high - 1, high, high + 1):
            inside = any(a <= code <= b for a, b in ranges)
            assert has_cjk(f"ab {chr(code)} 12") is inside, hex(code)
    assert not has_cjk("3×(−1) + 0.5 = 2.5 → ŷ") and has_cjk("卷积") and has_cjk("，") and not has_cjk("")


# English labels chosen by their count elsewhere (their one-form is another label), so never drawn with a 1
CHOSEN_BY_COUNT = {"zi_zero_many": "zi_zero_one", "wt_each_many": "wt_each_one", "alt_kernel_many": "alt_kernel_one",
                   "alt_kernel_many_1d": "alt_kernel_one_1d"}
COUNTED_NOUN = re.compile(r"(?<![\d.,])\b1 (?:more )?(?:kernels|channels|steps|values|weights|slices|zeros|cells|"
                          r"outputs|inputs|taps|neurons|parameters|groups|positions|products|multiply-adds)\b")


def test_an_english_count_of_one_takes_the_singular():
    """Every English label filled with 1 for every number: no "1 kernels", "… 1 more channels", "done · 1 steps"."""
    from string import Formatter

    from convgif.render.labels import LABELS, label

    wrong = {}
    for key, texts in LABELS.items():
        if key in CHOSEN_BY_COUNT:
            assert CHOSEN_BY_COUNT[key] in LABELS
            continue
        fields = {name for _, name, _, _ in Formatter().parse(texts["en"]) if name}
        text = label("en", key, **dict.fromkeys(fields, 1))
        if COUNTED_NOUN.search(text):
            wrong[key] = text
    assert wrong == {}
    assert label("en", "kernels_volume", count=3) == "3 kernels, one per output channel"  # many: still plural
    assert label("en", "done_counter", total="1") == "done \u00b7 1 step"  # a number already written out
    assert label("zh", "kernels_volume", count=1) == "1 个卷积核，每个输出通道一个"


def test_a_long_sum_breaks_before_an_operator_and_keeps_its_result():
    """A line never ends on "+" or "=": "… + 0×7 +" / "0×9 …" (c01) and "… + 1 =" / "8" (a04) tore a formula."""
    text = "y0 = row 0 of C × X = 1×1 + 0×2 + (−1)×3 + 2×5 + 1×6 + 0×7 + 0×9 + 1×10 + 2×11 = 46"
    for width in range(24, 80, 3):
        lines = greedy_wrap(text, lambda line: len(line) <= width)
        assert " ".join(lines) == text
        assert not any(line.endswith((" +", " =", " \u2212", " \u00d7")) for line in lines), (width, lines)
    assert greedy_wrap("kernel 5×2: floor((7 − 5) / 1) + 1 = 3", lambda line: len(line) <= 36) == [
        "kernel", "5×2: floor((7 − 5) / 1) + 1 = 3"]
