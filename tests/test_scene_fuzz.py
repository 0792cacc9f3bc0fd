"""Any TOML-like document either parses into a usable Scene or raises SceneError, never anything else."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convgif.errors import SceneError
from convgif.scene import parse_scene
from convgif.scene import caption as captions
from convgif.scene.load import TOP_KEYS
from convgif.ops import family_of
from convgif.scene.spec import OpSpec
from convgif.scene.spec import SECTIONS

KEYS = sorted(set(TOP_KEYS) | {k for model in SECTIONS.values() for k in model.model_fields} | {"first", "every"})
WORDS = ["random", "arange", "same", "valid", "all", "zeros", "reflect", "circular", "sobel_x", "box", "scatter",
         "zero_insertion", "light", "conv2d", "conv1d", "conv_transpose2d", "max_pool2d", "avg_pool1d",
         "lp_pool2d", "{input_shape}", "{kind.x}", "{", "../x", "x"]

scalars = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-3, max_value=12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.sampled_from(WORDS),
    st.text(max_size=8),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), inner, max_size=5),
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), values, max_size=8))
def test_random_documents_parse_or_raise_scene_error(document):
    try:
        scene = parse_scene(document, "fuzz.toml")
    except SceneError as error:
        assert error.problems and all(isinstance(k, str) and isinstance(m, str) and m for k, m in error.problems)
        return
    _use(scene)


def _use(scene):
    """Every derived value of a valid scene is computable."""
    info = scene.info()
    if scene.scene_type == "chain":  # [[ops]]: its stages are op scenes
        assert len(scene.arrays()["stages"]) == len(info["stages"])
        return
    assert info["frames"] >= 1
    scene.caption_text()
    x = scene.input_array()
    assert x.shape == scene.input.shape and all(math.isfinite(v) for v in x.ravel()[:50])
    w = scene.weight_array()
    if w is not None:
        assert w.shape == info["weight_shape"]
    scene.bias_array()
    assert len(scene.step_indices()) == info["frames"] - 1


KIND_CHOICES = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d",
                "avg_pool1d", "avg_pool2d", "lp_pool1d", "lp_pool2d", "relu", "flatten", "linear", "upsample"]
small = st.integers(min_value=-1, max_value=5)
mostly_positive = st.one_of(st.integers(min_value=1, max_value=3), st.integers(min_value=1, max_value=3),
                            st.integers(min_value=1, max_value=3), small)


def arg(ndim):
    return st.one_of(mostly_positive, st.lists(mostly_positive, min_size=ndim, max_size=ndim),
                     st.lists(small, min_size=1, max_size=3))


def op_field(key, ndim):
    return {
        "out_channels": st.integers(min_value=0, max_value=4),
        "kernel_size": arg(ndim),
        "stride": arg(ndim),
        "padding": st.one_of(st.integers(0, 1), arg(ndim), st.sampled_from(["same", "valid", "full"]),
                             st.lists(st.lists(small, min_size=2, max_size=2), min_size=1, max_size=2)),
        "dilation": arg(ndim),
        "groups": st.integers(min_value=0, max_value=4),
        "bias": st.booleans(),
        "padding_mode": st.sampled_from(["zeros", "reflect", "replicate", "circular"]),
        "output_padding": st.one_of(st.integers(0, 1), arg(ndim)),
        "ceil_mode": st.booleans(),
        "count_include_pad": st.booleans(),
        "norm_type": st.one_of(st.floats(allow_nan=True), st.integers(min_value=-2, max_value=4)),
        "out_features": st.integers(min_value=0, max_value=4),
        "in_features": st.integers(min_value=0, max_value=9),
        "start_dim": st.integers(min_value=-4, max_value=4),
        "end_dim": st.integers(min_value=-4, max_value=4),
        "size": arg(ndim),
        "scale_factor": st.one_of(st.floats(allow_nan=True), st.integers(min_value=-1, max_value=3),
                                  st.lists(st.floats(min_value=0.5, max_value=3), min_size=1, max_size=3)),
        "mode": st.sampled_from(["nearest", "linear", "bilinear", "cubic"]),
    }[key]


@st.composite
def near_valid(draw):
    """Plausible scenes: mostly keys that apply to the kind with sensible values, sometimes off."""
    kind = draw(st.sampled_from(KIND_CHOICES))
    ndim = int(kind[-2]) if kind[-2:] in ("1d", "2d") else draw(st.integers(1, 2))
    keys = list(family_of(kind).keys[1:]) or ["kernel_size"]  # relu has no key but its kind
    if draw(st.integers(0, 9)) == 0:
        keys = sorted(set(OpSpec.model_fields) - {"kind"})
    op = {"kind": kind, "kernel_size": draw(st.integers(1, 3))}
    for key in draw(st.lists(st.sampled_from(keys), max_size=4, unique=True)):
        op[key] = draw(op_field(key, ndim))
    if draw(st.integers(0, 9)) == 0:
        ndim = 3 - ndim
    shape = [draw(st.integers(1, 4))] + [draw(st.integers(1, 9)) for _ in range(ndim)]
    document = {"op": op, "input": {"shape": shape}}
    if draw(st.booleans()):
        document["input"]["values"] = draw(st.sampled_from(["random", "arange", [[1.0, 2.0]], [[[1, 2], [3, 4]]]]))
    if draw(st.booleans()):
        document["weights"] = {
            "values": draw(st.sampled_from(["random", "identity", "gaussian", [[[1.0]]], [[[[1, 0], [0, 1]]]]])),
            "bias": draw(st.sampled_from(["random", 0.5, [1, 2], [1.0]])),
        }
    if draw(st.booleans()):
        document["render"] = {
            "steps": draw(st.sampled_from(["all", {"first": 3}, {"every": 2}, [0, 1, 5], [100]])),
            "max_frames": draw(st.integers(1, 500)),
        }
        if kind.startswith("conv_transpose") or draw(st.integers(0, 9)) == 0:
            document["render"]["view"] = draw(st.sampled_from(["scatter", "zero_insertion", "x"]))
    if draw(st.booleans()):
        names = draw(st.lists(st.sampled_from(captions.applicable(kind) if draw(st.integers(0, 9))
                                              else captions.ALL), min_size=1, max_size=4))
        document["caption"] = " ".join("{" + name + "}" for name in names)
    return document


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_valid())
def test_near_valid_documents_parse_or_raise_scene_error(document):
    try:
        scene = parse_scene(document, "fuzz.toml")
    except SceneError as error:
        assert error.problems
        return
    _use(scene)


LINES = ['[op]', '[input]', '[weights]', '[render]', '[output]', 'kind = "conv2d"', 'kind = "max_pool1d"',
         'kernel_size = 3', 'kernel_size = [2, 1]', 'shape = [1, 5, 5]', 'shape = [2, 9]', 'values = "arange"',
         'values = [[1, 2]]', 'padding = "same"', 'stride = 2', 'steps = {every = 3}', 'caption = "{kind}"',
         'x = [', 'y = "unterminated', '= 3', 'groups = 2', 'norm_type = nan', 'seed = -1', 'a.b.c = 1']


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(LINES), st.text(max_size=12)), max_size=12))
def test_random_files_load_or_raise_scene_error(lines):
    import tempfile
    from pathlib import Path

    from convgif.scene import load_scene

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.toml"
        path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
        try:
            scene = load_scene(path)
        except SceneError as error:
            assert error.problems
            return
        _use(scene)
