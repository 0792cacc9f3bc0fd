"""`[input] image`: PNG/JPEG files as the input, resized to the grid, grayscale or RGB, with clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from convgif.errors import SceneError
from convgif.pipeline import render_scene
from convgif.scene import image_input, load_scene, parse_scene

ROOT = Path(__file__).resolve().parents[1]


def _scene_file(folder: Path, image: str, shape, **extra_input) -> Path:
    body = (f'[op]\nkind = "conv2d"\nkernel_size = 3\nbias = false\n\n'
            f'[input]\nshape = {list(shape)}\nimage = "{image}"\n')
    for key, value in extra_input.items():
        body += f"{key} = {value}\n"
    body += '\n[weights]\nvalues = "sobel_x"\n'
    path = folder / "scene.toml"
    path.write_text(body)
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(SceneError) as caught:
        load_scene(path)
    return [line.split(": ", 1)[1] for line in str(caught.value).splitlines()]


def test_an_image_at_grid_size_gives_its_exact_pixel_values(tmp_path):
    pixels = np.arange(0, 240, 10, dtype=np.uint8).reshape(4, 6)
    (tmp_path / "img").mkdir()
    Image.fromarray(pixels, "L").save(tmp_path / "img" / "ramp.png")
    scene = load_scene(_scene_file(tmp_path, "img/ramp.png", [1, 4, 6]))
    values = scene.input_array()
    assert values.shape == (1, 4, 6) and values.dtype == np.float64
    np.testing.assert_array_equal(values[0], pixels.astype(float))


def test_shrinking_averages_each_block(tmp_path):
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, size=(8, 12), dtype=np.uint8)
    Image.fromarray(pixels, "L").save(tmp_path / "noise.png")
    values = load_scene(_scene_file(tmp_path, "noise.png", [1, 4, 6])).input_array()[0]
    block_means = pixels.astype(float).reshape(4, 2, 6, 2).mean(axis=(1, 3))
    assert np.abs(values - block_means).max() <= 1  # area average in whole numbers (Pillow rounds in fixed point)
    assert np.all(values == np.round(values)) and values.min() >= 0 and values.max() <= 255


def test_three_channels_are_red_green_blue_and_one_is_luma(tmp_path):
    rgb = np.zeros((3, 3, 3), dtype=np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 100, 50
    rgb[1, 1] = (10, 250, 30)
    Image.fromarray(rgb, "RGB").save(tmp_path / "colour.png")
    three = load_scene(_scene_file(tmp_path, "colour.png", [3, 3, 3])).input_array()
    np.testing.assert_array_equal(np.moveaxis(three, 0, -1), rgb.astype(float))
    one = load_scene(_scene_file(tmp_path, "colour.png", [1, 3, 3])).input_array()[0]
    luma = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114  # ITU-R BT.601
    assert np.abs(one - luma).max() <= 1


def test_transparent_pixels_are_shown_over_white(tmp_path):
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[0, 0] = (0, 0, 0, 255)  # opaque black; the rest fully transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "alpha.png")
    values = image_input.image_values(str(tmp_path / "alpha.png"), (1, 2, 2))[0]
    np.testing.assert_array_equal(values, [[0, 255], [255, 255]])


def test_jpeg_is_accepted(tmp_path):
    Image.fromarray(np.full((6, 6, 3), 128, dtype=np.uint8), "RGB").save(tmp_path / "grey.jpg", quality=95)
    values = load_scene(_scene_file(tmp_path, "grey.jpg", [1, 3, 3])).input_array()
    assert np.abs(values - 128).max() <= 2


def test_the_path_is_relative_to_the_scene_file_not_the_working_directory(tmp_path, monkeypatch):
    folder = tmp_path / "scenes"
    (folder / "images").mkdir(parents=True)
    Image.fromarray(np.full((3, 3), 42, dtype=np.uint8), "L").save(folder / "images" / "flat.png")
    path = _scene_file(folder, "images/flat.png", [1, 3, 3])
    monkeypatch.chdir(tmp_path)
    scene = load_scene(path)
    assert scene.input.image == str(folder / "images" / "flat.png")
    assert scene.input_array().tolist() == [[[42.0] * 3] * 3]


def test_a_missing_file_is_a_scene_error_naming_input_image(tmp_path):
    path = _scene_file(tmp_path, "nope.png", [1, 4, 4])
    with pytest.raises(SceneError) as caught:
        load_scene(path)
    assert str(caught.value) == f"{path}: input.image: no such file: {tmp_path / 'nope.png'}"


def test_wrong_shapes_formats_and_mixed_values_are_reported(tmp_path):
    Image.fromarray(np.zeros((4, 4), dtype=np.uint8), "L").save(tmp_path / "a.png")
    assert _problems(_scene_file(tmp_path, "a.png", [2, 4, 4])) == [
        "input.image: an image gives 1 channel (grayscale) or 3 (R, G, B), but input.shape asks for 2"]
    assert _problems(_scene_file(tmp_path, "a.png", [1, 4, 4], values='"arange"')) == [
        "input.values: cannot be given together with input.image (the image gives the values)"]
    Image.fromarray(np.zeros((4, 4), dtype=np.uint8), "L").save(tmp_path / "a.bmp")
    assert _problems(_scene_file(tmp_path, "a.bmp", [1, 4, 4]))[0].endswith("a.bmp is a BMP image; use PNG or JPEG")
    (tmp_path / "fake.png").write_bytes(b"not an image at all")
    assert "is not a readable image" in _problems(_scene_file(tmp_path, "fake.png", [1, 4, 4]))[0]
    doc = {"op": {"kind": "conv1d", "kernel_size": 3}, "input": {"shape": [1, 8], "image": str(tmp_path / "a.png")}}
    with pytest.raises(SceneError, match=r"input.image: an image fills a 2-D input: write input.shape as \[C, H, W\]"):
        parse_scene(doc, "x.toml")


def test_decompression_bombs_are_refused_before_decoding(tmp_path, monkeypatch):
    Image.fromarray(np.zeros((40, 40), dtype=np.uint8), "L").save(tmp_path / "big.png")
    monkeypatch.setattr(image_input, "MAX_IMAGE_PIXELS", 1000)  # the explicit limit, scaled down for speed
    [problem] = _problems(_scene_file(tmp_path, "big.png", [1, 4, 4]))
    assert problem == f"input.image: {tmp_path / 'big.png'} has more than 1000 pixels: too large to decode safely"
    assert image_input.MAX_IMAGE_PIXELS == 1000 and Image.MAX_IMAGE_PIXELS != 1000  # Pillow's global untouched


def test_the_gallery_image_scene_convolves_the_sample_image_like_torch(tmp_path):
    scene = load_scene(ROOT / "scenes" / "f01_image_sobel_edges.toml")
    with Image.open(ROOT / "scenes" / "images" / "shapes.png") as sample:
        expected = np.asarray(sample.convert("L").resize((8, 6), Image.Resampling.BOX), dtype=float)
    np.testing.assert_array_equal(scene.input_array()[0], expected)
    sobel_x = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=torch.float64).reshape(1, 1, 3, 3)
    want = torch.nn.functional.conv2d(torch.from_numpy(expected).reshape(1, 1, 6, 8), sobel_x).numpy()
    from convgif.pipeline import build_trace

    np.testing.assert_allclose(build_trace(scene).output(), want)
    result = render_scene(scene, tmp_path)
    with Image.open(result.path) as gif:
        assert gif.n_frames == 4 * 6 + 1
