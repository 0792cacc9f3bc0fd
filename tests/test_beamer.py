"""The beamer format: a frame stepping a click per step through a vector pdf, compiled by TeX Live's pdflatex
(the real reader) into a page per step, its notes carrying each step's arithmetic, and its animate alternative."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import numpy as np
import pytest

from conftest import missing
from convgif.encode.beamer import BeamerWriter, note_text, tex_escape
from convgif.encode.frame import Deck, Frame
from convgif.encode.pdf import PdfWriter
from convgif.formats import output_format
from convgif.pipeline import render_scene
from convgif.scene import parse_scene

SCENE = Path(__file__).resolve().parent.parent / "scenes" / "b01_arange_one_kernel.toml"
STEPS = 9  # 4x4 input, 2x2 kernel: a 3x3 output
# b01's outputs, step by step: 1..16 as a 4x4 input, the kernel [[1, 0], [-1, 2]], bias 0.5
VALUES = [8.5, 10.5, 12.5, 16.5, 18.5, 20.5, 24.5, 26.5, 28.5]
TINY = {
    "title": "tiny",
    "op": {"kind": "conv2d", "kernel_size": 2},
    "input": {"shape": [1, 2, 3], "values": "arange"},
    "weights": {"values": [[[[1, 0], [0, -1]]]]},
    "render": {"width": 400, "duration_ms": 300, "hold_ms": 1000, "aspect": "4:3"},
    "output": {"formats": ["beamer"]},
}
TEX_TIMEOUT_S = 60


def tool(name: str, package: str) -> str:
    return shutil.which(name) or missing(f"{name} is not installed (apt-get install {package})")


def pdf_page_count(path: Path) -> int:
    info = subprocess.run([tool("pdfinfo", "poppler-utils"), str(path)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", info.stdout, flags=re.MULTILINE).group(1))


def pdf_page_sizes(path: Path) -> list[tuple[float, float]]:
    info = subprocess.run([tool("pdfinfo", "poppler-utils"), "-f", "1", "-l", "999", str(path)],
                          capture_output=True, text=True, check=True)
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info.stdout)]


def page_text(path: Path, page: int, *options: str) -> str:
    return subprocess.run([tool("pdftotext", "poppler-utils"), *options, "-f", str(page), "-l", str(page), str(path),
                           "-"], capture_output=True, text=True, check=True).stdout


def compile_tex(folder: Path, name: str, document: str) -> Path:
    """`document` compiled by pdflatex in `folder` (once: animate would settle its page count on a second run)."""
    pdflatex = tool("pdflatex", "texlive-latex-extra")
    (folder / f"{name}.tex").write_text(document, encoding="utf-8")
    run = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"], cwd=folder,
                         capture_output=True, text=True, errors="replace", timeout=TEX_TIMEOUT_S)
    assert run.returncode == 0, run.stdout[-3000:]
    return folder / f"{name}.pdf"


def wrapper(*, aspectratio: int, body: str, preamble: str = "") -> str:
    return (f"\\documentclass[aspectratio={aspectratio}]{{beamer}}\n{preamble}"
            f"\\begin{{document}}\n{body}\n\\end{{document}}\n")


def animate_alternative(tex: str) -> str:
    """The commented animate frame, uncommented."""
    lines = tex.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("% \\begin{frame}")))
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("% \\end{frame}"))
    return "\n".join(line.removeprefix("% ") for line in lines[start:end + 1])


@pytest.fixture(scope="module")
def b01(tmp_path_factory):
    """b01 rendered in the beamer format, and the frames the pipeline handed the writer."""
    out = tmp_path_factory.mktemp("beamer")
    document = tomllib.loads(SCENE.read_text(encoding="utf-8"))
    scene = parse_scene({**document, "output": {"formats": ["beamer"]}}, str(SCENE))
    handed: list[Frame] = []
    original = BeamerWriter.write_frame

    def recording(self, frame):
        handed.append(frame)
        original(self, frame)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BeamerWriter, "write_frame", recording)
        result = render_scene(scene, out)
    return result, out, handed


def test_the_frame_steps_a_click_per_frame_handed_through_a_vector_page_each(b01):
    result, out, handed = b01
    tex_path, pdf_path = out / "b01_arange_one_kernel.tex", out / "b01_arange_one_kernel.steps.pdf"
    assert result.paths == (tex_path, pdf_path) == (tex_path, *output_format("beamer").companion_paths(out, SCENE.stem))
    assert sorted(p.name for p in out.iterdir()) == [pdf_path.name, tex_path.name]
    assert result.bytes == tex_path.stat().st_size + pdf_path.stat().st_size
    assert [frame.step for frame in handed] == [*range(STEPS), None]  # every step, then the finished picture
    tex = tex_path.read_text(encoding="ascii")  # pure ASCII: the signs are math macros
    frame = tex[tex.index("\n\\begin{frame}"):tex.index("\\end{frame}")]
    assert tex.count("\n\\begin{frame}") == 1 and "\n\\begin{frame}\n" in tex  # untitled: the picture prints it
    assert "  % \\frametitle{Conv2d(1, 1, 2) on the numbers 1..16}" in frame
    pictures = re.findall(r"\\includegraphics<(\d+)>\[page=(\d+),([^\]]*)\]\{([^}]*)\}", frame)
    assert [(int(k), int(page)) for k, page, _, _ in pictures] == [(k, k) for k in range(1, len(handed) + 1)]
    assert {size for _, _, size, _ in pictures} == {"width=\\linewidth,height=0.96\\textheight,keepaspectratio"}
    assert {file for _, _, _, file in pictures} == {pdf_path.name}
    # a vector page per frame, each the frame's shape (pixels at the scene's dpi)
    assert pdf_page_count(pdf_path) == len(handed)
    dpi = 150
    assert pdf_page_sizes(pdf_path) == [(round(f.pixels.shape[1] * 72 / dpi, 3), round(f.pixels.shape[0] * 72 / dpi, 3))
                                        for f in handed]
    assert b"/Subtype /Image" not in pdf_path.read_bytes()  # vectors, not embedded pixels


def test_each_note_carries_its_steps_arithmetic(b01):
    _, out, handed = b01
    tex = (out / "b01_arange_one_kernel.tex").read_text(encoding="ascii")
    notes = dict(re.findall(r"^  \\note<(\d+)>\{(.*)\}$", tex, flags=re.MULTILINE))
    assert list(notes) == [str(k) for k in range(1, len(handed) + 1)]
    for k, (frame, value) in enumerate(zip(handed, [*VALUES, None]), start=1):
        assert notes[str(k)] == note_text(frame.text)
        if value is not None:
            assert notes[str(k)].startswith(f"step {k} / {STEPS}\\par ") and notes[str(k)].endswith(f"= {value}")
    assert notes["1"] == ("step 1 / 9\\par 1$\\times$1 + 2$\\times$0 + 5$\\times$($-$1) + 6$\\times$2 + bias (0.5)"
                          "  = 8.5")
    assert notes[str(len(handed))].startswith("done $\\cdot$ 9 steps\\par output 1$\\times$3$\\times$3 complete")


def test_pdflatex_compiles_the_frame_into_a_page_per_step(b01):
    _, out, handed = b01
    deck = compile_tex(out, "deck169", wrapper(aspectratio=169, body="\\input{b01_arange_one_kernel.tex}"))
    assert pdf_page_count(deck) == len(handed)  # notes hidden: one page per overlay
    width, height = pdf_page_sizes(deck)[0]
    assert abs(width / height - 16 / 9) < 0.01
    for k, value in ((1, VALUES[0]), (STEPS, VALUES[-1])):  # page k shows step k (the picture's own text)
        text = " ".join(page_text(deck, k).split())
        assert f"step {k} / {STEPS}" in text and f"= {value}" in text
    assert "done · 9 steps" in " ".join(page_text(deck, len(handed)).split())
    # the picture fits above the navigation bar (beamer would silently push it off the slide), and its title is
    # printed once: the frame has none of its own
    bottom = max(float(y) for y in re.findall(r'yMax="([\d.]+)"', page_text(deck, 1, "-bbox")))
    assert bottom < height - 10
    assert " ".join(page_text(deck, 1).split()).count("Conv2d(1, 1, 2) on the numbers 1..16") == 1


def test_pdflatex_compiles_the_animate_alternative(b01):
    _, out, handed = b01
    tex = (out / "b01_arange_one_kernel.tex").read_text(encoding="ascii")
    frame = animate_alternative(tex)
    assert f"{{b01_arange_one_kernel.steps}}{{0}}{{{len(handed) - 1}}}" in frame  # zero-based pages of a multipage pdf
    assert "{1.43}" in frame  # b01's 700 ms a step
    # uncompressed, so that the player's script can be read: it seeks frames 0..9, the pdf's pages
    deck = compile_tex(out, "animated", wrapper(aspectratio=169, body=frame, preamble="\\pdfcompresslevel=0\n"
                                                "\\pdfobjcompresslevel=0\n\\usepackage{animate}\n"))
    assert f"_seekFrame=function(f){{if(f>{len(handed) - 1}||f<0)".encode() in deck.read_bytes()


def test_a_4_3_scene_compiles_on_4_3_slides_with_its_notes_and_renders_the_same_bytes_twice(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    for out in (first, second):
        render_scene(parse_scene(TINY, "tiny.toml"), out)
    for name in ("tiny.tex", "tiny.steps.pdf"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    tex = (first / "tiny.tex").read_text(encoding="ascii")
    assert "drawn 4:3" in tex
    assert {(w, h) for w, h in pdf_page_sizes(first / "tiny.steps.pdf")} == {(192.0, 144.0)}  # 400x300 px at 150 dpi
    deck = compile_tex(first, "deck43", wrapper(aspectratio=43, body="\\input{tiny.tex}",
                                                preamble="\\setbeameroption{show notes}\n"))
    pages = pdf_page_sizes(deck)
    assert len(pages) == 2 * 3 and abs(pages[0][0] / pages[0][1] - 4 / 3) < 0.01  # 2 steps + finished, each + note
    assert "= -4" in page_text(deck, 2).replace("\u2212", "-")  # step 1's note: 0x1 + 1x0 + 3x0 + 4x(-1) = -4


def raster(step: int | None, text: str) -> Frame:
    return Frame(np.full((30, 40, 3), 200, np.uint8), 500, step, text=text)


def test_latex_specials_and_the_engines_signs_are_escaped():
    assert tex_escape("a_1 & 50% #2 {x} $ ~ ^ \\") == (r"a\_1 \& 50\% \#2 \{x\} \$ \textasciitilde{} "
                                                       r"\textasciicircum{} \textbackslash{}")
    assert tex_escape("2×3 − 1 → Σ ⊙ ·") == r"2$\times$3 $-$ 1 $\rightarrow$ $\Sigma$ $\odot$ $\cdot$"
    assert note_text("step 1\n\n  a×b  \n") == r"step 1\par a$\times$b"


def test_a_chinese_scene_says_which_engine_typesets_it(tmp_path):
    with BeamerWriter(tmp_path / "zh.tex", deck=Deck(title="卷积的填充与步幅", language="zh")) as writer:
        writer.write_frame(raster(0, "第 1 步\n1×2 = 2"))
    tex = (tmp_path / "zh.tex").read_text(encoding="utf-8")
    assert "% \\frametitle{卷积的填充与步幅}" in tex and "\\note<1>{第 1 步\\par 1$\\times$2 = 2}" in tex
    assert "compile with xelatex or lualatex and add\n% \\usepackage{ctex}" in tex
    assert pdf_page_count(tmp_path / "zh.steps.pdf") == 1  # raster frames still give a page each


@pytest.mark.parametrize("fails_in", ["write", "pdf", "tex"])
def test_both_files_or_neither(tmp_path, monkeypatch, fails_in):
    """A failure while drawing, while closing the pdf or while making the tex leaves the previous files as they were
    and no part files."""
    (tmp_path / "s.tex").write_text("old tex")
    (tmp_path / "s.steps.pdf").write_bytes(b"old pdf")
    if fails_in == "pdf":
        monkeypatch.setattr(PdfWriter, "finish", lambda self: (_ for _ in ()).throw(OSError("disk full")))
    if fails_in == "tex":
        monkeypatch.setattr(BeamerWriter, "tex", lambda self: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        with BeamerWriter(tmp_path / "s.tex", deck=Deck(title="s")) as writer:
            writer.write_frame(raster(0, "step 1"))
            if fails_in == "write":
                raise OSError("disk full")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.steps.pdf", "s.tex"]
    assert (tmp_path / "s.tex").read_text() == "old tex" and (tmp_path / "s.steps.pdf").read_bytes() == b"old pdf"
