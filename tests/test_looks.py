"""Looks: themes (contrast, grayscale lightness, colour-blind simulation), Chinese labels and glyphs, overrides."""

from __future__ import annotations

import functools
import re
import tomllib
import warnings
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont
from pixels import unique_colours

from convgif.errors import RenderError, SceneError
from convgif.pipeline import build_trace, build_view
from convgif.render import fonts, labels
from convgif.render.layout_common import MARGIN
from convgif.render.paint import mpl_render, pil_paint
from convgif.render.primitives import Text
from convgif.render.theme import COLOUR_ROLES, Theme, get_theme, theme_names
from convgif.scene import load_scene, parse_scene
from convgif.scene import spec

ROOT = Path(__file__).resolve().parents[1]
FONT_DIR = ROOT / "convgif" / "render" / "fonts"


# ---- colour facts, computed here from their published definitions -------------------------------------

def _linear(colour) -> np.ndarray:
    c = np.asarray(colour, dtype=float) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _luminance(colour) -> float:  # WCAG 2 relative luminance
    r, g, b = _linear(colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a, b) -> float:  # WCAG 2 contrast ratio
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _lab(linear_rgb) -> np.ndarray:  # sRGB (linear) -> CIE L*a*b*, D65
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear_rgb
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _lightness(colour) -> float:
    return float(_lab(_linear(colour))[0])


# Machado, Oliveira & Fernandes (2009), severity 1.0: dichromat simulation in linear RGB
DICHROMACY = {
    "protan": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deutan": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritan": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}


def _seen_difference(a, b, kind: str) -> float:
    """CIE76 ΔE between two colours as a dichromat of `kind` sees them."""
    m = np.array(DICHROMACY[kind])
    return float(np.linalg.norm(_lab(np.clip(m @ _linear(a), 0, 1)) - _lab(np.clip(m @ _linear(b), 0, 1))))


TEXT_ON_FILL = [("input_text", "input"), ("tap_text", "tap"), ("kernel_text", "kernel"),
                ("output_done_text", "output_done"), ("text", "background"), ("muted_text", "background"),
                ("accent", "background"), ("bias", "background")]
# fills that touch each other in one grid (or the window outline over them)
NEIGHBOURS = [("input", "tap"), ("input", "padding"), ("padding", "tap"), ("output_empty", "output_done"),
              ("output_done", "output_current"), ("window", "tap"), ("window", "input")]


def test_the_four_looks_exist_and_light_is_the_default():
    assert theme_names() == ["colorblind", "dark", "light", "print"]
    assert get_theme().name == "light" and spec.RenderSpec().theme == "light"
    assert list(spec.THEMES) == ["light", "dark", "print", "colorblind"]  # what render.theme accepts (and "auto")


@pytest.mark.parametrize("name", ["light", "dark", "print", "colorblind"])
def test_text_is_readable_on_what_it_sits_on(name):
    theme = get_theme(name)
    for fg, bg in TEXT_ON_FILL:
        assert _contrast(getattr(theme, fg), getattr(theme, bg)) >= 4.5, (name, fg, bg)
    # the current output's value is bold and large: WCAG's large-text ratio
    assert _contrast(theme.output_current_text, theme.output_current) >= 3.0


def test_print_theme_separates_roles_by_lightness_alone():
    theme = get_theme("print")
    for colour in (getattr(theme, role) for role in COLOUR_ROLES):
        assert colour[0] == colour[1] == colour[2], "print uses grays only: nothing may depend on hue"
    for a, b in NEIGHBOURS:
        assert abs(_lightness(getattr(theme, a)) - _lightness(getattr(theme, b))) >= 15, (a, b)


def test_colorblind_theme_keeps_neighbours_apart_under_every_dichromacy():
    theme = get_theme("colorblind")
    for kind in DICHROMACY:
        # padding differs from input by lightness and its dashed outline in every theme, not by hue
        for a, b in [pair for pair in NEIGHBOURS if pair != ("input", "padding")]:
            assert _seen_difference(getattr(theme, a), getattr(theme, b), kind) >= 20, (kind, a, b)


def test_no_group_colour_looks_like_the_window_or_the_current_output():
    """A group's bar and labels next to the window: the dark theme's window was its group 1 colour (the same sky
    blue), so a group-1 step's window vanished into its lane, and its legend showed two identical swatches."""
    for name in ("light", "dark", "print", "colorblind"):
        theme = get_theme(name)
        for group in range(8):
            colour = theme.group_colour(group)
            for role in ("window", "output_current"):
                distance = sum((a - b) ** 2 for a, b in zip(colour, getattr(theme, role))) ** 0.5
                assert distance >= 60, (name, group, role, colour)


def test_the_dichromacy_check_can_fail():
    # a saturated red and green a deuteranope cannot tell apart (the check above is not vacuous)
    assert _seen_difference((200, 0, 0), (0, 150, 0), "deutan") < 10
    assert _seen_difference((200, 0, 0), (0, 150, 0), "tritan") > 20


def test_colour_roles_and_languages_agree_between_scene_and_render():
    assert spec.COLOUR_ROLES == COLOUR_ROLES
    assert COLOUR_ROLES == tuple(f.name for f in fields(Theme) if f.type == "RGB")
    assert spec.LANGUAGES == labels.LANGUAGES


def test_get_theme_overrides_and_errors():
    theme = get_theme("dark", language="zh", colours={"window": "#FF0000"})
    assert theme.window == (255, 0, 0) and theme.language == "zh" and theme.tap == get_theme("dark").tap
    with pytest.raises(RenderError, match=r"unknown colour role 'windw' \(did you mean 'window'\?\)"):
        get_theme(colours={"windw": "#ff0000"})
    with pytest.raises(RenderError, match="must be written #rrggbb, got 'red'"):
        get_theme(colours={"window": "red"})
    with pytest.raises(RenderError, match="unknown language 'fr'; known languages: en, zh"):
        get_theme(language="fr")
    with pytest.raises(RenderError, match="unknown theme 'sepia'"):
        get_theme("sepia")


# ---- scene keys ---------------------------------------------------------------------------------------

def _doc(**extra) -> dict:
    doc = {"op": {"kind": "conv2d", "kernel_size": 3}, "input": {"shape": [1, 5, 5]}}
    for key, value in extra.items():
        doc[key] = value
    return doc


def _problems(doc) -> list[str]:
    with pytest.raises(SceneError) as caught:
        parse_scene(doc, "x.toml")
    return str(caught.value).splitlines()


def test_scene_language_and_colour_messages_are_pinned():
    assert parse_scene(_doc(language="zh"), "x.toml").language == "zh"
    assert parse_scene(_doc(), "x.toml").language == "en"
    assert _problems(_doc(language="fr")) == ["x.toml: language: 'fr' is not a label language (one of en, zh)"]
    lines = _problems(_doc(render={"colours": {"windw": "#ff0000"}}))
    assert len(lines) == 1 and lines[0].startswith("x.toml: render.colours: 'windw' is not a colour role (one of ")
    assert lines[0].endswith("(did you mean 'window'?)")
    assert _problems(_doc(render={"colours": {"window": "blue"}})) == [
        "x.toml: render.colours: the colour for window is 'blue'; write it as \"#rrggbb\""]


def _view(doc: dict, source: str = "x.toml"):
    scene = parse_scene(doc, source)
    return build_view(scene, build_trace(scene))


def test_render_taps_picks_whether_a_dense_window_fills_its_taps():
    inside = (1, 1)  # a cell of the first 3×3 window, away from its outline
    auto, filled = _view(_doc()), _view(_doc(render={"taps": "fill"}))
    for view, want_fill in ((auto, False), (filled, True)):
        frame = next(view.frames([0]))
        x0, y0, _, _ = view.cell_box("input", 0, inside)
        assert (tuple(int(v) for v in frame[y0 + 4, x0 + 4]) == view.theme.tap) is want_fill
    assert _problems(_doc(render={"taps": "outline"})) == [
        "x.toml: render.taps: 'outline' is not supported (one of auto, fill)"]


def test_a_colour_override_reaches_the_pixels():
    view = _view(_doc(render={"colours": {"window": "#ff00ff", "tap": "#00ff00"}, "taps": "fill"}))
    frame = next(view.frames([0]))
    x0, y0, x1, y1 = view.cell_box("input", 0, (1, 1))  # inside the first window
    assert tuple(frame[y0 + 4, x0 + 4]) == (0, 255, 0)
    wx0, wy0, _, _ = view.cell_box("input", 0, (0, 0))
    assert tuple(frame[wy0, wx0 + 6]) == (255, 0, 255)  # the window's outline over the top-left cell's edge


# ---- Chinese ------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _font(path: str) -> TTFont:
    """A font file read whole (then closed), once per test session."""
    with open(path, "rb") as handle:
        font = TTFont(handle, lazy=False)
        font.ensureDecompiled()
    return font


def _cmap(path: str) -> dict[int, str]:
    return _font(path).getBestCmap()


def _draws_a_glyph(font: TTFont, char: str) -> bool:
    name = font.getBestCmap().get(ord(char))
    return name is not None and name != ".notdef" and font["glyf"][name].numberOfContours != 0


def test_shipped_fonts_cover_every_label_with_real_glyphs():
    zh = "".join(texts["zh"] for texts in labels.LABELS.values())
    needed = {ch for ch in zh if not ch.isspace() and not ch.isascii()} | set("0123456789×·→−…ΣReLU")
    for bold in (False, True):
        font = _font(fonts.cjk_path(bold))
        missing = [ch for ch in sorted(needed) if not _draws_a_glyph(font, ch)]
        assert missing == [], (bold, missing)


def test_shipped_fonts_are_small_licensed_and_packaged():
    sizes = [path.stat().st_size for path in FONT_DIR.glob("*.ttf")]
    assert len(sizes) == 2 and sum(sizes) < 2.2e6
    assert "SIL OPEN FONT LICENSE Version 1.1" in (FONT_DIR / "OFL.txt").read_text()
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "fonts/*.ttf" in package_data["convgif.render"] and "fonts/OFL.txt" in package_data["convgif.render"]
    # common hanzi beyond the label table (GB 2312 level 1: 3755 characters)
    level1 = "".join(bytes((row, cell)).decode("gb2312", errors="ignore") for row in range(0xB0, 0xD8)
                     for cell in range(0xA1, 0xFF))
    assert len(level1) == 3755 and set(map(ord, level1)) <= set(_cmap(fonts.cjk_path(False)))


def test_text_picks_one_font_that_covers_all_of_it():
    assert fonts.font_path(False, "input 3×3") == fonts.dejavu_path(False)
    assert fonts.font_path(True, "卷积核 3×3 = −1") == fonts.cjk_path(True)
    for text in ("输入 通道0 · 5×5", "第 5 / 9 步", "卷积核 → 求和"):
        assert set(map(ord, text)) <= set(_cmap(fonts.font_path(False, text)))
        # measured with the same font it is drawn with
        direct = ImageFont.truetype(fonts.cjk_path(False), 13, layout_engine=ImageFont.Layout.BASIC).getlength(text)
        assert fonts.text_width(text, 13) == pytest.approx(direct)
    assert fonts.missing_characters("输入 \U0001d11e") == "\U0001d11e"


def test_both_painters_draw_chinese_alike_and_without_warnings():
    text = Text(10, 30, "卷积核 输入 输出 填充 偏置", 18, (0, 0, 0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        by_mpl = mpl_render((300, 44), (255, 255, 255), [text])
        image = Image.new("RGB", (300, 44), (255, 255, 255))
        pil_paint(image, [text])
    ink = [np.argwhere(np.asarray(a).min(axis=2) < 128) for a in (by_mpl, image)]
    assert all(len(i) > 150 for i in ink)  # real strokes, not five hollow boxes
    (top_a, left_a), (top_b, left_b) = ink[0].min(axis=0), ink[1].min(axis=0)
    (bot_a, right_a), (bot_b, right_b) = ink[0].max(axis=0), ink[1].max(axis=0)
    assert max(abs(top_a - top_b), abs(left_a - left_b), abs(bot_a - bot_b), abs(right_a - right_b)) <= 2


def test_the_warning_check_catches_a_missing_glyph():
    # proof that the warnings filter above would fail on a box: a glyph no shipped font has
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="missing"):
            mpl_render((100, 30), (255, 255, 255), [Text(5, 20, "\U0001d11e", 14, (0, 0, 0))])


def _all_texts(view) -> list[Text]:
    items = list(view.layout.static(0)) + list(view.layout.final_transient())
    for index in range(len(view.trace)):
        items += view.layout.transient(view.trace.step(index))
    return [item for item in items if isinstance(item, Text)]


def test_the_chinese_scene_renders_every_character_with_no_warning():
    scene_path = ROOT / "scenes" / "zh_conv_padding_stride.toml"
    scene = load_scene(scene_path)
    assert scene.language == "zh"
    view = build_view(scene, build_trace(scene))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frames = list(view.frames([0, 4]))
        reference = view.reference_frame(4)  # the whole frame by matplotlib: static-layer painter on everything
        final = view.final_frame()
    texts = _all_texts(view)
    words = " ".join(t.text for t in texts)
    for expected in ("输入", "卷积核", "输出", "填充", "偏置", "步长", "窗口", "当前输出"):
        assert expected in words, expected
    assert scene.title in words and "步" in words
    for item in texts:  # every character has a real glyph in the file that draws it
        font = _font(fonts.font_path(item.bold, item.text))
        assert all(_draws_a_glyph(font, ch) for ch in item.text if not ch.isspace()), item.text
    assert np.abs(reference.astype(int) - frames[1].astype(int)).mean() < 4  # the painters agree
    assert final.shape == frames[1].shape and not np.array_equal(final, frames[1])


def test_chinese_labels_fit_the_frame():
    view = _view(_doc(language="zh", op={"kind": "conv2d", "kernel_size": 3, "groups": 2, "out_channels": 2,
                                         "padding": 1, "dilation": 2},
                      input={"shape": [2, 6, 6]}))
    layout = view.layout
    for y, x, text, _ in layout.legend_rows:  # legend entries wrap inside the frame
        assert x + 19 + fonts.text_width(text, 11) <= layout.width - MARGIN + 16
    headers = sorted(layout.column_headers())
    for (x, text), (next_x, _) in zip(headers, headers[1:]):
        assert x + fonts.text_width(text, 12, True) < next_x
    for item in _all_texts(view):
        if item.align == "left":
            assert item.x + fonts.text_width(item.text, item.size, item.bold) <= layout.width, item.text


def test_a_pool_scene_in_chinese():
    view = _view(_doc(language="zh", op={"kind": "max_pool2d", "kernel_size": 2}, input={"shape": [1, 4, 4]}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        next(view.frames([1]))
    words = " ".join(t.text for t in _all_texts(view))
    assert "最大值（选中）" in words and "第 2 / 4 步" in words


def test_each_look_draws_its_own_colours():
    frames = {}
    for name in ("dark", "print", "colorblind"):
        view = _view(_doc(render={"theme": name}, op={"kind": "conv2d", "kernel_size": 3, "padding": 1}))
        frames[name] = frame = next(view.frames([7]))
        assert tuple(frame[2, 2]) == get_theme(name).background
        used = unique_colours(frame)
        assert get_theme(name).window in used and get_theme(name).output_current in used
    assert len({frame.tobytes() for frame in frames.values()}) == 3


# ---- font scale ---------------------------------------------------------------------------------------

def test_font_scale_bounds_agree_and_are_enforced():
    from convgif.render.theme import FONT_SCALES

    field = spec.RenderSpec.model_fields["font_scale"]
    bounds = {type(m).__name__: getattr(m, "ge", getattr(m, "le", None)) for m in field.metadata}
    assert (bounds["Ge"], bounds["Le"]) == FONT_SCALES == (0.75, 2.0)
    assert spec.RenderSpec().font_scale == 1.0 and get_theme().font_scale == 1.0
    assert get_theme(font_scale=1.25).font_scale == 1.25
    with pytest.raises(RenderError, match=r"font_scale must be between 0.75 and 2.0, got 2.5"):
        get_theme(font_scale=2.5)
    for bad in (0.5, 2.01):
        lines = _problems(_doc(render={"font_scale": bad}))
        assert len(lines) == 1 and lines[0].startswith("x.toml: render.font_scale: "), lines


def _ink_rows(frame: np.ndarray, x0: int, x1: int, y0: int, y1: int, background) -> int:
    """How many pixel rows in the band hold a pixel far from the background (the height of what is drawn)."""
    band = frame[y0:y1, x0:x1].astype(int)
    ink = np.abs(band - np.array(background)).sum(axis=2) > 150
    rows = np.nonzero(ink.any(axis=1))[0]
    return int(rows.max() - rows.min() + 1) if rows.size else 0


def test_a_scaled_frame_draws_larger_text_and_digits():
    doc = _doc(title="Padding keeps the size", op={"kind": "conv2d", "kernel_size": 3, "padding": 1})
    heights, digits = {}, {}
    for scale in (1.0, 1.5):
        doc["render"] = {"font_scale": scale}
        view = _view(doc)
        frame = view.final_frame()
        layout = view.layout
        # the title's band: from the top margin to the subtitle's first line, left of the step counter
        top_of_subtitle = layout.sub_baseline - layout.sz.sub
        heights[scale] = _ink_rows(frame, MARGIN, view.size[0] // 2, 0, top_of_subtitle, view.theme.background)
        digits[scale] = layout.input_value_size
    assert heights[1.0] >= 10
    assert 1.35 <= heights[1.5] / heights[1.0] <= 1.65, heights  # "Padding" has an ascender and a descender
    assert digits[1.5] > digits[1.0], digits  # cells grew so their numbers could


def _text_box(item: Text) -> tuple[int, int, int, int]:
    from PIL import ImageDraw

    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    anchor = {"left": "ls", "center": "ms", "right": "rs"}[item.align]
    return draw.textbbox((item.x, item.y), item.text, font=fonts.pil_font(item.size, item.bold, item.text),
                         anchor=anchor)


def visible_text_boxes(primitives) -> list[tuple[tuple[int, int, int, int], str]]:
    """The ink boxes of the texts a frame shows, in paint order: a later filled Rect over a text hides it (a
    tapped cell repaints its number)."""
    from convgif.render.primitives import Rect

    shown: list[tuple[tuple[int, int, int, int], str]] = []
    for item in primitives:
        if isinstance(item, Rect) and item.fill is not None:
            x0, y0, x1, y1 = item.box
            shown = [(b, t) for b, t in shown if not (x0 <= b[0] and y0 <= b[1] and b[2] <= x1 and b[3] <= y1)]
        elif isinstance(item, Text) and item.text.strip():
            shown.append((_text_box(item), item.text))
    return shown


def overlapping(boxes) -> list[tuple[str, str]]:
    return [(ta, tb) for i, (a, ta) in enumerate(boxes) for b, tb in boxes[i + 1:]
            if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]]


def test_the_overlap_check_can_fail():
    from convgif.render.primitives import Rect

    a, b = Text(10, 30, "kernel 0", 14, (0, 0, 0)), Text(40, 34, "output", 14, (0, 0, 0))
    assert overlapping(visible_text_boxes([a, b])) == [("kernel 0", "output")]
    hidden = visible_text_boxes([a, Rect((0, 0, 200, 60), fill=(255, 255, 255)), b])
    assert [text for _, text in hidden] == ["output"] and overlapping(hidden) == []


# scenes covering every animated layout: conv lanes, conv1d strips, the zero-insertion and scatter views, pools
SCALED_SCENES = ["a06_padding.toml", "a08_groups.toml", "c07_causal_conv1d.toml", "c08_transposed_zero_insertion.toml",
                 "c05_max_pool.toml", "c05_avg_pool.toml", "zh_transposed_conv.toml", "zh_conv_padding_stride.toml"]


@pytest.mark.parametrize("name", SCALED_SCENES)
def test_no_two_texts_overlap_at_font_scale_one_and_a_half(name):
    doc = tomllib.loads((ROOT / "scenes" / name).read_text())
    doc.setdefault("render", {})["font_scale"] = 1.5
    view = _view(doc, str(ROOT / "scenes" / name))
    layout, trace = view.layout, view.trace
    per_batch = len(trace) // int(trace.input.shape[0])
    static = list(layout.static(0))
    frames = {"final": static + [p for i in range(per_batch) for p in layout.done_cell(i)]
              + list(layout.final_transient())}
    for index in sorted({0, 1, per_batch // 2, per_batch - 1}):
        frames[index] = static + [p for i in range(index) for p in layout.done_cell(i)] + list(
            layout.transient(trace.step(index)))
    for key, primitives in frames.items():
        boxes = visible_text_boxes(primitives)
        assert overlapping(boxes) == [], (key, overlapping(boxes)[:3])
        outside = [text for box, text in boxes if box[0] < 0 or box[2] > view.size[0] or box[3] > view.size[1]]
        assert outside == [], (key, outside)


def test_a_scene_too_big_for_its_font_scale_names_the_narrowest_width_that_fits():
    doc = tomllib.loads((ROOT / "scenes" / "a06_padding.toml").read_text())
    doc["render"]["font_scale"] = 2.0
    from convgif.pipeline import drawable_view

    with pytest.raises(SceneError) as raised:
        drawable_view(parse_scene(doc, "x.toml"))
    message = str(raised.value)
    match = re.search(r"render\.width: a 9×9 input does not fit in 720 px at font_scale 2: "
                      r"it needs render\.width = (\d+) or more \(up to 4096\), a smaller font_scale, or a smaller input",
                      message)
    assert match, message
    needed = int(match.group(1))
    assert needed % 10 == 0 and 720 < needed <= 4096
    doc["render"]["width"] = needed
    assert drawable_view(parse_scene(doc, "x.toml")).size[0] == needed
    doc["render"]["width"] = needed - 10
    with pytest.raises(SceneError, match="does not fit"):
        drawable_view(parse_scene(doc, "x.toml"))


STILL_SCENES = sorted(path.name for path in (ROOT / "scenes").glob("*.toml")
                      if "still" in tomllib.loads(path.read_text()))


@pytest.mark.parametrize("language, scale", [("zh", 1.5), ("en", 2.0)])
@pytest.mark.parametrize("name", STILL_SCENES)
def test_a_still_at_a_large_font_scale_draws_nothing_into_its_outer_margin(name, language, scale):
    """Text laid out at a font scale (wrapped, centred, side notes) must end inside the page: the outermost 4 px
    on the left, right and bottom stay background. Catches text wrapped with a too-narrow measure, legends at
    fixed offsets and headings wider than the grid they are centred on."""
    from convgif.pipeline import still_frames

    path = ROOT / "scenes" / name
    doc = tomllib.loads(path.read_text())
    doc["language"] = language
    doc.setdefault("render", {})["font_scale"] = scale
    frames = still_frames(parse_scene(doc, str(path)))
    for index, (frame, _) in enumerate(frames):
        background = frame[0, 0]
        for side, strip in (("left", frame[:, :4]), ("right", frame[:, -4:]), ("bottom", frame[-4:, :])):
            inked = np.any(strip != background, axis=-1)
            assert not inked.any(), (name, language, scale, index, side, int(inked.sum()))


def test_a_still_at_a_font_scale_keeps_its_width_and_grows_its_text():
    from convgif.pipeline import still_frames

    heights = {}
    for scale in (1.0, 1.5):
        doc = tomllib.loads((ROOT / "scenes" / "b04_receptive_field.toml").read_text())
        doc["render"]["font_scale"] = scale
        frame = still_frames(parse_scene(doc, str(ROOT / "scenes" / "b04_receptive_field.toml")))[0][0]
        assert frame.shape[1] == 720
        heights[scale] = _ink_rows(frame, 0, 720, 0, 48, (255, 255, 255))  # the centred title's first line
    assert 1.35 <= heights[1.5] / heights[1.0] <= 1.65, heights


# ---- text inside the frame ----------------------------------------------------------------------------

ANIMATED_SCENES = sorted(path.name for path in (ROOT / "scenes").glob("*.toml")  # chains: test_chain_render.py
                         if not {"still", "ops"} & set(tomllib.loads(path.read_text())))


@pytest.mark.parametrize("name", ANIMATED_SCENES)
def test_every_text_of_a_gallery_frame_ends_inside_the_frame(name):
    """Labels, step lines and captions are placed by measured widths: each must end at least 4 px inside the frame
    on both sides, measured the way the GIF draws it (crisp glyphs). Caught a hidden-values output label and a
    scatter step line running off the right edge."""
    scene = load_scene(ROOT / "scenes" / name)
    trace = build_trace(scene)
    view = build_view(scene, trace)
    width, layout, crisp = view.size[0], view.layout, view.theme.crisp_text
    steps = scene.step_indices(len(trace))
    primitives = list(layout.static(0)) + list(layout.final_transient())
    for k in sorted(set(steps[:2] + steps[len(steps) // 2:len(steps) // 2 + 1] + steps[-2:])):
        primitives += layout.transient(trace.step(k))
    for text in (p for p in primitives if isinstance(p, Text)):
        drawn = fonts.text_width(text.text, text.size, text.bold, crisp=crisp)
        left = text.x - {"left": 0, "center": drawn / 2, "right": drawn}[text.align]
        assert 4 <= left and left + drawn <= width - 4, (name, text.text, round(left), round(left + drawn))


# ---- kept glyph masks ---------------------------------------------------------------------------------

@pytest.mark.parametrize("fontmode", ["1", "L"])
def test_kept_glyph_masks_draw_exactly_what_pillow_renders(fontmode):
    """Frames draw text through fonts that keep rendered masks. Drawn twice (the second time from kept masks),
    words at fractional positions and every anchor must match a plain Pillow font pixel for pixel."""
    rng = np.random.default_rng(5)
    words = ["0", "\u22121", "3\u00d7(\u22121)", "+", "= 7.5", "\u03a3 + b(1) = \u221219", "output ch 0 \u00b7 5\u00d75",
             "\u8f93\u5165 \u901a\u9053 0", "step 12 / 49"]
    placements = [(word, float(rng.uniform(5, 150)), float(rng.uniform(15, 60)), anchor, bold)
                  for word in words for anchor in ("ls", "ms", "rs") for bold in (False, True)]
    pictures = []
    for make in (lambda size, bold, text: fonts.pil_font(size, bold, text),
                 lambda size, bold, text: ImageFont.truetype(fonts.font_path(bold, text), size,
                                                              layout_engine=ImageFont.Layout.BASIC)):
        for _ in range(2):
            image = Image.new("RGB", (200, 80), (255, 255, 255))
            draw = ImageDraw.Draw(image)
            draw.fontmode = fontmode
            for word, x, y, anchor, bold in placements:
                draw.text((x, y), word, fill=(20, 20, 20), font=make(13, bold, word), anchor=anchor)
            pictures.append(np.asarray(image))
    assert isinstance(fonts.pil_font(13), fonts.GlyphCachedFont)
    assert all(np.array_equal(pictures[0], other) for other in pictures[1:])
