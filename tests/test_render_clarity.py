"""Every conv frame right and clear (issue 13): where outputs sit, what the hold frame keeps, one notation, the
bias named, legible digits, hidden values announced. Positions come from the layout's grids, numbers from
`scene.arrays()`, and the pixels are probed where it matters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from convgif.engine import conv_trace
from convgif.render import View, get_theme
from convgif.render.layout import output_places_1d
from convgif.render.layout_conv import ConvLayout
from convgif.render.primitives import Text
from convgif.scene import load_scene
from convgif.sources import build_trace, build_view

SCENES = Path(__file__).resolve().parents[1] / "scenes"


def scene_view(name: str, **render):
    scene = load_scene(SCENES / f"{name}.toml")
    if render:
        scene = scene.model_copy(update={"render": scene.render.model_copy(update=render)})
    return scene, build_view(scene, build_trace(scene))


def centre_x(box) -> float:
    return (box[0] + box[2] - 1) / 2


def texts(primitives) -> list[Text]:
    return [p for p in primitives if isinstance(p, Text)]


# ---- item 1: each 1D output under the input position it is computed for --------------------------------------
@pytest.mark.parametrize("name, places", [
    ("c07_causal_conv1d", lambda t: t + 2),  # padding 2/0: output t sits under its last tap, input t
    ("c07_time_series", lambda t: t + 1),    # padding 1/1, kernel 3: under its window's centre, input t
])
def test_1d_output_sits_under_the_input_it_is_computed_for(name, places):
    scene, view = scene_view(name)
    out = scene.arrays()["output"][0, 0]
    layout = view.layout
    for t in range(out.size):
        under = layout.cell_box("input", 0, (places(t),))
        assert centre_x(layout.cell_box("output", 0, (t,))) == centre_x(under)
    # on pixels: step 7's current output (7 of c07_causal: 5 + 6 + 7 = 18) fills the cell under input 7
    frame = next(view.frames([6]))
    x = int(centre_x(layout.cell_box("input", 0, (places(6),))))
    y0 = layout.cell_box("output", 0, (6,))[1]
    assert tuple(frame[y0 + 4, x]) == view.theme.output_current


def test_strided_1d_outputs_stand_stride_inputs_apart():
    x = np.arange(11, dtype=float)[None]
    trace = conv_trace(x, np.ones((1, 1, 3)), None, stride=3, padding=1)
    layout = View(trace, ConvLayout).layout
    first, step = output_places_1d(trace.geometry)
    assert (first, step) == (1.0, 3.0)
    for t in range(trace.geometry.output_shape[-1]):
        assert centre_x(layout.cell_box("output", 0, (t,))) == centre_x(layout.cell_box("input", 0, (1 + 3 * t,)))
    causal = conv_trace(x, np.ones((1, 1, 3)), None, padding=((2, 0),), dilation=2)
    assert output_places_1d(causal.geometry) == (4.0, 1.0)  # the last of taps t, t + 2, t + 4 (padded)
