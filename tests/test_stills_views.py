"""The 'views' stills: scene models and the numbers they compute (receptive fields, conv matrix, ops vs torch),
renders."""

from __future__ import annotations

import os
import tomllib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from pydantic import ValidationError

from convgif.engine.conv import conv2d
from convgif.engine.geometry import conv_geometry
from convgif.render.stills import STILL_RENDERERS
from convgif.render.stills.views import growth_text
from convgif.render.theme import get_theme
from convgif.scene.stills_views import (
    STILL_MODELS,
    conv_matrix,
    kernel_array,
    layer_geometries,
    receptive_field_growth,
    receptive_field_masks,
)

SCENES = os.path.join(os.path.dirname(__file__), os.pardir, "scenes")
SCENE_FILES = [
    "b04_receptive_field.toml", "b04_receptive_field_dilated.toml", "c01_conv_as_matrix.toml",
    "c10_upsample_vs_transposed.toml", "e02_rgb_kernel_slices.toml", "c02_3d_window.toml", "e04_feature_maps.toml",
]


def load(name: str):
    path = os.path.join(SCENES, name)
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    still = data["still"]
    spec = STILL_MODELS[still["kind"]].model_validate(still, context={"base_dir": os.path.dirname(path)})
    return data, spec


def parse(table: dict, **context):
    return STILL_MODELS[table["kind"]].model_validate(table, context=context or None)


def error_text(table: dict, **context) -> str:
    with pytest.raises(ValidationError) as caught:
        parse(table, **context)
    return str(caught.value)


# ---- receptive field arithmetic -------------------------------------------------------------------

RF_CASES = [
    ((1, 11, 11), [dict(kernel_size=3), dict(kernel_size=3)]),
    ((1, 11, 11), [dict(kernel_size=3), dict(kernel_size=3, dilation=2)]),
    ((1, 13, 12), [dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=3), dict(kernel_size=2, dilation=2)]),
    ((1, 9, 9), [dict(kernel_size=5, padding=2), dict(kernel_size=3, stride=2, padding=1)]),
    ((1, 10, 10), [dict(kernel_size=3, dilation=3, padding=1), dict(kernel_size=2, stride=2)]),
]


def rf_spec(shape, layers, cell=None):
    return parse({"kind": "receptive_field", "input_shape": list(shape), "layers": layers,
                  **({"output_cell": list(cell)} if cell else {})})


def brute_force_region(spec, cell) -> np.ndarray:
    """Input cells whose value changes output `cell` of the stack: one impulse at a time, all-ones kernels."""
    geometries = layer_geometries(spec)
    region = np.zeros(spec.input_shape[1:], dtype=bool)
    for r, c in np.ndindex(*region.shape):
        x = np.zeros(spec.input_shape)
        x[0, r, c] = 1.0
        for layer in spec.layers:
            k = layer.kernel_size
            x = conv2d(x, np.ones((1, 1, k, k)), stride=layer.stride, padding=layer.padding, dilation=layer.dilation)
        region[r, c] = x[0][tuple(cell)] != 0
    assert len(geometries) == len(spec.layers)
    return region


def torch_region(spec, cell) -> np.ndarray:
    """The same set from torch autograd: input cells with a non-zero gradient of the output cell."""
    x = torch.zeros((1, *spec.input_shape), dtype=torch.float64, requires_grad=True)
    y = x
    for layer in spec.layers:
        k = layer.kernel_size
        y = F.conv2d(y, torch.ones((1, 1, k, k), dtype=torch.float64), stride=layer.stride, padding=layer.padding,
                     dilation=layer.dilation)
    y[0, 0, cell[0], cell[1]].backward()
    return (x.grad[0, 0] != 0).numpy()


@pytest.mark.parametrize("shape, layers", RF_CASES)
def test_receptive_field_masks_match_brute_force_and_torch(shape, layers):
    spec = rf_spec(shape, layers)
    geometries = layer_geometries(spec)
    last = geometries[-1].output_shape[1:]
    for cell in {(0, 0), (last[0] - 1, last[1] - 1), (last[0] // 2, last[1] // 2), (0, last[1] - 1)}:
        masks = receptive_field_masks(geometries, cell)
        assert len(masks) == len(layers) + 1
        assert masks[-1].sum() == 1 and masks[-1][cell]
        np.testing.assert_array_equal(masks[0], brute_force_region(spec, cell))
        np.testing.assert_array_equal(masks[0], torch_region(spec, cell))
        regions = spec.regions(cell)
        for mask, region in zip(masks, regions):
            rows, cols = np.nonzero(mask)
            np.testing.assert_array_equal(region.mask, mask)
            assert (region.tall, region.wide) == (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1)
        assert not regions[-1].cut and (regions[-1].tall, regions[-1].wide) == (1, 1)


def test_receptive_field_region_is_cut_only_at_the_border():
    spec = rf_spec((1, 11, 11), [dict(kernel_size=3), dict(kernel_size=3)])
    centre, corner = spec.regions((3, 3)), spec.regions((0, 0))
    assert [(r.tall, r.wide, r.cut) for r in centre] == [(5, 5, False), (3, 3, False), (1, 1, False)]
    assert [(r.tall, r.wide, r.cut) for r in corner] == [(5, 5, False), (3, 3, False), (1, 1, False)]
    padded = rf_spec((1, 11, 11), [dict(kernel_size=3, padding=1), dict(kernel_size=3, padding=1)])
    assert [(r.tall, r.wide, r.cut) for r in padded.regions((0, 0))] == [(3, 3, True), (2, 2, True), (1, 1, False)]
    assert spec.shown_cells() == [(3, 3), (0, 0), (6, 6), (0, 6)]
    assert spec.model_copy(update={"cycle": False}).shown_cells() == [(3, 3)]


@pytest.mark.parametrize("layers, sizes", [
    ([dict(kernel_size=3), dict(kernel_size=3)], [3, 5]),
    ([dict(kernel_size=3), dict(kernel_size=3, dilation=2)], [3, 7]),
    ([dict(kernel_size=3, stride=2), dict(kernel_size=3)], [3, 7]),
    ([dict(kernel_size=3, stride=2), dict(kernel_size=3, stride=2), dict(kernel_size=3)], [3, 7, 15]),
])
def test_receptive_field_sizes_are_the_textbook_values(layers, sizes):
    spec = rf_spec((1, 31, 31), layers)
    geometries = layer_geometries(spec)
    assert [growth.size for growth in receptive_field_growth(geometries)] == sizes
    # and the formula's size is the span torch sees for a cell far from the border
    last = geometries[-1].output_shape[1:]
    region = torch_region(spec, (last[0] // 2, last[1] // 2))
    rows, cols = np.nonzero(region)
    assert rows.max() - rows.min() + 1 == sizes[-1] == cols.max() - cols.min() + 1


def test_receptive_field_formula_text_has_the_numbers():
    spec = rf_spec((1, 11, 11), [dict(kernel_size=3), dict(kernel_size=3, dilation=2)])
    texts = [growth_text(index, growth) for index, growth in enumerate(spec.growth(), start=1)]
    assert texts == ["r₁ = 1 + (3 − 1)×1×1 = 3", "r₂ = 3 + (3 − 1)×2×1 = 7"]


# ---- conv as a matrix -----------------------------------------------------------------------------

@pytest.mark.parametrize("shape, kernel_shape, stride, padding, dilation", [
    ((1, 4, 4), (3, 3), 1, 0, 1),
    ((1, 4, 4), (3, 3), 1, 1, 1),
    ((1, 5, 6), (2, 3), (2, 1), (1, 0), 1),
    ((1, 6, 6), (3, 3), 2, 1, 2),
    ((1, 3, 3), (1, 1), 1, 0, 1),
])
def test_conv_matrix_times_flat_input_is_the_convolution(shape, kernel_shape, stride, padding, dilation):
    rng = np.random.default_rng(5)
    x = rng.integers(-5, 6, size=shape).astype(np.float64)
    kernel = rng.integers(-3, 4, size=kernel_shape).astype(np.float64)
    g = conv_geometry(shape, 1, kernel_shape, stride, padding, dilation, bias=False)
    matrix = conv_matrix(kernel, g)
    assert matrix.shape == (int(np.prod(g.output_shape)), int(np.prod(shape)))
    product = matrix @ x.reshape(-1)
    engine = conv2d(x, kernel[None, None], stride=stride, padding=padding, dilation=dilation)
    reference = F.conv2d(torch.from_numpy(x)[None], torch.from_numpy(kernel)[None, None], stride=stride,
                         padding=padding, dilation=dilation)[0].numpy()
    np.testing.assert_allclose(product, engine.reshape(-1), atol=1e-12)
    np.testing.assert_allclose(product, reference.reshape(-1), atol=1e-12)


def test_conv_matrix_rows_hold_each_weight_once_when_nothing_is_padded():
    g = conv_geometry((1, 4, 4), 1, 3, bias=False)
    kernel = np.arange(1, 10, dtype=np.float64).reshape(3, 3)
    matrix = conv_matrix(kernel, g)
    for row in matrix:
        assert sorted(row[row != 0]) == list(range(1, 10))


def test_conv_matrix_scene_product():
    spec = parse({"kind": "conv_matrix", "padding": 1})
    product = spec.product()
    np.testing.assert_array_equal(product.x.reshape(-1), np.arange(1, 17))
    np.testing.assert_allclose(product.matrix @ product.x.reshape(-1), product.y.reshape(-1), atol=1e-12)
    assert product.padded.shape == product.is_pad.shape == (6, 6) and product.is_pad.sum() == 36 - 16
    assert product.structural_zeros == (product.matrix.size - sum(len(product.taps(n)) for n in range(16)))
    assert len(product.taps(0)) == 4 and len(product.taps(5)) == 9  # a corner window covers 4 cells, an inner one 9


# ---- numbers vs torch -----------------------------------------------------------------------------

def test_upsample_values_match_torch():
    _, spec = load("c10_upsample_vs_transposed.toml")
    nearest, bilinear, learned = spec.outputs()
    x = torch.tensor(spec.input, dtype=torch.float64)[None, None]
    t = spec.transposed
    np.testing.assert_allclose(nearest, F.interpolate(x, scale_factor=spec.scale_factor, mode="nearest")[0, 0])
    np.testing.assert_allclose(bilinear, F.interpolate(x, scale_factor=spec.scale_factor, mode="bilinear",
                                                       align_corners=False)[0, 0])
    layer = torch.nn.ConvTranspose2d(1, 1, t.kernel_size, stride=t.stride, padding=t.padding,
                                     output_padding=t.output_padding, bias=False).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(t.weights, dtype=torch.float64)[None, None])
        np.testing.assert_allclose(learned, layer(x)[0, 0].numpy(), atol=1e-12)
    assert spec.transposed_geometry.params == sum(p.numel() for p in layer.parameters()) == 9


def test_multichannel_step_matches_torch():
    for name in ("e02_rgb_kernel_slices.toml", "c02_3d_window.toml"):
        _, spec = load(name)
        x, weight, bias = spec.values()
        xt, wt = torch.from_numpy(x)[None], torch.from_numpy(weight)
        bt = None if bias is None else torch.from_numpy(bias)
        i, j = spec.position
        whole = F.conv2d(xt, wt, bt, padding=spec.padding)[0, 0, i, j].item()
        # per channel: the channel's slice alone, without bias
        per_channel = [F.conv2d(xt[:, c:c + 1], wt[:, c:c + 1], padding=spec.padding)[0, 0, i, j].item()
                       for c in range(x.shape[0])]
        trace, step = spec.worked_step()
        assert step.position == (i, j)
        assert step.value == pytest.approx(whole)
        np.testing.assert_allclose(step.channel_sums, per_channel)
        conv = torch.nn.Conv2d(spec.input_shape[0], 1, spec.kernel_size, bias=spec.bias)
        assert spec.geometry.params == sum(p.numel() for p in conv.parameters())


def test_feature_maps_match_torch():
    _, spec = load("e04_feature_maps.toml")
    image = spec.pixels()
    assert image.shape == tuple(spec.size) and 0 <= image.min() and image.max() <= 1
    maps = spec.feature_maps(image)
    assert [m.kernel for m in maps] == list(spec.kernels) and spec.map_shape == (1, *spec.size)
    for feature_map in maps:
        kernel, ints, divisor = kernel_array(feature_map.kernel)
        assert kernel.shape == (3, 3)
        theirs = F.conv2d(torch.from_numpy(image)[None, None], torch.from_numpy(kernel)[None, None], padding=1)[0, 0]
        np.testing.assert_allclose(feature_map.values, theirs.numpy(), atol=1e-12)
        np.testing.assert_allclose(feature_map.rectified, torch.relu(theirs).numpy(), atol=1e-12)
        assert feature_map.limit == pytest.approx(float(theirs.abs().max()))
        assert feature_map.signed == bool(theirs.min() < 0)
    # independent facts about two presets: Sobel x is zero on a flat image; a Gaussian keeps a constant
    flat = np.full((1, 6, 6), 0.5)
    assert np.allclose(conv2d(flat, kernel_array("sobel_x")[0][None, None])[0], 0)
    assert np.allclose(conv2d(flat, kernel_array("gaussian")[0][None, None])[0], 0.5)


# ---- validation -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SCENE_FILES)
def test_scene_files_validate(name):
    data, spec = load(name)
    assert spec.kind == data["still"]["kind"] and data["title"]


GOOD = {
    "receptive_field": {"kind": "receptive_field", "input_shape": [1, 11, 11],
                        "layers": [{"kernel_size": 3}, {"kernel_size": 3}]},
    "conv_matrix": {"kind": "conv_matrix"},
    "upsample_compare": {"kind": "upsample_compare", "input": [[1, 2], [3, 4]],
                         "transposed": {"weights": [[1, 1, 1], [1, 1, 1], [1, 1, 1]]}},
    "multichannel_3d": {"kind": "multichannel_3d"},
}


@pytest.mark.parametrize("kind, change, expected", [
    ("receptive_field", {"layers": [{"kernel_size": 3}, {"kernel_size": 10}]}, "still.layers.1.kernel_size"),
    ("receptive_field", {"output_cell": [7, 0]}, "still.output_cell"),
    ("receptive_field", {"layers": [{"kernel_size": 0}]}, "kernel_size"),
    ("receptive_field", {"layers": [{"kernel_size": 3, "stride": -1}]}, "stride"),
    ("receptive_field", {"layers": [{"kernel_size": 3, "strides": 1}]}, "strides"),
    ("receptive_field", {"input_shape": [2, 11, 11]}, "input_shape"),
    ("conv_matrix", {"kernel": [[1, 2], [3]]}, "still.kernel"),
    ("conv_matrix", {"kernel": [[1, 2, 3, 4, 5]]}, "still.kernel_size"),
    ("conv_matrix", {"padding": 3}, "still.padding"),
    ("conv_matrix", {"stride": "2"}, "stride"),
    ("upsample_compare", {"transposed": {"weights": [[1, 1], [1, 1]]}}, "still.transposed.weights"),
    ("upsample_compare", {"scale_factor": 1}, "scale_factor"),
    ("upsample_compare", {"transposed": {"output_padding": 2, "weights": [[1] * 3] * 3}},
     "still.transposed.output_padding"),
    ("multichannel_3d", {"channel_names": ["R", "G"]}, "still.channel_names"),
    ("multichannel_3d", {"position": [3, 0]}, "still.position"),
    ("multichannel_3d", {"kernel_size": 7}, "kernel_size"),
    ("multichannel_3d", {"input_shape": [3, 3, 3], "kernel_size": 5}, "still.kernel_size"),
    ("multichannel_3d", {"colour": "red"}, "colour"),
])
def test_bad_specs_name_the_key(kind, change, expected):
    assert expected in error_text({**GOOD[kind], **change})


def test_good_specs_parse_and_are_frozen():
    for table in GOOD.values():
        spec = parse(table)
        with pytest.raises(ValidationError):
            spec.kind = "other"
    assert parse(GOOD["receptive_field"]).chosen_cell == (3, 3)


def test_feature_maps_image_checks(tmp_path):
    from PIL import Image

    base = {"kind": "feature_maps", "image": "missing.png"}
    text = error_text(base, base_dir=str(tmp_path))
    assert "still.image" in text and "no such file" in text
    Image.new("L", (4097, 8)).save(tmp_path / "wide.png")
    text = error_text({**base, "image": "wide.png"}, base_dir=str(tmp_path))
    assert "still.image" in text and "4097×8" in text
    (tmp_path / "text.png").write_text("not an image")
    assert "still.image" in error_text({**base, "image": "text.png"}, base_dir=str(tmp_path))
    assert "kernels" in error_text({**base, "image": os.path.join(SCENES, "images", "shapes.png"),
                                    "kernels": ["sobel_z"]})
    spec = parse({**base, "image": "shapes.png"}, base_dir=os.path.join(SCENES, "images"))
    assert os.path.isabs(spec.image) and os.path.isfile(spec.image)


def test_sample_image_is_small_and_reproducible(tmp_path):
    import importlib.util

    path = os.path.join(SCENES, "images", "make_sample.py")
    module_spec = importlib.util.spec_from_file_location("make_sample", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    drawn = np.asarray(module.draw_sample())
    from PIL import Image

    with Image.open(os.path.join(SCENES, "images", "shapes.png")) as shipped:
        np.testing.assert_array_equal(np.asarray(shipped), drawn)
    assert os.path.getsize(os.path.join(SCENES, "images", "shapes.png")) < 20_000


# ---- rendering ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SCENE_FILES)
def test_every_scene_renders_at_its_width(name):
    data, spec = load(name)
    frames = STILL_RENDERERS[spec.kind](spec, theme=get_theme("light"), width=data["render"]["width"],
                                        title=data["title"], caption=data.get("description"))
    assert frames
    for frame, duration_ms in frames:
        assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[1:] == (720, 3)
        assert isinstance(duration_ms, int) and duration_ms > 0
    if spec.kind == "conv_matrix":  # an overview, then one frame per output element
        assert len(frames) == 1 + int(np.prod(spec.geometry.output_shape))


def test_other_widths_and_no_title():
    _, spec = load("c10_upsample_vs_transposed.toml")
    (frame, _), = STILL_RENDERERS["upsample_compare"](spec, theme=get_theme("light"), width=480)
    assert frame.shape[1] == 480


def test_receptive_field_highlight_is_where_the_masks_say():
    spec = rf_spec((1, 11, 11), [dict(kernel_size=3), dict(kernel_size=3)], cell=(0, 0))
    spec = spec.model_copy(update={"cycle": False})
    theme = get_theme("light")
    (frame, _), = STILL_RENDERERS["receptive_field"](spec, theme=theme, width=720)
    frame = frame[: int(frame.shape[0] * 0.55)]  # the grids, not the legend's swatches below them
    current = np.all(frame == np.array(theme.output_current, dtype=np.uint8), axis=-1)
    tap = np.all(frame == np.array(theme.tap, dtype=np.uint8), axis=-1)
    assert current.any() and tap.any()
    # the output cell is in the right-most grid; the tapped cells (5×5 + 3×3) lie left of it
    assert np.nonzero(tap)[1].max() < np.nonzero(current)[1].min()
    assert tap.sum() > 8 * current.sum()


@pytest.mark.parametrize("dilated", [False, True])
def test_receptive_field_legend_names_the_span_frames_and_their_lines(monkeypatch, dilated):
    """The region in each grid is framed in the window colour, and lines join the frames: the legend named only the
    chosen cell and the cells it depends on."""
    from convgif.render.stills import views

    entries = []
    legend = views._legend
    monkeypatch.setattr(views, "_legend", lambda sheet, x, y, items: entries.extend(items) or legend(sheet, x, y, items))
    layers = [dict(kernel_size=3), dict(kernel_size=3, dilation=2 if dilated else 1)]
    theme = get_theme("light")
    STILL_RENDERERS["receptive_field"](rf_spec((1, 11, 11), layers, cell=(0, 0)), theme=theme, width=720)
    looks = {text: style for style, text in entries}
    assert looks["its span in each layer, traced back"] == dict(fill=None, edge=theme.window, lw=2.2)
    assert ("inside its span, skipped (dilation gap)" in looks) == dilated


@pytest.mark.parametrize("padding", [0, 1])
def test_conv_as_a_matrix_names_every_look_it_paints(monkeypatch, padding):
    """C's weights, the entries an output multiplies, its row and window, the output it makes and the others, and
    padding when there is some: the figure painted them all and had no legend."""
    from convgif.render.stills import views

    entries = []
    legend = views._legend
    monkeypatch.setattr(views, "_legend", lambda sheet, x, y, items, *rest: entries.extend(items)
                        or legend(sheet, x, y, items, *rest))
    theme = get_theme("light")
    STILL_RENDERERS["conv_matrix"](parse({"kind": "conv_matrix", "padding": padding}), theme=theme, width=720)
    looks = {text: (style.get("fill"), style.get("edge")) for style, text in entries}
    assert looks == {"kernel weight": (theme.kernel, theme.grid), "multiplied for this output": (theme.tap, theme.grid),
                     "its row of C, its window": (None, theme.window), "this output": (theme.output_current, theme.grid),
                     "output": (theme.output_done, theme.grid),
                     **({"padding (no column in C)": (theme.padding, theme.padding_edge)} if padding else {})}
