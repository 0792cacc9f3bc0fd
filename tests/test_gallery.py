"""Every scene in scenes/ renders, with one frame per chosen step plus the hold; renders are deterministic;
memory does not grow with the number of frames."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image

from convgif.pipeline import render_scene
from convgif.scene import load_scene

SCENES = sorted(Path(__file__).resolve().parent.parent.joinpath("scenes").glob("*.toml"))


@pytest.mark.parametrize("path", SCENES, ids=[p.stem for p in SCENES])
def test_scene_renders_with_steps_plus_hold(path, tmp_path):
    scene = load_scene(str(path))
    result = render_scene(scene, tmp_path)
    still = scene.scene_type == "still"
    assert result.path.parent == tmp_path and result.path.stem == path.stem
    assert result.path.suffix == (".png" if still and result.frames == 1 else ".gif")
    with Image.open(result.path) as image:
        frames = getattr(image, "n_frames", 1)
        expected = result.frames if still else scene.info()["frames"]  # stills: one frame per figure
        assert frames == expected == result.frames
        assert image.size[0] == scene.render.width


@pytest.mark.parametrize("name", ["a08_groups.toml", "a09_everything.toml", "b02_padding_two.toml"])
def test_same_scene_same_bytes(name, tmp_path):
    scene = load_scene(str(SCENES[0].parent / name))
    first = render_scene(scene, tmp_path / "one").path.read_bytes()
    second = render_scene(scene, tmp_path / "two").path.read_bytes()
    assert first == second


PEAK_RSS = textwrap.dedent(
    """
    import resource, sys
    from convgif.pipeline import render_scene
    from convgif.scene import parse_scene
    steps = int(sys.argv[1])
    document = {
        "op": {"kind": "conv2d", "out_channels": 1, "kernel_size": 3},
        "input": {"shape": [1, 47, 47]},
        "render": {"duration_ms": 20, "hold_ms": 20, "steps": {"first": steps}},
    }
    render_scene(parse_scene(document, "memory.toml"), sys.argv[2])
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """
)


def test_memory_flat_in_frame_count(tmp_path):
    """Peak RSS for 1000 frames stays within 10% of that for 100 (frames are streamed, not collected)."""
    peaks = {}
    for steps in (100, 1000):
        done = subprocess.run([sys.executable, "-c", PEAK_RSS, str(steps), str(tmp_path / str(steps))],
                              capture_output=True, text=True, check=True)
        peaks[steps] = int(done.stdout.strip().splitlines()[-1])
    assert peaks[1000] <= peaks[100] * 1.10, peaks


ANIMATED = [path for path in SCENES if load_scene(path).scene_type == "op"]


@pytest.mark.parametrize("path", ANIMATED, ids=[p.stem for p in ANIMATED])
def test_every_drawn_colour_is_a_palette_colour(path):
    """GIF frames hold palette indices: a drawn colour missing from the palette would silently show as its nearest
    palette colour (once: dimmed lanes one level off). With crisp text (the default) nothing is anti-aliased, so
    every pixel of every frame must be exactly a palette colour; sampled: first, middle and last step, the hold."""
    import numpy as np

    from convgif.pipeline import build_trace, drawable_view

    scene = load_scene(path)
    trace = build_trace(scene)
    view = drawable_view(scene, trace)
    assert view.theme.crisp_text
    def keys(rgb: np.ndarray) -> np.ndarray:  # one 24-bit integer per colour
        rgb = np.asarray(rgb, dtype=np.int64).reshape(-1, 3)
        return np.unique((rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2])

    palette = keys(view.palette_colors())
    steps = sorted({0, len(trace) // 2, len(trace) - 1})
    for label, frame in [*zip(steps, view.frames(steps)), ("hold", view.final_frame())]:
        stray = np.setdiff1d(keys(frame), palette)
        assert stray.size == 0, (path.name, label, [f"#{key:06x}" for key in stray[:5]])
