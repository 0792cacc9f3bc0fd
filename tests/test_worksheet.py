"""The worksheet format: answers equal torch on the variants answers.json records (rebuilt from its "reproduce" keys
with convgif's loader), the PDF read back by poppler (pdfinfo, pdftotext), same scene same bytes, bad input refused
on one line with nothing written."""

from __future__ import annotations

import copy
import json
import random
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from convgif.cli import main
from convgif.errors import SceneError
from convgif.explore import set_key
from convgif.pipeline import render_scene
from convgif.scene import parse_scene, read_document
from tests.conftest import missing

F = torch.nn.functional
SCENES = Path(__file__).resolve().parent.parent / "scenes"
MINUS, TIMES = "\u2212", "\u00d7"


def poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        missing(f"{tool} is not installed (apt-get install poppler-utils)")
    return path


def page_texts(pdf: Path) -> list[str]:
    """pdftotext's text of each page (poppler separates pages with form feeds)."""
    done = subprocess.run([poppler("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True)
    return done.stdout.split("\f")[:-1]


def page_count(pdf: Path) -> int:
    done = subprocess.run([poppler("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", done.stdout, flags=re.MULTILINE).group(1))


def flat(text: str) -> str:
    return " ".join(text.split())


# ---- torch, independently of convgif's worksheet code ------------------------------------------------------------

def torch_op(op: dict, x, weight, bias):
    """torch.nn.functional applied with the scene's `[op]` keys as written in the file (defaults as torch's)."""
    kind = op["kind"]
    w = None if weight is None else torch.tensor(weight)
    b = None if bias is None else torch.tensor(bias)
    if kind in ("conv1d", "conv2d"):
        padding = op.get("padding", 0)
        if isinstance(padding, list) and isinstance(padding[0], list):  # [[before, after], ...]: F.pad, last dim first
            x = F.pad(x, tuple(v for pair in reversed(padding) for v in pair))
            padding = 0
        elif op.get("padding_mode", "zeros") != "zeros":  # an int padding, here: the same on every side
            x = F.pad(x, (padding,) * 2 * (x.dim() - 2), mode=op["padding_mode"])
            padding = 0
        return getattr(F, kind)(x, w, b, stride=op.get("stride", 1), padding=padding,
                                dilation=op.get("dilation", 1), groups=op.get("groups", 1))
    if kind.startswith("conv_transpose"):
        return getattr(F, kind)(x, w, b, stride=op.get("stride", 1), padding=op.get("padding", 0),
                                output_padding=op.get("output_padding", 0), groups=op.get("groups", 1),
                                dilation=op.get("dilation", 1))
    if kind.startswith("max_pool"):
        return getattr(F, kind)(x, op["kernel_size"], stride=op.get("stride"), padding=op.get("padding", 0),
                                dilation=op.get("dilation", 1), ceil_mode=op.get("ceil_mode", False))
    if kind.startswith("avg_pool"):
        return getattr(F, kind)(x, op["kernel_size"], stride=op.get("stride"), padding=op.get("padding", 0),
                                ceil_mode=op.get("ceil_mode", False),
                                count_include_pad=op.get("count_include_pad", True))
    if kind == "relu":
        return F.relu(x)
    if kind == "flatten":
        return torch.flatten(x, op.get("start_dim", 1), op.get("end_dim", -1))
    if kind == "linear":
        return F.linear(x, w, b)
    raise AssertionError(kind)


def torch_outputs(document: dict, source: str, reproduce: dict) -> list:
    """Each stage's torch output for the variant whose scene keys are `reproduce`, the values loaded by convgif's
    loader from the document with those keys set (as a user would set them in the file)."""
    varied = copy.deepcopy(document)
    for key, value in reproduce.items():
        set_key(varied, key, value)
    scene = parse_scene(varied, source)
    stages = [scene] if scene.scene_type == "op" else list(scene.stages())
    ops = [varied["op"]] if "op" in varied else varied["ops"]
    x = torch.tensor(stages[0].input_array())[None]
    outputs = []
    for op, stage in zip(ops, stages):
        x = torch_op(op, x, stage.weight_array(), stage.bias_array())
        outputs.append(x)
    return outputs


def check_against_torch(document: dict, source: str, answers: dict) -> int:
    """Every variant's shapes and asked cells equal torch's; returns how many cells were compared."""
    compared = 0
    for variant in answers["variants"]:
        outputs = torch_outputs(document, source, variant["reproduce"])
        assert variant["output_shape"] == list(outputs[-1].shape)
        for stage in variant.get("stages", []):
            assert stage["output_shape"] == list(outputs[stage["stage"] - 1].shape), stage
        for cell in variant["cells"]:
            out = outputs[cell.get("stage", len(outputs)) - 1]
            expected = float(out[tuple(cell["index"])])
            assert cell["value"] == pytest.approx(expected, abs=1e-9), (variant["variant"], cell)
            compared += 1
        assert variant["cells"], "a variant asks for cells"
    return compared


def render_worksheet(document: dict, out: Path, variants: int, name: str = "sheet.toml"):
    document = {**document, "output": {"formats": ["worksheet"], "variants": variants}}
    result = render_scene(parse_scene(document, str(out / name)), out)
    stem = Path(name).stem
    answers = json.loads((out / f"{stem}.answers.json").read_text(encoding="utf-8"))
    return result, out / f"{stem}.worksheet.pdf", answers


CONV2D = {
    "title": "Stride, padding, dilation, groups",
    "op": {"kind": "conv2d", "out_channels": 4, "kernel_size": [3, 2], "stride": [2, 1], "padding": 1,
           "dilation": [1, 2], "groups": 2},
    "input": {"shape": [2, 6, 6], "range": [-3, 5]},
    "weights": {"range": [-2, 2]},
}
CASES = {
    "conv1d": {"op": {"kind": "conv1d", "out_channels": 2, "kernel_size": 3, "padding": "same", "dilation": 2},
               "input": {"shape": [2, 9]}},
    "conv2d": CONV2D,
    "conv_transpose2d": {"op": {"kind": "conv_transpose2d", "out_channels": 2, "kernel_size": 3, "stride": 2,
                                "padding": 1, "output_padding": 1},
                         "input": {"shape": [2, 3, 3]}},
    "conv2d_reflect": {"op": {"kind": "conv2d", "out_channels": 2, "kernel_size": 3, "padding": 1,
                              "padding_mode": "reflect"},
                       "input": {"shape": [1, 5, 5]}},
    "conv_transpose1d": {"op": {"kind": "conv_transpose1d", "out_channels": 4, "kernel_size": 3, "stride": 3,
                                "padding": 2, "dilation": 2, "groups": 2, "bias": False},
                         "input": {"shape": [2, 5]}},
    "max_pool1d": {"op": {"kind": "max_pool1d", "kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2,
                          "ceil_mode": True},
                   "input": {"shape": [2, 12], "range": [-5, 5]}},
    "max_pool2d": {"op": {"kind": "max_pool2d", "kernel_size": 3, "stride": 2, "padding": 1},
                   "input": {"shape": [2, 6, 6], "range": [-9, 9]}},
    "avg_pool2d": {"op": {"kind": "avg_pool2d", "kernel_size": 2, "stride": 2, "padding": 1,
                          "count_include_pad": False},
                   "input": {"shape": [1, 5, 5]}},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_answers_equal_torch_on_every_variant(tmp_path, name):
    document = CASES[name]
    _, _, answers = render_worksheet(document, tmp_path, 3)
    assert [v["variant"] for v in answers["variants"]] == [1, 2, 3]
    assert len({json.dumps(v["reproduce"]) for v in answers["variants"]}) == 3, "each variant has its own seed"
    assert check_against_torch(document, str(tmp_path / "sheet.toml"), answers) == 9


def test_answers_equal_torch_for_the_shipped_scenes(tmp_path):
    """The scenes the brief names: conv with everything, transposed, max pool, and a conv-relu-pool-flatten-linear
    chain (cells asked in every stage with arithmetic, shapes in every stage)."""
    for name in ("a09_everything", "c08_transposed_zero_insertion", "c05_max_pool", "c05_avg_pool",
                 "c06_chain_conv_relu_pool_linear", "c07_causal_conv1d"):
        path = SCENES / f"{name}.toml"
        assert main(["render", str(path), "--format", "worksheet", "--variants", "2", "-o", str(tmp_path),
                     "-q"]) == 0
        answers = json.loads((tmp_path / f"{name}.answers.json").read_text(encoding="utf-8"))
        assert answers["scene"] == name and answers["format_version"] == 1
        check_against_torch(read_document(path), str(path), answers)
        if name.startswith("c06"):
            stages = {cell["stage"] for cell in answers["variants"][0]["cells"]}
            assert stages == {1, 3, 5}  # conv, max pool, linear; relu and flatten ask their shape only
            assert len(answers["variants"][0]["stages"]) == 5


def random_conv(rng: random.Random) -> dict:
    ndim = rng.choice([1, 2])
    groups = rng.choice([1, 1, 2])
    c_in = groups * rng.randint(1, 2)
    op = {"kind": f"conv{ndim}d", "out_channels": groups * rng.randint(1, 2), "groups": groups,
          "kernel_size": rng.randint(1, 3), "stride": rng.randint(1, 2), "dilation": rng.randint(1, 2),
          "padding": rng.choice([0, 1, 2, "same"]), "bias": rng.choice([True, False])}
    spatial = [rng.randint(3, 8) for _ in range(ndim)]
    return {"op": op, "input": {"shape": [c_in, *spatial], "range": [-4, 6]}, "weights": {"range": [-3, 3]}}


def test_random_conv_scenes_answer_as_torch(tmp_path):
    """A seeded sweep over shapes and arguments: every scene convgif accepts answers as torch does (combos the
    scene rules refuse, as torch would, are skipped, and counted so the sweep cannot become empty). The answers are
    the records the writer puts in answers.json, taken from the frames it is handed (the first scenes go through
    the whole render and its file; the PDF costs ~2 s a scene, so the rest stop before it)."""
    from convgif.worksheet import variant_frames

    rng = random.Random(18)
    checked = 0
    for k in range(60):
        document = random_conv(rng)
        source = str(tmp_path / f"{k}.toml")
        try:
            scene = parse_scene({**document, "output": {"formats": ["worksheet"], "variants": 3}}, source)
        except SceneError:
            continue
        if checked < 3:
            render_scene(scene, tmp_path)
            answers = json.loads((tmp_path / f"{k}.answers.json").read_text(encoding="utf-8"))
        else:
            answers = {"variants": [frame.sheet.record for frame in variant_frames(scene)]}
        check_against_torch(document, source, answers)
        checked += 1
    assert checked >= 30


# ---- the PDF, read by poppler --------------------------------------------------------------------------------------

def factor(value: float) -> str:
    text = str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0").rstrip(".")
    text = text.replace("-", MINUS)
    return f"({text})" if text.startswith(MINUS) else text


def test_pdf_pages_questions_and_answer_key(tmp_path):
    """pdfinfo's page count is the question pages then the answer pages; the answer key (after every question page)
    writes each asked cell's value and every product of its window, padding zeros included, with no ellipsis; the
    question pages leave the answers blank."""
    document = {"title": "Padding", "op": {"kind": "conv2d", "out_channels": 2, "kernel_size": 3, "padding": 1},
                "input": {"shape": [1, 5, 5]}}
    _, pdf, answers = render_worksheet(document, tmp_path, 2)
    texts = page_texts(pdf)
    assert page_count(pdf) == len(texts)
    first_key = next(i for i, t in enumerate(texts) if "Answer key" in t)
    questions, key = texts[:first_key], texts[first_key:]
    assert questions and all("Answer key" not in t for t in questions)
    assert all("Answer key" in t for t in key)
    assert [n for n in (1, 2) if any(f"Variant {n}: questions" in t for t in questions)] == [1, 2]
    question_text, key_text = flat(" ".join(questions)), flat(" ".join(key))
    assert question_text.count("Shape of y: ____") == 2
    assert "\u2026" not in key_text and "..." not in key_text
    source = str(tmp_path / "sheet.toml")
    for variant in answers["variants"]:
        varied = copy.deepcopy(document)
        for name, value in variant["reproduce"].items():
            set_key(varied, name, value)
        scene = parse_scene(varied, source)
        x = np.pad(scene.input_array(), ((0, 0), (1, 1), (1, 1)))  # padding 1, zeros: read by the border cells
        w, b = scene.weight_array(), scene.bias_array()
        assert any(0 in cell["index"][2:] or 4 in cell["index"][2:] for cell in variant["cells"]), \
            "one asked cell reads padding"
        for cell in variant["cells"]:
            _, o, i, j = cell["index"]
            name = f"y[0, {o}, {i}, {j}]"
            assert f"{name} = ____" in question_text
            assert f"{name} = {factor(cell['value']).strip('()')}" not in question_text
            terms = " + ".join(f"{factor(x[0, i + a, j + c])}{TIMES}{factor(w[o, 0, a, c])}"
                               for a in range(3) for c in range(3))
            line = f"{terms} + bias ({factor(b[o]).strip('()')}) = {factor(cell['value']).strip('()')}"
            assert f"{name} = {factor(cell['value']).strip('()')}" in key_text
            assert line in key_text, line


def test_same_scene_same_bytes(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        out.mkdir()
        assert main(["render", str(SCENES / "c06_chain_conv_relu_pool_linear.toml"), "--format", "worksheet",
                     "--variants", "2", "-o", str(out), "-q"]) == 0
    for name in ("c06_chain_conv_relu_pool_linear.worksheet.pdf", "c06_chain_conv_relu_pool_linear.answers.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


# ---- bad input -----------------------------------------------------------------------------------------------------

def outputs(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != ".convgif-build.json") if folder.exists() else []


def write_scene(path: Path, shape: str, kind: str = "conv2d") -> Path:
    path.write_text(f'[op]\nkind = "{kind}"\nkernel_size = 3\n\n[input]\nshape = {shape}\n', encoding="utf-8")
    return path


@pytest.mark.parametrize("case, expected", [
    ("image", "f01_image_sobel_edges.toml: input.image: a worksheet prints every input number: an image input is "
              "too big to print (use a small input.shape with values = \"random\")"),
    ("big", "big.toml: input.shape: 1×16×16 is too big to print legibly on a worksheet (at most 12×12 per channel "
            "and 300 numbers in all)"),
    ("zero", "convgif: --variants 0: must be from 1 to 500"),
    ("gif", "convgif: --variants is for --format worksheet, not gif"),
    ("no_format", "convgif: --variants is for --format worksheet (no --format given)"),
])
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, capsys, case, expected):
    out = tmp_path / "out"
    scene = str(SCENES / "f01_image_sobel_edges.toml") if case == "image" else \
        str(write_scene(tmp_path / "big.toml", "[1, 16, 16]" if case == "big" else "[1, 5, 5]"))
    args = {"image": ["--format", "worksheet"], "big": ["--format", "worksheet", "--variants", "2"],
            "zero": ["--format", "worksheet", "--variants", "0"], "gif": ["--format", "gif", "--variants", "2"],
            "no_format": ["--variants", "2"]}[case]
    assert main(["render", scene, *args, "-o", str(out), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].endswith(expected), err[0]
    assert outputs(out) == []


def test_a_scene_file_asking_variants_of_a_format_without_them_is_refused(tmp_path, capsys):
    path = tmp_path / "v.toml"
    path.write_text('[op]\nkind = "conv2d"\nkernel_size = 3\n\n[input]\nshape = [1, 5, 5]\n\n[output]\n'
                    'formats = ["gif"]\nvariants = 2\n', encoding="utf-8")
    assert main(["render", str(path), "-o", str(tmp_path / "out"), "-q"]) == 2
    assert capsys.readouterr().err.strip() == (f"{path}: output.variants: only worksheet output makes variants, "
                                               "and this render writes gif")
    assert outputs(tmp_path / "out") == []
