"""Beamer slides: `<stem>.tex`, one `frame` stepping a click per step through `<stem>.steps.pdf`, a vector page
per step (the pages the pdf format makes), with each step's arithmetic as a speaker note.

The pdf is written by a PdfWriter; the tex is written at finish, so both files appear together or neither does.
"""

from __future__ import annotations

import os
import statistics
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from convgif.encode.atomic import atomic_write
from convgif.encode.base import Writer
from convgif.encode.frame import Deck, Frame, WriterOptions
from convgif.encode.pdf import PdfWriter

# Characters the engine's arithmetic and captions use, as LaTeX that pdflatex, xelatex and lualatex all typeset
# without a Unicode-aware font. Anything else non-ASCII is written as it is (see `unicode_note`).
UNICODE_TEX = {
    "\u00d7": r"$\times$", "\u2212": "$-$", "\u2192": r"$\rightarrow$", "\u2190": r"$\leftarrow$",
    "\u03a3": r"$\Sigma$", "\u2211": r"$\sum$", "\u2299": r"$\odot$", "\u00b7": r"$\cdot$", "\u22c5": r"$\cdot$",
    "\u2026": r"\ldots{}", "\u2264": r"$\leq$", "\u2265": r"$\geq$", "\u2260": r"$\neq$", "\u2248": r"$\approx$",
    "\u230a": r"$\lfloor$", "\u230b": r"$\rfloor$", "\u2308": r"$\lceil$", "\u2309": r"$\rceil$",
    "\u00b2": r"$^2$", "\u00b3": r"$^3$", "\u2217": "$*$", "\u00b1": r"$\pm$",
    "\u2013": "--", "\u2014": "---", "\u2018": "`", "\u2019": "'", "\u201c": "``", "\u201d": "''",
    "\u00a0": "~", "\u2009": r"\,", "\u202f": r"\,",
}
ASCII_TEX = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#", "%": r"\%",
             "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}"}
TEX_CHARS = {**UNICODE_TEX, **ASCII_TEX}

# The picture's box on the slide, its aspect kept: the frame has no title (the picture prints its own), so the picture
# takes the text area, a little under its height for the theme's skips (a taller picture would be pushed off the
# slide, silently). With a \frametitle as well, 0.8\textheight leaves it room.
PICTURE_SIZE = r"width=\linewidth,height=0.96\textheight,keepaspectratio"
DOCUMENT_CLASS = {"16:9": r"\documentclass[aspectratio=169]{beamer}",
                  "4:3": r"\documentclass[aspectratio=43]{beamer}"}


def tex_escape(text: str) -> str:
    """Plain text as LaTeX: the specials escaped, the engine's signs (× − → Σ ⊙ ·) as math, other characters kept."""
    return "".join(TEX_CHARS.get(char, char) for char in text)


def is_cjk(char: str) -> bool:
    return unicodedata.name(char, "").startswith(("CJK ", "HIRAGANA", "KATAKANA", "HANGUL", "FULLWIDTH"))


def unicode_note(tex: str) -> str:
    """What the header says about the engine: pdflatex, unless the text has characters it cannot typeset."""
    others = sorted({char for char in tex if ord(char) > 126})
    if not others:
        return "% Plain ASCII: compiles with pdflatex, xelatex or lualatex."
    if any(is_cjk(char) for char in others):
        return ("% The text has Chinese/Japanese/Korean characters: compile with xelatex or lualatex and add\n"
                "% \\usepackage{ctex} (Chinese) to the preamble; pdflatex cannot typeset them.")
    return (f"% The text has non-ASCII characters ({''.join(others)}): pdflatex typesets accented Latin letters\n"
            "% (utf8 input is LaTeX's default); for others use xelatex or lualatex with a font that has them.")


@dataclass(frozen=True, slots=True)
class Slide:
    step: int | None
    text: str
    duration_ms: float


class BeamerWriter(Writer):
    """`with BeamerWriter(path, deck=deck) as w: w.write_frame(frame)`: a page per frame, a click per page.

    `path` is the tex; the pdf it includes is beside it, named `<stem>.steps.pdf`.
    """

    def __init__(self, path: str | os.PathLike[str], *, dpi: int = 150, deck: Deck | None = None):
        self.path = Path(path)
        self.pdf_path = self.path.with_name(f"{self.path.stem}.steps.pdf")
        self.deck = deck
        self.slides: list[Slide] = []
        self._pages = PdfWriter(self.pdf_path, dpi=dpi)

    @classmethod
    def open(cls, path: str | os.PathLike[str], options: WriterOptions) -> BeamerWriter:
        return cls(path, dpi=options.dpi, deck=options.deck)

    def setup(self) -> None:
        self.slides = []
        self._pages.setup()

    def write_frame(self, frame: Frame) -> None:
        self._pages.write_frame(frame)  # vector when the frame can be drawn so, else its pixels
        self.slides.append(Slide(frame.step, frame.text, frame.duration_ms))

    def write(self, frame_rgb, duration_ms: float) -> None:
        self.write_frame(Frame(frame_rgb, duration_ms, None))

    def finish(self) -> None:
        try:
            tex = self.tex()
            with atomic_write(self.path, "w") as file:
                file.write(tex)
                file.flush()
                os.fsync(file.fileno())
                # The pdf is closed and renamed inside the tex's block: if it fails the tex part goes too, and
                # after it only the tex's rename is left.
                self._pages.finish()
        except BaseException as error:
            self._pages.abort(type(error), error, error.__traceback__)
            raise

    def abort(self, exc_type=None, exc=None, traceback=None) -> None:
        self._pages.abort(exc_type, exc, traceback)

    def tex(self) -> str:
        """The frame, its header comment and the commented animate alternative."""
        if not self.slides:
            raise ValueError(f"no pages were written to {self.pdf_path}")
        deck = self.deck or Deck(title=self.path.stem)
        pdf, count = self.pdf_path.name, len(self.slides)
        title = tex_escape(deck.title)
        pictures = [rf"  \includegraphics<{k}>[page={k},{PICTURE_SIZE}]{{{pdf}}}%"
                    for k in range(1, count + 1)]
        notes = [rf"  \note<{k}>{{{note_text(slide.text)}}}" for k, slide in enumerate(self.slides, start=1)]
        # no frame title: the picture's own (a \frametitle as well would print it twice and shrink the picture)
        named = rf"  % \frametitle{{{title}}} (the picture prints its title; with this line, use height=0.8\textheight)"
        frame = [r"\begin{frame}", named, r"  \centering", *pictures, *notes, r"\end{frame}"]
        animate = [r"\begin{frame}", named, r"  \centering",
                   rf"  \animategraphics[loop,autoplay,controls,{PICTURE_SIZE}]{{{fps(self.slides)}}}"
                   rf"{{{Path(pdf).stem}}}{{0}}{{{count - 1}}}",
                   r"\end{frame}"]
        header = self.header(deck, count, unicode_note("".join(frame)))
        return "\n".join([*header, *frame, "", *ANIMATE_HEADER, *(f"% {line}" for line in animate)]) + "\n"

    def header(self, deck: Deck, count: int, engine: str) -> list[str]:
        steps = len({slide.step for slide in self.slides if slide.step is not None})  # a quiz shows each twice
        finished = " and the finished picture" if any(slide.step is None for slide in self.slides) else ""
        aspect = deck.aspect if deck.aspect in DOCUMENT_CLASS else None
        shape = f"drawn {aspect}" if aspect else "the scene's own shape (render.aspect = \"auto\")"
        lines = [
            f"% {self.path.name}: a Beamer frame made by convgif, {count} slides (one click each): "
            f"{steps} steps{finished}.",
            f"% Put {self.pdf_path.name} (a vector page per slide) beside this file, then \\input{{{self.path.stem}}}",
            "% or paste the frame into a beamer document (beamer loads graphicx itself).",
            f"% The pictures are {shape}; they keep their aspect, fitted to the slide:",
            f"%   {DOCUMENT_CLASS['16:9']} for 16:9 slides, {DOCUMENT_CLASS['4:3']} for 4:3.",
            "% Each slide's arithmetic is its speaker note (\\note<k>); beamer hides notes unless asked, e.g.",
            "%   \\setbeameroption{show notes on second screen=right} (pdfpc, dual screens).",
            engine,
        ]
        return lines


ANIMATE_HEADER = [
    "% A self-running version instead: add \\usepackage{animate} to the preamble and use this frame (remove",
    "% the \"% \" in front of its lines). It plays every page of the pdf in a loop, with play/pause buttons,",
    "% in Acrobat Reader, Okular, PDF-XChange or PDF.js (Firefox); other viewers show its first page.",
]


def note_text(text: str) -> str:
    """A step's arithmetic, a paragraph per line, as LaTeX."""
    return r"\par ".join(tex_escape(line.strip()) for line in text.splitlines() if line.strip())


def fps(slides: list[Slide]) -> str:
    """animate's frame rate: the steps' usual pace (a single rate; the finished picture's longer hold is lost)."""
    steps = [slide.duration_ms for slide in slides if slide.step is not None and slide.duration_ms > 0]
    durations = steps or [slide.duration_ms for slide in slides if slide.duration_ms > 0] or [1000.0]
    return f"{1000 / statistics.median(durations):.3g}"
