"""Faults and reproducibility: killed and interrupted renders leave no broken file, a failing scene does not
stop a batch, limits refuse absurd input at once, `-j` does not change a byte, `--check-output` sees staleness.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from convgif.build_cache import MANIFEST_NAME
from convgif.encode import atomic_write
from convgif.encode.atomic import clean_dead_parts
from convgif.scene import read_document
from test_fuzz import run_cli, toml_dumps

ROOT = Path(__file__).resolve().parent.parent
SCENES = sorted((ROOT / "scenes").glob("*.toml"))

SMALL = """
[op]
kind = "conv2d"
kernel_size = 3
[input]
shape = [1, 4, 4]
[render]
duration_ms = 20
hold_ms = 20
"""
# ~40 frames with a large static layer: several seconds, long enough to be killed in the middle
SLOW = """
[op]
kind = "conv2d"
kernel_size = 3
out_channels = 2
[input]
shape = [2, 40, 40]
[render]
duration_ms = 20
hold_ms = 20
steps = {every = 35}
"""


def part_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.part"))


def start_render(scene: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "convgif", "render", str(scene), "-o", str(out), "-q", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def wait_for_part(process: subprocess.Popen, out: Path, timeout: float = 60) -> None:
    """Until the render is streaming frames into its part file (then it is mid-render)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        parts = part_files(out)
        if parts and parts[0].stat().st_size > 1000:
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    raise AssertionError("the render never started writing")


def test_sigkill_mid_render_keeps_the_previous_file_and_the_next_run_cleans_up(tmp_path):
    scene, out = tmp_path / "scene.toml", tmp_path / "out"
    scene.write_text(SMALL)
    assert run_cli("render", str(scene), "-o", str(out), "-q")[0] == 0
    previous = (out / "scene.gif").read_bytes()
    scene.write_text(SLOW)
    process = start_render(scene, out)
    wait_for_part(process, out)
    process.kill()
    process.wait()
    assert (out / "scene.gif").read_bytes() == previous  # the complete old GIF, not half of the new one
    stale = part_files(out)
    assert len(stale) == 1

    # a live writer's part file (a parallel run) must survive the next run's cleaning
    with atomic_write(out / "other.gif") as live:
        live.write(b"GIF89a")
        (live_part,) = set(part_files(out)) - set(stale)
        os.utime(live_part, (0, 0))  # however old it looks
        assert clean_dead_parts(out) == stale
        assert len(part_files(out)) == 1
    assert part_files(out) == [] and (out / "other.gif").read_bytes() == b"GIF89a"


def test_next_run_cleans_a_killed_runs_part_file_without_waiting(tmp_path):
    scene, out = tmp_path / "scene.toml", tmp_path / "out"
    scene.write_text(SLOW)
    process = start_render(scene, out)
    wait_for_part(process, out)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (out / "scene.gif").exists() and len(part_files(out)) == 1
    small = tmp_path / "small.toml"
    small.write_text(SMALL)
    code, stdout, _ = run_cli("render", str(small), "-o", str(out))
    assert code == 0 and "left by an interrupted run" in stdout
    assert part_files(out) == [] and sorted(p.name for p in out.iterdir() if p.name != MANIFEST_NAME) == ["small.gif"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_prints_one_line_exits_130_and_leaves_no_file(tmp_path, jobs):
    out = tmp_path / "out"
    scenes = []
    for name in ("first", "second"):
        scenes.append(tmp_path / f"{name}.toml")
        scenes[-1].write_text(SLOW)
    process = subprocess.Popen([sys.executable, "-m", "convgif", "render", *map(str, scenes), "-o", str(out), "-q",
                                "-j", jobs], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    wait_for_part(process, out)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert err == "convgif: interrupted\n"
    assert list(out.iterdir()) == []  # no GIF, no part file


def test_a_failing_scene_does_not_stop_the_batch(tmp_path, monkeypatch):
    import convgif.encode

    for name in ("a_good", "b_disk_full", "d_good"):
        (tmp_path / f"{name}.toml").write_text(SMALL)
    (tmp_path / "c_broken.toml").write_text("[op]\nkind = 'conv9d'\n")
    original = convgif.encode.GifWriter.write

    def write(self, frame, duration_ms):  # the disk fills up while this one scene is written
        if self.path.stem == "b_disk_full":
            raise OSError(28, "No space left on device")
        return original(self, frame, duration_ms)

    monkeypatch.setattr(convgif.encode.GifWriter, "write", write)
    out = tmp_path / "out"
    code, stdout, err = run_cli("render", str(tmp_path), "-o", str(out))
    assert code != 0
    assert sorted(p.name for p in out.iterdir() if p.name != MANIFEST_NAME) == ["a_good.gif", "d_good.gif"]
    assert f"{tmp_path / 'c_broken.toml'}: op.kind: " in err and "No space left on device" in err
    assert "rendered 2 of 4" in stdout and "2 failed" in stdout
    assert "b_disk_full.toml" in stdout.splitlines()[-1] and "c_broken.toml" in stdout.splitlines()[-1]


# ---- limits and paths --------------------------------------------------------------------------

def test_absurd_shape_is_refused_before_anything_is_allocated(tmp_path):
    scene = tmp_path / "typo.toml"
    scene.write_text("[op]\nkind = 'conv2d'\nkernel_size = 3\n[input]\nshape = [3, 7000, 7000]\n")
    code, _, err = run_cli("render", str(scene), "-o", str(tmp_path / "out"))
    assert code == 2 and err.startswith(f"{scene}: input.shape: ") and "maximum of 4096" in err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_a_scene_too_big_to_draw_is_a_check_error_with_its_key(tmp_path):
    scene = tmp_path / "long.toml"
    scene.write_text("[op]\nkind = 'conv1d'\nkernel_size = 3\n[input]\nshape = [1, 2002]\n"
                     "[render]\nsteps = {first = 2}\n")
    for command in (["check", str(scene)], ["render", str(scene), "-o", str(tmp_path / "out")]):
        code, _, err = run_cli(*command)
        assert code == 2
        assert err == (f"{scene}: input.shape: a 1×2002 input does not fit in 720 px, nor in 4096 px, the widest "
                       "frame (use a smaller input or fewer channels)\n")
    scene.write_text("[op]\nkind = 'conv1d'\nkernel_size = 3\n[input]\nshape = [1, 2002]\n[render]\nwidth = 4096\n")
    code, _, err = run_cli("check", str(scene))  # already the widest frame: said once, not "4096, nor in 4096"
    assert code == 2 and err == (f"{scene}: input.shape: a 1×2002 input does not fit in 4096 px, the widest frame "
                                 "(use a smaller input or fewer channels)\n")
    scene.write_text("[op]\nkind = 'conv2d'\nkernel_size = 3\n[input]\nshape = [1, 300, 300]\n"
                     "[render]\nsteps = {first = 2}\n")
    code, _, err = run_cli("check", str(scene))
    assert code == 2 and err.startswith(f"{scene}: render.width: a 300×300 input does not fit in 720 px: it needs render.width = ")
    assert err.endswith(" or more (up to 4096), or a smaller input\n") and "font_scale" not in err


def test_max_frames_limit_and_the_flag_that_raises_it(tmp_path):
    scene = tmp_path / "many.toml"
    scene.write_text("[op]\nkind = 'conv1d'\nkernel_size = 1\n[input]\nshape = [1, 2500]\n")
    code, _, err = run_cli("check", str(scene))
    assert code == 2 and "2500 step frames exceed render.max_frames=2000" in err
    from convgif.cli import _load_for_render

    assert _load_for_render(str(scene), 3000).render.max_frames == 3000
    small = tmp_path / "small.toml"
    small.write_text(SMALL)
    code, _, err = run_cli("render", str(small), "-o", str(tmp_path / "out"), "--max-frames", "3")
    assert code == 2 and err.startswith(f"{small}: render.steps: 4 step frames exceed render.max_frames=3")


def test_lp_pool1d_scenes_render(tmp_path):
    """Found by benchmarks/fuzz_scenes.py: every lp_pool1d scene passed validation, then failed in the engine."""
    scene = tmp_path / "lp.toml"
    scene.write_text("[op]\nkind = 'lp_pool1d'\nkernel_size = 2\nstride = 2\n[input]\nshape = [1, 6]\n")
    code, _, err = run_cli("render", str(scene), "-o", str(tmp_path / "out"), "-q")
    assert (code, err) == (0, "")
    with Image.open(tmp_path / "out" / "lp.gif") as image:
        assert image.n_frames == 3 + 1


def test_huge_scene_file_is_refused_without_reading_it_all(tmp_path):
    scene = tmp_path / "huge.toml"
    with open(scene, "wb") as file:
        file.write(b"# " + b"x" * (17 * 2**20) + b"\n")
    code, _, err = run_cli("check", str(scene))
    assert code == 2 and err.startswith(f"{scene}: the scene file is larger than 16 MiB")


@pytest.mark.parametrize("name", ["../escape", "/tmp/absolute", "a/b", "..", "sub\\x"])
def test_output_name_cannot_leave_the_output_folder(tmp_path, name):
    scene = tmp_path / "scene.toml"
    scene.write_text(SMALL + f"[output]\nname = {toml_dumps({'n': name})[4:]}")
    code, _, err = run_cli("render", str(scene), "-o", str(tmp_path / "out"))
    assert code == 2 and err.startswith(f"{scene}: output.name: ") and len(err.splitlines()) == 1
    assert [p for p in tmp_path.rglob("*") if p.suffix == ".gif"] == []


def test_image_paths_resolve_against_the_scene_file(tmp_path):
    document = read_document(ROOT / "scenes" / "e04_feature_maps.toml")
    image = Path(document["still"]["image"])  # relative to the scene file, e.g. images/chelsea.png
    folder = tmp_path / "elsewhere"
    (folder / image.parent).mkdir(parents=True)
    Image.new("L", (64, 48), 128).save(folder / image)
    scene = folder / "maps.toml"
    scene.write_text(toml_dumps(document))
    assert run_cli("check", str(scene))[0] == 0  # found next to the scene, not in the working directory
    (folder / image).unlink()
    code, _, err = run_cli("check", str(scene))
    assert code == 2 and err.startswith(f"{scene}: still.image: ") and image.name in err


def test_an_oversized_image_is_refused_before_decoding(tmp_path):
    document = read_document(ROOT / "scenes" / "e04_feature_maps.toml")
    Image.new("1", (5000, 10)).save(tmp_path / "wide.png")
    document["still"]["image"] = "wide.png"
    scene = tmp_path / "wide.toml"
    scene.write_text(toml_dumps(document))
    code, _, err = run_cli("check", str(scene))
    assert code == 2 and err.startswith(f"{scene}: still.image: ") and "5000" in err


# ---- reproducible -------------------------------------------------------------------------------

def shortened(path: Path, folder: Path) -> Path:
    """A copy of a gallery scene that draws its first 3 steps (stills unchanged): the same figure, static
    layer, palette and fonts as the full render, at a fraction of the frames."""
    document = read_document(path)
    if "op" in document:
        document.setdefault("render", {})["steps"] = {"first": 3}
    copy = folder / path.name
    copy.write_text(toml_dumps(document), encoding="utf-8")
    return copy


def test_jobs_do_not_change_a_byte_for_any_gallery_scene(tmp_path):
    """-j 1 renders every scene in this process one after another; -j 2 in two fresh workers, longest first:
    any state leaking between renders (fonts, matplotlib, caches, randomness) would show up as a difference."""
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    for path in SCENES:
        shortened(path, scenes)
    if (ROOT / "scenes" / "images").is_dir():
        (scenes / "images").symlink_to(ROOT / "scenes" / "images")
    one, two = tmp_path / "one", tmp_path / "two"
    assert run_cli("render", str(scenes), "-o", str(one), "-q", "-j", "1")[0] == 0
    assert run_cli("render", str(scenes), "-o", str(two), "-q", "-j", "2")[0] == 0
    files = sorted(p.name for p in one.iterdir() if p.name != MANIFEST_NAME)  # its times differ, not a picture
    assert len(files) >= len(SCENES) and files == sorted(p.name for p in two.iterdir() if p.name != MANIFEST_NAME)
    different = [name for name in files if (one / name).read_bytes() != (two / name).read_bytes()]
    assert different == []


def test_check_output_lists_stale_and_missing_files(tmp_path):
    scenes, out = tmp_path / "scenes", tmp_path / "out"
    scenes.mkdir()
    for name in ("a", "b", "c"):
        (scenes / f"{name}.toml").write_text(SMALL)
    assert run_cli("render", str(scenes), "-o", str(out), "-q")[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.name != MANIFEST_NAME}
    assert run_cli("render", str(scenes), "-o", str(out), "--check-output")[0] == 0

    (scenes / "a.toml").write_text(SMALL.replace("[1, 4, 4]", "[1, 5, 4]"))  # the scene changed
    (out / "b.gif").write_bytes(before["b.gif"][:-100])  # a truncated (or hand-edited) file
    (out / "c.gif").unlink()
    code, stdout, _ = run_cli("render", str(scenes), "-o", str(out), "--check-output")
    assert code == 1
    assert f"stale: {out / 'a.gif'}" in stdout and f"stale: {out / 'b.gif'}" in stdout
    assert f"missing: {out / 'c.gif'}" in stdout and "2 stale, 1 missing" in stdout
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name != MANIFEST_NAME} == {"a.gif": before["a.gif"],
                                                               "b.gif": before["b.gif"][:-100]}  # untouched
