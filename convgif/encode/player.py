"""The html format: `<stem>.html`, a step player in one self-contained page (no requests), or the same player as
an HTML fragment to embed in a gallery page or a notebook (`player_fragment`).

Each theme's frames are stored as one PNG atlas: the first frame whole, then for every later frame only the
rectangles that changed since the one before (found by cutting the changed pixels along empty rows and columns),
packed onto shelves below it. The player draws a frame on a <canvas> from the base and the changes up to it (a03's
101 frames: about a hundred small `drawImage`s, under a millisecond, so the scrubber needs no keyframes). The step's
arithmetic is real text in a polite live region; pointing at an output cell draws, over the picture, the windows the
layout manifest says computed it, with that step's arithmetic. With frames of several themes, `prefers-color-scheme`
picks the one shown.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from convgif.encode.atomic import atomic_write
from convgif.encode.base import Writer
from convgif.encode.buffered import check_frame
from convgif.encode.frame import Deck, Frame, WriterOptions
from convgif.encode.palette import rgb_keys
from convgif.encode.revealjs import DARK_LUMINANCE, _luminance

CUT_GAP_PX = 12  # changed pixels further apart than this (rows or columns) go in separate rectangles
MAX_PNG_COLOURS = 256
SPEEDS = (0.5, 0.75, 1.0, 1.5, 2.0)
CELL_WORDS = "output ch {channel} ({index})"  # a hover label's words, by their English (see `word`)
ID_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


# ---- the pictures: changed rectangles packed into one atlas per theme -------------------------------------------

def changed_rectangles(mask: np.ndarray, gap: int = CUT_GAP_PX) -> list[tuple[int, int, int, int]]:
    """Rectangles (x, y, w, h) covering every True pixel of `mask`: an X-Y cut, splitting a region wherever
    more than `gap` empty rows (then columns) part its changes, down to tight boxes. Deterministic order."""
    def runs(flags: np.ndarray) -> list[tuple[int, int]]:
        """[start, end) of the True runs of `flags`, merged across gaps of at most `gap`."""
        where = np.flatnonzero(flags)
        breaks = np.flatnonzero(np.diff(where) > gap)
        starts = np.concatenate([[where[0]], where[breaks + 1]])
        ends = np.concatenate([where[breaks], [where[-1]]]) + 1
        return list(zip(starts.tolist(), ends.tolist()))

    out: list[tuple[int, int, int, int]] = []
    stack = [(0, mask.shape[0], 0, mask.shape[1])] if mask.any() else []
    while stack:
        y0, y1, x0, x1 = stack.pop()
        region = mask[y0:y1, x0:x1]
        rows = runs(region.any(axis=1))
        if len(rows) > 1:
            stack.extend((y0 + a, y0 + b, x0, x1) for a, b in reversed(rows))
            continue
        (ra, rb), = rows
        cols = runs(region[ra:rb].any(axis=0))
        if len(cols) > 1:
            stack.extend((y0 + ra, y0 + rb, x0 + a, x0 + b) for a, b in reversed(cols))
            continue
        (ca, cb), = cols
        out.append((x0 + ca, y0 + ra, cb - ca, rb - ra))
    return out


@dataclass
class ThemeFrames:
    """One theme's frames as they arrive: the base picture, then each frame's changed rectangles."""

    name: str
    base: np.ndarray
    patches: list[list[tuple[int, int, np.ndarray]]] = field(default_factory=list)  # per frame: (x, y, pixels)
    last: np.ndarray | None = None
    texts: list[str] = field(default_factory=list)
    counters: list[str] = field(default_factory=list)
    durations_ms: list[float] = field(default_factory=list)
    steps: list[int | None] = field(default_factory=list)
    # a quiz (`[render] quiz`): each step's answer frame, kept as the rectangles where it differs from its question
    answers: ThemeFrames | None = None
    answered: list[int] = field(default_factory=list)  # per answer frame: the frame (its question) it answers

    def add(self, frame: Frame, against: np.ndarray | None = None) -> None:
        """The next frame, kept as its changes from the one before (or from `against`)."""
        pixels = frame.pixels
        if self.last is None:
            self.patches.append([])
        else:
            differ = pixels != (self.last if against is None else against)
            changed = differ[..., 0] | differ[..., 1] | differ[..., 2]  # 3x faster than .any(axis=2)
            self.patches.append([(x, y, pixels[y:y + h, x:x + w].copy())
                                 for x, y, w, h in changed_rectangles(changed)])
        self.last = pixels.copy()
        self.texts.append(frame.text.strip())
        self.counters.append(frame.counter)
        self.durations_ms.append(float(frame.duration_ms))
        self.steps.append(frame.step)

    def add_answer(self, frame: Frame) -> None:
        """A quiz's answer frame of the frame added last (its question): the answers' first frame whole, every
        later one as its changes from its question frame (a reveal draws them over the question)."""
        if self.answers is None:
            self.answers = ThemeFrames(self.name, frame.pixels.copy())
        self.answers.add(frame, against=self.last)
        self.answered.append(len(self.texts) - 1)

    def answer_rects(self, rects: list[list[int]]) -> list[list[int] | None]:
        """Per frame: the answers atlas's rectangles that reveal its answer (None: a frame without one)."""
        by_frame: list[list[int] | None] = [None] * len(self.texts)
        for number, frame in enumerate(self.answered):
            by_frame[frame] = rects[number]
        return by_frame

    def atlas(self) -> tuple[bytes, list[list[int]]]:
        """The PNG of the base with every patch packed below it, and per frame the flat list
        [sx, sy, dx, dy, w, h, ...] of the rectangles to copy from the atlas onto the picture."""
        height, width = self.base.shape[:2]
        # shelves, tallest patches first (a stable order: ties keep the frames' order)
        order = sorted(((p[2].shape[0], -f, -i) for f, frame in enumerate(self.patches)
                        for i, p in enumerate(frame)), reverse=True)
        places: dict[tuple[int, int], tuple[int, int]] = {}
        shelf_y, shelf_h, x = height, 0, 0
        for h, negative_frame, negative_index in order:
            f, i = -negative_frame, -negative_index
            w = self.patches[f][i][2].shape[1]
            if x + w > width:
                shelf_y, shelf_h, x = shelf_y + shelf_h, 0, 0
            places[(f, i)] = (x, shelf_y)
            x += w
            shelf_h = max(shelf_h, h)
        total = shelf_y + shelf_h
        canvas = np.empty((total, width, 3), dtype=np.uint8)
        canvas[...] = self.base[0, 0]
        canvas[:height] = self.base
        rects: list[list[int]] = [[0, 0, 0, 0, width, height]]
        for f, frame in enumerate(self.patches):
            if f == 0:
                continue
            flat: list[int] = []
            for i, (dx, dy, pixels) in enumerate(frame):
                sx, sy = places[(f, i)]
                h, w = pixels.shape[:2]
                canvas[sy:sy + h, sx:sx + w] = pixels
                flat += [sx, sy, dx, dy, w, h]
            rects.append(flat)
        return png_bytes(canvas), rects


def png_bytes(pixels: np.ndarray) -> bytes:
    """An (H, W, 3) picture as the smallest PNG Pillow makes of it: exact palette when it has at most 256
    colours (the rendered frames), else median cut (a photo in the scene)."""
    keys = rgb_keys(pixels)
    colours, indices = np.unique(keys, return_inverse=True)
    if len(colours) <= MAX_PNG_COLOURS:
        palette = np.stack([(colours >> 16) & 255, (colours >> 8) & 255, colours & 255], axis=1).astype(np.uint8)
        image = Image.fromarray(indices.reshape(keys.shape).astype(np.uint8), "P")
        image.putpalette(palette.tobytes())
    else:
        image = Image.fromarray(pixels, "RGB").quantize(MAX_PNG_COLOURS, method=Image.Quantize.MEDIANCUT,
                                                        dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


# ---- hover: output cells and the windows that computed them, from the layout manifest --------------------------

def _inside(inner: list[int], outer: list[int]) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def hover_table(items_per_frame: list[list[dict] | None], steps: list[int | None], *, values: bool = True,
                cell_words: str = CELL_WORDS) -> dict:
    """{"cells": [[x0, y0, x1, y1, label, [frame, ...]], ...], "windows": {frame: [[x0, y0, x1, y1], ...]}}.

    A step frame computes an output cell when its marker is exactly that cell (a conv or pool step), or when one of
    its windows on the output holds the cell (a scatter step adds into it). Its windows on other tensors are what
    the overlay draws: the boxes as the manifest gives them, never recomputed. `values=False` (a quiz): the labels
    leave out each cell's value, which pointing at a "?" would otherwise tell. `cell_words`: a label's words, in the
    player's language.
    """
    final = next((items for items, step in zip(items_per_frame, steps) if step is None and items is not None), None)
    if final is None:
        final = next((items for items in reversed(items_per_frame) if items is not None), None)
    if final is None:
        return {"cells": [], "windows": {}}
    cells = [item for item in final if item["role"] == "cell" and item["tensor"] == "output"]
    by_box = {tuple(cell["box"]): n for n, cell in enumerate(cells)}
    computed: list[list[int]] = [[] for _ in cells]
    windows: dict[int, list[list[int]]] = {}
    for number, (items, step) in enumerate(zip(items_per_frame, steps)):
        if items is None or step is None:
            continue
        inputs = [item["box"] for item in items if item["role"] == "window" and item["tensor"] != "output"]
        outputs = [item["box"] for item in items if item["role"] == "window" and item["tensor"] == "output"]
        hit = {by_box[tuple(item["box"])] for item in items
               if item["role"] == "marker" and tuple(item["box"]) in by_box}
        for box in outputs:
            hit |= {n for n, cell in enumerate(cells) if _inside(cell["box"], box)}
        if hit and inputs:
            windows[number] = inputs
            for n in sorted(hit):
                computed[n].append(number)
    table = []
    for cell, frames in zip(cells, computed):
        if not frames:
            continue
        index = ", ".join(str(v) for v in cell.get("index", []))
        value = f" = {cell['text']}" if cell.get("text") and values else ""
        table.append([*cell["box"], cell_words.format(channel=cell["channel"], index=index) + value, frames])
    return {"cells": table, "windows": windows}


# ---- the document --------------------------------------------------------------------------------------------

def word(deck: Deck, english: str) -> str:
    """One of the player's words, given by its English, in the deck's language (English if the deck lacks it)."""
    return deck.words.get(english, english)


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def _script_json(value) -> str:
    """JSON that cannot end its <script> element early (nor open a comment in it)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _hex(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(v) for v in rgb))


def theme_colours(background) -> dict[str, str]:
    """Page colours that go with a frame background: the background itself, text, a quiet line, a highlight."""
    dark = _luminance(tuple(int(v) for v in background)) < DARK_LUMINANCE
    if dark:
        return {"bg": _hex(background), "fg": "#ececec", "line": "#6b6b6b", "accent": "#56b4e9", "dark": True}
    return {"bg": _hex(background), "fg": "#1a1a1a", "line": "#9a9a9a", "accent": "#0072b2", "dark": False}


@dataclass
class Player:
    """Every theme's frames and the words around them; `fragment()` and `page()` are its two HTML forms."""

    deck: Deck
    stem: str
    size: tuple[int, int]  # (H, W)
    themes: list[ThemeFrames]
    hover: dict

    def data(self) -> dict:
        first = self.themes[0]
        themes = []
        for theme in self.themes:
            png, rects = theme.atlas()
            themes.append({"name": theme.name, **theme_colours(theme.base[0, 0]),
                           "atlas": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
                           "rects": rects})
            if theme.answers is not None:  # a quiz: what a reveal draws over question frame k is answers.rects[k]
                png, rects = theme.answers.atlas()
                themes[-1]["answers"] = {"atlas": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
                                         "rects": theme.answer_rects(rects)}
        data = {"width": self.size[1], "height": self.size[0], "themes": themes, "texts": first.texts,
                "counters": self.counters(), "durations": [round(d, 3) for d in first.durations_ms],
                "words": {"play": self.word("Play"), "pause": self.word("Pause")},
                "cells": self.hover["cells"], "windows": {str(k): v for k, v in self.hover["windows"].items()}}
        if self.quiz:  # per frame: the text its answer shows, or None (the hold frame, a chain's transitions)
            data["answers"] = first.answer_rects(first.answers.texts)
        return data

    def counters(self) -> list[str]:
        """Per frame, what the counter and the scrubber's spoken value say: the frame's own counter, the words its
        picture prints ("step 6 / 49", "done · 49 steps"), or its place among the frames ("3 / 4") if it has none."""
        counters = self.themes[0].counters
        return [counter or f"{k + 1} / {len(counters)}" for k, counter in enumerate(counters)]

    def word(self, english: str) -> str:
        """`word` of the player's deck."""
        return word(self.deck, english)

    @property
    def quiz(self) -> bool:
        """Whether the frames are a quiz's: the player steps through the questions and reveals each answer."""
        return self.themes[0].answers is not None

    def default_id(self, data_text: str) -> str:
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", self.stem).strip("-") or "scene"
        return f"cgp-{slug}-{hashlib.sha256(data_text.encode()).hexdigest()[:8]}"

    def fragment(self, element_id: str | None = None) -> str:
        """The player as one HTML fragment (a <figure>, its <style> and <script>), every selector and id under
        `element_id` (default: from the stem and a hash of the content, so two players on a page differ)."""
        data_text = _script_json(self.data())
        element_id = element_id or self.default_id(data_text)
        if not ID_PATTERN.match(element_id):
            raise ValueError(f"element_id must be a letter then letters, digits, '-' or '_', got {element_id!r}")
        return _fragment_html(element_id, self, data_text)

    def page(self, element_id: str | None = None) -> str:
        """A whole page around `fragment()`: its colours follow the reader's scheme when both are in the file."""
        deck, e = self.deck, _escape
        colours = [theme_colours(theme.base[0, 0]) for theme in self.themes]
        light = next((c for c in colours if not c["dark"]), colours[0])
        dark = next((c for c in colours if c["dark"]), None)
        scheme = "light dark" if dark is not None and light is not dark else ("dark" if light["dark"] else "light")
        dark_css = "" if dark is None or dark is light else (
            f"@media (prefers-color-scheme: dark) {{ body {{ background: {dark['bg']}; color: {dark['fg']}; }} }}\n")
        return f"""<!doctype html>
<html lang="{e(deck.language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="{scheme}">
<meta name="generator" content="convgif">
<title>{e(deck.title)}</title>
<link rel="icon" href="data:,">
<style>
body {{ margin: 0; padding: 16px; background: {light['bg']}; color: {light['fg']};
  font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }}
{dark_css}main {{ max-width: {self.size[1]}px; margin: 0 auto; }}
h1 {{ font-size: 1.3rem; margin: 0 0 12px; }}
</style>
</head>
<body>
<main>
<h1>{e(deck.title)}</h1>
{self.fragment(element_id)}</main>
</body>
</html>
"""


def build_player(frames: Iterable[Frame], deck: Deck | None = None, *, stem: str = "scene") -> Player:
    """A Player from frames in the order the html format is handed them: every frame of one theme, then the next."""
    builder = PlayerBuilder(deck if deck is not None else Deck(title=stem, alt=stem), stem)
    for frame in frames:
        builder.add(frame)
    return builder.player()


def player_fragment(frames: Iterable[Frame], deck: Deck | None = None, *, stem: str = "scene",
                    element_id: str | None = None) -> str:
    """The player of `frames` as an HTML fragment to put in a page (the gallery) or a notebook cell's output."""
    return build_player(frames, deck, stem=stem).fragment(element_id)


class PlayerBuilder:
    """Takes frames one at a time (keeping changed rectangles, not whole frames) and makes the Player."""

    def __init__(self, deck: Deck, stem: str):
        self.deck, self.stem = deck, stem
        self.themes: list[ThemeFrames] = []
        self.items: list[list[dict] | None] = []
        self.size: tuple[int, int] | None = None

    def add(self, frame: Frame) -> None:
        self.size = check_frame(frame.pixels, self.size)
        theme = self.themes[-1] if self.themes else None
        if theme is None or theme.name != frame.theme:
            if any(t.name == frame.theme for t in self.themes):
                raise ValueError(f"frames of theme {frame.theme!r} came after another theme's: each theme's frames "
                                 "must come together")
            theme = ThemeFrames(frame.theme, frame.pixels.copy())
            self.themes.append(theme)
        if frame.quiz == "answer":  # the answer to the question frame before it: drawn only when revealed
            if not theme.steps or theme.steps[-1] != frame.step:
                raise ValueError(f"an answer frame of step {frame.step} came without its question frame before it")
            theme.add_answer(frame)
            return
        theme.add(frame)
        if len(self.themes) == 1:  # the first theme's manifest serves every theme: the layout is the same
            self.items.append(frame.items() if frame.items is not None else None)

    def player(self) -> Player:
        if not self.themes:
            raise ValueError("no frames were given to the player")
        first = self.themes[0]
        for theme in self.themes[1:]:
            if theme.steps != first.steps or theme.texts != first.texts or theme.counters != first.counters or (
                    (theme.answers and theme.answers.texts) != (first.answers and first.answers.texts)):
                raise ValueError(f"the {theme.name} frames show other steps or text than the {first.name} frames")
        return Player(self.deck, self.stem, self.size, self.themes,
                      hover_table(self.items, first.steps, values=first.answers is None,
                                  cell_words=word(self.deck, CELL_WORDS)))


class PlayerWriter(Writer):
    """`with PlayerWriter.open(path, options) as w: w.write_frame(frame)`: `<stem>.html`, written on finish
    (atomically), nothing on an error."""

    format_name = "html"

    def __init__(self, path: str | os.PathLike[str], *, deck: Deck | None = None):
        self.path = Path(path)
        name = self.path.name
        self.stem = name[: -len(".html")] if name.endswith(".html") else self.path.stem
        self.deck = deck if deck is not None else Deck(title=self.stem, alt=self.stem)
        self._builder: PlayerBuilder | None = None

    @classmethod
    def open(cls, path: str | os.PathLike[str], options: WriterOptions) -> PlayerWriter:
        return cls(path, deck=options.deck)

    def setup(self) -> None:
        self._builder = PlayerBuilder(self.deck, self.stem)

    def write(self, frame_rgb: np.ndarray, duration_ms: float) -> None:
        """A picture without a step or text (numbered by its position)."""
        self.write_frame(Frame(frame_rgb, duration_ms, None))

    def write_frame(self, frame: Frame) -> None:
        if self._builder is None:
            raise RuntimeError("PlayerWriter.write_frame called outside its `with` block")
        self._builder.add(frame)

    def finish(self) -> None:
        if self._builder is None:
            raise RuntimeError("PlayerWriter.finish called without setup (or twice)")
        builder, self._builder = self._builder, None
        page = builder.player().page()
        with atomic_write(self.path, "w") as file:
            file.write(page)

    def abort(self, exc_type=None, exc=None, traceback=None) -> None:
        """Drop what was kept; nothing was written, so the destination is untouched."""
        self._builder = None


# ---- the fragment's markup, style and script -------------------------------------------------------------------

ICONS = {  # 16 x 16 paths: no font needs to have the glyphs
    "prev": "M3 2h2v12H3zM14 2v12L6 8z",
    "play": "M4 2v12l10-6z",
    "pause": "M3 2h4v12H3zM9 2h4v12H9z",
    "next": "M11 2h2v12h-2zM2 2v12l8-6z",
    "loop": "M4 5h7V3l3 3-3 3V7H4v3H2V7a2 2 0 0 1 2-2zm8 6H5v2l-3-3 3-3v2h7V6h2v3a2 2 0 0 1-2 2z",
}


def _icon(name: str, extra: str = "") -> str:
    return (f'<svg class="cgp-icon{extra}" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" '
            f'focusable="false"><path d="{ICONS[name]}"/></svg>')


def _fragment_html(pid: str, player: Player, data_text: str) -> str:
    deck, e, w = player.deck, _escape, player.word
    height, width = player.size
    colours = [theme_colours(theme.base[0, 0]) for theme in player.themes]
    first, dark = colours[0], next((c for c in colours if c["dark"]), None)
    vars_first = "".join(f"--cgp-{k}:{v};" for k, v in first.items() if k != "dark")
    dark_css = ""
    if dark is not None and dark is not first:
        vars_dark = "".join(f"--cgp-{k}:{v};" for k, v in dark.items() if k != "dark")
        dark_css = f"@media (prefers-color-scheme: dark){{#{pid}{{{vars_dark}}}}}"
    per_theme = "".join(
        f"#{pid}[data-theme=\"{i}\"]{{" + "".join(f"--cgp-{k}:{v};" for k, v in c.items() if k != "dark") + "}"
        for i, c in enumerate(colours))
    caption = f'<figcaption class="cgp-caption">{e(deck.description)}</figcaption>' if deck.description else ""
    count = len(player.themes[0].texts)
    speed_options = "".join(f'<option value="{s:g}"{" selected" if s == 1 else ""}>{s:g}×</option>' for s in SPEEDS)
    style = (PLAYER_CSS.replace("#P", f"#{pid}") + f"#{pid}{{{vars_first}}}" + dark_css + per_theme)
    alt = deck.alt or deck.title
    keys, reveal, quiz_script = w("space plays or pauses, arrow keys step"), "", ""
    if player.quiz:  # only a quiz's player has these: every other player stays as it was
        keys = w("space plays or pauses, arrow keys step, R reveals the answer")
        style += QUIZ_CSS.replace("#P", f"#{pid}")
        reveal = (f'<button type="button" class="cgp-reveal" aria-label="{e(w("Reveal the answer"))}" '
                  f'aria-keyshortcuts="R" aria-pressed="false">{e(w("Reveal"))}</button>\n')
        quiz_script = f'<script>{QUIZ_JS}convgifQuiz1(document.getElementById("{pid}"));</script>\n'
    name = w("{title}: step player ({keys})").format(title=deck.title, keys=keys)
    return f"""<figure class="cgp" id="{pid}" tabindex="0" role="group" aria-roledescription="{e(w("step player"))}" aria-label="{e(name)}">
<style>{style}</style>
<div class="cgp-stage" style="aspect-ratio:{width}/{height}">
<canvas class="cgp-canvas" width="{width}" height="{height}" role="img" aria-label="{e(alt)}">{e(alt)}</canvas>
<svg class="cgp-overlay" viewBox="0 0 {width} {height}" preserveAspectRatio="none" aria-hidden="true"></svg>
<div class="cgp-tip" role="status" hidden></div>
</div>
<div class="cgp-controls">
<button type="button" class="cgp-prev" aria-label="{e(w("Previous step"))}">{_icon("prev")}</button>
<button type="button" class="cgp-play" aria-label="{e(w("Play"))}">{_icon("play", " cgp-i-play")}{_icon("pause", " cgp-i-pause")}</button>
<button type="button" class="cgp-next" aria-label="{e(w("Next step"))}">{_icon("next")}</button>
<input type="range" class="cgp-scrub" min="0" max="{count - 1}" step="1" value="0" aria-label="{e(w("Step"))}">
<label class="cgp-speed-label">{e(w("Speed"))} <select class="cgp-speed" aria-label="{e(w("Speed"))}">{speed_options}</select></label>
<button type="button" class="cgp-loop" aria-label="{e(w("Loop"))}" aria-pressed="true">{_icon("loop")}</button>
<span class="cgp-count" aria-hidden="true"></span>
{reveal}</div>
<p class="cgp-text" aria-live="polite"></p>
{caption}
<script type="application/json" id="{pid}-data">{data_text}</script>
<script>{PLAYER_JS}convgifPlayer1(document.getElementById("{pid}"));</script>
{quiz_script}</figure>
"""


PLAYER_CSS = """\
#P{--cgp-bg:#fff;--cgp-fg:#1a1a1a;--cgp-line:#9a9a9a;--cgp-accent:#0072b2;margin:0 0 1em;padding:8px;\
max-width:100%;box-sizing:border-box;background:var(--cgp-bg);color:var(--cgp-fg);border-radius:6px;\
font-family:system-ui,-apple-system,"Segoe UI",sans-serif}
#P:focus-visible{outline:2px solid var(--cgp-accent);outline-offset:2px}
#P .cgp-stage{position:relative;width:100%;max-width:100%}
#P .cgp-canvas{display:block;width:100%;height:auto;background:var(--cgp-bg)}
#P .cgp-overlay{position:absolute;inset:0;width:100%;height:100%;pointer-events:none}
#P .cgp-overlay rect{fill:none;stroke-width:3}
#P .cgp-overlay .cgp-window{stroke:var(--cgp-fg);stroke-dasharray:4 3;fill:var(--cgp-accent);fill-opacity:.18}
#P .cgp-overlay .cgp-cell{stroke:var(--cgp-fg);stroke-dasharray:4 3}
#P .cgp-tip{position:absolute;max-width:min(90%,40em);box-sizing:border-box;padding:4px 8px;font-size:13px;\
line-height:1.35;white-space:pre-wrap;overflow-wrap:anywhere;background:var(--cgp-bg);color:var(--cgp-fg);\
border:1px solid var(--cgp-line);border-radius:4px;pointer-events:none;z-index:1}
#P .cgp-tip[hidden]{display:none}
#P .cgp-controls{display:flex;flex-wrap:wrap;align-items:center;gap:6px;margin-top:6px}
#P button,#P select{font:inherit;color:var(--cgp-fg);background:var(--cgp-bg);border:1px solid var(--cgp-line);\
border-radius:4px;min-height:32px}
#P button{min-width:36px;display:inline-flex;align-items:center;justify-content:center;padding:0 8px;cursor:pointer}
#P button:focus-visible,#P input:focus-visible,#P select:focus-visible{outline:2px solid var(--cgp-accent)}
#P .cgp-icon{fill:currentColor}
#P .cgp-play .cgp-i-pause,#P.cgp-playing .cgp-play .cgp-i-play{display:none}
#P.cgp-playing .cgp-play .cgp-i-pause{display:inline}
#P .cgp-loop[aria-pressed="false"]{opacity:.5}
#P .cgp-scrub{flex:1 1 8em;min-width:6em;accent-color:var(--cgp-accent)}
#P .cgp-speed-label{font-size:14px;white-space:nowrap}
#P .cgp-count{font-size:14px;font-variant-numeric:tabular-nums;white-space:nowrap}
#P .cgp-text{margin:8px 0 0;min-height:2.7em;font-size:14px;line-height:1.4;white-space:pre-wrap;\
overflow-wrap:anywhere;font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace}
#P .cgp-caption{margin-top:8px;font-size:14px;line-height:1.4;opacity:.85}
"""

# one function shared by every player on a page (defined by the first), run on each player's root element
PLAYER_JS = """\
window.convgifPlayer1=window.convgifPlayer1||function(root){"use strict";
var data=JSON.parse(document.getElementById(root.id+"-data").textContent);
var q=function(c){return root.querySelector("."+c);};
var canvas=q("cgp-canvas"),ctx=canvas.getContext("2d"),overlay=q("cgp-overlay"),tip=q("cgp-tip");
var text=q("cgp-text"),scrub=q("cgp-scrub"),playButton=q("cgp-play"),loopButton=q("cgp-loop");
var speedSelect=q("cgp-speed"),count=q("cgp-count"),n=data.texts.length;
var reduce=window.matchMedia("(prefers-reduced-motion: reduce)"),darkQuery=window.matchMedia("(prefers-color-scheme: dark)");
var state={frame:-1,theme:-1,playing:false,loop:true,speed:1,timer:0,atlas:[]};
var SVG="http://www.w3.org/2000/svg";
root.convgif=state;
function pickTheme(){var want=darkQuery.matches,t=data.themes;
  for(var i=0;i<t.length;i++){if(t[i].dark===want)return i;}return 0;}
function atlas(i){if(!state.atlas[i]){var img=new Image();img.src=data.themes[i].atlas;
  state.atlas[i]=img.decode().then(function(){return img;});}return state.atlas[i];}
function paint(img,k){var r=data.themes[state.theme].rects[k];
  for(var j=0;j<r.length;j+=6)ctx.drawImage(img,r[j],r[j+1],r[j+4],r[j+5],r[j+2],r[j+3],r[j+4],r[j+5]);}
function show(k,themeChanged){k=Math.max(0,Math.min(n-1,k));var from=state.frame;state.frame=k;
  atlas(state.theme).then(function(img){if(state.frame!==k)return;
    ctx.imageSmoothingEnabled=false;
    var start=(!themeChanged&&state.drawn===k-1)?k:0;
    if(!themeChanged&&state.drawn===k)start=k+1;
    for(var i=start;i<=k;i++)paint(img,i);state.drawn=k;root.setAttribute("data-frame",String(k));});
  if(from!==k||themeChanged){
    text.textContent=data.texts[k];scrub.value=String(k);
    scrub.setAttribute("aria-valuetext",data.counters[k]);count.textContent=data.counters[k];}
  if(hovered)hover(hovered);}
function setTheme(){var t=pickTheme();if(t===state.theme)return;state.theme=t;
  root.setAttribute("data-theme",String(t));state.drawn=-1;show(state.frame<0?0:state.frame,true);}
function schedule(){clearTimeout(state.timer);if(!state.playing)return;
  state.timer=setTimeout(function(){if(state.frame>=n-1){if(!state.loop){setPlaying(false);return;}show(0);}
    else show(state.frame+1);schedule();},Math.max(20,data.durations[state.frame]/state.speed));}
function setPlaying(on){state.playing=on;root.classList.toggle("cgp-playing",on);
  playButton.setAttribute("aria-label",on?data.words.pause:data.words.play);
  text.setAttribute("aria-live",on?"off":"polite");schedule();}
function step(d){setPlaying(false);var k=state.frame+d;
  if(k>=n)k=state.loop?0:n-1;if(k<0)k=state.loop?n-1:0;show(k);}
var hovered=null;
function hover(cell){hovered=cell;while(overlay.firstChild)overlay.removeChild(overlay.firstChild);
  if(!cell){tip.hidden=true;return;}
  function rect(b,cls){var r=document.createElementNS(SVG,"rect");r.setAttribute("class",cls);
    r.setAttribute("x",b[0]);r.setAttribute("y",b[1]);r.setAttribute("width",b[2]-b[0]);r.setAttribute("height",b[3]-b[1]);
    overlay.appendChild(r);}
  var frames=cell[5],seen={},lines=[cell[4]],low=cell[3],high=cell[1];
  frames.forEach(function(f){(data.windows[String(f)]||[]).forEach(function(b){var key=b.join(",");
    if(!seen[key]){seen[key]=1;rect(b,"cgp-window");low=Math.max(low,b[3]);high=Math.min(high,b[1]);}});
    var t=data.texts[f],cut=t.indexOf("\\n");lines.push(cut<0?t:t.slice(cut+1));});
  rect(cell,"cgp-cell");
  tip.textContent=lines.join("\\n");tip.hidden=false;
  // below the cell and its windows, or above them when it would leave the picture
  var w=canvas.clientWidth,scale=w/data.width,top=low*scale+6;
  tip.style.left="0px";tip.style.top="0px";
  var left=Math.max(0,Math.min(cell[0]*scale,w-tip.offsetWidth));
  if(top+tip.offsetHeight>canvas.clientHeight)top=Math.max(0,high*scale-tip.offsetHeight-6);
  tip.style.left=left+"px";tip.style.top=top+"px";}
function cellAt(ev){var r=canvas.getBoundingClientRect();if(!r.width)return null;
  var x=(ev.clientX-r.left)*data.width/r.width,y=(ev.clientY-r.top)*data.height/r.height;
  for(var i=0;i<data.cells.length;i++){var c=data.cells[i];
    if(x>=c[0]&&x<c[2]&&y>=c[1]&&y<c[3])return c;}return null;}
canvas.addEventListener("pointermove",function(ev){var c=cellAt(ev);if(c!==hovered)hover(c);});
canvas.addEventListener("pointerdown",function(ev){hover(cellAt(ev));});
canvas.addEventListener("pointerleave",function(){hover(null);});
playButton.addEventListener("click",function(){setPlaying(!state.playing);});
q("cgp-prev").addEventListener("click",function(){step(-1);});
q("cgp-next").addEventListener("click",function(){step(1);});
loopButton.addEventListener("click",function(){state.loop=!state.loop;
  loopButton.setAttribute("aria-pressed",String(state.loop));});
scrub.addEventListener("input",function(){setPlaying(false);show(parseInt(scrub.value,10));});
speedSelect.addEventListener("change",function(){state.speed=parseFloat(speedSelect.value)||1;schedule();});
function key(ev){if(ev.defaultPrevented||ev.altKey||ev.ctrlKey||ev.metaKey)return;
  var t=ev.target,tag=t&&t.tagName;
  if(tag==="SELECT"||tag==="TEXTAREA"||(tag==="INPUT"&&t!==scrub)||(t&&t.isContentEditable))return;
  if(ev.key===" "||ev.key==="Spacebar"){if(tag==="BUTTON")return;setPlaying(!state.playing);}
  else if(ev.key==="ArrowRight"||ev.key==="ArrowLeft"){if(t===scrub)return;step(ev.key==="ArrowRight"?1:-1);}
  else return;ev.preventDefault();}
root.addEventListener("keydown",function(ev){key(ev);});
document.addEventListener("keydown",function(ev){
  if(document.querySelectorAll(".cgp").length!==1||root.contains(ev.target))return;
  var t=ev.target;if(t&&t!==document.body&&t!==document.documentElement)return;key(ev);});
darkQuery.addEventListener("change",setTheme);
setTheme();
if(reduce.matches){show(n-1);setPlaying(false);}else{show(0);setPlaying(true);}
};
"""

# a quiz's player (`[render] quiz`) adds a Reveal button: the picture steps through the question frames, and Reveal
# (or R) draws the current step's answer over its question, its text under the picture with it; any other step, or
# another theme, shows the question again
QUIZ_CSS = """\
#P .cgp-reveal{font-weight:600;padding:0 12px}
#P .cgp-reveal[aria-pressed="true"]{background:var(--cgp-accent);color:var(--cgp-bg);border-color:var(--cgp-accent)}
#P .cgp-reveal:disabled{opacity:.5;cursor:default}
#P .cgp-reveal:focus-visible{outline-offset:2px}
"""

QUIZ_JS = """\
window.convgifQuiz1=window.convgifQuiz1||function(root){"use strict";
var data=JSON.parse(document.getElementById(root.id+"-data").textContent);
var state=root.convgif,q=function(c){return root.querySelector("."+c);};
var button=q("cgp-reveal"),text=q("cgp-text"),scrub=q("cgp-scrub"),ctx=q("cgp-canvas").getContext("2d");
var shown=-1,images=[],frame=state.frame,theme=state.theme;
function atlas(i){if(!images[i]){var img=new Image();img.src=data.themes[i].answers.atlas;
  images[i]=img.decode().then(function(){return img;});}return images[i];}
function has(k){return k>=0&&k<data.answers.length&&data.answers[k]!==null;}
function update(){button.disabled=!has(state.frame);button.setAttribute("aria-pressed",String(shown>=0));
  if(shown>=0)root.setAttribute("data-revealed",String(shown));
  else{root.removeAttribute("data-revealed");root.removeAttribute("data-painted");}}
function hide(){shown=-1;update();}
// the player sets state.frame as it starts showing a frame, state.theme as it changes theme: then the question shows
Object.defineProperty(state,"frame",{get:function(){return frame;},set:function(k){if(k!==shown)shown=-1;frame=k;update();},configurable:true});
Object.defineProperty(state,"theme",{get:function(){return theme;},set:function(t){if(t!==theme)shown=-1;theme=t;update();},configurable:true});
function reveal(){var k=state.frame,t=state.theme;if(!has(k))return;
  if(shown===k){hide();text.textContent=data.texts[k];state.drawn=-1;scrub.dispatchEvent(new Event("input"));return;}
  if(state.playing)q("cgp-play").click();
  shown=k;update();text.textContent=data.answers[k];
  Promise.all([state.atlas[t],atlas(t)]).then(function(imgs){if(shown!==k||state.frame!==k||state.theme!==t)return;
    var r=data.themes[t].answers.rects[k],img=imgs[1];ctx.imageSmoothingEnabled=false;
    for(var j=0;j<r.length;j+=6)ctx.drawImage(img,r[j],r[j+1],r[j+4],r[j+5],r[j+2],r[j+3],r[j+4],r[j+5]);
    state.drawn=-1;root.setAttribute("data-painted",String(k));});}
button.addEventListener("click",reveal);
function key(ev){if(ev.defaultPrevented||ev.altKey||ev.ctrlKey||ev.metaKey||(ev.key!=="r"&&ev.key!=="R"))return;
  var t=ev.target,tag=t&&t.tagName;
  if(tag==="SELECT"||tag==="TEXTAREA"||(tag==="INPUT"&&t!==scrub)||(t&&t.isContentEditable))return;
  reveal();ev.preventDefault();}
root.addEventListener("keydown",key);
document.addEventListener("keydown",function(ev){
  if(document.querySelectorAll(".cgp").length!==1||root.contains(ev.target))return;
  var t=ev.target;if(t&&t!==document.body&&t!==document.documentElement)return;key(ev);});
update();
};
"""
