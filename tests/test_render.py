"""Renderer tests: pixel probes where the trace says, fast path vs full matplotlib redraw, determinism, sizes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from convgif.engine import conv_trace
from convgif.errors import RenderError
from convgif.render import View, get_theme
from convgif.render.layout_conv import ConvLayout
from convgif.render.primitives import Text, fmt_number
from convgif.render.theme import mix
from test_render_transpose import agreement

THEME = get_theme("light")


def make_trace(cin, spatial, cout, kernel, *, groups=1, stride=1, padding=0, dilation=1, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 10, (cin, *spatial)).astype(float)
    w = rng.integers(-1, 3, (cout, cin // groups, *kernel)).astype(float)
    b = rng.integers(-2, 3, cout) * 0.5
    return conv_trace(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)


def as_tuple(v, n):
    return (v,) * n if isinstance(v, int) else tuple(v)


def expected_taps(position, kernel, stride, dilation):
    """Padded coordinates of the taps, from the definition (origin = position*stride, step = dilation)."""
    axes = [[p * s + d * k for k in range(kk)] for p, s, d, kk in zip(position, stride, dilation, kernel)]
    return set(itertools.product(*axes))


def probe(frame, box):
    """The colour a few px inside a cell's top-left corner: inside its border, away from the centred digits."""
    x0, y0, _, _ = box
    return tuple(int(v) for v in frame[y0 + 3, x0 + 3])


SCENES = {
    # name: (cin, spatial, cout, kernel, options)
    "dilation2": (2, (7, 7), 1, (3, 3), dict(padding=1, dilation=2)),
    "stride2_pad1": (1, (6, 6), 2, (3, 3), dict(stride=2, padding=1)),
    "groups2": (2, (5, 5), 4, (3, 3), dict(groups=2, padding=2, stride=2)),
    "conv1d": (2, (12,), 3, (3,), dict(padding=1)),
    "conv1d_dilated": (1, (10,), 1, (3,), dict(dilation=3, stride=2)),
}


FILLED = get_theme("light", fill_dense_taps=True)  # `[render] taps = "fill"`: every window fills its taps


@pytest.fixture(scope="module", params=sorted(SCENES))
def scene(request):
    """A scene drawn with every tap filled, so the probes below can find each tap by its fill."""
    cin, spatial, cout, kernel, options = SCENES[request.param]
    trace = make_trace(cin, spatial, cout, kernel, **options)
    view = View(trace, ConvLayout, title=request.param, caption="a caption", theme=FILLED)
    return request.param, trace, view, (spatial, kernel, options)


def test_taps_window_gaps_and_output_cells(scene):
    name, trace, view, (spatial, kernel, options) = scene
    ndim = len(spatial)
    stride, dilation = as_tuple(options.get("stride", 1), ndim), as_tuple(options.get("dilation", 1), ndim)
    pad = as_tuple(options.get("padding", 0), ndim)
    padded = tuple(n + 2 * p for n, p in zip(spatial, pad))
    out_sizes = trace.geometry.output_shape[1:]
    n = len(trace)
    picks = sorted({0, 1, n // 2, n - 2, n - 1})
    frames = dict(zip(picks, view.frames(picks)))
    groups = options.get("groups", 1)
    cin, cout = trace.geometry.in_channels, trace.geometry.out_channels
    for k, frame in frames.items():
        oc, *position = np.unravel_index(k, (cout, *out_sizes))
        group = int(oc) // (cout // groups)
        read = range(group * (cin // groups), (group + 1) * (cin // groups))
        taps = expected_taps(position, kernel, stride, dilation)
        for ch in range(cin):
            for coord in itertools.product(*[range(p) for p in padded]):
                colour = probe(frame, view.cell_box("input", ch, coord))
                if ch in read and coord in taps:
                    assert colour == THEME.tap, (name, k, ch, coord)
                else:  # untapped, including the dilation gaps inside the window
                    assert colour != THEME.tap, (name, k, ch, coord)
        for later in range(n):
            colour = probe(frame, view.cell_box("output", later // int(np.prod(out_sizes)),
                                                np.unravel_index(later % int(np.prod(out_sizes)), out_sizes)))
            want = THEME.output_current if later == k else THEME.output_done if later < k else THEME.output_empty
            if groups > 1 and later // int(np.prod(out_sizes)) // (cout // groups) != group:
                want = mix(want, THEME.background, 1 - THEME.dim_alpha)  # another lane: veiled
            assert max(abs(a - b) for a, b in zip(colour, want)) <= 1, (name, k, later, colour, want)


@pytest.mark.parametrize("name", sorted(SCENES))
def test_default_taps_fill_only_windows_with_gaps(name):
    """By default (`taps = "auto"`) a window without dilation gaps is its outline alone: no cell takes the tap
    fill, and the outline runs along the taps' outer edge. A dilated window still fills exactly its taps."""
    cin, spatial, cout, kernel, options = SCENES[name]
    trace = make_trace(cin, spatial, cout, kernel, **options)
    view = View(trace, ConvLayout, title=name, caption=None)
    ndim = len(spatial)
    stride, dilation = as_tuple(options.get("stride", 1), ndim), as_tuple(options.get("dilation", 1), ndim)
    padded = tuple(n + 2 * p for n, p in zip(spatial, as_tuple(options.get("padding", 0), ndim)))
    gaps = any(d > 1 and k > 1 for d, k in zip(dilation, kernel))
    out_sizes = trace.geometry.output_shape[1:]
    groups = options.get("groups", 1)
    picks = sorted({0, len(trace) // 2, len(trace) - 1})
    for k, frame in zip(picks, view.frames(picks)):
        oc, *position = np.unravel_index(k, (trace.geometry.out_channels, *out_sizes))
        read = int(oc) // (trace.geometry.out_channels // groups) * (cin // groups)
        taps = expected_taps(position, kernel, stride, dilation)
        filled = {coord for coord in itertools.product(*[range(p) for p in padded])
                  if probe(frame, view.cell_box("input", read, coord)) == THEME.tap}
        assert filled == (taps if gaps else set()), (name, k)
        first, last = min(taps), max(taps)  # the window's corner taps
        x0, y0, _, _ = view.cell_box("input", read, first)
        _, _, x1, y1 = view.cell_box("input", read, last)
        middle_y, middle_x = (y0 + y1) // 2, (x0 + x1) // 2
        for x, y in ((x0, middle_y), (x1 - 1, middle_y), (middle_x, y0), (middle_x, y1 - 1)):
            assert tuple(int(v) for v in frame[y, x]) == THEME.window, (name, k, x, y)


def test_padding_cells_look_different_from_data_cells():
    trace = make_trace(1, (4, 4), 1, (3, 3), padding=1)
    view = View(trace, ConvLayout, title=None, caption=None)
    frame = next(view.frames([len(trace) - 1]))  # window at the bottom right, corner (0, 0) untouched
    padding_colour = probe(frame, view.cell_box("input", 0, (0, 0)))
    data_colour = probe(frame, view.cell_box("input", 0, (1, 1)))
    assert padding_colour == THEME.padding and data_colour == THEME.input
    assert padding_colour != data_colour


def test_other_group_inputs_are_dimmed():
    trace = make_trace(2, (5, 5), 2, (3, 3), groups=2)
    view = View(trace, ConvLayout, title=None, caption=None)
    first, last = view.frames([0, len(trace) - 1])
    box1, box0 = view.cell_box("input", 1, (4, 4)), view.cell_box("input", 0, (4, 4))
    assert probe(first, box1) == mix(THEME.input, THEME.background, 1 - THEME.dim_alpha)
    assert probe(first, box0) == THEME.input
    assert probe(last, box0) == mix(THEME.input, THEME.background, 1 - THEME.dim_alpha)


def test_fast_path_matches_full_matplotlib_redraw():
    # With smooth text, rectangles are pixel-exact in both painters (antialiasing off, outlines as filled strips),
    # so only text glyphs differ: matplotlib and Pillow hint and position the same DejaVu glyphs slightly
    # differently. Measured on this scene (every step): mean difference <= 0.33 levels, >= 99.88% of pixels within
    # 24 levels (the rest are glyph edges, up to ~135 levels on single pixels). The bounds leave room for other
    # FreeType builds while still failing on any misplaced cell or missing text. With crisp text (the default)
    # the fast path must equal a from-scratch Pillow redraw exactly (see `agreement`).
    trace = make_trace(2, (4, 4), 2, (3, 3), groups=2, padding=1, dilation=(1, 2))
    agreement(lambda theme: View(trace, ConvLayout, title="agreement", caption="fast vs reference", theme=theme),
              list(range(len(trace))))


def test_deterministic_and_same_size():
    trace = make_trace(3, (5, 5), 2, (3, 3), padding=1)
    first = list(View(trace, ConvLayout, title="t", caption="c").frames(range(0, len(trace), 3)))
    second = list(View(trace, ConvLayout, title="t", caption="c").frames(range(0, len(trace), 3)))
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    view = View(trace, ConvLayout, title="t", caption="c")
    assert view.size[0] == 720
    shapes = {f.shape for f in first} | {view.final_frame().shape}
    assert shapes == {(view.size[1], 720, 3)}
    assert all(f.dtype == np.uint8 for f in first)


def test_custom_width_and_palette_covers_the_frame():
    trace = make_trace(2, (6, 6), 2, (3, 3), groups=2, padding=1)
    view = View(trace, ConvLayout, title="palette", caption=None, width=600)
    frame = next(view.frames([3]))
    assert frame.shape[1] == 600
    palette = view.palette_colors()
    assert len(palette) <= 250 and len(set(palette)) == len(palette)
    for colour in (THEME.background, THEME.tap, THEME.output_current, THEME.kernel, THEME.padding):
        assert colour in palette
    pixels = frame.reshape(-1, 3)
    in_palette = np.isin(pixels.view([("", np.uint8)] * 3).ravel(), np.array(palette, np.uint8).view([("", np.uint8)] * 3).ravel())
    assert in_palette.mean() > 0.97


def test_step_counter_and_subset_fill_earlier_cells():
    trace = make_trace(1, (5, 5), 1, (3, 3))
    view = View(trace, ConvLayout, title=None, caption=None)
    frame = next(view.frames([6]))  # steps 0..5 never shown, but done
    for k in range(6):
        assert probe(frame, view.cell_box("output", 0, divmod(k, 3))) == THEME.output_done
    texts = [p.text for p in view.layout.transient(trace.step(6)) if isinstance(p, Text)]
    assert "step 7 / 9" in texts


def test_arithmetic_text_from_the_trace_and_elided_when_long():
    x = np.arange(9.0).reshape(1, 3, 3)
    w = np.array([[[[1.0, -1.0], [2.0, 0.5]]]])
    trace = conv_trace(x, w, np.array([0.5]))
    view = View(trace, ConvLayout, title=None, caption=None)
    texts = [p.text for p in view.layout.transient(trace.step(0)) if isinstance(p, Text)]
    # 0*1 + 1*(-1) + 3*2 + 4*0.5 + 0.5 = 7.5, worked by hand
    assert "0\u00d71 + 1\u00d7(\u22121) + 3\u00d72 + 4\u00d70.5 + bias (0.5)" in texts and " = 7.5" in texts
    big = conv_trace(np.ones((2, 40)), np.ones((1, 2, 31)), None)
    texts = [p.text for p in View(big, ConvLayout, title=None, caption=None).layout.transient(big.step(0))
             if isinstance(p, Text)]
    assert any(t.startswith("ch0: ") and "more)" in t for t in texts)
    assert "31 + 31" in texts  # per-channel partial sums, then their total (no bias)


def test_numbers_hidden_when_cells_are_small():
    trace = make_trace(1, (40, 40), 1, (3, 3))
    view = View(trace, ConvLayout, title=None, caption=None)
    assert view.layout.cell < 16 and view.layout.input_value_size is None
    assert any(isinstance(p, Text) and "values hidden" in p.text for p in view.layout.static(0))


def test_number_format():
    assert [fmt_number(v) for v in (3.0, -1.0, 0.5, 1 / 3, -0.0, -2.25, 12.0)] == \
        ["3", "\u22121", "0.5", "0.33", "0", "\u22122.25", "12"]


def test_unknown_theme_is_a_render_error():
    with pytest.raises(RenderError, match="light"):
        get_theme("neon")
