"""reveal.js slides: `<stem>.reveal.html`, one `<section>` to paste into a deck (a fragment per step, the steps'
arithmetic as speaker notes), and `<stem>.deck.html`, a standalone deck around it that works offline.

The frames are stacked (reveal's `r-stack`): the first is a whole picture, each later one only the pixels that
changed since the one before, on a transparent ground, so that the pictures shown so far add up to the step's
frame (a03's 101 frames: 0.5 MB of PNG instead of 1.7 MB). Every picture is a data: URI of a palette PNG, so
the pasted section carries its images; the deck inlines reveal.js and its theme too, one file with no requests.
"""

from __future__ import annotations

import base64
import html
import io
import os
import re
from contextlib import ExitStack
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image

from convgif.encode.atomic import atomic_write
from convgif.encode.base import Writer
from convgif.encode.buffered import check_frame
from convgif.encode.frame import Deck, Frame, WriterOptions
from convgif.encode.palette import rgb_keys

REVEAL_VERSION = "6.0.2"  # of the files in revealjs_assets/ (see its README.md)
SECTION_SUFFIX = ".reveal.html"
DECK_SUFFIX = ".deck.html"
# a changes-only picture also repeats the unchanged pixels this close to a change: where a browser scales the
# slide it blends each picture with its neighbours separately, and without that margin the stroke a picture
# paints over (a digit of the step before) shows through the blend at its edges
CHANGE_MARGIN_PX = 4
UNKNOWN_COLOUR = 255  # a lookup entry no colour has taken (colours take 0..254)
MAX_PNG_COLOURS = 255  # one palette index stays free for the transparent ground of a changes-only picture
DARK_LUMINANCE = 0.5  # a frame background darker than this gets reveal's black theme

# reveal.js sets --slide-height on its viewport; the images fill the slide and keep their shape
STACK_STYLE = "width:100%;height:var(--slide-height,100%)"
IMAGE_STYLE = "width:100%;height:100%;max-width:none;max-height:none;margin:0;object-fit:contain"
ITALIC_FACE = re.compile(r"@font-face\{[^{}]*font-style:italic[^{}]*\}")
BANNER = re.compile(r"\A/\*!.*?\*/\s*", re.S)


def deck_path_for(path: str | os.PathLike[str]) -> Path:
    """`a03.reveal.html` -> `a03.deck.html`, beside it (any other name: its stem + `.deck.html`)."""
    path = Path(path)
    stem = path.name[: -len(SECTION_SUFFIX)] if path.name.endswith(SECTION_SUFFIX) else path.stem
    return path.with_name(stem + DECK_SUFFIX)


def asset_text(name: str) -> str:
    return (resources.files("convgif.encode") / "revealjs_assets" / name).read_text(encoding="utf-8")


class Picture:
    """One stacked image: its PNG bytes, its words, and the step it shows."""

    __slots__ = ("png", "alt", "label", "text", "step")

    def __init__(self, png: bytes, alt: str, label: str, text: str, step: int | None):
        self.png, self.alt, self.label, self.text, self.step = png, alt, label, text, step

    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


class RevealWriter(Writer):
    """`with RevealWriter(path, deck=deck) as w: w.write_frame(frame)`: frames in click order.

    Each frame is encoded as it arrives (the writer keeps PNG bytes, not pixels); both files appear when it
    finishes without error, and neither otherwise.
    """

    format_name = "revealjs"

    def __init__(self, path: str | os.PathLike[str], *, deck: Deck | None = None):
        self.path = Path(path)
        self.deck_path = deck_path_for(self.path)
        stem = self.deck_path.name[: -len(DECK_SUFFIX)]
        self.stem = stem
        self.deck = deck if deck is not None else Deck(title=stem, alt=stem)
        self.pictures: list[Picture] = []
        self.size: tuple[int, int] | None = None  # (H, W) of the first frame
        self.background: tuple[int, int, int] = (255, 255, 255)
        self._shown: np.ndarray | None = None  # 24-bit keys of what the stack shows so far
        # one palette for the scene's frames while they have at most 255 colours: 24-bit colour key -> index
        self._lookup = np.full(1 << 24, UNKNOWN_COLOUR, dtype=np.uint8)
        self._colours: np.ndarray | None = np.zeros(0, dtype=np.uint32)
        self._open = False

    @classmethod
    def open(cls, path: str | os.PathLike[str], options: WriterOptions) -> RevealWriter:
        return cls(path, deck=options.deck)

    def setup(self) -> None:
        self._open = True

    def write(self, frame_rgb: np.ndarray, duration_ms: float = 0) -> None:
        """A picture without a step (numbered by its position)."""
        self.write_frame(Frame(frame_rgb, duration_ms, len(self.pictures)))

    def write_frame(self, frame: Frame) -> None:
        if not self._open:
            raise RuntimeError("RevealWriter.write_frame called outside its `with` block")
        size = check_frame(frame.pixels, None)
        if self.size is None:
            self.size = size
            self.background = tuple(int(v) for v in frame.pixels[0, 0])
        png, self._shown = self._encode(frame.pixels, self._shown)
        first_line = frame.text.split("\n", 1)[0].strip()
        label = first_line or ("finished picture" if frame.step is None else f"picture {len(self.pictures) + 1}")
        label += f" ({frame.quiz})" if frame.quiz else ""  # a quiz: each step's question, then its answer
        alt = f"{self.deck.alt or self.deck.title}: {label}"
        self.pictures.append(Picture(png, alt, label, frame.text.strip(), frame.step))

    def _exact_indices(self, keys: np.ndarray) -> np.ndarray | None:
        """Indices into the scene's colours so far (new ones added), or None once they would pass 255."""
        if self._colours is None:
            return None
        indices = self._lookup[keys]
        unknown = indices == UNKNOWN_COLOUR
        if unknown.any():
            new = np.unique(keys[unknown])
            if len(self._colours) + len(new) > MAX_PNG_COLOURS:
                self._colours = None  # from here on each frame gets its own palette
                return None
            self._lookup[new] = np.arange(len(self._colours), len(self._colours) + len(new), dtype=np.uint8)
            self._colours = np.concatenate([self._colours, new])
            indices[unknown] = self._lookup[keys[unknown]]
        return indices

    def _encode(self, pixels: np.ndarray, shown: np.ndarray | None) -> tuple[bytes, np.ndarray]:
        """A palette PNG of the frame, or of only its pixels that differ from `shown` (the rest transparent).
        Returns it with the keys the stack shows once it is added."""
        keys = rgb_keys(pixels)
        indices = self._exact_indices(keys)
        if indices is not None:
            colours = self._colours
        else:  # a photo or anti-aliased still: this frame's nearest 255 colours
            quantised = Image.fromarray(pixels, "RGB").quantize(MAX_PNG_COLOURS, method=Image.Quantize.MEDIANCUT,
                                                                dither=Image.Dither.NONE)
            keys = rgb_keys(np.asarray(quantised.convert("RGB")))
            colours = np.unique(keys)
            indices = np.searchsorted(colours, keys).astype(np.uint8)
        palette = np.stack([(colours >> 16) & 255, (colours >> 8) & 255, colours & 255], axis=1).astype(np.uint8)
        options = {}
        if shown is not None and shown.shape == keys.shape:
            clear = len(colours)  # the index after the colours: transparent
            indices[~grow(keys != shown, CHANGE_MARGIN_PX)] = clear
            palette = np.vstack([palette, np.zeros((1, 3), dtype=np.uint8)])
            options["transparency"] = clear
        image = Image.fromarray(indices, "P")
        image.putpalette(palette.tobytes())
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True, **options)
        return buffer.getvalue(), keys

    # ---- the two documents ------------------------------------------------------------------------

    def section_html(self) -> str:
        """The `<section>` to paste into a reveal.js deck: the first picture, then a fragment per step."""
        deck, e = self.deck, _escape
        background = "#{:02x}{:02x}{:02x}".format(*self.background)
        height, width = self.size
        lines = [f'<section id="convgif-{e(self.stem)}" class="convgif-steps" data-background-color="{background}" '
                 f'data-convgif-size="{width}x{height}" aria-label="{e(deck.title)}">',
                 f'<div class="r-stack" style="{STACK_STYLE}">']
        for number, picture in enumerate(self.pictures):
            fragment = ' class="fragment"' if number else ""
            step = "final" if picture.step is None else str(picture.step)
            lines.append(f'<img{fragment} data-step="{step}" alt="{e(picture.alt)}" width="{width}" '
                         f'height="{height}" style="{IMAGE_STYLE}" src="{picture.data_uri()}">')
        lines.append("</div>")
        lines.append('<aside class="notes">')
        lines.append(f"<p>{e(deck.title)}: one click per step ({len(self.pictures)} pictures).</p>")
        lines.append("<ol>")
        for picture in self.pictures:
            lines.append(f"<li>{e(picture.text or picture.label).replace(chr(10), '<br>')}</li>")
        lines.append("</ol>")
        lines.append("</aside>")
        lines.append("</section>")
        return "\n".join(lines) + "\n"

    def deck_html(self, section: str) -> str:
        """A whole page: reveal.js and a theme inlined, a title slide, then the section."""
        deck, e = self.deck, _escape
        height, width = self.size
        theme = "black" if _luminance(self.background) < DARK_LUMINANCE else "white"
        # the deck never shows italics: leaving their two faces out saves a quarter of a MB per deck
        theme_css = ITALIC_FACE.sub("", asset_text(f"{theme}.css"))
        script = BANNER.sub("", asset_text("reveal.js"))
        if "</script" in script.lower() or "</style" in (theme_css + asset_text("reveal.css")).lower():
            raise RuntimeError("a shipped reveal.js asset would end its inline <script> or <style> early")
        # title slide text in proportion to the slide (reveal's themes assume 960 x 700)
        font_px = max(14, round(min(width / 30, height / 16)))
        # in a comment, and without URL schemes: the page names no address it could be asked to fetch
        licence = asset_text("LICENSE").strip().replace("http://", "").replace("https://", "").replace("--", "- -")
        facts = "".join(f"<li>{e(fact)}</li>" for fact in deck.facts)
        description = f'<p class="convgif-description">{e(deck.description)}</p>' if deck.description else ""
        config = (f"{{width: {width}, height: {height}, margin: 0, minScale: 0.1, maxScale: 4, hash: true, "
                  "fragmentInURL: true, controls: true, progress: true, center: true, transition: 'none', "
                  "backgroundTransition: 'none'}")
        return f"""<!doctype html>
<html lang="{e(deck.language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta name="generator" content="convgif">
<title>{e(deck.title)}</title>
<link rel="icon" href="data:,">
<!-- reveal.js {REVEAL_VERSION} (dist/reveal.js, dist/reveal.css, dist/theme/{theme}.css), inlined so that this page
works offline. Its licence:

{licence}

The theme embeds Source Sans Pro (Adobe), under the SIL Open Font License 1.1. -->
<style>
{asset_text("reveal.css")}
</style>
<style>
{theme_css}
</style>
<style>
.reveal .slides section.convgif-title {{ font-size: {font_px}px; text-align: left; padding: 0 4%;
  box-sizing: border-box; }}
.reveal .slides section.convgif-title h1 {{ font-size: 1.6em; text-align: center; text-transform: none; }}
.reveal .slides section.convgif-title .convgif-description {{ font-size: 0.8em; }}
.reveal .slides section.convgif-title ul {{ font-size: 0.7em; display: block; }}
</style>
</head>
<body>
<div class="reveal">
<div class="slides">
<section class="convgif-title" id="convgif-title">
<h1>{e(deck.title)}</h1>
{description}
<ul>{facts}</ul>
</section>
{section}</div>
</div>
<script>
{script}
</script>
<script>
Reveal.initialize({config});
</script>
</body>
</html>
"""

    def finish(self) -> None:
        if not self._open:
            raise RuntimeError("RevealWriter.finish called without setup (or twice)")
        self._open = False
        try:
            if not self.pictures:
                raise ValueError(f"no frames were written to {self.path}")
            section = self.section_html()
            page = self.deck_html(section)
            # both parts are written before either is renamed: an error leaves neither file changed
            with ExitStack() as stack:
                section_file = stack.enter_context(atomic_write(self.path, "w"))
                deck_file = stack.enter_context(atomic_write(self.deck_path, "w"))
                section_file.write(section)
                deck_file.write(page)
        finally:
            self.pictures, self._shown = [], None

    def abort(self, exc_type=None, exc=None, traceback=None) -> None:
        """Drop the encoded pictures; nothing was written, so both destinations are untouched."""
        self._open = False
        self.pictures, self._shown = [], None


def grow(mask: np.ndarray, margin: int) -> np.ndarray:
    """`mask` with every pixel within `margin` px (a square around it) of a True pixel True too."""
    wide = mask.copy()
    for shift in range(1, margin + 1):
        wide[:, shift:] |= mask[:, :-shift]
        wide[:, :-shift] |= mask[:, shift:]
    grown = wide.copy()
    for shift in range(1, margin + 1):
        grown[shift:] |= wide[:-shift]
        grown[:-shift] |= wide[shift:]
    return grown


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def _luminance(rgb: tuple[int, int, int]) -> float:
    """Relative luminance (WCAG) of an sRGB colour, 0 (black) .. 1 (white)."""
    def linear(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b
