"""Hostile input through the CLI: every random file ends in a render or an exit-2 message naming the file
(and the key), never a traceback, a hang or a stray file.

The same strategies drive `benchmarks/fuzz_scenes.py`, which runs many more examples.
"""

from __future__ import annotations

import datetime
import io
import math
import re
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from convgif.build_cache import MANIFEST_NAME
from convgif.cli import main

# ---- writing TOML (tomllib only reads) -------------------------------------------------------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def toml_key(key: str) -> str:
    if _BARE_KEY.fullmatch(key):
        return key
    return '"' + "".join(_escape(ch) for ch in key) + '"'


def _escape(ch: str) -> str:
    if ch in '"\\':
        return "\\" + ch
    if ord(ch) < 0x20 or ord(ch) == 0x7F or 0xD800 <= ord(ch) <= 0xDFFF:
        return f"\\u{ord(ch):04x}" if ord(ch) < 0xD800 or ord(ch) > 0xDFFF else "?"
    return ch


def toml_value(value) -> str:
    """An inline TOML value (tables become inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return '"' + "".join(_escape(ch) for ch in value) + '"'
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no TOML for {type(value).__name__}")


def toml_dumps(document: dict) -> str:
    """A TOML document: top-level tables as [sections], everything else inline."""
    lines = [f"{toml_key(k)} = {toml_value(v)}" for k, v in document.items() if not isinstance(v, dict)]
    for key, table in document.items():
        if isinstance(table, dict):
            lines.append(f"[{toml_key(key)}]")
            lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


# ---- strategies ------------------------------------------------------------------------------------

SECTION_KEYS = {
    "op": ["kind", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias",
           "padding_mode", "output_padding", "ceil_mode", "count_include_pad", "norm_type"],
    "input": ["shape", "values", "seed", "range"],
    "weights": ["values", "seed", "range", "bias"],
    "render": ["duration_ms", "hold_ms", "width", "theme", "steps", "max_frames", "view"],
    "output": ["name"],
    "still": ["kind", "image", "size", "kernels", "relu", "input_shape", "kernel_size"],
}
TOP_TEXT_KEYS = ["title", "description", "caption"]
ALL_KEYS = sorted({k for keys in SECTION_KEYS.values() for k in keys} | set(SECTION_KEYS) | set(TOP_TEXT_KEYS))
WORDS = ["conv2d", "conv1d", "conv3d", "conv_transpose2d", "max_pool2d", "avg_pool1d", "lp_pool2d", "feature_maps",
         "weight_tensor", "random", "arange", "same", "valid", "full", "all", "zeros", "circular", "sobel_x", "box",
         "scatter", "zero_insertion", "dark", "{input_shape}", "{nope}", "{", "../escape", "/abs/path", "a\nb",
         "images/shapes.png", "no_such.png", "__import__('os')", "${HOME}", "", " "]

nasty_numbers = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64),  # TOML integers are 64-bit: bigger ones do not parse
    st.integers(min_value=-3, max_value=9),
    st.sampled_from([0, 1, 2**31, 2**63 - 1, -(2**63), 4096, 4097, 7000, 10**6, 10**9]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e-308, 0.5, 2.0, 1e9, 1e10]),
)
scalars = st.one_of(
    nasty_numbers,
    st.booleans(),
    st.sampled_from(WORDS),
    st.text(max_size=10),
    st.dates(),
)


def nested(depth: int):
    """A list nested `depth` deep (deep nesting must be refused, not recursed into)."""
    return st.integers(0, 9).map(lambda v: nest(v, depth))


def nest(value, depth: int):
    for _ in range(depth):
        value = [value]
    return value


values = st.one_of(
    st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.one_of(st.sampled_from(ALL_KEYS), st.text(max_size=5)), inner, max_size=4),
        ),
        max_leaves=12,
    ),
    st.integers(1, 60).flatmap(nested),
    st.lists(st.integers(1, 7000), min_size=0, max_size=5),  # shapes, sizes, strides of any length
)


@st.composite
def scene_documents(draw):
    """TOML documents shaped like scenes: real sections and keys, mixed up, with hostile values."""
    document = {}
    for key in draw(st.lists(st.sampled_from(TOP_TEXT_KEYS), max_size=2, unique=True)):
        document[key] = draw(st.one_of(st.text(max_size=20), values))
    sections = draw(st.lists(st.sampled_from(sorted(SECTION_KEYS)), min_size=0, max_size=5, unique=True))
    for section in sections:
        if draw(st.integers(0, 19)) == 0:  # a section that is not a table
            document[section] = draw(scalars)
            continue
        # keys of this section, sometimes of another one (mixed-up sections), sometimes made up
        key_pool = st.one_of(st.sampled_from(SECTION_KEYS[section]), st.sampled_from(ALL_KEYS), st.text(max_size=6))
        keys = draw(st.lists(key_pool, max_size=6, unique=True))
        document[section] = {key: draw(values) for key in keys}
    if draw(st.integers(0, 9)) == 0:
        document[draw(st.text(min_size=1, max_size=6))] = draw(values)  # unknown top-level key or table
    return document


# ---- running the CLI in-process ------------------------------------------------------------------

def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


# a scene key (not an engine argument name: that would be a check the loader missed)
KEY_LINE = r"(op|input|weights|render|output|still|title|caption|description)(\.[A-Za-z_][A-Za-z0-9_]*)*: \S"


def assert_clean_exit(code: int, err: str, path: Path, *, keyed: bool = False) -> None:
    """Exit 0 with nothing on stderr, or exit 2 with one `FILE: [key: ]message` line per problem."""
    assert "Traceback" not in err and "internal error" not in err, err
    assert code in (0, 2), (code, err)
    lines = err.splitlines()
    if code == 0:
        assert not lines, err
        return
    assert lines, "exit 2 without a message"
    for line in lines:
        assert line.startswith(f"{path}: "), line
        if keyed:
            assert re.match(KEY_LINE, line[len(f"{path}: "):]), line


# derandomized: the same inputs every run; benchmarks/fuzz_scenes.py searches the same strategies with many more
FAST = settings(max_examples=350, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@FAST
@given(st.one_of(st.binary(max_size=300), st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe[op]", b"\x00" * 10,
                                                          b"[op]\nkind = \"conv2d\"\n\x80"])))
def test_random_bytes_end_in_exit_2_with_the_file_name(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bytes.toml"
        path.write_bytes(data)
        code, _, err = run_cli("check", str(path))
        assert_clean_exit(code, err, path)


@FAST
@given(scene_documents())
def test_random_scene_documents_end_in_a_valid_scene_or_exit_2(document):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.toml"
        path.write_text(toml_dumps(document), encoding="utf-8")
        code, _, err = run_cli("check", str(path))
        assert_clean_exit(code, err, path)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.lists(st.sampled_from(['[op]', '[input]', '[render]', '[still]', '[[op]]', '[op.x]', 'kind = "conv2d"',
                                 'kernel_size = 3', 'shape = [1, 5, 5]', 'shape = [3, 7000, 7000]', 'a = {b = {c = 1}}',
                                 'x = [[[[[[[[[[1]]]]]]]]]]', 'y = """', "z = '", '= 1', 'kind = 1979-05-27',
                                 'width = 1e999', 'steps = {first = -1}', 'name = "../../etc/passwd"', '\t', '\r\n']),
                max_size=10))
def test_random_lines_end_in_a_valid_scene_or_exit_2(lines):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "lines.toml"
        path.write_text("\n".join(lines), encoding="utf-8")
        code, _, err = run_cli("check", str(path))
        assert_clean_exit(code, err, path)


# ---- valid-but-extreme scenes through the whole pipeline ------------------------------------------

KINDS = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d", "avg_pool2d",
         "lp_pool1d"]


@st.composite
def extreme_scenes(draw):
    """Scenes that mostly pass per-key checks but push sizes, channels, values and widths to the edges."""
    kind = draw(st.sampled_from(KINDS))
    ndim = int(kind[-2])
    size = st.sampled_from([1, 2, 3, 7, 40, 130, 401, 2002, 4096])
    channels = draw(st.sampled_from([1, 1, 2, 3, 16, 64]))
    shape = [channels] + [draw(size) for _ in range(ndim)]
    op = {"kind": kind, "kernel_size": draw(st.sampled_from([1, 2, 3, 5, 40]))}
    if kind.startswith("conv"):
        op["out_channels"] = draw(st.sampled_from([1, 2, channels, 64]))
        if draw(st.booleans()):
            op["groups"] = draw(st.sampled_from([1, channels]))
    if draw(st.booleans()):
        op["stride"] = draw(st.sampled_from([1, 2, 3, 50]))
    if draw(st.booleans()) and not kind.startswith("lp"):
        op["dilation" if not kind.startswith("avg") else "padding"] = draw(st.sampled_from([1, 2, 9]))
    document = {
        "title": draw(st.sampled_from(["", "t", "x" * 400, "é∑ ∫ 😀", "line\nbreak"])),
        "op": op,
        "input": {"shape": shape, "values": draw(st.sampled_from(["random", "arange"])),
                  "range": draw(st.sampled_from([[0, 9], [-1000000, 1000000], [0, 0]]))},
        "render": {"steps": {"first": 1}, "duration_ms": 20, "hold_ms": 20,
                   "width": draw(st.sampled_from([160, 320, 480, 720]))},
    }
    if kind.startswith("conv") and draw(st.booleans()):
        document["weights"] = {"range": draw(st.sampled_from([[-1, 1], [-1000000, 1000000]]))}
    return document


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(extreme_scenes())
def test_extreme_valid_scenes_render_or_exit_2_before_writing(document):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "extreme.toml"
        out = Path(folder) / "out"
        path.write_text(toml_dumps(document), encoding="utf-8")
        code, _, err = run_cli("render", str(path), "-o", str(out), "-q")
        assert_clean_exit(code, err, path, keyed=True)
        written = sorted(p.name for p in out.iterdir()) if out.exists() else []
        if code == 2:
            assert written == []
            check_code, _, check_err = run_cli("check", str(path))  # check finds every render-time refusal
            assert (check_code, check_err) == (code, err)
        else:  # the picture, and the build manifest that says it is up to date (convgif/build_cache.py)
            assert written == sorted(["extreme.gif", MANIFEST_NAME])
            with Image.open(out / "extreme.gif") as image:
                assert image.n_frames == 2 and image.size[0] == document["render"]["width"]
