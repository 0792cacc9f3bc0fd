"""Issue 19, goal 3: a still's words are drawn by Pillow (convgif.render.stills.pillow_text), not by matplotlib's
glyph-by-glyph text pipeline, and they are drawn exactly as the layout measures them."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from matplotlib.backends.backend_agg import RendererAgg

from convgif.render.stills import toolkit
from convgif.render.stills.toolkit import SHAPES_PAGE, Sheet, px
from convgif.render.theme import get_theme
from convgif.scene.load import load_scene
from convgif.sources import still_frames

SCENES = Path(__file__).resolve().parent.parent / "scenes"
LIGHT = get_theme("light")
# 10.8 pt is 15 px at the still's 100 dpi: a whole pixel size, so the layout's measure (at the whole px size at or
# above the drawn one) and the drawing use the same font size
WHOLE_PT = 10.8


def _box(sheet: Sheet, artist) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) in layout px of a text artist as drawn."""
    renderer = sheet.canvas.get_renderer()
    (xa, ya), (xb, yb) = sheet.ax.transData.inverted().transform(artist.get_window_extent(renderer).get_points())
    return min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb)


@pytest.mark.parametrize("text, bold", [("Keras kernel (kh, kw, Cin, Cout) = (3, 3, 5, 6)", False),
                                        ("parameters: 6×5×3×3 + 6 = 276", True),
                                        ("感受野 r = 7 (3×3 卷积核)", False), ("输入 − 输出", True)])
def test_a_line_is_drawn_exactly_as_wide_as_the_layout_measures_it(text, bold):
    assert px(WHOLE_PT) == 15
    sheet = Sheet(400, 60, LIGHT, SHAPES_PAGE)
    artist = sheet.text(20, 10, text, pt=WHOLE_PT, bold=bold)
    x0, _, x1, _ = _box(sheet, artist)
    assert x0 == pytest.approx(20)
    assert x1 - x0 == pytest.approx(SHAPES_PAGE.measure(text, WHOLE_PT, bold), abs=1e-9)
    # and the ink is where that box says (snapped to a whole pixel, anti-aliased edges one px wide)
    frame = sheet.frame()
    ink = np.nonzero(np.any(frame < 200, axis=(0, 2)))[0]
    assert x0 - 2 <= ink[0] and ink[-1] <= x1 + 2, (ink[0], ink[-1], x0, x1)


def test_centred_and_right_aligned_text_sits_on_its_anchor():
    sheet = Sheet(300, 80, LIGHT, SHAPES_PAGE)
    centred = sheet.text(150, 40, "−12.5", pt=9, ha="center", va="center")
    right = sheet.text(280, 10, "output 3×3", pt=9, ha="right")
    x0, y0, x1, y1 = _box(sheet, centred)
    assert (x0 + x1) / 2 == pytest.approx(150) and (y0 + y1) / 2 == pytest.approx(40)
    assert _box(sheet, right)[2] == pytest.approx(280) and _box(sheet, right)[1] == pytest.approx(10)


def test_subscript_runs_butt_exactly_and_come_off_together():
    sheet = Sheet(300, 60, LIGHT, SHAPES_PAGE)
    line = sheet.text(10, 10, "r₁ = 3", pt=WHOLE_PT)
    boxes = [_box(sheet, part) for part in line.parts]
    assert [part.get_text() for part in line.parts] == ["r", "1", " = 3"]
    assert all(a[2] == pytest.approx(b[0]) for a, b in zip(boxes, boxes[1:]))
    line.remove()
    assert len(sheet.ax.texts) == 0 and not np.any(sheet.frame() != sheet.frame()[0, 0])


@pytest.mark.parametrize("name", ["d01_keras_shapes", "c01_conv_as_matrix", "zh_receptive_field", "c04_relu"])
def test_no_still_text_goes_through_matplotlibs_text_pipeline(name):
    """The toolkit's words are stamped as Pillow bitmaps: matplotlib's RendererAgg.draw_text (about 10 ms a line,
    most of a still's time before) is never called for a sheet without plot axes."""
    calls = []
    original = RendererAgg.draw_text

    def recording(self, gc, x, y, s, *args, **kwargs):
        calls.append(s)
        return original(self, gc, x, y, s, *args, **kwargs)

    with mock.patch.object(RendererAgg, "draw_text", recording):
        frames = still_frames(load_scene(SCENES / f"{name}.toml"))
    assert frames and calls == []


def test_a_text_with_a_bbox_draws_its_box_behind_it():
    sheet = Sheet(200, 60, LIGHT, SHAPES_PAGE)
    sheet.text(100, 30, "−3", pt=9, ha="center", va="center",
               bbox=dict(facecolor=toolkit.unit((200, 0, 0)), edgecolor="none", pad=0.5))
    frame = sheet.frame()
    red = np.all(frame == (200, 0, 0), axis=-1)
    rows, cols = np.nonzero(red)
    assert red.sum() > 100 and rows.min() < 30 < rows.max() and cols.min() < 100 < cols.max()
    assert np.any(frame[rows.min():rows.max() + 1, cols.min():cols.max() + 1].sum(axis=-1) < 300)  # the ink on top


def test_a_text_pillow_cannot_set_is_left_to_matplotlib():
    """Several lines or mathtext: matplotlib's own pipeline draws them (Pillow would set "\\n" and "$" literally)."""
    sheet = Sheet(300, 80, LIGHT, SHAPES_PAGE)
    two_lines = sheet.text(10, 10, "first line\nsecond line", pt=9)
    one_line = sheet.text(150, 10, "first line", pt=9)
    assert _box(sheet, two_lines)[3] - _box(sheet, two_lines)[1] > 1.8 * (_box(sheet, one_line)[3]
                                                                           - _box(sheet, one_line)[1])
    calls = []
    original = RendererAgg.draw_text
    with mock.patch.object(RendererAgg, "draw_text", lambda self, gc, x, y, s, *a, **k:
                           calls.append(s) or original(self, gc, x, y, s, *a, **k)):
        sheet.frame()
    assert calls == ["first line", "second line"]
