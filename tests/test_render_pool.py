"""Pool views: the window where the stride puts it, the max marker where torch's index says, the arithmetic text."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from convgif.engine.trace_pool import pool_trace
from convgif.errors import RenderError
from convgif.render import View, get_theme
from convgif.render.layout_pool import PoolLayout, selected_fill
from convgif.render.primitives import Text, fmt_number
from test_render_transpose import agreement, assert_palette_covers

THEME = get_theme("light")
FILLED = get_theme("light", fill_dense_taps=True)  # `[render] taps = "fill"`: the probes find taps by their fill
F = torch.nn.functional


def probe(frame, box, inset=3):
    x0, y0, _, _ = box
    return tuple(int(v) for v in frame[y0 + inset, x0 + inset])


def words(view, step):
    return " ".join(" ".join(p.text for p in view.layout.transient(step) if isinstance(p, Text)).split())


@pytest.mark.parametrize("padding", [0, 1])
def test_max_marker_is_where_torch_says(padding):
    rng = np.random.default_rng(padding)
    x = rng.permutation(36).reshape(1, 6, 6).astype(float)  # distinct values: one maximum per window
    kernel, stride = (3, 3) if padding else (2, 2), 2
    trace = pool_trace("max_pool2d", x, kernel, stride, padding)
    view = View(trace, PoolLayout, title=None, caption=None, theme=FILLED)
    values, indices = F.max_pool2d(torch.tensor(x[None]), kernel, stride, padding, return_indices=True)
    out_h, out_w = values.shape[2:]
    steps = list(range(len(trace)))
    for k, frame in zip(steps, view.frames(steps)):
        step = trace.step(k)
        r, c = divmod(k, out_w)
        flat = int(indices[0, 0, r, c])  # torch: index into the unpadded input
        marked = (flat // 6 + padding, flat % 6 + padding)  # in padded coordinates
        taps = {(r * stride + i, c * stride + j) for i in range(kernel[0]) for j in range(kernel[1])}
        assert tuple(np.asarray(step.tap_coords).reshape(-1, 2)[step.selected]) == marked
        assert step.value == float(values[0, 0, r, c])
        for cell in itertools.product(range(6 + 2 * padding), repeat=2):
            colour = probe(frame, view.cell_box("input", 0, cell), inset=5)
            want = selected_fill(THEME) if cell == marked else THEME.tap if cell in taps else None
            if want is None:
                assert colour not in (THEME.tap, selected_fill(THEME)), (k, cell)
            else:
                assert colour == want, (k, cell, colour)
        assert "max(" in words(view, step) and f"= {fmt_number(step.value)}" in words(view, step)
        assert probe(frame, view.cell_box("output", 0, (r, c))) == THEME.output_current
    if padding:  # padding cells look like padding and read −∞
        frame = next(view.frames([len(trace) - 1]))
        assert probe(frame, view.cell_box("input", 0, (0, 0))) == THEME.padding
        texts = [p.text for p in view.layout.static(0) if isinstance(p, Text)]
        assert "\u2212\u221e" in texts


@pytest.mark.parametrize("count_include_pad", [True, False])
def test_average_arithmetic_uses_the_divisor(count_include_pad):
    x = np.arange(16.0).reshape(1, 4, 4)
    trace = pool_trace("avg_pool2d", x, 3, 2, 1, count_include_pad=count_include_pad)
    view = View(trace, PoolLayout, title=None, caption=None, theme=FILLED)
    want = F.avg_pool2d(torch.tensor(x[None]), 3, 2, 1, count_include_pad=count_include_pad).numpy()
    for k in range(len(trace)):
        step = trace.step(k)
        r, c = divmod(k, 2)
        rows = [r * 2 - 1 + i for i in range(3)]
        cols = [c * 2 - 1 + j for j in range(3)]
        inside = sum(0 <= a < 4 and 0 <= b < 4 for a in rows for b in cols)
        divisor = 9 if count_include_pad else inside  # counted by hand from the window
        text = words(view, step)
        assert f") / {divisor} = {fmt_number(float(want[0, 0, r, c]))}" in text, text
    frame = next(view.frames([0]))
    assert probe(frame, view.cell_box("input", 0, (0, 0))) == THEME.tap  # a padding cell inside the window
    assert probe(frame, view.cell_box("input", 0, (5, 5))) == THEME.padding


def test_default_pool_window_fills_only_the_max_unless_it_has_gaps():
    """`taps = "auto"`: a dense pooling window is its outline plus the marked maximum; a dilated one fills the
    cells it reads and outlines the ones it skips (the gap colour's inner outline), as conv frames do."""
    x = np.random.default_rng(3).permutation(36).reshape(1, 6, 6).astype(float)
    dense = View(pool_trace("max_pool2d", x, 2, 2, 0), PoolLayout, title=None, caption=None)
    frame = next(dense.frames([0]))
    colours = {cell: probe(frame, dense.cell_box("input", 0, cell), inset=5) for cell in itertools.product(range(6), repeat=2)}
    assert THEME.tap not in colours.values()
    assert sum(colour == selected_fill(THEME) for colour in colours.values()) == 1
    dilated = View(pool_trace("max_pool2d", x, 2, 1, 0, dilation=2), PoolLayout, title=None, caption=None)
    frame = next(dilated.frames([0]))
    taps, skipped = {(0, 0), (0, 2), (2, 0), (2, 2)}, {(0, 1), (1, 0), (1, 1), (1, 2), (2, 1)}
    for cell in itertools.product(range(6), repeat=2):
        colour = probe(frame, dilated.cell_box("input", 0, cell), inset=5)
        assert (colour in (THEME.tap, selected_fill(THEME))) == (cell in taps), cell
        x0, y0, _, _ = dilated.cell_box("input", 0, cell)
        ring = tuple(int(v) for v in frame[y0 + 3, x0 + 6])  # on the inner outline's top edge
        assert (ring == THEME.gap) == (cell in skipped), (cell, ring)


def test_lp_arithmetic_and_value():
    x = np.array([[[1.0, 2.0, 0.0, 3.0], [2.0, 4.0, 1.0, 1.0], [0.0, 1.0, 5.0, 2.0], [3.0, 0.0, 2.0, 2.0]]])
    trace = pool_trace("lp_pool2d", x, 2, 2, norm_type=2)
    view = View(trace, PoolLayout, title=None, caption=None)
    want = F.lp_pool2d(torch.tensor(x[None]), 2, 2, 2).numpy()
    text = words(view, trace.step(0))
    assert f"\u221a(1\u00b2 + 2\u00b2 + 2\u00b2 + 4\u00b2) = {fmt_number(float(want[0, 0, 0, 0]))}" in text
    assert math.isclose(trace.step(3).value, float(want[0, 0, 1, 1]))


def test_one_dimensional_pool_is_a_strip():
    x = np.array([[3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]])
    trace = pool_trace("max_pool1d", x, 2, 2)
    view = View(trace, PoolLayout, title="1d", caption=None, theme=FILLED)
    assert view.layout.strips
    _, indices = F.max_pool1d(torch.tensor(x[None]), 2, 2, return_indices=True)
    for k, frame in zip(range(4), view.frames(range(4))):
        for i in range(8):
            colour = probe(frame, view.cell_box("input", 0, (i,)), inset=5)
            if i == int(indices[0, 0, k]):
                assert colour == selected_fill(THEME)
            else:
                assert colour == (THEME.tap if i // 2 == k else THEME.input), (k, i)
    # strips: the output row sits under the input row
    assert view.cell_box("output", 0, (0,))[1] > view.cell_box("input", 0, (0,))[3]


@pytest.mark.parametrize("kind, args", [
    ("max_pool2d", dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool2d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("lp_pool1d", dict(kernel_size=2, stride=2)),
])
def test_fast_path_matches_reference(kind, args):
    rng = np.random.default_rng(7)
    shape = (2, 8) if kind.endswith("1d") else (1, 4, 4)
    trace = pool_trace(kind, rng.integers(0, 10, shape).astype(float), **args)
    agreement(lambda theme: View(trace, PoolLayout, title=kind, caption="fast vs reference", theme=theme),
              list(range(len(trace))))


def test_deterministic_palette_and_errors():
    x = np.random.default_rng(8).integers(0, 10, (2, 6, 6)).astype(float)
    trace = pool_trace("avg_pool2d", x, 2, 2)
    first = list(View(trace, PoolLayout, title="t", caption="c").frames(range(len(trace))))
    second = list(View(trace, PoolLayout, title="t", caption="c").frames(range(len(trace))))
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    view = View(trace, PoolLayout, title="t", caption="c", width=600)
    assert view.size[0] == 600
    palette = view.palette_colors()
    assert len(palette) <= 250 and len(set(palette)) == len(palette)
    assert_palette_covers(next(view.frames([5])), palette)
