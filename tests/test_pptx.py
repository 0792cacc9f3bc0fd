"""The pptx format: its slides read back with python-pptx (count, size, notes, pictures, the GIF, same bytes twice),
the missing extra's exit-2 message, and the file opened by a real reader, LibreOffice Impress (converted to PDF)."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import missing, require
from pixels import colour_counts
from convgif.cli import main
from convgif.encode.frame import Deck, Frame
from convgif.encode.pptx import SLIDE_SIZES, PptxWriter, fit, png_bytes
from convgif.errors import MissingExtraError
from convgif.pipeline import render_scene
from convgif.scene import load_scene, parse_scene
from convgif.sources import frame_source

SCENES = Path(__file__).resolve().parent.parent / "scenes"
SCENE = SCENES / "b01_arange_one_kernel.toml"  # conv2d 1x4x4, 2x2 kernel: 9 steps, then the finished picture
INSTALL = "pip install -e '.[test]'"
# conv2d, 1x3x3 input, 2x2 kernel: 4 steps
TINY = {
    "title": "tiny",
    "op": {"kind": "conv2d", "kernel_size": 2},
    "input": {"shape": [1, 3, 3], "values": "arange"},
    "weights": {"values": [[[[1, 0], [0, -1]]]]},
    "render": {"duration_ms": 300, "hold_ms": 1000},
}


def render_pptx(scene: Path, out: Path) -> Path:
    assert main(["render", str(scene), "--format", "pptx", "-o", str(out), "-q"]) == 0
    return out / f"{scene.stem}.pptx"


@pytest.fixture(scope="module")
def b01(tmp_path_factory):
    """The b01 scene's pptx (rendered through the CLI), its slides as python-pptx reads them, and its frames."""
    pptx = require("pptx", INSTALL)
    started = time.perf_counter()
    path = render_pptx(SCENE, tmp_path_factory.mktemp("pptx"))
    seconds = time.perf_counter() - started
    source = frame_source(load_scene(SCENE))
    frames = [(frame.pixels, frame.step, frame.text) for frame in source.frames("slides")]
    return path, pptx.Presentation(str(path)), frames, source.deck(), seconds


def pictures(slide) -> list:
    return [shape for shape in slide.shapes if shape.shape_type == 13]  # MSO_SHAPE_TYPE.PICTURE


def test_a_title_slide_a_slide_per_frame_and_the_gif(b01):
    path, deck, frames, scene_deck, seconds = b01
    assert len(frames) == 10 and [step for _, step, _ in frames] == [*range(9), None]
    assert len(deck.slides) == 1 + len(frames) + 1
    assert (deck.slide_width, deck.slide_height) == SLIDE_SIZES["16:9"]  # aspect "auto": a 16:9 slide
    title = deck.slides[0]
    assert title.shapes.title.text_frame.text == scene_deck.title
    words = "\n".join(shape.text_frame.text for shape in title.shapes if shape.has_text_frame)
    assert scene_deck.description in words
    assert "H, W: floor((4 + 2\u00d70 \u2212 1\u00d7(2 \u2212 1) \u2212 1) / 1) + 1 = 3" in words
    assert "parameters: 5 = weight 1\u00d71\u00d72\u00d72 (4) + bias 1" in words
    assert not pictures(title)
    assert seconds < 15, f"rendering b01 as pptx took {seconds:.1f} s"


def test_each_step_slide_holds_its_frame_fitted_and_its_arithmetic_in_the_notes(b01):
    _, deck, frames, scene_deck, _ = b01
    box = (deck.slide_width, deck.slide_height)
    for slide, (pixels, step, text) in zip(list(deck.slides)[1:-1], frames):
        (picture,) = pictures(slide)
        height, width = pixels.shape[:2]
        assert picture.image.content_type == "image/png"
        assert picture.image.size == (width, height)  # the frame's own pixels, not resampled
        with Image.open(io.BytesIO(picture.image.blob)) as image:
            assert np.array_equal(np.asarray(image.convert("RGB")), pixels)
        # fitted: as large as the slide allows, centred, its shape kept (never stretched)
        assert (picture.left, picture.top, picture.width, picture.height) == fit((width, height), box)
        assert picture.width == box[0] or picture.height == box[1]
        assert abs(picture.width / picture.height - width / height) < 0.005
        # letterboxed on the frame's own background
        assert tuple(slide.background.fill.fore_color.rgb) == tuple(int(v) for v in pixels[0, 0])
        notes = slide.notes_slide.notes_text_frame.text
        assert text and text in notes
        descr = picture._element.nvPicPr.cNvPr.get("descr")
        assert scene_deck.alt in descr
        if step is None:
            assert notes.startswith("The finished picture.") and "output 1\u00d73\u00d73 complete" in notes
            assert "finished picture" in descr
        else:
            counted = f"step {step + 1} / {len(frames) - 1}"  # as the picture counts: b01's 9 steps, then its hold
            assert notes.startswith(f"S{counted[1:]}.") and counted in descr
    # the arithmetic with its value, as a lecturer reads it: step 1 of b01 is 1x1 + 2x0 + 5x(-1) + 6x2 + 0.5
    first = deck.slides[1].notes_slide.notes_text_frame.text
    assert "1\u00d71 + 2\u00d70 + 5\u00d7(\u22121) + 6\u00d72 + bias (0.5)" in first and first.endswith("= 8.5")


def test_a_chain_slides_notes_count_steps_as_its_pictures_do(tmp_path):
    """A chain's notes opened "Step 35." over a picture that says "step 1 / 32" (the relu stage): each step slide's
    notes now open with the counter its picture prints, its stage first."""
    pptx = require("pptx", INSTALL)
    scene = SCENE.parent / "c08_chain_encoder_decoder.toml"
    deck = pptx.Presentation(str(render_pptx(scene, tmp_path)))
    frames = [frame for frame in frame_source(load_scene(scene)).frames("slides") if frame.step is not None]
    heads = [slide.notes_slide.notes_text_frame.text.split("\n")[0] for slide in list(deck.slides)[1:-1]]
    heads = [head for head in heads if head != "The finished picture."]
    assert len(heads) == len(frames) > 20
    for head, frame in zip(heads, frames):
        assert frame.counter.startswith("stage ") and head == f"S{frame.counter[1:]}.", (head, frame.counter)
    assert "Stage 2 of 2 \u00b7 step 1 / 18." in heads


def test_the_last_slide_plays_the_looping_gif(b01):
    _, deck, frames, scene_deck, _ = b01
    last = deck.slides[-1]
    (picture,) = pictures(last)
    assert picture.image.content_type == "image/gif"
    with Image.open(io.BytesIO(picture.image.blob)) as gif:
        assert gif.n_frames > 1 and gif.size == picture.image.size
        assert gif.info.get("loop") == 0  # loops forever
    assert scene_deck.alt in picture._element.nvPicPr.cNvPr.get("descr")
    assert "looping animation" in last.notes_slide.notes_text_frame.text


def test_same_scene_same_bytes(b01, tmp_path):
    path = b01[0]
    again = render_pptx(SCENE, tmp_path)
    assert again.read_bytes() == path.read_bytes()


def test_a_4_3_scene_gets_4_3_slides_with_every_frame_fitted(tmp_path):
    pptx = require("pptx", INSTALL)
    scene = parse_scene({**TINY, "render": {**TINY["render"], "aspect": "4:3", "width": 480},
                         "output": {"formats": ["pptx"]}}, "tiny43.toml")
    result = render_scene(scene, tmp_path)
    deck = pptx.Presentation(str(result.path))
    assert (deck.slide_width, deck.slide_height) == SLIDE_SIZES["4:3"] == (9_144_000, 6_858_000)
    assert len(deck.slides) == 1 + 4 + 1 + 1
    for slide in list(deck.slides)[1:]:
        (picture,) = pictures(slide)
        assert 0 <= picture.left and picture.left + picture.width <= deck.slide_width
        assert 0 <= picture.top and picture.top + picture.height <= deck.slide_height


@pytest.mark.parametrize("size, expected", [
    ((1600, 900), (0, 0, 16_000, 9_000)),  # exactly the slide's shape: fills it
    ((720, 1257), (5_422, 0, 5_155, 9_000)),  # a tall blog frame: full height, centred across
    ((1000, 100), (0, 3_700, 16_000, 1_600)),  # a wide strip: full width, centred down
])
def test_fit_keeps_the_shape_and_centres(size, expected):
    assert fit(size, (16_000, 9_000)) == expected


@pytest.mark.parametrize("colours, mode", [(3, "P"), (256, "P"), (257, "RGB")])
def test_pictures_are_lossless_pngs_with_a_palette_when_few_colours(colours, mode):
    rng = np.random.default_rng(colours)
    table = rng.choice(256 ** 3, size=colours, replace=False)
    codes = np.concatenate([table, rng.choice(table, size=40 * 50 - colours)]).reshape(40, 50)
    pixels = np.stack([codes >> 16, (codes >> 8) & 255, codes & 255], axis=-1).astype(np.uint8)
    with Image.open(io.BytesIO(png_bytes(pixels))) as image:
        assert image.format == "PNG" and image.mode == mode
        assert np.array_equal(np.asarray(image.convert("RGB")), pixels)


def test_a_failed_deck_leaves_no_file(tmp_path):
    require("pptx", INSTALL)

    def broken(path):
        raise RuntimeError("the GIF could not be written")

    target = tmp_path / "deck.pptx"
    frame = Frame(np.full((30, 40, 3), 200, np.uint8), 100, 0, text="step 1")
    with pytest.raises(RuntimeError, match="could not be written"):
        with PptxWriter(target, Deck(title="t", animation=broken)) as writer:
            writer.write_frame(frame)
    assert list(tmp_path.iterdir()) == []  # neither the deck nor a part file
    with pytest.raises(ValueError, match="no frames"):
        with PptxWriter(target, Deck(title="t")):
            pass
    assert list(tmp_path.iterdir()) == []


def test_pptx_without_the_extra_exits_2_naming_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pptx", None)  # `import pptx` now fails
    path = tmp_path / "tiny.toml"
    path.write_text('[op]\nkind = "conv2d"\nkernel_size = 2\n[input]\nshape = [1, 3, 3]\n')
    code = main(["render", str(path), "-o", str(tmp_path / "out"), "--format", "gif,pptx", "-q"])
    assert code == 2
    assert f"{path}: pptx output needs the pptx extra: pip install 'convgif[pptx]'" in capsys.readouterr().err
    assert not (tmp_path / "out" / "tiny.gif").exists()  # refused before anything was drawn
    with pytest.raises(MissingExtraError, match=r"pip install 'convgif\[pptx\]'"):
        with PptxWriter(tmp_path / "x.pptx", Deck(title="x")):
            pass


# ---- a real reader: LibreOffice Impress -----------------------------------------------------------------

def tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        missing(f"{name} is not installed (apt-get install {package})")
    return found


def test_libreoffice_impress_opens_it_a_page_per_slide(b01, tmp_path):
    soffice = tool("soffice", "libreoffice-impress")
    pdfinfo, pdftoppm = tool("pdfinfo", "poppler-utils"), tool("pdftoppm", "poppler-utils")
    path, deck, frames, _, _ = b01
    started = time.perf_counter()
    subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=120)
    seconds = time.perf_counter() - started
    pdf = tmp_path / f"{path.stem}.pdf"
    info = subprocess.run([pdfinfo, str(pdf)], check=True, capture_output=True, text=True, timeout=30).stdout
    assert f"Pages:           {len(deck.slides)}" in info
    assert "960" in info and "540 pts" in info  # 13.333 x 7.5 in
    # the first step's page (page 2) shows the frame: its main colours are there, not a blank page
    pixels = frames[0][0]
    subprocess.run([pdftoppm, "-png", "-r", "50", "-f", "2", "-l", "2", str(pdf), str(tmp_path / "page")],
                   check=True, timeout=30)
    (png,) = tmp_path.glob("page*.png")
    page = np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3).astype(int)
    colours, counts = colour_counts(pixels)
    main_colours = colours[counts > 0.005 * counts.sum()]
    assert len(main_colours) >= 3
    for colour in main_colours:
        nearest = np.abs(page - colour.astype(int)).max(axis=1).min()
        assert nearest <= 12, f"the frame's colour {tuple(colour)} is missing from the converted page"
    assert seconds < 30, f"soffice took {seconds:.1f} s"
