"""`convgif explore` (issue 18): every combination of some scene keys, refused ones as torch refuses them, a cache
that renders only what changed, and an offline page whose controls show the matching variant in Chromium."""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from browser import Browser, need_chromium

from convgif.cli import main
from convgif.errors import UsageError
from convgif.explore import Vary, explore, set_key

SMALL = """title = "Explore me"
description = "A small conv for the explorer tests."

[op]
kind = "conv2d"
out_channels = 1
kernel_size = 3

[input]
shape = [1, 5, 5]
seed = 3

[weights]
seed = 4

[render]
steps = {first = 2}
"""


@pytest.fixture
def scene_file(tmp_path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL, encoding="utf-8")
    return path


def test_vary_reads_toml_values_and_dotted_keys():
    assert Vary.parse("op.stride=1,2") == Vary("op.stride", (1, 2))
    assert Vary.parse('op.padding=0,1,"same",valid') == Vary("op.padding", (0, 1, "same", "valid"))
    assert Vary.parse("input.shape=[1,5,5],[1,7,7]") == Vary("input.shape", ([1, 5, 5], [1, 7, 7]))
    assert Vary.parse("ops[1].kernel_size=2,[1, 3]") == Vary("ops[1].kernel_size", (2, [1, 3]))
    for bad in ("op.stride", "=1,2", "op..stride=1", "op.stride=", "op.stride=1,1"):
        with pytest.raises(UsageError):
            Vary.parse(bad)
    document = {"op": {"kind": "conv2d"}, "ops": [{"kind": "relu"}, {"kind": "conv2d"}]}
    set_key(document, "op.stride", 2)
    set_key(document, "ops[1].padding", 1)
    set_key(document, "render.theme", "dark")
    assert document == {"op": {"kind": "conv2d", "stride": 2}, "ops": [{"kind": "relu"}, {"kind": "conv2d", "padding": 1}],
                        "render": {"theme": "dark"}}
    with pytest.raises(UsageError, match=r"no ops\[5\]"):
        set_key(document, "ops[5].stride", 1)


SWEEP = ["op.stride=1,2", 'op.padding=0,1,"same"', "op.dilation=1,3", "op.kernel_size=1,3"]


def torch_refuses(values: tuple) -> bool:
    stride, padding, dilation, kernel = values
    x = torch.zeros(1, 1, 5, 5, dtype=torch.float64)
    w = torch.zeros(1, 1, kernel, kernel, dtype=torch.float64)
    try:
        F.conv2d(x, w, stride=stride, padding=padding, dilation=dilation)
    except RuntimeError:
        return True
    return False


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explore")
    path = folder / "small.toml"
    path.write_text(SMALL, encoding="utf-8")
    out = folder / "out"
    first = explore(path, [Vary.parse(v) for v in SWEEP], out, jobs=2)
    return path, out, first


def page_data(out: Path) -> dict:
    text = (out / "index.html").read_text(encoding="utf-8")
    return json.loads(re.search(r'<script id="explore-data" type="application/json">(.*?)</script>', text, re.S).group(1))


def test_refused_combinations_are_the_ones_torch_refuses(swept):
    _, out, first = swept
    data = page_data(out)
    values = [[json.loads(v) if v not in ("same",) else v for v in vals] for vals in data["values"]]
    assert first.variants == 24 and first.refused > 0
    for key, variant in data["variants"].items():
        combination = tuple(values[k][int(i)] for k, i in enumerate(key.split(",")))
        assert bool(variant.get("refused")) == torch_refuses(combination), (combination, variant)


def test_a_refusal_is_the_line_convgif_check_gives(swept, tmp_path, capsys):
    """The page's reason is what `convgif check` prints for a file holding that combination."""
    path, out, _ = swept
    data = page_data(out)
    key, refused = next((k, v["refused"]) for k, v in data["variants"].items() if "refused" in v)
    op = ['kind = "conv2d"', "out_channels = 1"]
    for vary, index in zip(SWEEP, key.split(",")):
        parsed = Vary.parse(vary)
        op.append(f"{parsed.key.split('.')[1]} = {json.dumps(parsed.values[int(index)])}")
    check = tmp_path / path.name
    check.write_text("[op]\n" + "\n".join(op) + "\n\n[input]" + SMALL.split("[input]")[1], encoding="utf-8")
    assert main(["check", str(check)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert [line.replace(str(check), str(path)) for line in lines] == refused


def test_the_page_shows_each_variants_facts_from_the_engine(swept):
    _, out, first = swept
    data = page_data(out)
    shown = [v for v in data["variants"].values() if "file" in v]
    assert len(shown) == first.variants - first.refused
    for variant in shown:
        assert (out / variant["file"]).is_file() and variant["frame_height"] > 100
        assert variant["formula"][0].startswith("H: floor((5 + 2×")  # typeset: ×, −
        assert variant["params"] == 10 or variant["params"] == 2  # 3×3 + bias, or 1×1 + bias


def test_a_second_run_renders_nothing_and_a_changed_value_only_its_variants(swept):
    path, out, first = swept
    assert first.rendered == first.variants - first.refused
    files = {p.name: p.stat().st_mtime_ns for p in (out / "variants").iterdir()}
    again = explore(path, [Vary.parse(v) for v in SWEEP], out, jobs=2)
    assert (again.rendered, again.cached) == (0, first.rendered)
    assert {p.name: p.stat().st_mtime_ns for p in (out / "variants").iterdir()} == files
    changed = [*SWEEP[:3], "op.kernel_size=1,2"]  # kernel 1 as before, kernel 2 new
    third = explore(path, [Vary.parse(v) for v in changed], out, jobs=2)
    assert third.cached == sum(1 for v in page_data(out)["variants"].values() if "file" in v) - third.rendered
    assert 0 < third.rendered < third.variants


def test_explore_errors_are_one_line_and_write_no_page(scene_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["explore", str(scene_file), "-o", str(out)]) == 2
    assert main(["explore", str(scene_file), "--vary", "op.strid=1,2", "-o", str(out)]) == 2
    assert main(["explore", str(scene_file), "--vary", "op.stride", "-o", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["convgif: explore: give at least one --vary KEY=V1,V2,..., or an [explore] table in the scene",
                   f"{scene_file}: every one of the 2 combination(s) is refused; the first: op.strid: unknown key "
                   "(did you mean 'stride'?)",
                   "convgif: --vary 'op.stride': expected KEY=V1,V2,... with a dotted scene key (op.stride=1,2)"]
    assert not (out / "index.html").exists()


def test_each_control_shows_the_matching_variant_in_chromium(swept, tmp_path):
    _, out, _ = swept
    data = page_data(out)
    browser = Browser(need_chromium(), tmp_path / "profile")
    try:
        target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime"):
            browser.call(f"{domain}.enable", session=session)
        browser.call("Page.navigate", {"url": (out / "index.html").as_uri()}, session=session)
        browser.wait_event("Page.loadEventFired")

        def evaluate(expression: str):
            return browser.call("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                                session=session)["result"].get("value")

        picks = ["0"] * len(data["keys"])
        for k, values in enumerate(data["values"]):
            for i in range(len(values)):
                evaluate(f"document.querySelector('input[name=k{k}][value=\"{i}\"]').click()")
                picks[k] = str(i)
                variant = data["variants"][",".join(picks)]
                assert evaluate("document.body.dataset.variant") == ",".join(picks)
                if "refused" in variant:
                    assert evaluate("document.getElementById('refused').textContent") == (
                        "Unavailable: " + "\n".join(variant["refused"]))
                    assert evaluate("document.getElementById('player').hidden") is True
                else:
                    assert evaluate("document.getElementById('player').getAttribute('src')") == variant["file"]
                    facts = evaluate("document.getElementById('facts').innerText")
                    assert f"output ({', '.join(map(str, variant['output_shape']))})" in facts
        # back to a combination that runs: the frame loads that variant's player
        key, variant = next((k, v) for k, v in data["variants"].items() if "file" in v and k != ",".join(picks))
        for k, i in enumerate(key.split(",")):
            evaluate(f"document.querySelector('input[name=k{k}][value=\"{i}\"]').click()")
        deadline = time.monotonic() + 10
        while evaluate("document.getElementById('player').dataset.loaded") != variant["file"]:
            assert time.monotonic() < deadline, "the chosen variant's player did not load"
            time.sleep(0.05)
        shot = browser.call("Page.captureScreenshot", {"format": "png"}, session=session)
        (tmp_path / "explore.png").write_bytes(base64.b64decode(shot["data"]))
    finally:
        browser.close()


def test_a_chain_stage_key_is_explored_with_each_stages_shapes(tmp_path):
    source = Path(__file__).resolve().parent.parent / "scenes" / "c09_chain_conv_then_transposed.toml"
    scene = tmp_path / source.name
    scene.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    result = explore(scene, [Vary.parse("ops[1].output_padding=0,1,2")], tmp_path / "out", jobs=2)
    data = page_data(tmp_path / "out")
    # output_padding must be smaller than the stride (2) or the dilation: torch refuses 2
    assert (result.variants, result.refused) == (3, 1)
    x = torch.zeros(1, 1, 3, 3, dtype=torch.float64)
    w = torch.zeros(1, 1, 3, 3, dtype=torch.float64)
    with pytest.raises(RuntimeError):
        F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=2)
    sizes = [F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=p).shape[-1] for p in (0, 1)]
    for index, size in zip("01", sizes):
        stages = data["variants"][index]["stages"]
        assert [s["kind"] for s in stages] == ["conv2d", "conv_transpose2d"]
        assert stages[1]["output_shape"] == [1, size, size] == data["variants"][index]["output_shape"]
    assert "ops[1].output_padding" in data["variants"]["2"]["refused"][0]


def test_a_scene_ships_its_sweep_in_an_explore_table(tmp_path, capsys):
    """scenes/b03_explore_conv_arguments.toml: stride × padding × dilation × kernel size on one input, run without
    --vary; the table is checked like the rest of the file."""
    source = Path(__file__).resolve().parent.parent / "scenes" / "b03_explore_conv_arguments.toml"
    from convgif.explore import scene_sweep

    sweep = scene_sweep(source)
    assert [v.key for v in sweep] == ["op.stride", "op.padding", "op.dilation", "op.kernel_size"]
    assert [len(v.values) for v in sweep] == [2, 2, 2, 3]
    bad = tmp_path / "bad.toml"
    bad.write_text(SMALL + '\n[explore]\n"op.stride" = []\n', encoding="utf-8")
    assert main(["check", str(bad)]) == 2
    assert capsys.readouterr().err.splitlines() == [f"{bad}: explore: op.stride: [] is not a list of the values to try"]
    assert main(["explore", str(bad), "-o", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out" / "index.html").exists()
    plain = tmp_path / "plain.toml"
    plain.write_text(SMALL, encoding="utf-8")
    assert main(["explore", str(plain), "-o", str(tmp_path / "out")]) == 2
    assert "or an [explore] table in the scene" in capsys.readouterr().err


def _explored(tmp_path, op: str, shape: str, sweep: list[str]):
    scene = tmp_path / "scene.toml"
    scene.write_text(f'title = "Explore"\n\n[op]\n{op}\n\n[input]\nshape = {shape}\nseed = 5\n\n'
                     '[render]\nsteps = {first = 1}\n', encoding="utf-8")
    varies = [Vary.parse(v) for v in sweep]
    result = explore(scene, varies, tmp_path / "out", jobs=2)
    data = page_data(tmp_path / "out")
    combos = {}
    for key, variant in data["variants"].items():
        combos[tuple(varies[k].values[int(i)] for k, i in enumerate(key.split(",")))] = variant
    return result, combos


def test_a_pool_sweep_refuses_what_torch_refuses_and_shows_torchs_shape(tmp_path):
    """max_pool2d: torch refuses padding over half the window, and a dilated window larger than the padded input."""
    result, combos = _explored(tmp_path, 'kind = "max_pool2d"\nkernel_size = 2',
                               "[1, 5, 5]", ["op.kernel_size=2,3", "op.padding=0,1,2", "op.dilation=1,3"])
    assert result.variants == 12 and 0 < result.refused < 12
    x = torch.arange(25, dtype=torch.float64).reshape(1, 1, 5, 5)
    for (kernel, padding, dilation), variant in combos.items():
        try:
            shape = list(F.max_pool2d(x, kernel, padding=padding, dilation=dilation).shape[1:])
        except RuntimeError:
            shape = None
        assert ("refused" in variant) == (shape is None), (kernel, padding, dilation, variant)
        if shape is not None:
            assert variant["output_shape"] == shape


def test_a_transposed_sweep_refuses_what_torch_refuses_and_shows_torchs_shape(tmp_path):
    """conv_transpose2d: torch refuses output_padding that is not smaller than the stride or the dilation."""
    result, combos = _explored(tmp_path, 'kind = "conv_transpose2d"\nout_channels = 1\nkernel_size = 3',
                               "[1, 3, 3]", ["op.stride=1,2", "op.output_padding=0,1", "op.dilation=1,2"])
    assert result.variants == 8 and 0 < result.refused < 8
    x = torch.zeros(1, 1, 3, 3, dtype=torch.float64)
    w = torch.zeros(1, 1, 3, 3, dtype=torch.float64)
    for (stride, output_padding, dilation), variant in combos.items():
        try:
            shape = list(F.conv_transpose2d(x, w, stride=stride, output_padding=output_padding,
                                            dilation=dilation).shape[1:])
        except RuntimeError:
            shape = None
        assert ("refused" in variant) == (shape is None), (stride, output_padding, dilation, variant)
        if shape is not None:
            assert variant["output_shape"] == shape
