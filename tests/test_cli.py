"""The CLI in-process: render, check, info, schema; exit codes; one-line errors; no half-written output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from conftest import require
from convgif.build_cache import MANIFEST_NAME
from convgif.cli import main

GOOD = """
title = "t"
[op]
kind = "conv2d"
out_channels = 2
kernel_size = 3
padding = 1
[input]
shape = [2, 5, 5]
seed = 3
[weights]
seed = 4
[render]
duration_ms = 100
hold_ms = 1000
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_render_writes_gif_named_after_scene(tmp_path, capsys):
    scene = write(tmp_path, "small.toml", GOOD)
    out = tmp_path / "out"
    assert main(["render", str(scene), "-o", str(out)]) == 0
    gif = out / "small.gif"
    with Image.open(gif) as image:
        assert image.n_frames == 2 * 5 * 5 + 1  # one frame per output element + the hold
        assert image.info["loop"] == 0
        image.seek(image.n_frames - 1)
        assert image.info["duration"] == 1000
    assert "rendered 1 of 1" in capsys.readouterr().out
    assert not list(out.glob(".*.part"))


@pytest.mark.parametrize(
    "text, expected",
    [
        (GOOD.replace("out_channels = 2", "out_channels = 2\ngroups = 3"),
         "op.groups: 3 does not divide in_channels=2"),
        (GOOD.replace("padding = 1", "padding = 1\ndilaton = 2"), "op.dilaton: unknown key (did you mean 'dilation'?)"),
        (GOOD.replace("shape = [2, 5, 5]", "shape = [2, 5, 5]\nvalues = [[1, 2], [3, 4]]"), "input.values"),
        (GOOD.replace("kernel_size = 3", "kernel_size = 9"), "op.kernel_size"),
        (GOOD.replace("[op]", "[op\n"), "TOML syntax error"),
    ],
)
def test_bad_scene_exits_2_with_file_and_key_and_writes_nothing(tmp_path, capsys, text, expected):
    scene = write(tmp_path, "bad.toml", text)
    out = tmp_path / "out"
    assert main(["render", str(scene), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{scene}: " in err and expected in err
    assert "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())


def test_one_bad_scene_does_not_stop_the_others(tmp_path, capsys):
    write(tmp_path, "a_good.toml", GOOD)
    write(tmp_path, "b_bad.toml", GOOD.replace("kernel_size = 3", "kernel_size = 0"))
    write(tmp_path, "c_good.toml", GOOD)
    out = tmp_path / "out"
    assert main(["render", str(tmp_path), "-o", str(out)]) == 2
    assert sorted(p.name for p in out.iterdir() if p.name != MANIFEST_NAME) == ["a_good.gif", "c_good.gif"]
    captured = capsys.readouterr()
    assert "b_bad.toml: op.kernel_size" in captured.err
    assert "rendered 2 of 3 scene(s)" in captured.out and "1 failed" in captured.out


def test_check_and_info(tmp_path, capsys):
    scene = write(tmp_path, "s.toml", GOOD)
    assert main(["check", str(scene)]) == 0
    capsys.readouterr()
    assert main(["info", str(scene), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["input_shape"] == [2, 5, 5]
    assert info["output_shape"] == [2, 5, 5]
    assert info["weight_shape"] == [2, 2, 3, 3]
    assert info["params"] == 2 * 2 * 3 * 3 + 2
    assert info["macs"] == 2 * 5 * 5 * 2 * 3 * 3
    assert info["frames"] == 2 * 5 * 5 + 1
    assert main(["check", str(write(tmp_path, "x.toml", GOOD.replace("seed = 3", "seed = -1")))]) == 2


def test_check_says_what_it_checked(tmp_path, capsys):
    good, bad = write(tmp_path, "a.toml", GOOD), write(tmp_path, "b.toml", GOOD.replace("seed = 3", "seed = -1"))
    assert main(["check", str(good)]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{good}: ok", "checked 1 scene(s): all valid"]
    assert main(["check", str(good), str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [f"{good}: ok", "checked 2 scene(s): 1 with problems"]
    assert captured.err.startswith(f"{bad}: input.seed:")
    assert main(["check", "-q", str(good)]) == 0 and capsys.readouterr().out == ""


def test_check_says_when_numbers_are_hidden_and_the_width_that_shows_them(tmp_path, capsys):
    dense = write(tmp_path, "dense.toml", '[op]\nkind = "conv2d"\nout_channels = 8\nkernel_size = 3\ngroups = 4\n'
                                         '[input]\nshape = [4, 14, 14]\n')
    assert main(["check", str(dense)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    width = int(first.rsplit("= ", 1)[1])
    assert first == f"{dense}: ok; note: render.width: numbers are hidden at 720 px; they show at render.width = {width}"
    wide = write(tmp_path, "wide.toml", dense.read_text() + f"[render]\nwidth = {width}\n")
    assert main(["check", str(wide)]) == 0 and capsys.readouterr().out.splitlines()[0] == f"{wide}: ok"


def test_info_takes_several_scenes_and_prints_no_empty_values(tmp_path, capsys):
    still = Path(__file__).resolve().parent.parent / "scenes" / "e01_weight_tensor.toml"
    scene = write(tmp_path, "s.toml", GOOD)
    assert main(["info", str(scene), str(still)]) == 0
    out = capsys.readouterr().out
    assert f"{scene}:\n  input_shape: (2, 5, 5)" in out and f"{still}:\n  still: weight_tensor" in out
    assert "None" not in out
    assert main(["info", "--json", str(scene), str(still)]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {str(scene), str(still)}


def test_info_values_match_torch_for_a_random_scene(tmp_path, capsys):
    """A user can check a `values = "random"` scene against torch from what `info --json --values` prints."""
    torch = require("torch", "pip install -e '.[test]'")
    scene = write(tmp_path, "s.toml", GOOD.replace("padding = 1", "padding = 1\nstride = 2"))
    assert main(["info", "--json", "--values", str(scene)]) == 0
    info = json.loads(capsys.readouterr().out)
    x, w, b = (torch.tensor(info[key], dtype=torch.float64) for key in ("input", "weight", "bias"))
    expected = torch.nn.functional.conv2d(x[None], w, b, stride=2, padding=1)[0]
    assert list(expected.shape) == info["output_shape"]
    assert torch.allclose(torch.tensor(info["output"], dtype=torch.float64), expected)
    pool = write(tmp_path, "p.toml", '[op]\nkind = "max_pool2d"\nkernel_size = 2\n[input]\nshape = [1, 4, 4]\n')
    assert main(["info", "--json", "--values", str(pool)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["weight"] is None and info["bias"] is None
    expected = torch.nn.functional.max_pool2d(torch.tensor(info["input"])[None], 2)[0]
    assert torch.equal(torch.tensor(info["output"]), expected)


def test_theme_flag_replaces_the_scene_theme(tmp_path):
    scene = write(tmp_path, "s.toml", GOOD)
    dark = write(tmp_path, "d.toml", GOOD + 'theme = "dark"\n')
    assert main(["render", str(scene), "-o", str(tmp_path / "flag"), "--theme", "dark", "-q"]) == 0
    assert main(["render", str(dark), "-o", str(tmp_path / "file"), "-q"]) == 0
    assert (tmp_path / "flag" / "s.gif").read_bytes() == (tmp_path / "file" / "d.gif").read_bytes()


@pytest.mark.parametrize("output, message", [
    ("a_file", "-o {out}: is a file, not a folder"),
    ("/proc/convgif-x", "-o {out}: cannot create the output folder (No such file or directory)"),
])
def test_an_unusable_output_folder_is_one_line_exit_2(tmp_path, capsys, output, message):
    (tmp_path / "a_file").write_text("x")
    out = str(tmp_path / output) if output == "a_file" else output
    scenes = [str(write(tmp_path, f"s{i}.toml", GOOD)) for i in range(2)]
    for command in (["render", *scenes, "-o", out], ["gallery", *scenes, "-o", out]):
        assert main(command) == 2
        assert capsys.readouterr().err.splitlines() == ["convgif: " + message.format(out=out)]


def test_schema_is_json(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "op" in schema["$defs"]["SceneFile"]["properties"]


def test_missing_path_is_usage_error(tmp_path, capsys):
    assert main(["render", str(tmp_path / "nope.toml"), "-o", str(tmp_path)]) == 2
    assert "no such file" in capsys.readouterr().err


def test_failed_render_keeps_previous_file(tmp_path, monkeypatch, capsys):
    scene = write(tmp_path, "keep.toml", GOOD)
    out = tmp_path / "out"
    assert main(["render", str(scene), "-o", str(out), "-q"]) == 0
    before = (out / "keep.gif").read_bytes()

    import convgif.encode.gif as gif

    def broken(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(gif, "image_block", broken)
    assert main(["render", str(scene), "-o", str(out), "-q", "--force"]) == 1  # up to date: --force draws it
    assert "disk full (simulated)" in capsys.readouterr().err
    assert (out / "keep.gif").read_bytes() == before
    assert not list(out.glob(".*.part"))


def test_readme_scene_example_is_valid(tmp_path):
    """The scene format example in the README is a scene that checks (documentation cannot drift)."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Scene files"):]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    assert main(["check", str(write(tmp_path, "readme.toml", example))]) == 0
