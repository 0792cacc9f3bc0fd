"""Transposed-conv views: cell kinds told apart, window over the taps, flipped kernel, scatter sums vs torch."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from pixels import colour_counts

from convgif.engine.trace_transpose import scatter_trace, zero_insertion_trace
from convgif.errors import RenderError
from convgif.render import View, get_theme
from convgif.render.layout_transpose import ScatterLayout, ZeroInsertionLayout
from convgif.render.layout_transpose import kind_colours
from convgif.render.primitives import Text, fmt_number

THEME = get_theme("light")
KINDS = kind_colours(THEME)


def probe(frame, box, inset=3):
    x0, y0, _, _ = box
    return tuple(int(v) for v in frame[y0 + inset, x0 + inset])


def expected_kind(i, n, s, k, p, op):
    """Cell kind along one axis of the zero-inserted grid, from the definition: value, zero, padding, op."""
    q = k - 1 - p
    spread = (n - 1) * s + 1
    z = i - q
    if 0 <= z < spread:
        return "value" if z % s == 0 else "zero"
    return "op" if z >= spread + q else "padding"


def kind_2d(r, c, n, s, k, p, op):
    rank = {"value": 0, "zero": 1, "padding": 2, "op": 3}
    kinds = [expected_kind(r, n, s, k, p, op), expected_kind(c, n, s, k, p, op)]
    return max(kinds, key=rank.get)


def c9_like(seed=0, bias=None):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 10, (1, 3, 3)).astype(float)
    w = rng.integers(-1, 3, (1, 1, 3, 3)).astype(float)
    return x, w


def test_zero_insertion_cell_kinds_look_different_and_output_padding_is_marked():
    x, w = c9_like()
    trace = zero_insertion_trace(x, w, None, stride=2, padding=1, output_padding=1)
    view = View(trace, ZeroInsertionLayout, title=None, caption=None)
    frame = next(view.frames([0]))  # window at the top left: rows/cols >= 3 are untouched
    want = {"value": THEME.input, "zero": KINDS["zero_dot"], "padding": THEME.padding, "op": KINDS["op_stripe"]}
    assert len(set(want.values())) == 4
    size = (3 - 1) * 2 + 1 + 2 * 1 + 1
    seen = set()
    for r, c in itertools.product(range(size), repeat=2):
        if r < 3 and c < 3:
            continue
        kind = kind_2d(r, c, 3, 2, 3, 1, 1)
        seen.add(kind)
        assert probe(frame, view.cell_box("grid", 0, (r, c))) == want[kind], (r, c, kind)
    assert seen == {"value", "zero", "padding", "op"}
    # the output padding is exactly the last row and the last column
    op_cells = {(r, c) for r, c in itertools.product(range(size), repeat=2) if kind_2d(r, c, 3, 2, 3, 1, 1) == "op"}
    assert op_cells == {(size - 1, c) for c in range(size)} | {(r, size - 1) for r in range(size)}
    legend = [p.text for p in view.layout.static(0) if isinstance(p, Text)]
    for name in ("input value", "inserted zero", "padding", "output padding", "weight (flipped)"):
        assert name in legend


def test_window_covers_the_taps_and_output_fills():
    x, w = c9_like(1)
    trace = zero_insertion_trace(x, w, None, stride=2, padding=1, output_padding=1)
    view = View(trace, ZeroInsertionLayout, title=None, caption=None, theme=get_theme("light", fill_dense_taps=True))
    n, size, out = len(trace), 8, 6
    assert n == 36 and view.layout.cell >= 30
    picks = [0, 7, 20, 35]
    for k, frame in zip(picks, view.frames(picks)):
        r0, c0 = divmod(k, out)
        taps = {(r0 + i, c0 + j) for i in range(3) for j in range(3)}  # stride 1 over the grid
        for r, c in itertools.product(range(size), repeat=2):
            colour = probe(frame, view.cell_box("grid", 0, (r, c)), inset=6)  # between the dots and stripes
            assert (colour == THEME.tap) == ((r, c) in taps), (k, r, c, colour)
        for later in range(n):
            colour = probe(frame, view.cell_box("output", 0, divmod(later, out)))
            want = THEME.output_current if later == k else THEME.output_done if later < k else THEME.output_empty
            assert colour == want, (k, later)


def test_a_grid_built_alike_on_both_axes_is_told_once():
    """The zero-inserted grid's notes said the same words for H and for W, line after line; they now share one
    line ("grid H, W: …"), as the output-size formulas do, and axes built differently keep a line each."""
    def grid_notes(stride):
        trace = zero_insertion_trace(np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3)), stride=stride, padding=1)
        layout = View(trace, ZeroInsertionLayout, title=None, caption=None).layout
        return [line for line in layout.notes() if line.startswith("grid ")]

    square = grid_notes(2)
    assert len(square) == 1 and square[0].startswith("grid H, W: 3 values, 1 zero between each")
    uneven = grid_notes((2, 3))
    assert [line.split(":")[0] for line in uneven] == ["grid H", "grid W"]
    assert "1 zero between each" in uneven[0] and "2 zeros between each" in uneven[1]


def test_kernel_is_shown_flipped_and_said_so():
    x = np.arange(1.0, 5.0).reshape(1, 2, 2)
    w = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)  # all distinct, so a flip is visible
    trace = zero_insertion_trace(x, w, None, stride=2, padding=1)
    view = View(trace, ZeroInsertionLayout, title=None, caption=None)
    prims = view.layout.transient(trace.step(0))
    texts = [p for p in prims if isinstance(p, Text)]
    assert "kernel flipped" in [t.text for t in texts] and "original kernel" in [t.text for t in texts]
    flipped = np.flip(w[0, 0])  # 180 degrees, by hand
    for r, c in itertools.product(range(3), repeat=2):
        x0, y0, x1, y1 = view.cell_box("kernel", 0, (r, c))
        inside = [t.text for t in texts if x0 <= t.x < x1 and y0 <= t.y < y1]
        assert inside == [fmt_number(flipped[r, c])], (r, c, inside)
    # the output equals torch's transposed conv
    want = torch.nn.functional.conv_transpose2d(torch.tensor(x[None]), torch.tensor(w), stride=2, padding=1)
    np.testing.assert_allclose(trace.output(), want.numpy(), atol=1e-9)
    notes = [line for line in view.layout.note_lines if line.startswith("output H")]
    assert notes == ["output H, W: (2 \u2212 1)\u00d72 \u2212 2\u00d71 + 1\u00d7(3 \u2212 1) + 0 + 1 = 3"]


def scatter_scene(bias=True):
    rng = np.random.default_rng(3)
    x = rng.integers(1, 10, (2, 3, 3)).astype(float)
    w = rng.integers(-1, 3, (2, 2, 3, 3)).astype(float)
    b = np.array([0.5, -1.0]) if bias else None
    return x, w, b


def painted_numbers(view, grid_role, channel, rows, cols, primitives):
    """The last number text painted inside each cell box, by position."""
    found = {}
    for r, c in itertools.product(range(rows), range(cols)):
        x0, y0, x1, y1 = view.cell_box(grid_role, channel, (r, c))
        for p in primitives:
            if isinstance(p, Text) and x0 <= p.x < x1 and y0 <= p.y < y1:
                found[(r, c)] = p.text
    return found


def test_scatter_final_numbers_are_the_engines_and_torchs():
    x, w, b = scatter_scene()
    trace = scatter_trace(x, w, b, stride=2, padding=1)
    view = View(trace, ScatterLayout, title=None, caption=None)
    last = list(trace.steps())[-1]
    want = torch.nn.functional.conv_transpose2d(torch.tensor(x[None]), torch.tensor(w), stride=2, padding=1).numpy()
    np.testing.assert_allclose(last.accumulated_output, want, atol=1e-9)  # running sums, no bias
    full = last.accumulated[0]
    fh, fw = trace.full_shape
    assert (fh, fw) == (7, 7) and want.shape[2:] == (5, 5)
    done = [p for i in range(len(trace)) for p in view.layout.done_cell(i)]
    for oc in range(2):
        numbers = painted_numbers(view, "output", oc, fh, fw, view.layout.static(0) + done)
        for r, c in itertools.product(range(fh), range(fw)):
            assert numbers[(r, c)] == fmt_number(float(full[oc, r, c])), (oc, r, c)
        inner = {(r - 1, c - 1): t for (r, c), t in numbers.items() if 1 <= r <= 5 and 1 <= c <= 5}
        assert inner == {(r, c): fmt_number(float(want[0, oc, r, c])) for r in range(5) for c in range(5)}
    # the hold frame shows the output with the bias, as torch computes it
    with_bias = torch.nn.functional.conv_transpose2d(torch.tensor(x[None]), torch.tensor(w), torch.tensor(b),
                                                     stride=2, padding=1).numpy()
    final = view.layout.static(0) + done + view.layout.final_transient()
    for oc in range(2):
        numbers = painted_numbers(view, "output", oc, fh, fw, final)
        for r, c in itertools.product(range(5), repeat=2):
            assert numbers[(r + 1, c + 1)] == fmt_number(float(with_bias[0, oc, r, c]))
    # ... so what names its column says "output", not "running sums" (the steps' cells, before the bias)
    headers = [p.text for p in final if isinstance(p, Text) and p.meta is not None and p.meta.kind == "header"]
    assert view.layout.say("output") in headers and not any("running" in h for h in headers), headers


def test_scatter_pixels_current_input_written_cells_and_cropped_border():
    x, w, _ = scatter_scene(bias=False)
    trace = scatter_trace(x[:1], w[:1], None, stride=2, padding=1)
    view = View(trace, ScatterLayout, title=None, caption=None)
    k = 4  # the centre element (1, 1): overlaps with everything before it
    frame = next(view.frames([k]))
    assert probe(frame, view.cell_box("input", 0, (1, 1)), inset=5) == THEME.tap
    written = {(2 + i, 2 + j) for i in range(3) for j in range(3)}  # full coords: position*stride + tap
    earlier = {(r * 2 + i, c * 2 + j) for r, c in itertools.product(range(3), repeat=2) if r * 3 + c < k
               for i in range(3) for j in range(3)}
    for oc in range(2):
        for r, c in itertools.product(range(7), repeat=2):
            colour = probe(frame, view.cell_box("output", oc, (r, c)))
            cropped = r in (0, 6) or c in (0, 6)
            if (r, c) in written:
                assert colour == THEME.output_current
            elif (r, c) in earlier:
                assert colour == (THEME.padding if cropped else THEME.output_done), (oc, r, c)
            else:
                assert colour == (THEME.padding if cropped else THEME.output_empty), (oc, r, c)
    words = " ".join(p.text for p in view.layout.transient(trace.step(k)) if isinstance(p, Text))
    assert f"input ch 0 (1, 1) = {fmt_number(x[0, 1, 1])}:" in words


def full_pillow_redraw(view, step):
    """The frame of `step` (None: the final frame) painted from scratch: every primitive onto a blank canvas."""
    from PIL import Image

    from convgif.render.paint import pil_paint

    canvas = Image.new("RGB", view.size, view.theme.background)
    pil_paint(canvas, view.primitives(step), crisp_text=view.theme.crisp_text)
    return np.asarray(canvas)


def agreement(make_view, steps):
    """`make_view(theme)` builds the view under test. Speed must never change what a student sees:

    - smooth text: the fast path agrees with a full matplotlib redraw (an independent painter). Rectangles are
      pixel-exact in both painters, only glyph rendering differs (see test_render.py for the measured bounds);
    - crisp text (the default): one-bit glyphs are FreeType's hinted shapes in Pillow and Agg's own in
      matplotlib, so the painters differ at every glyph; the fast path (cached static layer, incremental done
      cells) must then equal a from-scratch Pillow redraw of the same primitives exactly.
    """
    view = make_view(get_theme("light", crisp_text=False))
    for k, fast in zip(steps, view.frames(steps)):
        reference = view.reference_frame(k)
        assert fast.shape == reference.shape
        diff = np.abs(fast.astype(int) - reference.astype(int)).max(axis=2)
        assert diff.mean() < 1.0, (k, diff.mean())
        assert (diff <= 24).mean() > 0.995, (k, (diff <= 24).mean())
    final_diff = np.abs(view.final_frame().astype(int) - view.reference_frame(None).astype(int)).max(axis=2)
    assert final_diff.mean() < 1.0 and (final_diff <= 24).mean() > 0.995
    smooth_first = next(view.frames(steps[:1]))
    crisp = make_view(get_theme("light"))
    assert crisp.theme.crisp_text
    for k, fast in zip(steps, crisp.frames(steps)):
        assert np.array_equal(fast, full_pillow_redraw(crisp, k)), k
    assert np.array_equal(crisp.final_frame(), full_pillow_redraw(crisp, None))
    assert not np.array_equal(next(crisp.frames(steps[:1])), smooth_first)  # the text style reaches the pixels


def test_fast_path_matches_reference_zero_insertion():
    rng = np.random.default_rng(5)
    x = rng.integers(0, 10, (1, 2, 2)).astype(float)
    w = rng.integers(-1, 3, (1, 1, 3, 3)).astype(float)
    trace = zero_insertion_trace(x, w, np.array([0.5]), stride=2, padding=1, output_padding=1)
    agreement(lambda theme: View(trace, ZeroInsertionLayout, title="agreement", caption="fast vs reference", theme=theme),
              list(range(len(trace))))


def test_fast_path_matches_reference_scatter():
    rng = np.random.default_rng(6)
    x = rng.integers(0, 10, (1, 2, 2)).astype(float)
    w = rng.integers(-1, 3, (1, 2, 3, 3)).astype(float)
    trace = scatter_trace(x, w, np.array([0.5, 1.0]), stride=2, padding=1, output_padding=1)
    agreement(lambda theme: View(trace, ScatterLayout, title="agreement", caption="c", theme=theme),
              list(range(len(trace))))


def test_one_dimensional_views_render():
    x = np.arange(1.0, 6.0).reshape(1, 5)
    w = np.array([[[1.0, -1.0, 2.0]]])
    for trace, layout in ((zero_insertion_trace(x, w, None, stride=2, padding=1), ZeroInsertionLayout),
                          (scatter_trace(x, w, None, stride=2, padding=1), ScatterLayout)):
        v = View(trace, layout, title="1d", caption=None)
        frames = list(v.frames(range(len(trace))))
        assert {f.shape for f in frames} == {(v.size[1], 720, 3)}
        want = torch.nn.functional.conv_transpose1d(torch.tensor(x[None]), torch.tensor(w), stride=2, padding=1)
        np.testing.assert_allclose(trace.output(), want.numpy(), atol=1e-9)


def assert_palette_covers(frame, palette):
    """Solid colours exactly, anti-aliased text within a few levels: what a GIF quantiser needs.

    Exact membership alone cannot be asked of text-heavy frames: glyph edges take every grey level between
    text and background, and the palette holds 250 colours.
    """
    colours, counts = colour_counts(frame)
    distance = np.abs(colours[:, None, :].astype(int) - np.array(palette, int)[None]).max(axis=2).min(axis=1)
    total = counts.sum()
    assert counts[distance == 0].sum() / total > 0.95
    assert counts[distance <= 8].sum() / total > 0.995


def test_deterministic_palette():
    x, w = c9_like(2)
    zi = zero_insertion_trace(x, w, None, stride=2, padding=1, output_padding=1)
    first = list(View(zi, ZeroInsertionLayout, title="t", caption="c").frames(range(0, 36, 5)))
    second = list(View(zi, ZeroInsertionLayout, title="t", caption="c").frames(range(0, 36, 5)))
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    for view in (View(zi, ZeroInsertionLayout),
                 View(scatter_trace(x, w, None, stride=2, padding=1), ScatterLayout)):
        palette = view.palette_colors()
        assert len(palette) <= 250 and len(set(palette)) == len(palette)
        assert_palette_covers(next(view.frames([len(view.trace) // 2])), palette)
