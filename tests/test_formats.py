"""Output formats: every format written by the pipeline and read back (frame counts, sizes, PDF pages),
the key-step choice, stills, the mp4 extra, CLI flags, memory caps and pinned messages."""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageSequence

from conftest import require
from convgif.build_cache import MANIFEST_NAME
from convgif.cli import build_parser, main
from convgif.encode import (
    ApngWriter,
    FrameBufferLimitError,
    Palette,
    PdfWriter,
    StripWriter,
    WebpWriter,
    Writer,
)
from convgif.encode.mp4 import even_frame
from convgif.errors import ConvgifError, MissingExtraError, SceneError
from convgif.formats import UnknownFormatError, format_names, output_format, suffixes
from convgif.pipeline import build_trace, drawable_view, render_scene
from convgif.scene import load_scene, parse_scene

SCENES = Path(__file__).resolve().parent.parent / "scenes"
WIDTH = 480
# conv2d, 1x4x4 input, 2x2 kernel: 3x3 = 9 steps, so 9 step frames + 1 hold frame
TINY = {
    "title": "tiny",
    "op": {"kind": "conv2d", "kernel_size": 2},
    "input": {"shape": [1, 4, 4], "values": "arange"},
    "weights": {"values": [[[[1, 0], [0, -1]]]]},
    "render": {"width": WIDTH, "duration_ms": 300, "hold_ms": 1000},
}
STEPS = 9
FORMATS = format_names()
# each read by its real reader in its own test file (test_pptx.py, ..., test_worksheet.py)
SLIDES = ("pptx", "beamer", "revealjs", "html", "worksheet")
NON_MP4 = [f for f in FORMATS if f != "mp4" and f not in SLIDES]


def tiny(**output) -> object:
    return parse_scene({**TINY, "output": output}, "tiny.toml")


def pdf_pages(data: bytes) -> list[tuple[float, float]]:
    """(width, height) in points of each page object of a PDF (`/Type /Page`, not the `/Pages` tree)."""
    pages = []
    for match in re.finditer(rb"<<(?:(?!>>).)*?/Type\s*/Page(?![s\w])(?:(?!>>).)*?>>", data, flags=re.DOTALL):
        box = re.search(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", match.group(0))
        pages.append((float(box.group(3)) - float(box.group(1)), float(box.group(4)) - float(box.group(2))))
    return pages


@pytest.fixture(scope="module")
def every_format(tmp_path_factory):
    """One render of the tiny scene in every format but mp4, and the frames as the view draws them."""
    out = tmp_path_factory.mktemp("formats")
    scene = tiny(formats=NON_MP4, dpi=200)
    result = render_scene(scene, out)
    view = drawable_view(scene, build_trace(scene))
    return scene, result, out, view


def test_every_format_record_names_a_writer_and_is_offered_everywhere():
    """Validation, the CLI's help and the API's suffixes all come from the records."""
    from convgif.scene.spec import FORMATS as VALIDATED

    assert VALIDATED == FORMATS
    help_text = " ".join(build_parser()._subparsers._group_actions[0].choices["render"].format_help().split())
    assert ", ".join(FORMATS) in help_text
    for name in FORMATS:
        record = output_format(name)
        assert issubclass(record.writer_type(), Writer), name
        assert record.frames in ("steps", "key_steps", "one", "slides", "final", "variants")
    players = {".html": "html"} if "html" in FORMATS else {}
    assert suffixes() == {".gif": "gif", ".pdf": "pdf", ".svg": "svg", ".webp": "webp", ".apng": "apng", ".mp4": "mp4",
                          ".webm": "webm", ".pptx": "pptx", ".tex": "beamer", **players}


def test_the_gif_plays_the_paced_durations(tmp_path):
    scene = parse_scene({**TINY, "render": {**TINY["render"], "loop_ms": 3100}}, "tiny.toml")
    with Image.open(render_scene(scene, tmp_path).path) as image:
        durations = [frame.info["duration"] for frame in ImageSequence.Iterator(image)]
    assert durations == scene.step_durations(STEPS) + [1000] == [300] * 3 + [200] * 6 + [1000]


def test_an_unknown_format_name_gets_a_suggestion():
    with pytest.raises(UnknownFormatError) as caught:
        output_format("gfi")
    assert str(caught.value) == ("unknown output format 'gfi' (did you mean 'gif'?); available: "
                                 + ", ".join(sorted(FORMATS)))
    assert {"apng", "gif", "mp4", "pdf", "png", "poster", "pptx", "strip", "svg", "webm", "webp"} <= set(FORMATS)
    assert isinstance(caught.value, ConvgifError) and caught.value.exit_code == 2


def test_writers_get_each_frame_with_its_step(tmp_path, monkeypatch):
    """A writer is handed every frame with the trace step it shows (None: the finished picture)."""
    from convgif.encode import GifWriter

    seen, write_frame = [], GifWriter.write_frame

    def watched(self, frame):
        seen.append((frame.step, frame.duration_ms))
        write_frame(self, frame)

    monkeypatch.setattr(GifWriter, "write_frame", watched)
    render_scene(tiny(formats=["gif"]), tmp_path)
    assert seen == [(i, 300) for i in range(STEPS)] + [(None, 1000)]


def test_every_format_is_written_and_named_after_the_scene(every_format):
    scene, result, out, _ = every_format
    names = [p.name for p in result.paths]
    assert names == ["tiny.gif", "tiny", "tiny_strip.png", "tiny.pdf", "tiny.poster.png", "tiny.svg", "tiny.webp",
                     "tiny.apng", "tiny.webm", "tiny.layout.json"]
    assert result.path == out / "tiny.gif" and result.frames == STEPS + 1
    assert result.bytes == sum(
        sum(f.stat().st_size for f in p.iterdir()) if p.is_dir() else p.stat().st_size for p in result.paths)
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]


@pytest.mark.parametrize("name", ["tiny.gif", "tiny.webp", "tiny.apng"])
def test_animations_read_back_with_every_frame_and_duration(every_format, name):
    _, _, out, view = every_format
    with Image.open(out / name) as image:
        assert image.size == view.size
        assert image.n_frames == STEPS + 1
        durations = []
        for frame in ImageSequence.Iterator(image):
            frame.load()  # Pillow's WebP reader sets a frame's duration when it decodes it
            durations.append(frame.info["duration"])
    assert durations == [300] * STEPS + [1000]


def test_animated_frames_match_the_drawn_frames(every_format):
    _, _, out, view = every_format
    drawn = list(view.frames(range(STEPS))) + [view.final_frame()]
    with Image.open(out / "tiny.webp") as image:  # lossless: exact
        for frame, expected in zip(ImageSequence.Iterator(image), drawn):
            assert np.array_equal(np.asarray(frame.convert("RGB")), expected)
    palette = Palette(view.palette_colors())  # APNG, like the GIF, stores each pixel's palette colour
    with Image.open(out / "tiny.apng") as image:
        assert image.n_frames == len(drawn)
        for frame, expected in zip(ImageSequence.Iterator(image), drawn):
            assert np.array_equal(np.asarray(frame.convert("RGB")), palette.colors[palette.index(expected)])


def test_png_frames_folder(every_format):
    _, _, out, view = every_format
    folder = out / "tiny"
    files = sorted(p.name for p in folder.glob("frame_*.png"))
    assert files == [f"frame_{i:04d}.png" for i in range(STEPS + 1)]
    manifest = json.loads((folder / "frames.json").read_text())
    assert [f["duration_ms"] for f in manifest["frames"]] == [300] * STEPS + [1000]
    with Image.open(folder / files[0]) as image:
        assert image.size == view.size


def test_strip_shows_the_default_key_steps_side_by_side(every_format):
    scene, _, out, view = every_format
    assert scene.key_steps() == [0, 4, 8, None]  # first, middle, last, final
    width, height = view.size
    gap = 16
    with Image.open(out / "tiny_strip.png") as image:
        assert image.size == (gap + 4 * (width + gap), 2 * gap + height)  # 4 x 480 px fit one row
        assert round(image.info["dpi"][0]) == 200
        strip = np.asarray(image.convert("RGB"))
    expected = [next(iter(view.frames([0]))), next(iter(view.frames([4]))), next(iter(view.frames([8]))),
                view.final_frame()]
    for number, frame in enumerate(expected):
        left = gap + number * (width + gap)
        assert np.array_equal(strip[gap:gap + height, left:left + width], frame)
    assert (strip[:gap] == strip[0, 0]).all()  # the margin is the background


def test_pdf_has_one_vector_page_per_key_step(every_format):
    _, _, out, view = every_format
    data = (out / "tiny.pdf").read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    width, height = view.size
    pages = pdf_pages(data)
    assert len(pages) == 4
    for page in pages:  # 200 dpi: width / 200 inches, 72 points per inch
        assert page == pytest.approx((width / 200 * 72, height / 200 * 72), abs=0.01)
    assert b"/FontFile2" in data  # text embedded as a TrueType font: vector, selectable
    assert b"/Subtype /Image" not in data  # no raster picture anywhere


def test_svg_is_one_vector_picture_in_css_pixels(every_format):
    scene, _, out, view = every_format
    root = ElementTree.parse(out / "tiny.svg").getroot()
    width, height = view.size
    assert root.get("width") == f"{width * 0.75:g}pt"  # 96 CSS px per inch: one CSS px per frame px
    assert float(root.get("height").removesuffix("pt")) == pytest.approx(height * 0.75)
    text = (out / "tiny.svg").read_text()
    assert "<image" not in text and "<path" in text
    assert scene.svg_step() == 4


def test_vector_pages_draw_the_reference_frame(every_format):
    """The primitives of a pdf/svg page, painted by Agg, are exactly the view's own reference frame."""
    from convgif.render.paint import mpl_render

    _, _, _, view = every_format
    for step in (0, 5, None):
        # the page's primitives rastered as the frame is (text anti-aliasing is a raster setting, not a vector one)
        painted = mpl_render(view.size, view.theme.background, view.primitives(step),
                             crisp_text=view.theme.crisp_text)
        assert np.array_equal(painted, view.reference_frame(step))


def test_pdf_and_svg_are_deterministic(tmp_path):
    scene = tiny(formats=["pdf", "svg"], key_steps=[1, "final"])
    first = render_scene(scene, tmp_path / "a")
    second = render_scene(scene, tmp_path / "b")
    for a, b in zip(first.paths, second.paths):
        assert a.read_bytes() == b.read_bytes()
    assert len(pdf_pages(first.paths[0].read_bytes())) == 2


def test_key_steps_and_svg_step_choose_the_pictures(tmp_path):
    scene = tiny(formats=["strip", "svg"], key_steps=["final", 2], svg_step="final")
    assert scene.key_steps() == [None, 2] and scene.svg_step() is None
    result = render_scene(scene, tmp_path)
    view = drawable_view(scene, build_trace(scene))
    width, height = view.size
    with Image.open(result.paths[0]) as image:
        strip = np.asarray(image.convert("RGB"))
    assert np.array_equal(strip[16:16 + height, 16:16 + width], view.final_frame())
    assert np.array_equal(strip[16:16 + height, 32 + width:32 + 2 * width], next(iter(view.frames([2]))))


def test_key_steps_out_of_range_is_a_scene_error(tmp_path):
    with pytest.raises(SceneError) as caught:  # caught when the scene is loaded, before anything is drawn
        tiny(formats=["pdf"], key_steps=[0, 9, 12])
    assert caught.value.lines() == [
        'tiny.toml: output.key_steps: step index 9, 12 out of range (this scene has 9 steps: 0..8, or "final")']
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("output, expected", [
    ({"formats": ["gfi"]}, f"output.formats: 'gfi' is not an output format (one of {', '.join(FORMATS)}) "
                           "(did you mean 'gif'?)"),
    ({"formats": ["gif", "gif"]}, "output.formats: lists 'gif' twice (each format is written once)"),
    ({"formats": "gif"}, 'output.formats: \'gif\' is not a list of format names (e.g. ["gif", "pdf"]; '
                         f"formats: {', '.join(FORMATS)})"),
    ({"key_steps": [0, "last"]}, 'output.key_steps: \'last\' is not a step (a step index from 0, or "final" '
                                 "for the finished picture)"),
    ({"key_steps": [3, 3]}, "output.key_steps: lists step 3 twice"),
    ({"svg_step": -1}, 'output.svg_step: -1 is not a step (a step index from 0, or "final" for the finished '
                       "picture)"),
    ({"dpi": 10}, "output.dpi: 10 is out of range (must be at least 50)"),
])
def test_output_key_messages(output, expected):
    with pytest.raises(SceneError) as caught:
        tiny(**output)
    assert caught.value.lines() == [f"tiny.toml: {expected}"]


# ---- stills -------------------------------------------------------------------------------------------

def still(name: str, **output):
    scene = load_scene(str(SCENES / name))
    return scene.model_copy(update={"output": scene.output.model_copy(update=output)})


def test_single_picture_still_writes_png_pdf_svg(tmp_path):
    scene = still("c06_pipeline_flatten.toml", formats=("png", "pdf", "svg"), dpi=100)
    result = render_scene(scene, tmp_path)
    assert [p.name for p in result.paths] == ["c06_pipeline_flatten.png", "c06_pipeline_flatten.pdf",
                                              "c06_pipeline_flatten.svg"]
    with Image.open(result.paths[0]) as image:
        size = image.size
    pages = pdf_pages(result.paths[1].read_bytes())
    assert pages == [pytest.approx((size[0] / 100 * 72, size[1] / 100 * 72), abs=0.01)]
    assert "<image" in result.paths[2].read_text()  # a still exists only as pixels: embedded


def test_single_picture_still_refuses_animations(tmp_path):
    scene = still("c06_pipeline_flatten.toml", formats=("gif", "strip", "pdf"))
    with pytest.raises(SceneError) as caught:
        render_scene(scene, tmp_path)
    assert caught.value.lines() == [
        f"{scene.source}: output.formats: gif, strip need several pictures, but this cnn_pipeline still is a "
        "single picture (use png, pdf or svg)"]
    assert not list(tmp_path.iterdir())


def test_multi_picture_still_strip_and_pdf(tmp_path):
    scene = still("c04_relu.toml", formats=("strip", "pdf", "webp"))
    result = render_scene(scene, tmp_path)
    assert result.frames == 2
    with Image.open(result.paths[2]) as image:
        width, height = image.size
        assert image.n_frames == 2
    with Image.open(result.paths[0]) as image:
        assert image.size == (16 + 2 * (width + 16), 32 + height)
    assert len(pdf_pages(result.paths[1].read_bytes())) == 2


# ---- writers on their own -------------------------------------------------------------------------------

def test_strip_wraps_into_balanced_rows(tmp_path):
    colours = [(200, 0, 0), (0, 200, 0), (0, 0, 200), (200, 200, 0)]
    path = tmp_path / "s.png"
    with StripWriter(path, gap=10, background=(255, 255, 255)) as writer:
        for colour in colours:
            writer.write(np.full((50, 720, 3), colour, dtype=np.uint8))
    with Image.open(path) as image:
        strip = np.asarray(image)
    assert strip.shape == (10 + 2 * 60, 10 + 2 * 730, 3)  # 4 x 720 px > 2400 px: 2 rows of 2
    for number, colour in enumerate(colours):
        row, column = divmod(number, 2)
        assert (strip[10 + 60 * row:60 + 60 * row, 10 + 730 * column:730 + 730 * column] == colour).all()
    assert (strip[:10] == 255).all()


def test_buffered_formats_stop_at_their_memory_cap(tmp_path):
    frame = np.zeros((100, 100, 3), dtype=np.uint8)
    with pytest.raises(FrameBufferLimitError) as caught:
        with WebpWriter(tmp_path / "a.webp", max_bytes=50_000) as writer:
            for value in range(3):
                writer.write(frame + value, 100)
    assert caught.value.exit_code == 2
    assert "webp output holds every frame in memory" in str(caught.value)
    assert "render.steps = {every = k}" in str(caught.value)
    assert not list(tmp_path.iterdir())


def test_buffered_writers_merge_identical_frames(tmp_path):
    frame = np.zeros((8, 8, 3), dtype=np.uint8)
    with ApngWriter(tmp_path / "a.apng") as writer:
        writer.write(frame, 100)
        writer.write(frame, 150)
        writer.write(frame + 9, 50)
    with Image.open(tmp_path / "a.apng") as image:
        assert image.n_frames == 2
        assert [f.info["duration"] for f in ImageSequence.Iterator(image)] == [250, 50]


def test_pdf_writer_failure_leaves_no_file(tmp_path):
    target = tmp_path / "x.pdf"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with PdfWriter(target) as writer:
            writer.write(np.zeros((10, 10, 3), dtype=np.uint8))
            raise RuntimeError("killed")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.pdf"]


def test_even_frame_repeats_the_edge():
    frame = np.arange(3 * 5 * 3, dtype=np.uint8).reshape(3, 5, 3)
    grown = even_frame(frame)
    assert grown.shape == (4, 6, 3)
    assert np.array_equal(grown[:3, :5], frame)
    assert np.array_equal(grown[3, :5], frame[2]) and np.array_equal(grown[:3, 5], frame[:, 4])


# ---- mp4 ------------------------------------------------------------------------------------------------

def test_mp4_without_the_extra_exits_2_naming_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # `import imageio_ffmpeg` now fails
    path = tmp_path / "tiny.toml"
    path.write_text('[op]\nkind = "conv2d"\nkernel_size = 2\n[input]\nshape = [1, 3, 3]\n')
    code = main(["render", str(path), "-o", str(tmp_path / "out"), "--format", "gif,mp4", "-q"])
    assert code == 2
    assert f"{path}: mp4 output needs the mp4 extra: pip install 'convgif[mp4]'" in capsys.readouterr().err
    assert not (tmp_path / "out" / "tiny.gif").exists()  # refused before anything was drawn
    with pytest.raises(MissingExtraError):
        render_scene(tiny(formats=["mp4"]), tmp_path)


def test_mp4_reads_back_with_the_timed_duration(tmp_path):
    """Each frame plays for its own duration (tests/test_video.py reads every frame's timestamp back)."""
    ffmpeg = require("imageio_ffmpeg", "pip install -e '.[test]'")
    result = render_scene(tiny(formats=["mp4"]), tmp_path)
    reader = ffmpeg.read_frames(str(result.path))
    meta = next(reader)
    frames = [np.frombuffer(f, dtype=np.uint8) for f in reader]
    assert meta["duration"] == pytest.approx((STEPS * 300 + 1000) / 1000, abs=0.05)  # 9 x 0.3 s + 1 s
    assert frames
    view = drawable_view(tiny(), build_trace(tiny()))
    w, h = view.size
    assert meta["size"] == (w + w % 2, h + h % 2)


# ---- command line -----------------------------------------------------------------------------------------

def test_cli_format_width_and_dpi_flags(tmp_path, capsys):
    code = main(["render", str(SCENES / "a01_plain_conv.toml"), "-o", str(tmp_path), "--format", "strip",
                 "--format", "pdf", "--width", "480", "--dpi", "300"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "a01_plain_conv_strip.png" in printed and "a01_plain_conv.pdf" in printed
    written = sorted(p.name for p in tmp_path.iterdir() if p.name != MANIFEST_NAME)
    assert written == ["a01_plain_conv.pdf", "a01_plain_conv_strip.png"]
    with Image.open(tmp_path / "a01_plain_conv_strip.png") as image:
        assert round(image.info["dpi"][0]) == 300
        assert image.size[0] == 16 + 4 * (480 + 16)
    pages = pdf_pages((tmp_path / "a01_plain_conv.pdf").read_bytes())
    assert len(pages) == 4 and pages[0][0] == pytest.approx(480 / 300 * 72)


def test_cli_unknown_format_and_bad_width(tmp_path, capsys):
    assert main(["render", str(SCENES / "a01_plain_conv.toml"), "-o", str(tmp_path), "--format", "gfi"]) == 2
    assert capsys.readouterr().err.strip() == (
        "convgif: unknown output format 'gfi' (did you mean 'gif'?); available: " + ", ".join(sorted(FORMATS)))
    assert main(["render", str(SCENES / "a01_plain_conv.toml"), "-o", str(tmp_path), "--width", "20", "-q"]) == 2
    assert "a01_plain_conv.toml: render.width: 20 is out of range (must be at least 160)" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_each_frame_carries_the_arithmetic_it_shows(tmp_path, monkeypatch):
    """Writers get each step's arithmetic as text (slide notes, screen readers): the frame's own words."""
    from convgif.encode import GifWriter

    texts, write_frame = {}, GifWriter.write_frame

    def watched(self, frame):
        texts[frame.step] = frame.text
        write_frame(self, frame)

    monkeypatch.setattr(GifWriter, "write_frame", watched)
    scene = tiny(formats=["gif"])
    render_scene(scene, tmp_path)
    output = scene.arrays()["output"][0]
    # step 4 is output (1, 1): the window over input 6 7 / 10 11 (arange from 1) times [[1, 0], [0, −1]]
    counter, sum_line = texts[4].splitlines()
    assert counter == "step 5 / 9" and sum_line.startswith("6×1 + 7×0 + 10×0 + 11×(−1) + ")
    assert sum_line.endswith(f"= {output[1, 1]:.0f}".replace("-", "\u2212"))
    assert texts[None].splitlines()[0] == "done · 9 steps"
