"""PowerPoint slides through the optional python-pptx extra: a title slide, one slide per step (a click is the next
step, its arithmetic in the speaker notes), the finished picture and a last slide with the looping GIF.

Each picture is a PNG fitted to the slide, centred, on its frame's own background colour (letterboxed, never
stretched). The file is deterministic: fixed document dates and fixed zip entry times, written atomically.
"""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image

from convgif.encode.atomic import atomic_write
from convgif.encode.base import Writer
from convgif.encode.buffered import check_frame
from convgif.encode.frame import Deck, Frame, WriterOptions
from convgif.encode.palette import rgb_keys
from convgif.errors import MissingExtraError

INSTALL_HINT = "pip install 'convgif[pptx]'"
# PowerPoint's own sizes in EMU (914400 per inch): 13.333 x 7.5 in and 10 x 7.5 in
SLIDE_SIZES = {"16:9": (12_192_000, 6_858_000), "4:3": (9_144_000, 6_858_000)}
FIXED_DATE = datetime(2000, 1, 1)  # the documents' created/modified/printed dates: same scene, same bytes
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip entry can say
BLANK_LAYOUT, TITLE_ONLY_LAYOUT = 6, 5  # in python-pptx's default template
MARGIN = 0.06  # of the slide's width, around the title slide's text


def load_pptx():
    """The pptx module, or MissingExtraError naming the extra to install."""
    try:
        import pptx
    except ImportError:
        raise MissingExtraError(f"pptx output needs the pptx extra: {INSTALL_HINT}") from None
    return pptx


def slide_size(aspect: str) -> tuple[int, int]:
    """(width, height) in EMU for a deck's aspect; "auto" frames go on a 16:9 slide (today's projectors)."""
    return SLIDE_SIZES.get(aspect, SLIDE_SIZES["16:9"])


def fit(picture: tuple[int, int], box: tuple[int, int]) -> tuple[int, int, int, int]:
    """(left, top, width, height) of a `picture` (w, h) scaled to fit `box` (w, h), centred, its shape kept."""
    (width, height), (box_width, box_height) = picture, box
    scale = min(box_width / width, box_height / height)
    fitted_width, fitted_height = min(box_width, round(width * scale)), min(box_height, round(height * scale))
    return (box_width - fitted_width) // 2, (box_height - fitted_height) // 2, fitted_width, fitted_height


def png_bytes(frame_rgb: np.ndarray, lookup: np.ndarray | None = None) -> bytes:
    """The frame as a PNG, lossless: a palette PNG when it has at most 256 colours (crisp frames have about ten).

    `lookup`, a reusable (2^24,) uint8 scratch table, maps a pixel's 24-bit key to its palette index (as
    convgif.encode.palette does). A palette PNG is a third of the bytes to compress; zlib's default level, not
    `optimize`: on a03's 101 frames optimize saved 10 % of the bytes and cost 15 s more.
    """
    image = Image.fromarray(frame_rgb, "RGB")
    colours = image.getcolors(256)
    if colours is not None:
        table = np.array(sorted(colour for _, colour in colours), dtype=np.uint8)
        lookup = np.empty(1 << 24, dtype=np.uint8) if lookup is None else lookup
        lookup[rgb_keys(table)] = np.arange(len(table), dtype=np.uint8)  # every pixel's key is among these
        image = Image.fromarray(lookup[rgb_keys(frame_rgb)], "P")
        image.putpalette(table.tobytes())
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def ink_for(background: tuple[int, int, int]) -> tuple[int, int, int]:
    """Near-black text on a light background, near-white on a dark one (the dark slide theme)."""
    luminance = 0.2126 * background[0] + 0.7152 * background[1] + 0.0722 * background[2]
    return (0x1A, 0x1A, 0x1A) if luminance >= 128 else (0xF2, 0xF2, 0xF2)


class PptxWriter(Writer):
    """`with PptxWriter(path, deck) as w: w.write_frame(frame)`: a slide per frame; the file appears on finish.

    The title slide is made with the first frame (so it takes the frames' background); `finish` adds the
    looping GIF slide when `deck.animation` is set, then writes the file.
    """

    def __init__(self, path: str | os.PathLike[str], deck: Deck | None = None):
        self.path = Path(path)
        self.deck = deck if deck is not None else Deck(title=self.path.stem)
        self.slides = 0  # made so far, the title slide included
        self.frames = 0  # pictures handed so far
        self._pptx = None
        self._presentation = None
        self._background: tuple[int, int, int] | None = None
        self._lookup: np.ndarray | None = None  # png_bytes' scratch table, 16 MiB, allocated once per deck

    @classmethod
    def open(cls, path: str | os.PathLike[str], options: WriterOptions) -> PptxWriter:
        return cls(path, options.deck)

    def setup(self) -> None:
        self._pptx = load_pptx()
        self._presentation = self._pptx.Presentation()
        self._presentation.slide_width, self._presentation.slide_height = slide_size(self.deck.aspect)
        self.slides, self.frames, self._background = 0, 0, None
        self._lookup = np.empty(1 << 24, dtype=np.uint8)

    def write(self, frame_rgb: np.ndarray, duration_ms: float = 0) -> None:
        self.write_frame(Frame(frame_rgb, duration_ms, step=self.frames))

    def write_frame(self, frame: Frame) -> None:
        if self._presentation is None:
            raise RuntimeError("PptxWriter.write_frame called outside its `with` block")
        check_frame(frame.pixels, None)
        if self._background is None:
            self._background = tuple(int(v) for v in frame.pixels[0, 0])
            self._title_slide()
        height, width = frame.pixels.shape[:2]
        if frame.step is None:
            what, notes = "the finished picture", "The finished picture."
        else:
            quiz = f", {frame.quiz}" if frame.quiz else ""  # a quiz: each step's question slide, then its answer
            # the step as its picture counts it ("step 1 / 32", a chain's stage first), not the deck's own count
            what = f"{frame.counter or f'step {frame.step + 1}'}{quiz}"
            notes = f"{what[:1].upper()}{what[1:]}."
        self._picture_slide(png_bytes(frame.pixels, self._lookup), (width, height), frame.pixels[0, 0], what,
                            f"{notes}\n{frame.text}".rstrip())
        self.frames += 1

    def finish(self) -> None:
        if self._presentation is None:
            raise RuntimeError("PptxWriter.finish called without setup (or twice)")
        if self._background is None:
            raise ValueError(f"no frames were written to {self.path}")
        with tempfile.TemporaryDirectory(prefix="convgif-pptx-") as scratch:
            if self.deck.animation is not None:
                gif = Path(scratch) / "animation.gif"
                self.deck.animation(gif)
                with Image.open(gif) as image:
                    size = image.size
                self._picture_slide(gif.read_bytes(), size, self._background, "the looping animation",
                                    "The looping animation: every step, then the finished picture. "
                                    "It plays in the slide show.")
            self._fix_dates()
            saved = Path(scratch) / "saved.pptx"
            self._presentation.save(saved)
            with atomic_write(self.path) as file:
                restamp(saved, file)
        self._presentation = self._lookup = None

    def abort(self, exc_type=None, exc=None, traceback=None) -> None:
        """Nothing is on disk until finish: drop the slides made so far."""
        self._presentation = self._lookup = None

    # ---- slides ---------------------------------------------------------------------------------------------

    def _new_slide(self, layout: int, background):
        from pptx.dml.color import RGBColor

        slide = self._presentation.slides.add_slide(self._presentation.slide_layouts[layout])
        fill = slide.background.fill
        fill.solid()
        fill.fore_color.rgb = RGBColor(*(int(v) for v in background))
        self.slides += 1
        return slide

    def _title_slide(self) -> None:
        from pptx.dml.color import RGBColor
        from pptx.util import Pt

        deck, (width, height) = self.deck, slide_size(self.deck.aspect)
        ink = RGBColor(*ink_for(self._background))
        slide = self._new_slide(TITLE_ONLY_LAYOUT, self._background)
        margin = round(width * MARGIN)
        title = slide.shapes.title  # a real title placeholder: the slide's name in outlines and screen readers
        title.left, title.top, title.width, title.height = margin, margin, width - 2 * margin, round(height * 0.22)
        title.text_frame.word_wrap = True
        title.text_frame.text = deck.title
        self._style(title.text_frame, size=Pt(36), bold=True, ink=ink)
        top = margin + title.height + round(height * 0.03)
        box = slide.shapes.add_textbox(margin, top, width - 2 * margin, height - top - margin)
        body = box.text_frame
        body.word_wrap = True
        lines = ([(deck.description, Pt(18))] if deck.description else []) + [(fact, Pt(20)) for fact in deck.facts]
        for number, (text, size) in enumerate(lines):
            paragraph = body.paragraphs[0] if number == 0 else body.add_paragraph()
            paragraph.text = text
            if number and size != lines[number - 1][1]:
                paragraph.space_before = Pt(14)  # the facts start a block of their own under the description
        self._style(body, size=None, bold=False, ink=ink, sizes=[size for _, size in lines])

    def _style(self, text_frame, *, size, bold: bool, ink, sizes=None) -> None:
        for number, paragraph in enumerate(text_frame.paragraphs):
            for run in paragraph.runs:
                run.font.size = sizes[number] if sizes else size
                run.font.bold = bold
                run.font.color.rgb = ink
                run.font._rPr.set("lang", self.deck.language)  # spelling and screen-reader voice follow the scene

    def _picture_slide(self, blob: bytes, size: tuple[int, int], background, what: str, notes: str) -> None:
        slide = self._new_slide(BLANK_LAYOUT, background)
        slide_box = (self._presentation.slide_width, self._presentation.slide_height)
        left, top, width, height = fit(size, slide_box)
        picture = slide.shapes.add_picture(io.BytesIO(blob), left, top, width, height)
        alt = f"{self.deck.alt} ({what})" if self.deck.alt else what
        picture._element.nvPicPr.cNvPr.set("descr", alt)  # python-pptx has no alt-text API; descr is it
        picture.name = what
        slide.notes_slide.notes_text_frame.text = notes

    def _fix_dates(self) -> None:
        properties = self._presentation.core_properties
        properties.created = properties.modified = properties.last_printed = FIXED_DATE
        properties.title = self.deck.title
        properties.author = properties.last_modified_by = "convgif"
        properties.revision = 1
        properties.language = self.deck.language


def restamp(saved: Path, file) -> None:
    """Copy the zip at `saved` into `file` entry by entry with a fixed time (python-pptx stamps the clock)."""
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, source.read(entry))
