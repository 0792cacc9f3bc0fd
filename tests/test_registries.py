"""The three registries: every op family's views resolve to a layout that draws the trace the view builds, and
every output format's record names a writer; scene validation and the pipeline read nothing else."""

from __future__ import annotations

import pytest

from convgif.errors import SceneError
from convgif.ops import FAMILIES, family_of
from convgif.pipeline import render_scene
from convgif.render.layout import Layout
from convgif.scene import parse_scene

INPUTS = {1: [2, 6], 2: [2, 5, 5]}
LAYER_KEYS = {"relu": {}, "flatten": {}, "linear": {"out_features": 3}, "upsample": {"scale_factor": 2}}


@pytest.mark.parametrize("family", FAMILIES, ids=[f.name for f in FAMILIES])
def test_every_view_of_every_family_draws_its_trace(family, tmp_path):
    for kind in family.kinds:
        windowed = kind[-2:] in ("1d", "2d")  # relu, flatten, linear, upsample take any input and no window
        for ndim in (int(kind[-2]),) if windowed else (1, 2):
            op = {"kind": kind, **LAYER_KEYS.get(kind, {"kernel_size": 2}),
                  **({"out_channels": 2} if family.has_weights and windowed else {})}
            for view in family.views:
                assert issubclass(view.layout_type(), Layout), view.layout
                if ndim not in view.ndims:  # a view of some dimensions only: refused with its own line
                    with pytest.raises(SceneError, match=f"render.view: '{view.name}' draws 2D operations only"):
                        parse_scene({"op": op, "input": {"shape": INPUTS[ndim]}, "render": {"view": view.name}},
                                    f"{kind}.toml")
                    continue
                document = {"op": op, "input": {"shape": INPUTS[ndim]}, "render": {"view": view.name}}
                scene = parse_scene(document, f"{kind}.toml")
                assert family_of(scene.kind) is family and scene.view() is view
                result = render_scene(scene, tmp_path / f"{kind}_{ndim}_{view.name}")
                assert result.frames == len(scene.step_indices()) + 1


def test_the_first_view_is_the_default_and_every_view_is_named():
    for family in FAMILIES:
        assert family.default_view is family.views[0]
        assert all(view.name for view in family.views)
        assert len(set(family.view_names)) == len(family.views)
