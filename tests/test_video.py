"""The video formats (mp4: H.264, webm: VP9) read back with ffmpeg: each frame at its own time, close to the
picture drawn, the same bytes twice, smaller than the GIF for a gallery scene, and a missing extra refused."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import require
from convgif.cli import main
from convgif.encode.video import Mp4Writer, WebmWriter
from convgif.pipeline import render_scene
from convgif.scene import parse_scene

SCENES = Path(__file__).resolve().parent.parent / "scenes"
VIDEO = ("webm", "mp4")
# conv2d on a 1x4x4 input, 2x2 kernel: 9 steps; odd durations on purpose (not multiples of a frame rate's step)
TINY = {
    "title": "tiny",
    "op": {"kind": "conv2d", "kernel_size": 2},
    "input": {"shape": [1, 4, 4], "values": "arange"},
    "weights": {"values": [[[[1, 0], [0, -1]]]]},
    "render": {"width": 480, "duration_ms": 170, "hold_ms": 1300},
}


def ffmpeg():
    return require("imageio_ffmpeg", "pip install -e '.[test]'")


def frame_times_ms(path: Path) -> tuple[list[float], float]:
    """Each coded frame's presentation time in ms (in order), and the container's duration in ms."""
    exe = ffmpeg().get_ffmpeg_exe()
    listing = subprocess.run([exe, "-v", "error", "-i", str(path), "-map", "0:v", "-c", "copy", "-f", "framemd5", "-"],
                             capture_output=True, text=True, check=True).stdout
    numerator, denominator = map(int, re.search(r"^#tb 0: (\d+)/(\d+)$", listing, re.MULTILINE).groups())
    pts = sorted(int(line.split(",")[2]) * numerator * 1000 / denominator
                 for line in listing.splitlines() if line and not line.startswith("#"))
    probe = subprocess.run([exe, "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    hours, minutes, seconds = re.search(r"Duration: (\d+):(\d+):([\d.]+)", probe).groups()
    return pts, (int(hours) * 3600 + int(minutes) * 60 + float(seconds)) * 1000


def decoded_frames(path: Path) -> list[np.ndarray]:
    """Every coded frame, decoded to RGB (passthrough: no frame repeated or dropped to fit a frame rate)."""
    reader = ffmpeg().read_frames(str(path), output_params=["-fps_mode", "passthrough"])
    width, height = next(reader)["size"]
    return [np.frombuffer(data, np.uint8).reshape(height, width, 3) for data in reader]


def drawn_frames(folder: Path) -> tuple[list[np.ndarray], list[float]]:
    """The png format's frames and durations: the pictures the video writers were handed."""
    listing = json.loads((folder / "frames.json").read_text())["frames"]
    pictures = [np.asarray(Image.open(folder / item["file"]).convert("RGB")) for item in listing]
    return pictures, [item["duration_ms"] for item in listing]


@pytest.fixture(scope="module")
def tiny_renders(tmp_path_factory):
    """The tiny scene as png frames and both videos, rendered twice (for the same-bytes check)."""
    ffmpeg()
    outs = []
    for run in range(2):
        out = tmp_path_factory.mktemp(f"video{run}")
        render_scene(parse_scene({**TINY, "output": {"formats": ["png", *VIDEO]}}, "tiny.toml"), out)
        outs.append(out)
    return outs


@pytest.fixture(scope="module")
def a01_renders(tmp_path_factory):
    """The gallery's first scene (7 steps of 500 ms, 42 of 330 ms, a 2500 ms hold) as gif, png frames and videos."""
    ffmpeg()
    out = tmp_path_factory.mktemp("a01")
    document = tomllib.loads((SCENES / "a01_plain_conv.toml").read_text(encoding="utf-8"))
    document["output"] = {**document.get("output", {}), "formats": ["gif", "png", *VIDEO]}
    render_scene(parse_scene(document, str(SCENES / "a01_plain_conv.toml")), out)
    return out


@pytest.mark.parametrize("fmt", VIDEO)
@pytest.mark.parametrize("scene", ["tiny", "a01_plain_conv"])
def test_each_frame_starts_at_its_scene_time(fmt, scene, tiny_renders, a01_renders):
    """One coded frame per drawn frame, at the running total of the scene's durations (ms timestamps, no fixed
    frame rate), then the last picture again as the end mark: the loop lasts exactly the scene's total."""
    out = tiny_renders[0] if scene == "tiny" else a01_renders
    _, durations = drawn_frames(out / scene)
    starts, total = frame_times_ms(out / f"{scene}.{fmt}")
    expected = np.cumsum([0, *durations])  # each frame's start, and the end
    assert len(starts) == len(durations) + 1
    assert np.abs(np.array(starts) - expected).max() <= 1
    assert total == pytest.approx(expected[-1], abs=10)  # ffmpeg prints the duration to 10 ms


@pytest.mark.parametrize("fmt", VIDEO)
def test_decoded_frames_are_close_to_the_drawn_ones(fmt, tiny_renders, a01_renders):
    """Bounds from measurement: yuv420p halves the colour resolution, so even a lossless VP9 4:2:0 copy of a01
    is off by 0.36/255 on average and by up to ~110 on pixels of thin coloured lines; our settings add ~0.2-0.3.
    A mean under 1.5, and fewer than 1% of pixels off by more than 64, holds the text readable (at the time of
    writing: a01 mean 0.4-0.6, 0.2% of pixels over 48)."""
    for out, scene in ((tiny_renders[0], "tiny"), (a01_renders, "a01_plain_conv")):
        drawn, _ = drawn_frames(out / scene)
        decoded = decoded_frames(out / f"{scene}.{fmt}")
        assert len(decoded) == len(drawn) + 1
        pictures = list(enumerate([*drawn, drawn[-1]]))  # the end mark repeats the hold frame
        for index, picture in pictures if scene == "tiny" else pictures[::7] + pictures[-2:]:  # a01: a sample
            height, width = picture.shape[:2]
            assert decoded[index].shape == (height + height % 2, width + width % 2, 3)
            error = np.abs(decoded[index][:height, :width].astype(int) - picture.astype(int))
            assert error.mean() < 1.5, (scene, fmt, index, error.mean())
            assert (error.max(axis=2) > 64).mean() < 0.01, (scene, fmt, index)


@pytest.mark.parametrize("fmt", VIDEO)
def test_the_same_scene_gives_the_same_bytes(fmt, tiny_renders):
    first, second = ((out / f"tiny.{fmt}").read_bytes() for out in tiny_renders)
    assert first == second


def test_a01_videos_are_smaller_than_its_gif(a01_renders):
    gif = (a01_renders / "a01_plain_conv.gif").stat().st_size
    sizes = {fmt: (a01_renders / f"a01_plain_conv.{fmt}").stat().st_size for fmt in VIDEO}
    assert all(size < gif for size in sizes.values()), (gif, sizes)


def test_repeated_and_zero_length_frames(tmp_path):
    """A repeat of the previous picture lengthens it (one coded frame); a 0 ms frame still gets 1 ms (from the next)."""
    ffmpeg()
    red, blue = np.zeros((6, 8, 3), np.uint8), np.zeros((6, 8, 3), np.uint8)
    red[..., 0], blue[..., 2] = 200, 200
    path = tmp_path / "t.webm"
    with WebmWriter(path) as writer:
        for picture, ms in ((red, 100), (red, 150), (blue, 0), (red, 400)):
            writer.write(picture, ms)
    assert writer.frames_sent == 3
    starts, _ = frame_times_ms(path)
    assert starts == [0, 250, 251, 650]  # the 0 ms frame borrows 1 ms from the next: the total stays 650


@pytest.mark.parametrize("fmt", VIDEO)
def test_without_the_extra_exits_2_on_one_line(fmt, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # `import imageio_ffmpeg` now fails
    path = tmp_path / "tiny.toml"
    path.write_text('[op]\nkind = "conv2d"\nkernel_size = 2\n[input]\nshape = [1, 3, 3]\n')
    code = main(["render", str(path), "-o", str(tmp_path / "out"), "--format", f"gif,{fmt}", "-q"])
    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{path}: {fmt} output needs the mp4 extra: pip install 'convgif[mp4]'"]
    assert not (tmp_path / "out" / "tiny.gif").exists()  # refused before anything was drawn
    writer = {"webm": WebmWriter, "mp4": Mp4Writer}[fmt](tmp_path / f"t.{fmt}")
    with pytest.raises(Exception, match=f"{fmt} output needs the mp4 extra"):
        writer.__enter__()
    assert not list(tmp_path.glob(f"*.{fmt}*"))
