"""The render hot loop's work, counted (no timings): how much text `elide` has Pillow measure, how often a step frame
copies the whole image; and guards that the faster paths draw exactly what the plain ones did."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image, ImageFont

from convgif.engine import conv_trace
from convgif.render import View, get_theme
from convgif.render import fonts
from convgif.render.fonts import text_width
from convgif.render.labels import label
from convgif.render.layout_common import elide
from convgif.render.layout_conv import ConvLayout
from convgif.render.paint import pil_paint
from convgif.render.primitives import ELLIPSIS, Text, fmt_number
from test_manifest import ANIMATED


def whole_line_elide(terms, prefix, tail, result, room, joiner=" + ", *, size=13, language="en"):
    """`elide` as it was first written: every trial line measured whole (the reference for the faster one)."""
    room = room - text_width(result, size, True) - 4
    body = prefix + joiner.join(terms) + tail
    keep = len(terms)
    while text_width(body, size) > room and keep > 2:
        keep -= 1
        head, back = terms[: (keep + 1) // 2], terms[len(terms) - keep // 2:]
        more = label(language, "more_terms", count=len(terms) - len(head) - len(back))
        body = prefix + joiner.join(head) + f"{joiner}{ELLIPSIS}{more}{ELLIPSIS}{joiner}" + joiner.join(back) + tail
    return body, result


def clear_width_caches():
    text_width.cache_clear()
    for name in ("piece_width", "kerning", "_measures"):  # the piece caches of the faster elide
        if hasattr(fonts, name):
            getattr(fonts, name).cache_clear()


def test_elide_measures_each_term_not_each_trial_line(monkeypatch):
    """A 25-term line elided to a few terms: Pillow measures each piece (term, joiner, "…n more…") once, in each of
    the two modes: a few times the line's characters (~1,800 for this 308-character
    line), not every trial line whole (~8,400 on the old code: ~18 trial lines, twice each)."""
    rng = np.random.default_rng(3)
    terms = [f"{rng.integers(-9, 10) / 4:g}×({rng.integers(-9, 10) / 2:g})".replace("-", "−") for _ in range(25)]
    clear_width_caches()
    measured = []
    getlength = ImageFont.FreeTypeFont.getlength
    monkeypatch.setattr(ImageFont.FreeTypeFont, "getlength",
                        lambda font, text, *args, **kwargs: measured.append(len(text)) or getlength(font, text, *args, **kwargs))
    body, _ = elide(terms, "ch0: ", " + 0.5", " = 12.25", 692)
    line = len("ch0: " + " + ".join(terms) + " + 0.5")
    assert ELLIPSIS in body  # the line was elided: several trial lines were needed
    assert sum(measured) <= 8 * line, (sum(measured), line)


def test_elide_measures_nothing_new_for_a_line_of_terms_seen_before(monkeypatch):
    """Each step's arithmetic line is new text made of terms earlier steps showed: once those terms are measured,
    eliding it has Pillow measure nothing (the old code measured the whole line, 308 characters, in both modes)."""
    rng = np.random.default_rng(3)
    terms = [f"{rng.integers(-9, 10) / 4:g}×({rng.integers(-9, 10) / 2:g})".replace("-", "−") for _ in range(25)]
    clear_width_caches()
    elide(terms[::-1], "ch0: ", " + 0.5", " = 12.25", 692)  # an earlier step: the same terms in another order
    measured = []
    getlength = ImageFont.FreeTypeFont.getlength
    monkeypatch.setattr(ImageFont.FreeTypeFont, "getlength",
                        lambda font, text, *args, **kwargs: measured.append(text) or getlength(font, text, *args, **kwargs))
    body, _ = elide(terms, "ch0: ", " + 0.5", " = 12.25", 692)
    assert ELLIPSIS in body
    assert measured == []


TERMS = ["0.5×(−1)", "12×3", "VA", "To", "Ty", "−0.25", "1e−05", "ŷ", "通道", "|x|", "√2", "", "(", ")"]


@pytest.mark.parametrize("seed", range(4))
def test_elide_agrees_with_measuring_every_line_whole(seed):
    """A guard (it passes on the old code by construction): the piecewise measure picks the same line, kerning
    across joins and lines set in the CJK font included."""
    rng = random.Random(seed)
    clear_width_caches()
    for _ in range(150):
        terms = ["".join(rng.choice(TERMS) for _ in range(rng.randint(0, 3))) for _ in range(rng.randint(1, 30))]
        args = (terms, rng.choice(["", "ch0: ", "max(", "通道 1: ", "T"]), rng.choice(["", ")", ") / 9", " + b", "A"]),
                rng.choice(["", " = 3.5"]), rng.uniform(100, 900), rng.choice([" + ", ", ", "Y"]))
        kwargs = dict(size=rng.choice([11, 13, 19]), language=rng.choice(["en", "zh"]))
        assert elide(*args, **kwargs) == whole_line_elide(*args, **kwargs), (args, kwargs)


def make_view():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 10, (2, 2, 6, 6)).astype(float)  # two batch elements
    w = rng.integers(-1, 3, (3, 2, 3, 3)).astype(float)
    return View(conv_trace(x, w, np.array([0.5, -1.0, 0.0]), padding=1), ConvLayout, title="t", theme=get_theme("light"))


def plain_frames(view: View, indices):
    """Step frames the plain way: each a copy of the running image with the step's marks painted on it."""
    out, progress, batch, painted_to = [], None, -1, 0
    for index in indices:
        step = view.trace.step(index)
        if progress is None or step.batch != batch or step.index < painted_to:
            batch, progress = step.batch, view._static_image(step.batch).copy()
            painted_to = batch * view._steps_per_batch
        crisp = view.theme.crisp_text
        pil_paint(progress, [p for i in range(painted_to, step.index) for p in view.layout.done_cell(i)], crisp_text=crisp)
        painted_to = max(painted_to, step.index)
        frame = progress.copy()
        pil_paint(frame, view.layout.transient(step), crisp_text=crisp)
        out.append(np.asarray(frame))
    return out


def test_step_frames_copy_the_whole_image_once_per_batch_element(monkeypatch):
    view = make_view()
    view._static_image(0), view._static_image(1)
    copies = []
    copy = Image.Image.copy
    monkeypatch.setattr(Image.Image, "copy", lambda image: copies.append(image.size) or copy(image))
    frames = list(view.frames(range(len(view.trace))))
    assert len(frames) == len(view.trace) == 2 * 3 * 36
    assert len(copies) <= 2, len(copies)


def test_scatter_frames_do_not_recompute_the_running_sum_for_each_step(monkeypatch):
    """The scatter view shows the running sums it collected in one pass over the steps; a step taken alone computes
    its own running sum only when it is read (it was recomputed from every element so far for every frame, a tenth
    of drawing one). Read, it is still the engine's sum of the elements up to the step."""
    from convgif.engine import conv_transpose as engine_transpose, scatter_trace, trace_transpose
    from convgif.render.layout_transpose import ScatterLayout

    rng = np.random.default_rng(3)
    trace = scatter_trace(rng.integers(-3, 4, (1, 2, 3, 3)).astype(float),
                          rng.integers(-2, 3, (2, 1, 3, 3)).astype(float), stride=2, padding=1)
    view = View(trace, ScatterLayout, theme=get_theme("light"))
    sums = []
    full = engine_transpose.scatter_full
    monkeypatch.setattr(trace_transpose, "scatter_full", lambda *args: sums.append(1) or full(*args))
    frames = list(view.frames(range(len(trace))))
    assert len(frames) == len(trace) and sums == []
    streamed = list(trace.steps())
    for index in (0, 7, len(trace) - 1):  # whole numbers: the same sums in any order
        alone = trace.step(index)
        np.testing.assert_array_equal(alone.accumulated, streamed[index].accumulated)
        np.testing.assert_array_equal(alone.accumulated_output, streamed[index].accumulated_output)
    assert len(sums) == 3  # once a step read


def test_marks_unchanged_from_the_last_frame_are_left_painted(monkeypatch):
    """A kernel slice the layout keeps (the very same marks every step of an output channel) is painted once and
    left on the running image while it stays, instead of painted and taken off again for every frame; it is let go
    when it changes, when done cells are painted where it is and when a mark before it in the frame reaches it (here
    made to cover its label every few steps), and every frame is still the plain frame."""
    from convgif.render import view as view_module
    from convgif.render.primitives import Rect

    view = make_view()
    label = next(m for m in view.layout.transient(view.trace.step(0)) if isinstance(m, Text) and "kernel" in m.text)
    done_cell = view.layout.done_cell
    over = Rect((int(label.x), int(label.y) - 12, int(label.x) + 30, int(label.y) + 4), fill=(200, 30, 30))
    monkeypatch.setattr(view.layout, "done_cell", lambda i: done_cell(i) + ([over] if i % 9 == 4 else []))
    transient = view.layout.transient  # and, every few steps, a mark before it in the frame reaching over it
    first = Rect((int(label.x) + 10, int(label.y) - 8, int(label.x) + 50, int(label.y) + 2), fill=(30, 30, 200))
    monkeypatch.setattr(view.layout, "transient",
                        lambda step: (lambda marks: [first, *marks[1:]] if step.index % 11 == 7 else marks)(
                            transient(step)))
    painted = []
    undoable = view_module.pil_paint_undoable
    monkeypatch.setattr(view_module, "pil_paint_undoable",
                        lambda image, marks, **kw: painted.append(label in marks) or undoable(image, marks, **kw))
    indices = list(range(40)) + [3, 5, 6, 36 + 4, 36 + 5]  # a channel's steps, going back, the next channel
    for fast, plain in zip(view.frames(indices), plain_frames(view, indices), strict=True):
        assert np.array_equal(fast, plain)
    assert 0 < sum(painted) < len(indices) // 3, painted  # painted with the frame's own marks only now and then


def test_a_scatter_kernel_slice_stays_painted_while_the_input_cell_moves(monkeypatch):
    """The scatter view keeps its kernel slice the same marks for every element of an input channel, so it is
    painted with a frame's own marks once and then left painted, while the current input cell walks the input grid
    beside it (a text's box is generous: compared with the band round the slice, cells near it seemed to reach it)."""
    from convgif.engine import scatter_trace
    from convgif.render import view as view_module
    from convgif.render.layout_transpose import ScatterLayout

    rng = np.random.default_rng(5)
    trace = scatter_trace(rng.integers(-9, 10, (1, 1, 3, 3)).astype(float),
                          rng.integers(-9, 10, (1, 1, 3, 3)).astype(float), stride=2, padding=1)
    view = View(trace, ScatterLayout, theme=get_theme("light"))
    label = next(m for m in view.layout.transient(trace.step(0)) if isinstance(m, Text) and "kernel" in m.text)
    painted = []
    undoable = view_module.pil_paint_undoable
    monkeypatch.setattr(view_module, "pil_paint_undoable",
                        lambda image, marks, **kw: painted.append(label in marks) or undoable(image, marks, **kw))
    assert len(list(view.frames(range(len(trace))))) == 9
    assert sum(painted) == 1, painted


def test_step_frames_are_the_plain_frames():
    """A guard: every step, steps skipped (done cells caught up), going back, and the next batch element."""
    view = make_view()
    n = len(view.trace)
    indices = [0, 1, 2, 7, 40, 41, 3, 107, 108, 150, n - 1, 5]
    for fast, plain in zip(view.frames(indices), plain_frames(view, indices), strict=True):
        assert np.array_equal(fast, plain)
    everything = list(range(n))
    assert all(np.array_equal(a, b) for a, b in zip(view.frames(everything), plain_frames(view, everything),
                                                     strict=True))


SLIDE_WIDTHS = {None: None, "16:9": 1280, "4:3": 1024}


@pytest.mark.parametrize("aspect", SLIDE_WIDTHS)
@pytest.mark.parametrize("name", ANIMATED)
def test_every_gallery_scene_draws_the_plain_frames(name, aspect):
    """Each gallery scene's shown steps, in a blog column and on both slides, fast as `convgif render` draws them
    and the plain way. On slides, lanes side by side held a kernel slice and a veil whose kept box spanned the output
    grid between them, and letting them go put done cells back to empty (a08_groups, b06_depthwise_stage,
    dark_grouped_conv)."""
    from pathlib import Path

    from convgif.scene import load_scene
    from convgif.sources import build_trace, build_view

    scene = load_scene(Path(__file__).resolve().parent.parent / "scenes" / f"{name}.toml")  # an op scene ([op])
    if aspect is not None:
        scene = scene.model_copy(update={"render": scene.render.model_copy(
            update={"aspect": aspect, "width": SLIDE_WIDTHS[aspect]})})
    view = build_view(scene, build_trace(scene))
    shown = scene.step_indices(len(view.trace))
    wrong = [index for index, fast, plain in zip(shown, view.frames(shown), plain_frames(view, shown), strict=True)
             if not np.array_equal(fast, plain)]
    assert not wrong, wrong[:5]


@pytest.mark.parametrize("crisp", [False, True])
def test_painted_boxes_hold_every_pixel_a_text_paints(crisp):
    """A guard for the boxes a frame's marks are read back from: glyphs that ink far outside their advance (wide,
    tall, deep, combining) at sizes and sub-pixel starts, each alignment, smooth and one-bit; and the boxes of a
    text's own glyphs (`ink_covers`) that tell whether a held run of marks can be reached."""
    from convgif.render.paint import ink_covers, painted_boxes
    from convgif.render.primitives import Text

    texts = ["Ǻ", "ŷ", "g|", "\u0301a", "a\u0301", "∫", "WWW", "0.5×(−1)", "通道", "…12 more…", "Ψ̃", "ﬃ", "—"]
    for text in texts:
        for size in (10, 13, 31, 48):
            for align in ("left", "center", "right"):
                item = Text(100.37, 80.6, text, size, (0, 0, 0), align=align)
                image = Image.new("RGB", (240, 160), (255, 255, 255))
                pil_paint(image, [item], crisp_text=crisp)
                inked = np.argwhere((np.asarray(image) != 255).any(axis=2))
                if not len(inked):
                    continue
                for mode in (crisp, None):  # the mode it is drawn in, or either
                    (x0, y0, x1, y1), = painted_boxes(image.size, [item], crisp=mode)
                    assert x0 <= inked[:, 1].min() and inked[:, 1].max() < x1, (text, size, align, mode)
                    assert y0 <= inked[:, 0].min() and inked[:, 0].max() < y1, (text, size, align, mode)
                (x0, y0, x1, y1), = ink_covers(image.size, [item], crisp=crisp)  # its own glyphs' box
                assert x0 <= inked[:, 1].min() and inked[:, 1].max() < x1, (text, size, align, "ink")
                assert y0 <= inked[:, 0].min() and inked[:, 0].max() < y1, (text, size, align, "ink")


@pytest.mark.parametrize("bold", [False, True])
def test_digits_are_interchangeable_in_dejavu_so_a_digit_pattern_is_as_wide_as_its_text(bold):
    """What `digit_pattern` relies on: in every size, weight and mode Pillow sets, every digit has one advance and
    no kerning pair with a digit, sign or point, so swapping digits never changes a width."""
    import itertools

    from convgif.render.layout_common import digit_pattern

    alphabet = "0123456789" + "\u2212-.+"
    strings = ["".join(c) for n in (1, 2) for c in itertools.product(alphabet, repeat=n)]
    strings += ["\u22121234.56", "99\u00d7(\u22127)", "1000000"]
    for size in range(6, 33):
        for crisp in (False, True):
            for text in strings:
                assert text_width(text, size, bold, crisp=crisp) == text_width(digit_pattern(text), size, bold,
                                                                              crisp=crisp), (size, crisp, text)
    assert digit_pattern("\u22121.25") == "\u22120.00" and digit_pattern("通道3") == "通道3"  # CJK: another font


def test_fitting_numbers_measures_their_digit_patterns_not_every_value(monkeypatch):
    """A 64 × 401 map of values up to a million fitted into cells: a handful of widths measured, not ~10⁵ (the
    extreme-scene fuzz test spent 250 s of 320 in getlength here)."""
    from convgif.render import layout_common

    rng = np.random.default_rng(0)
    values = [fmt_number(float(v)) for v in rng.integers(-1_000_000, 1_000_001, 64 * 401)]
    calls = []
    real = layout_common.text_width
    monkeypatch.setattr(layout_common, "text_width", lambda *a, **k: calls.append(a) or real(*a, **k))
    layout_common._fitting_size.cache_clear()
    layout_common.fitting_size(values, 30)
    assert 0 < len(calls) <= 100, len(calls)


@pytest.mark.parametrize("indices", [[0, 108, 109, 200, 215], [215], [150, 120],  # the last batch element last
                                     [0, 1, 2, 7], [3, 150, 100], [107], []])  # drawn afresh
def test_the_hold_frame_finished_on_the_running_image_is_the_hold_frame(indices):
    """`then_final`: the hold frame after the steps, finished from their running image when the last step shown is of
    the last batch element (a step of the first element last, or none: drawn afresh) is `final_frame_with_text`."""
    view = make_view()
    *frames, (held, text) = view.frames_with_text(indices, then_final=True)
    assert len(frames) == len(indices)
    expected, expected_text = make_view().final_frame_with_text()
    assert np.array_equal(held, expected) and text == expected_text


# characters of the lines frames draw (numbers, signs, products, sums, labels) and more, to hold `draw_pieces` to
# Pillow on glyphs whose one-bit boxes and bitmaps round apart
LINE_CHARACTERS = "0123456789 ×−+=()…Σ.,-abcxyzwb[]:·→ ABCDEFGHIJKLMNOPQRSTUVWXYZfgijklpqt_ⁱ²³½≤≥∑√αβγ|"
CJK_CHARACTERS = "卷积核步输入输出通道的第个一上下"  # a line with one of them is set in the CJK subset


@pytest.mark.parametrize("seed", range(2))
def test_a_line_drawn_piece_by_piece_is_the_line_pillow_draws(seed):
    """`draw_pieces` against Pillow's own `ImageDraw.text` of the whole line (the oracle): every pixel, for random
    words and lines, sizes, weights, alignments and fractional origins, in DejaVu and in the CJK subset, crisp
    (glyph by glyph, kerned letter pairs included) and smooth (word by word). A line it cannot match is refused
    (then pil_paint draws it whole): at most a few in a hundred, and never the digits-and-signs lines of a step."""
    from PIL import ImageDraw

    from convgif.render.paint import _PIL_ANCHOR, draw_pieces
    from convgif.render.primitives import Text

    rng = random.Random(seed)
    drawn = refused = 0
    for _ in range(300):
        characters = LINE_CHARACTERS + (CJK_CHARACTERS if rng.random() < 0.25 else "")  # some in the CJK font
        words = ["".join(rng.choice(characters) for _ in range(rng.randint(1, 8)))
                 for _ in range(rng.randint(1, 9))]  # a cell's number, a sum, a long line
        text = " ".join(words)
        size, bold, align = rng.randint(6, 40), rng.random() < 0.3, rng.choice(["left", "center", "right"])
        x = rng.choice([rng.uniform(0, 300), float(rng.randint(0, 300)), rng.randint(0, 600) / 2])
        y = rng.choice([rng.uniform(20, 80), float(rng.randint(20, 80)), rng.randint(40, 160) / 2])
        for mode in ("1", "L"):
            # drawn three times, moved by whole pixels: a one-bit line seen again is kept as one mask and drawn at once
            for shift in (0, rng.randint(-3, 3), rng.randint(-3, 3)):
                at_x, at_y = x + shift, y - shift
                expected = Image.new("RGB", (700, 110), (250, 250, 250))
                actual = expected.copy()
                oracle, painter = ImageDraw.Draw(expected), ImageDraw.Draw(actual)
                oracle.fontmode = painter.fontmode = mode
                oracle.text((at_x, at_y), text, fill=(10, 20, 30), font=fonts.pil_font(size, bold, text),
                            anchor=_PIL_ANCHOR[align])
                if draw_pieces(painter, Text(at_x, at_y, text, size, (10, 20, 30), align, bold)):
                    drawn += 1
                    assert np.array_equal(np.asarray(actual), np.asarray(expected)), (text, size, bold, align, at_x,
                                                                                    at_y, mode)
                else:
                    refused += 1
                    assert actual.getcolors() == [(700 * 110, (250, 250, 250))], "a refused line drew nothing"
    assert refused <= 0.15 * (drawn + refused)
    for size in (9, 11, 13, 15, 17, 20):  # a step's arithmetic line is always drawn word by word
        for mode in ("1", "L"):
            painter = ImageDraw.Draw(Image.new("RGB", (900, 60)))
            painter.fontmode = mode
            line = "x[0, 1, 2] = Σ 3×(−1) + 0×2 + 12×7 + … 5 more … + (−4)×0.5 + bias 1 = −7.25"
            assert draw_pieces(painter, Text(3.5, 40, line, size, (0, 0, 0), "left", False))


def test_a_one_bit_line_seen_before_is_drawn_as_one_mask():
    """A cell's number or a word of the arithmetic comes back frame after frame at the same fraction of a pixel: the
    second time a one-bit line is drawn its glyphs are set as one mask, kept, and drawn with one call; so are the
    words of a longer line
    (glyph by glyph, a frame's hundred cells and words were most of its painting), on the same pixels."""
    from PIL import ImageDraw

    from convgif.render.paint import draw_pieces
    from convgif.render.primitives import Text

    class Counting:  # Pillow's drawing object, counting the masks drawn through it
        def __init__(self, draw):
            self.draw, self.masks = draw, 0

        def draw_bitmap(self, *args):
            self.masks += 1
            return self.draw.draw_bitmap(*args)

        def __getattr__(self, name):
            return getattr(self.draw, name)

    fonts.piece_setter.cache_clear()  # no line seen before
    counts, pictures = [], []
    for x in (60.5, 160.5, 260.5, 61.5):  # the same 1/2 px each time
        image = Image.new("RGB", (400, 60), (255, 255, 255))
        painter = ImageDraw.Draw(image)
        painter.fontmode = "1"
        painter.draw = Counting(painter.draw)
        assert draw_pieces(painter, Text(x, 40, "−3×(−12) = 36", 13, (0, 0, 0), "center"))
        counts.append(painter.draw.masks)
        pictures.append(np.asarray(image))
    assert counts == [len("−3×(−12)=36"), 1, 1, 1]  # glyph by glyph the first time, then whole
    for before, after, moved in zip(pictures, pictures[1:], (100, 100, -199)):
        assert np.array_equal(np.roll(before, moved, axis=1), after)
    # a longer line (an arithmetic line, new each step) is drawn word by word the same way: its words recur
    line = "sums: 1 + 4×0 = 1, 0 + 4×(−1) = −4, 4 + 4×0 = 4"
    counts, pictures = [], []
    for x in (10.25, 20.25, 30.25):
        image = Image.new("RGB", (400, 60), (255, 255, 255))
        painter = ImageDraw.Draw(image)
        painter.fontmode = "1"
        painter.draw = Counting(painter.draw)
        assert draw_pieces(painter, Text(x, 40, line, 13, (0, 0, 0)))
        counts.append(painter.draw.masks)
        pictures.append(np.asarray(image))
    assert counts[0] > 25 and counts[1:] == [len(line.split())] * 2  # glyph by glyph, then a mask a word
    for before, after in zip(pictures, pictures[1:]):
        assert np.array_equal(np.roll(before, 10, axis=1), after)


def test_new_numbers_of_glyphs_seen_before_render_no_glyphs(monkeypatch):
    """A step's cell value, sum and arithmetic line are new text (a new number), but one-bit text is drawn glyph by
    glyph from kept masks: once the digits and signs have been drawn, a new number renders nothing (drawn whole,
    every new number was rendered by Pillow: most of a short scene's drawing time). A glyph has a mask for each
    start that moves it by a pixel (`fonts.Piece.mask`): drawn first from a whole and a half pixel, it is kept for
    every start of either kind."""
    from convgif.render.primitives import Text

    fonts.kept_mask_cache_clear()
    image = Image.new("RGB", (900, 60), (255, 255, 255))
    glyphs = "0 1 2 3 4 5 6 7 8 9 + − × ( ) = ."  # each once, starting on a whole and on a half pixel
    pil_paint(image, [Text(10, 40, glyphs, 13, (0, 0, 0)), Text(10.5, 20, glyphs, 13, (0, 0, 0))],
              crisp_text=True)
    rendered = []
    original = ImageFont.FreeTypeFont.getmask2
    monkeypatch.setattr(ImageFont.FreeTypeFont, "getmask2",
                        lambda self, text, *args, **kwargs: rendered.append(text) or original(self, text, *args,
                                                                                             **kwargs))
    pil_paint(image, [Text(400.75, 30, "−31.5", 13, (0, 0, 0), "center"), Text(300, 50, "(−6) + 13 = 7", 13, (0, 0, 0)),
                      Text(500.5, 20, "−8", 13, (0, 0, 0), "right")], crisp_text=True)
    assert rendered == []


def test_a_new_line_of_words_seen_before_renders_no_glyphs(monkeypatch):
    """Each step's arithmetic line is new text, but its words are not: once they have been drawn, drawing another
    line made of them has Pillow render nothing (drawing each line whole rendered every glyph of every line)."""
    from convgif.render.primitives import Text

    fonts.kept_mask_cache_clear()
    image = Image.new("RGB", (900, 60), (255, 255, 255))
    pil_paint(image, [Text(10.5, 40, "1×2 + 3×(−1) + 0×4 + 5×6 = 17", 13, (0, 0, 0))], crisp_text=True)
    rendered = []
    original = ImageFont.FreeTypeFont.getmask2
    monkeypatch.setattr(ImageFont.FreeTypeFont, "getmask2",
                        lambda self, text, *args, **kwargs: rendered.append(text) or original(self, text, *args,
                                                                                             **kwargs))
    pil_paint(image, [Text(10.5, 40, "1×2 + 0×4 + 3×(−1) + 5×6 = 17", 13, (0, 0, 0))], crisp_text=True)
    assert rendered == []


def test_a_line_drawn_without_pillows_text_setup_is_pillows_text():
    """`draw_line` (one line of text: the mask Pillow's `ImageDraw.text` asks for, drawn where it draws it) against
    `ImageDraw.text` itself, for every anchor a frame uses, fractional and whole origins, both modes, Chinese too."""
    from PIL import ImageDraw

    from convgif.render.paint import _PIL_ANCHOR, draw_line

    rng = random.Random(7)
    for _ in range(400):
        text = rng.choice(["7", "−0.25", "3×(−1)", "x[0, 2]", "Σ = 12", "bias 1", "卷积核 3×3", "stride 2 → 4"])
        size, bold, anchor = rng.randint(6, 40), rng.random() < 0.3, rng.choice(list(_PIL_ANCHOR.values()))
        x, y = rng.choice([rng.uniform(0, 200), float(rng.randint(0, 200))]), rng.uniform(30, 70)
        for mode in ("1", "L"):
            expected = Image.new("RGB", (300, 100), (240, 240, 240))
            actual = expected.copy()
            oracle, painter = ImageDraw.Draw(expected), ImageDraw.Draw(actual)
            oracle.fontmode = painter.fontmode = mode
            font = fonts.pil_font(size, bold, text)
            oracle.text((x, y), text, fill=(200, 10, 30), font=font, anchor=anchor)
            draw_line(painter, x, y, text, (200, 10, 30), font, anchor)
            assert np.array_equal(np.asarray(actual), np.asarray(expected)), (text, size, bold, anchor, x, y, mode)


def test_distinct_values_are_numpys_unique():
    """`distinct_values` (the layouts' list of numbers to fit in cells) against `np.unique` itself: floats with
    repeats, −0.0 and 0.0, NaNs, infinities, integers, empty and 2D arrays."""
    from convgif.render.layout_common import distinct_values

    rng = np.random.default_rng(3)
    cases = [np.array([]), np.array([[1.5, -2.0], [1.5, 0.0]]), np.array([0.0, -0.0, 0.0, -0.0]),
             np.array([np.nan, 1.0, np.nan, -np.inf, np.inf, 1.0]), np.arange(12).reshape(3, 4) % 5,
             np.array([np.nan, np.nan])]
    cases += [np.round(rng.normal(size=rng.integers(1, 300)), int(rng.integers(0, 3))) for _ in range(200)]
    for values in cases:
        expected, actual = np.unique(values), distinct_values(values)
        assert actual.dtype == expected.dtype and np.array_equal(actual, expected, equal_nan=True), values
        assert np.array_equal(np.signbit(actual), np.signbit(expected))


def test_the_layouts_list_their_numbers_without_numpy_ma():
    """A conv, pool and map layout set up in a fresh process leave numpy.ma unimported (np.unique imports it:
    ~20 ms of a small render's start)."""
    import subprocess
    import sys

    code = ("import sys; from convgif.scene import load_scene; from convgif.sources import frame_source\n"
            "for name in ('a01_plain_conv', 'c05_max_pool', 'c06_chain_conv_relu_pool_linear'):\n"
            "    source = frame_source(load_scene(f'scenes/{name}.toml')); next(iter(source.frames('steps')))\n"
            "print('numpy.ma' in sys.modules)")
    from pathlib import Path
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parent.parent)
    assert result.stdout.strip() == "False"


def test_unravel_is_numpys_unravel_index():
    """The layouts' `unravel` against `np.unravel_index` for every index of 1- to 4-dimensional shapes."""
    from convgif.render.layout_common import unravel

    for shape in [(7,), (2, 3), (1, 4, 5), (2, 3, 1, 4), (3, 1, 6, 2)]:
        for index in range(int(np.prod(shape))):
            assert unravel(index, shape) == tuple(int(v) for v in np.unravel_index(index, shape))


@pytest.mark.parametrize("volume", [False, True], ids=["lanes", "volume_front"])
def test_a_veil_stays_painted_while_its_group_lasts(monkeypatch, volume):
    """A veil repaints every pixel of its box: the lanes a grouped step does not read (flat view) and the front face
    a later group's window lies behind (volume view) are the very same veil every step of a group, painted once and
    left on the running image until the group changes, though a veil is one mark, not a run of them. Every frame is
    still the plain frame."""
    from convgif.render import view as view_module
    from convgif.render.layout_volume import ConvVolumeLayout
    from convgif.render.primitives import Veil

    rng = np.random.default_rng(2)
    x = rng.integers(0, 10, (1, 4, 5, 5)).astype(float)
    w = rng.integers(-1, 3, (4, 2, 3, 3)).astype(float)
    view = View(conv_trace(x, w, None, padding=1, groups=2), ConvVolumeLayout if volume else ConvLayout,
                title="t", theme=get_theme("light"))
    veiled = []
    undoable = view_module.pil_paint_undoable
    monkeypatch.setattr(view_module, "pil_paint_undoable", lambda image, marks, **kw: veiled.append(
        any(isinstance(m, Veil) for m in marks)) or undoable(image, marks, **kw))
    indices = list(range(len(view.trace)))
    for fast, plain in zip(view.frames(indices), plain_frames(view, indices), strict=True):
        assert np.array_equal(fast, plain)
    changes = sum(1 for a, b in zip(indices, indices[1:]) if view.trace.step(a).group != view.trace.step(b).group)
    assert any(isinstance(m, Veil) for i in indices for m in view.layout.transient(view.trace.step(i)))
    # painted with a frame's own marks only on the first frame of a group (held from its second frame on), and
    # where the kernel slice held with the lanes' veils changes (the next output channel)
    channels = len({view.trace.step(i).out_channel for i in indices})
    assert 0 < veiled.count(True) <= changes + channels, veiled.count(True)


def test_a_volumes_seen_through_faces_stay_painted_while_output_rows_complete(monkeypatch):
    """a08 in volumes, its second group: the input channel's whole face (121 cells) and the output channel's face
    are held from frame to frame. A finished output row changes only the end of the held run, so only the pieces
    from there on are let go and painted again: the input face is painted twice for the group (its first frame,
    then held), not again for every output row (11 times). Every frame is still the plain frame."""
    from pathlib import Path

    from convgif.render import view as view_module
    from convgif.scene import load_scene
    from convgif.sources import build_trace, build_view

    scene = load_scene(Path(__file__).resolve().parent.parent / "scenes" / "a08_groups_volume.toml")
    view = build_view(scene, build_trace(scene))
    seen = view.layout.input_block_label(1)
    painted = []
    for name in ("pil_paint", "pil_paint_undoable"):  # held pieces, and each frame's own marks
        monkeypatch.setattr(view_module, name, lambda image, marks, paint=getattr(view_module, name), **kw: painted.append(
            any(isinstance(m, Text) and m.text == seen for m in marks)) or paint(image, marks, **kw))
    indices = list(range(len(view.trace)))
    for fast, plain in zip(view.frames(indices), plain_frames(view, indices), strict=True):
        assert np.array_equal(fast, plain)
    # painted with the group's first frame's own marks, then held from its second frame to the group's end
    assert painted.count(True) == 2, painted.count(True)


def test_overlap_merged_boxes_merges_only_what_overlaps():
    """A held run keeps (and puts back) the boxes round its marks that overlap, so two marks side by side in the
    same rows (a volume's input and output faces, with done cells between them) stay two boxes; a chain of
    overlaps becomes one box; every box's pixels are in one of the results."""
    from convgif.render.paint import overlap_merged_boxes

    assert overlap_merged_boxes([(0, 0, 10, 10), (20, 0, 30, 10)]) == [(0, 0, 10, 10), (20, 0, 30, 10)]
    assert overlap_merged_boxes([(0, 0, 10, 10), (20, 0, 30, 10), (5, 5, 25, 8)]) == [(0, 0, 30, 10)]
    assert overlap_merged_boxes([(0, 0, 10, 10), (10, 0, 20, 10), (3, 3, 3, 9)]) == [(0, 0, 10, 10), (10, 0, 20, 10)]
    rng = np.random.default_rng(0)
    for _ in range(50):
        boxes = [(x, y, x + w, y + h) for x, y, w, h in rng.integers(1, 40, (12, 4)).tolist()]
        merged = overlap_merged_boxes(boxes)
        assert all(any(m[0] <= b[0] and m[1] <= b[1] and b[2] <= m[2] and b[3] <= m[3] for m in merged) for b in boxes)
        assert not any(a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
                       for i, a in enumerate(merged) for b in merged[i + 1:])
