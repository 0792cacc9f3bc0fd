"""Fonts both painters use: DejaVu Sans (bundled with matplotlib) and a shipped Noto Sans CJK SC subset for Chinese.

A line of text is set in ONE font file, chosen by what it contains: DejaVu when it covers every character,
else the CJK font. matplotlib (static layer) and Pillow (per frame) are handed the same file, so both draw
the same glyphs and `text_width` measures what is drawn. Bold falls back to regular when only that covers.
"""

from __future__ import annotations

import array
import functools
import importlib.util
import itertools
import os
import re
import struct
import sys
from collections.abc import Iterable
from pathlib import Path

from PIL import Image, ImageFont

from convgif.render.glyph_store import LONGEST_KEPT_TEXT, kept_on_disk

FONT_DIR = Path(__file__).resolve().parent / "fonts"
CJK_FAMILY = "Noto Sans CJK SC"  # the family name inside the shipped subset files
CJK_FILES = {False: "NotoSansSC-convgif-Regular.ttf", True: "NotoSansSC-convgif-Bold.ttf"}


@functools.cache
def _matplotlib_data() -> str:
    """matplotlib's mpl-data folder, found without importing matplotlib (a slow import the GIF path avoids)."""
    spec = importlib.util.find_spec("matplotlib")
    return os.path.join(spec.submodule_search_locations[0], "mpl-data")


@functools.cache  # asked for every word a frame draws
def dejavu_path(bold: bool = False) -> str:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return os.path.join(_matplotlib_data(), "fonts", "ttf", name)


@functools.cache  # asked for every new line with a character outside ASCII
def cjk_path(bold: bool = False) -> str:
    return str(FONT_DIR / CJK_FILES[bold])


def _runs(codes: frozenset[int]) -> tuple[int, ...]:
    """Code points as the starts and ends (exclusive) of their runs, for the glyph store: DejaVu's ~5,900 code points
    are ~280 runs, read back several times faster than the set itself."""
    bounds: list[int] = []
    for code in sorted(codes):
        if bounds and bounds[-1] == code:
            bounds[-1] = code + 1
        else:
            bounds += [code, code + 1]
    return tuple(bounds)


def _from_runs(bounds: tuple[int, ...]) -> frozenset[int]:
    return frozenset(itertools.chain.from_iterable(map(range, bounds[::2], bounds[1::2])))


@functools.lru_cache(maxsize=8)
@kept_on_disk(_runs, _from_runs)
def coverage(path: str) -> frozenset[int]:
    """The code points a font file has glyphs for (read once per file): those of its best Unicode cmap subtable,
    as fontTools' `getBestCmap` picks it. Read here with `struct` for the formats fonts use (4 and 12; fontTools for
    any other): importing fontTools and decoding the table with it took ~80 ms of a 9-step render's start."""
    try:
        found = _read_cmap(path)
    except (OSError, ValueError, struct.error):
        found = None
    if found is not None:
        return found
    from fontTools.ttLib import TTFont

    font = TTFont(path, lazy=True)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


@functools.lru_cache(maxsize=8)
def ink_bounds(path: str) -> tuple[float, float, float, float]:
    """(xMin, yMin, xMax, yMax) in ems, y up: the box round every glyph of a font file, from its origin (the font's
    `head` table); no glyph inks outside it."""
    with open(path, "rb") as file:
        head = _sfnt_table(file, b"head", 54)
    units, = struct.unpack_from(">H", head, 18)
    return tuple(value / units for value in struct.unpack_from(">4h", head, 36))


# (platform, encoding) of the Unicode cmap subtables in fontTools' getBestCmap order (HarfBuzz's)
_CMAP_PREFERENCES = ((3, 10), (0, 6), (0, 4), (3, 1), (0, 3), (0, 2), (0, 1), (0, 0))


def _sfnt_table(file, tag: bytes, least: int = 0) -> bytes:
    """The bytes of table `tag` of an sfnt (TrueType/OpenType) file; ValueError when it has none."""
    version, count = struct.unpack(">4sH", file.read(6))
    if version not in (b"\0\1\0\0", b"OTTO", b"true"):
        raise ValueError("not a single sfnt font")
    file.seek(12)
    directory = file.read(16 * count)
    for i in range(count):
        name, _, offset, length = struct.unpack_from(">4sIII", directory, 16 * i)
        if name == tag:
            file.seek(offset)
            data = file.read(length)
            if len(data) != length or length < least:
                raise ValueError(f"truncated {tag!r} table")
            return data
    raise ValueError(f"no {tag!r} table")


def _read_cmap(path: str) -> frozenset[int] | None:
    """The code points of the best Unicode subtable when it is format 4 or 12; None for any other (fontTools then
    reads it), like fontTools dropping code points mapped to glyph 0."""
    with open(path, "rb") as file:
        cmap = _sfnt_table(file, b"cmap", 4)
    _, count = struct.unpack_from(">HH", cmap, 0)
    offsets = {}
    for i in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", cmap, 4 + 8 * i)
        offsets.setdefault((platform, encoding), offset)
    chosen = next((offsets[key] for key in _CMAP_PREFERENCES if key in offsets), None)
    if chosen is None:
        return None
    kind, = struct.unpack_from(">H", cmap, chosen)
    codes: set[int] = set()
    if kind == 4:
        length, = struct.unpack_from(">H", cmap, chosen + 2)
        table = cmap[chosen:chosen + length]
        segments = struct.unpack_from(">H", table, 6)[0] // 2
        words = array.array("H", table[14:])
        if sys.byteorder != "big":
            words.byteswap()
        ends, starts = words[:segments], words[segments + 1:2 * segments + 1]
        deltas = words[2 * segments + 1:3 * segments + 1]
        range_offsets = words[3 * segments + 1:4 * segments + 1]
        glyphs = words[4 * segments + 1:]
        for i in range(segments - 1):  # not the last, 0xFFFF segment
            start, delta, offset = starts[i], deltas[i], range_offsets[i]
            if offset == 0:
                codes.update(c for c in range(start, ends[i] + 1) if (c + delta) & 0xFFFF)
                continue
            partial = offset // 2 - start + i - segments
            for c in range(start, ends[i] + 1):
                index = c + partial
                if not 0 <= index < len(glyphs):
                    raise ValueError("cmap format 4: glyph index out of range")
                if glyphs[index] and (glyphs[index] + delta) & 0xFFFF:
                    codes.add(c)
        return frozenset(codes)
    if kind == 12:
        _, length, _, groups = struct.unpack_from(">HIII", cmap, chosen + 2)
        if length != 16 + 12 * groups:
            raise ValueError("cmap format 12: inconsistent group count")
        last_end = 0
        for first, last, glyph in struct.iter_unpack(">III", cmap[chosen + 16:chosen + 16 + 12 * groups]):
            last = min(last, 0x10FFFF)
            if first > last or first < last_end:
                continue
            last_end = last
            codes.update(range(first + (glyph == 0), last + 1))
        return frozenset(codes)
    return None


def _candidates(bold: bool) -> tuple[str, ...]:
    return (dejavu_path(bold), cjk_path(bold), cjk_path(False))


@functools.lru_cache(maxsize=4096)
def _path_for(bold: bool, chars: frozenset[int]) -> str:
    for path in _candidates(bold):
        if chars <= coverage(path):
            return path
    # nothing covers every character: the font covering most of them draws the line
    return max(_candidates(bold), key=lambda p: len(chars & coverage(p)))


def font_path(bold: bool = False, text: str = "") -> str:
    """The font file that draws `text` (DejaVu for plain text, the CJK subset for Chinese)."""
    if text.isascii():  # the hot path: numbers and English labels
        return dejavu_path(bold)
    return _path_of_text(bold, text)


@functools.lru_cache(maxsize=8192)  # numbers with − and × are not ASCII: each frame asks again for the same words
def _path_of_text(bold: bool, text: str) -> str:
    return _path_for(bold, frozenset(map(ord, text)))


def missing_characters(text: str, bold: bool = False) -> str:
    """Characters of `text` that the font chosen for it has no glyph for ("" when it renders fully)."""
    covered = coverage(font_path(bold, text))
    return "".join(sorted({ch for ch in text if ord(ch) not in covered and not ch.isspace()}))


class GlyphCachedFont(ImageFont.FreeTypeFont):
    """A Pillow font that keeps the masks it renders: frame after frame a scene draws the same words ("+",
    "0×(−1)", "= 7", digits in cells) at the same sub-pixel offsets, and rendering them was most of a frame's
    drawing time. `getmask2` is what `ImageDraw.text` calls; its result depends only on its arguments, so a
    kept mask is exactly the one Pillow would render again. All fonts share one bounded LRU of masks
    (KEPT_MASKS), so memory stays flat however many frames a scene has."""

    def getmask2(self, text, mode="", *args, **kwargs):
        if mode == "RGBA":  # colour glyphs: Pillow writes into that mask while drawing, so never share one
            return super().getmask2(text, mode, *args, **kwargs)
        if len(args) > _INK:  # the ink colours only colour glyphs: one mask serves a word in every colour
            args = (*args[:_INK], 0, *args[_INK + 1:])
        try:
            return _kept_mask(self, text, mode, args, tuple(sorted(kwargs.items())))
        except TypeError:  # an unhashable argument (features as a list): render as Pillow does
            return super().getmask2(text, mode, *args, **kwargs)


# a frame draws ~20-120 words and glyphs (paint.draw_pieces), many repeating from frame to frame;
# 2048 masks are a few MB
KEPT_MASKS = 2048
_INK = 5  # where getmask2's `ink` sits among its positional arguments after text and mode


@functools.lru_cache(maxsize=KEPT_MASKS)
def _kept_mask(font: GlyphCachedFont, text, mode, args: tuple, kwargs: tuple):
    return ImageFont.FreeTypeFont.getmask2(font, text, mode, *args, **dict(kwargs))


@functools.lru_cache(maxsize=8192)
def mask_tops(path: str, size: int, text: str, crisp: bool) -> tuple[int, int] | None:
    """(box top, bitmap top) of `text` drawn alone in the font file `path` at `size` px: how far above the baseline
    Pillow's mask of it starts (the top of its glyph boxes, whole px, at least 0), and the top of its glyphs'
    bitmaps as a number comparable between texts of one font, size and mode (the highest `bitmap_rise` of its
    glyphs). None when no glyph of it reaches 2 px above the baseline (the mask's top is then the baseline itself,
    which the bitmap tops cannot be compared with)."""
    rises = [bitmap_rise(path, size, char, crisp) for char in set(text) if box_top(path, size, char, crisp) >= 2]
    if not rises or None in rises:
        return None
    return max(0, box_top(path, size, text, crisp)), max(rises)


def box_top(path: str, size: int, text: str, crisp: bool) -> int:
    """How far above the baseline the glyph boxes of `text` reach, in whole px (as Pillow sizes its mask)."""
    return -_mask_box(path, size, text, crisp)[1]


@functools.lru_cache(maxsize=8192)
@kept_on_disk()
def _mask_box(path: str, size: int, text: str, crisp: bool) -> tuple[int, int]:
    """Where Pillow's mask of `text` starts from its origin on the baseline (left, top; y down): its box's corner,
    which is also the offset of its mask (one-bit, read off the mask kept for drawing it: no layout of its own)."""
    if crisp:
        return start_mask(path, size, text, False, False)[1]
    return pil_font_file(path, size).getbbox(text, mode="L", anchor="ls")[:2]


def mask_left(path: str, size: int, text: str, crisp: bool) -> int:
    """Where Pillow's mask of `text` starts, in whole px from its origin (negative for a first glyph inking left
    of it)."""
    return _mask_box(path, size, text, crisp)[0]


COMMON_GLYPHS = "0123456789+−×=()[]Σ/:."  # the glyphs of numbers and arithmetic lines: their rises measured at once


@functools.lru_cache(maxsize=4096)
@kept_on_disk()
def bitmap_rise(path: str, size: int, char: str, crisp: bool) -> int | None:
    """How many px higher than the digit 0's the top of `char`'s rendered bitmap sits (`char` reaching 2 px or
    more above the baseline). Pillow places glyphs by their bitmaps' tops but sizes a mask by their boxes, which
    one-bit rendering rounds differently (the box up, the bitmap to nearest); in one mask with 0, a glyph shows
    where its bitmap starts, less the blank rows its bitmap starts with (the first inked row of its mask alone)."""
    if crisp and char in COMMON_GLYPHS and (tops := _common_tops(path, size)):
        alone = start_mask(path, size, char, False, False)[0].getbbox()  # the mask it is drawn from
        if alone is None:  # a glyph with a box but no ink: nothing to compare
            return None
        return (tops["0"] - _zero_box(path, size, crisp)[1]) - (tops[char] - alone[1])
    font = pil_font_file(path, size)
    mode = "1" if crisp else "L"
    together, offset = ImageFont.FreeTypeFont.getmask2(font, "0  " + char, mode=mode, anchor="ls")  # not kept
    width, height = together.size
    split = round((piece_width(path, size, "0", crisp) + piece_width(path, size, "0  ", crisp)) / 2) - offset[0]
    alone = start_mask(path, size, char, False, False)[0] if crisp else \
        ImageFont.FreeTypeFont.getmask2(font, char, mode=mode, anchor="ls")[0]
    boxes = (together.crop((0, 0, split, height)).getbbox(), together.crop((split, 0, width, height)).getbbox(),
             _zero_box(path, size, crisp), alone.getbbox())
    if None in boxes:  # a glyph with a box but no ink: nothing to compare
        return None
    zero_together, char_together, zero_blank, char_blank = (box[1] for box in boxes)
    return (zero_together - zero_blank) - (char_together - char_blank)


@functools.lru_cache(maxsize=64)
@kept_on_disk()
def _common_tops(path: str, size: int) -> dict[str, int]:
    """The first inked row of each of "0" and the COMMON_GLYPHS in one one-bit mask of them all, two spaces apart:
    `bitmap_rise` reads a glyph's rise from it and the glyph's own mask, instead of a mask of it beside a 0. Empty
    when the mask's inked columns do not fall apart into one run per glyph (then each glyph is measured alone)."""
    glyphs = "0" + COMMON_GLYPHS
    together = ImageFont.FreeTypeFont.getmask2(pil_font_file(path, size), "  ".join(glyphs), mode="1",
                                               anchor="ls")[0]
    width, height = together.size
    inked = together.getprojection()[0] if width and height else b""  # per column: any ink
    runs, start = [], None
    for column, value in enumerate(inked + b"\0"):
        if value and start is None:
            start = column
        elif not value and start is not None:
            runs.append((start, column))
            start = None
    if len(runs) != len(glyphs):
        return {}
    return {glyph: together.crop((a, 0, b, height)).getbbox()[1] for glyph, (a, b) in zip(glyphs, runs)}


def _mask_data(found: tuple) -> tuple:
    """A mask and its offset as plain data for the glyph store: (mode, size, bytes, offset)."""
    mask, offset = found
    return mask.mode, mask.size, Image.Image()._new(mask).tobytes(), offset


def _mask_from_data(data: tuple) -> tuple:
    mode, size, pixels, offset = data
    # the image over the stored bytes themselves (read-only, no decoder): a third faster than Image.frombytes
    return Image.frombuffer(mode, size, pixels, "raw", mode, 0, 1).im, offset


@functools.lru_cache(maxsize=KEPT_MASKS)
@kept_on_disk(_mask_data, _mask_from_data)
def start_mask(path: str, size: int, text: str, right: bool, down: bool) -> tuple:
    """Pillow's one-bit mask of `text` (anchored on its baseline's left end) and its offset, from a start a whole
    pixel plus 0 or 1/2 px (`right`), 0 or 3/4 px (`down`): the four masks `Piece.mask` draws from."""
    return ImageFont.FreeTypeFont.getmask2(pil_font_file(path, size), text, "1", None, None, None, 0, "ls", 0,
                                           (0.5 if right else 0.0, 0.75 if down else 0.0))


@functools.lru_cache(maxsize=64)
@kept_on_disk()
def _zero_box(path: str, size: int, crisp: bool) -> tuple[int, int, int, int] | None:
    """The inked box of the digit 0's mask alone (`bitmap_rise`'s reference glyph)."""
    font = pil_font_file(path, size)
    return ImageFont.FreeTypeFont.getmask2(font, "0", mode="1" if crisp else "L", anchor="ls")[0].getbbox()


def kept_mask_cache_clear() -> None:
    """Forget every kept glyph mask (benchmarks time each run from cold masks, as one render starts)."""
    _kept_mask.cache_clear()


@functools.lru_cache(maxsize=256)
def pil_font_file(path: str, size: int) -> ImageFont.FreeTypeFont:
    """The Pillow font of the file `path` at `size` px, loaded once (`pil_font` chooses the file for a text)."""
    return GlyphCachedFont(path, size, layout_engine=ImageFont.Layout.BASIC)


def pil_font(size: int, bold: bool = False, text: str = "") -> ImageFont.FreeTypeFont:
    """A Pillow font of `size` px for `text`, loaded once per (file, size)."""
    return pil_font_file(font_path(bold, text), size)


@functools.lru_cache(maxsize=8192)  # layouts measure the same words ("+", "3×1", labels) frame after frame
def text_width(text: str, size: int, bold: bool = False, *, crisp: bool | None = None) -> float:
    """Advance width (px) of `text` as Pillow sets it: anti-aliased (`crisp=False`), one-bit (`crisp=True`: hinted
    advances, up to ~10% narrower or wider), or by default the larger of the two, the room the text needs
    however a frame draws it (crisp in the GIF, anti-aliased in the reference redraw or with smooth text)."""
    if crisp is None:
        return max(text_width(text, size, bold, crisp=False), text_width(text, size, bold, crisp=True))
    if len(text) > 2:  # from its characters' kept widths and kernings: new text, seen glyphs
        return joined_width(text, size, bold, crisp=crisp)
    return piece_width(font_path(bold, text), size, text, crisp)


def joined_width(pieces: Iterable[str], size: int, bold: bool = False, *, crisp: bool | None = None) -> float:
    """`text_width("".join(pieces), ...)`, exactly, from the widths of the pieces: Pillow's basic layout sets a line
    as each glyph's own advance plus a kerning term between each two neighbours, in whole 1/64 px, so the line's
    width is its pieces' widths plus the kerning across each join. A line made of the same few pieces in ever
    other combinations (`layout_common.elide`) then costs a cached measure per piece instead of one per line."""
    pieces = [piece for piece in pieces if piece]
    path = font_path(bold, "".join(pieces))  # the font the whole line is set in, as text_width picks it
    if crisp is None:
        return max(_joined(path, size, pieces, False), _joined(path, size, pieces, True))
    return _joined(path, size, pieces, crisp)


def _joined(path: str, size: int, pieces: list[str], crisp: bool) -> float:
    # widths and kernings are whole 1/64 px: summed in any order, the same float
    widths, kernings = _measures(path, size, crisp)
    total, last = 0.0, ""
    for piece in pieces:
        width = widths.get(piece)
        if width is None:
            width = widths[piece] = piece_width(path, size, piece, crisp)
        total += width
        if last:
            pair = last + piece[0]
            kern = kernings.get(pair)
            if kern is None:
                kern = kernings[pair] = kerning(path, size, pair, crisp)
            total += kern
        last = piece[-1]
    if len(widths) + len(kernings) > KEPT_MEASURES:  # bounded: memory stays flat however many words it measures
        widths.clear()
        kernings.clear()
    return total


KEPT_MEASURES = 8192  # widths of pieces and kernings of pairs kept in plain dicts, per font file, size and mode


@functools.lru_cache(maxsize=64)
def _measures(path: str, size: int, crisp: bool) -> tuple[dict[str, float], dict[str, float]]:
    """The widths of pieces and the kernings of pairs measured so far in the font file `path` at `size` px, one-bit
    (`crisp`) or anti-aliased: plain dicts, looked up for every character of every line a layout measures (a
    cached function's call costs several times a dict's lookup)."""
    return {}, {}


@functools.lru_cache(maxsize=8192)
@kept_on_disk()
def piece_width(path: str, size: int, text: str, crisp: bool) -> float:
    """Advance width of `text` in the font file `path` (`text_width` without choosing the font). A longer text's is
    summed from its glyphs' and pairs' (`joined_width`), which the glyph store keeps between renders."""
    if len(text) > LONGEST_KEPT_TEXT:
        return _joined(path, size, list(text), crisp)
    return pil_font_file(path, size).getlength(text, mode="1" if crisp else "L")


@functools.lru_cache(maxsize=8192)
def whole_pixel_pens(path: str, size: int, text: str) -> bool:
    """Whether one-bit (hinted) `text` has every advance and every kerning in whole px, so that each of its glyphs
    sits a whole number of px after the first (true of digits and signs; a few letter pairs kern by 1/64 px)."""
    return (all(piece_width(path, size, char, True) % 1 == 0 for char in set(text))
            and all(kerning(path, size, text[i:i + 2], True) % 1 == 0 for i in range(len(text) - 1)))


@functools.lru_cache(maxsize=4096)
def kerning(path: str, size: int, pair: str, crisp: bool) -> float:
    """What setting the two characters of `pair` together adds to their own advances (0 for most pairs)."""
    return (piece_width(path, size, pair, crisp) - piece_width(path, size, pair[0], crisp)
            - piece_width(path, size, pair[1], crisp))


class Piece:
    """A piece of a line (one-bit: a glyph or the spaces between two; anti-aliased: a word with the spaces before it)
    in one font file, size and mode, measured once: its advance, the tops `fonts.mask_tops` compares, and its masks
    (kept here as well as in `start_mask`'s cache: a dict lookup for every glyph of every line)."""

    __slots__ = ("path", "size", "text", "first", "last", "blank", "width64", "box_top", "bitmap_top", "whole_pens",
                 "_masks")

    def __init__(self, path: str, size: int, text: str, crisp: bool, tops: tuple[int, int]):
        self.text, self.first, self.last, self.blank = text, text[0], text[-1], text.isspace()
        self.width64 = pen64(piece_width(path, size, text, crisp))
        self.box_top, self.bitmap_top = tops
        # one-bit glyphs each a whole number of px after the first: the mask depends on the start's 1/64 px only
        # through whether PIXEL rounding moves it one px (right from 32/64, down past 32/64), so four masks serve
        # every start (`mask`); otherwise each start has its own (`draw_line`, through the kept masks)
        self.whole_pens = crisp and whole_pixel_pens(path, size, text)
        self.path, self.size = path, size
        self._masks: dict[tuple[bool, bool], tuple] = {}

    def mask(self, right: bool, down: bool) -> tuple:
        """Pillow's one-bit mask of the piece and its offset from the start's whole pixel, for a start whose
        1/64 px move it one px `right` and/or `down` (for any other start of the same class Pillow's mask has the
        same glyphs at the same pixels, at most a blank column or row larger)."""
        key = (right, down)
        kept = self._masks.get(key)
        if kept is None:
            kept = self._masks[key] = start_mask(self.path, self.size, self.text, right, down)
        return kept


class PieceSetter:
    """Lines of one font file, size and mode cut into measured pieces (`pieces`), with the kerning between them
    (`kern64`): what `paint.draw_pieces` looks up for every glyph of every line, kept in plain dicts."""

    def __init__(self, path: str, size: int, crisp: bool):
        self.path, self.size, self.crisp = path, size, crisp
        self.font = pil_font_file(path, size)
        self._pieces: dict[str, Piece | None] = {}
        self._kerns64: dict[str, int] = {}  # kept kernings, in 1/64 px, by pair
        # one-bit lines drawn before, each as one mask of all its glyphs (`paint.draw_pieces`): a cell's number or a
        # word of a step's arithmetic recurs frame after frame at the same 1/64 px, so its glyphs are set once
        self.lines: dict[tuple, tuple] = {}
        self.word_masks: dict[tuple, tuple] = {}  # the same for the words of longer lines
        self._words: dict[str, tuple | None] = {}

    def kern64(self, pair: str) -> int:
        """What setting the two characters of `pair` together adds to their advances, in 1/64 px."""
        kept = self._kerns64.get(pair)
        if kept is None:
            kept = self._kerns64[pair] = pen64(kerning(self.path, self.size, pair, self.crisp))
        return kept

    def piece(self, text: str) -> Piece | None:
        """The measured piece `text`; None for one that cannot be placed like this (inking left of its origin,
        where Pillow lines its mask up by its box; or, one-bit, no glyph 2 px above the baseline:
        `fonts.mask_tops`)."""
        if text in self._pieces:
            return self._pieces[text]
        if len(self._pieces) >= KEPT_PIECES:  # a bounded store: memory stays flat however many words a scene has
            self._pieces.clear()
        piece = None
        if text.isspace():  # spaces between glyphs: their advance only, and no tops to line up with
            piece = Piece(self.path, self.size, text, self.crisp, (-_NO_TOP, -_NO_TOP))
        elif mask_left(self.path, self.size, text, self.crisp) >= 0:
            # anti-aliased glyphs are boxed and placed alike: no tops to reconcile
            tops = mask_tops(self.path, self.size, text, True) if self.crisp else (0, 0)
            piece = None if tops is None else Piece(self.path, self.size, text, self.crisp, tops)
        self._pieces[text] = piece
        return piece

    def pens(self, pieces: list[Piece]) -> tuple[list[int], int]:
        """Each piece's pen position when set one after another, and where the pen ends, in 1/64 px: their advances
        plus the kerning across each join."""
        pens, pen, last = [], 0, None
        for piece in pieces:
            if last is not None:
                pen += self.kern64(last + piece.first)
            pens.append(pen)
            pen += piece.width64
            last = piece.last
        return pens, pen

    def word(self, text: str) -> tuple | None:
        """A word of a line (no spaces) or the spaces between two, measured as `pieces` cuts it: (its advance in
        1/64 px, its pieces' highest box top and bitmap top, and (piece, pen position in 1/64 px) of each piece;
        none for spaces); None when a piece of it cannot be placed."""
        if text in self._words:
            return self._words[text]
        if len(self._words) >= KEPT_PIECES:  # bounded, as the pieces
            self._words.clear()
        if text.isspace():
            word = (self.piece(text).width64, -_NO_TOP, -_NO_TOP, ())
        else:
            pieces = self.pieces(text)
            word = None
            if pieces is not None:
                pens, advance = self.pens(pieces)
                word = (advance, max(piece.box_top for piece in pieces), max(piece.bitmap_top for piece in pieces),
                        tuple(zip(pieces, pens)))
        self._words[text] = word
        return word

    def pieces(self, text: str) -> list[Piece] | None:
        """`text` cut into measured pieces (spaces after the last are left out): one-bit, a glyph each and the spaces
        between glyphs, a glyph that cannot be placed alone (too low: ".", ","; inking left of its origin) kept with
        the piece before it; anti-aliased, a word each with the spaces before it, an operator (a lone sign or dots)
        kept with the word after it. None when a piece cannot be placed."""
        pieces: list[Piece | None] = []
        if self.crisp:
            kept = self._pieces
            for glyph in _GLYPHS.findall(text.rstrip(" ")):
                piece = kept[glyph] if glyph in kept else self.piece(glyph)
                while piece is None and pieces and pieces[-1] is not None:  # with the piece(s) before it
                    glyph = pieces.pop().text + glyph
                    piece = self.piece(glyph)
                pieces.append(piece)
        else:
            texts: list[str] = []
            for word in _WORDS.findall(text):
                if texts and _OPERATOR.fullmatch(texts[-1]):
                    texts[-1] += word
                else:
                    texts.append(word)
            pieces = [self.piece(word) for word in texts]
        return None if not pieces or None in pieces else pieces


KEPT_PIECES = 4096  # pieces measured per font file, size and mode (glyphs, a glyph with a low one, words)


@functools.lru_cache(maxsize=64)
def piece_setter(path: str, size: int, crisp: bool) -> PieceSetter:
    """The pieces of lines in the font file `path` at `size` px, one-bit (`crisp`) or anti-aliased."""
    return PieceSetter(path, size, crisp)


_GLYPHS = re.compile(r" +|[^ ]")  # one-bit pieces: a glyph, or the spaces between two
_NO_TOP = 1 << 20  # spaces' tops: below any glyph's
_WORDS = re.compile(r" *[^ ]+")
_OPERATOR = re.compile(r" *[^ \w]")


def pen64(width: float) -> int:
    """A width Pillow measured (a whole number of 1/64 px) in 1/64 px."""
    return round(width * 64)


@functools.lru_cache(maxsize=1)
def mpl_family() -> tuple[str, ...]:
    """Family list for matplotlib text set by name (stills): DejaVu first, the CJK subset as per-glyph fallback.

    The shipped files are added to matplotlib's font manager in memory (`addfont`): no cache rebuild, no
    system font needed.
    """
    from matplotlib import font_manager

    for bold in (False, True):
        font_manager.fontManager.addfont(cjk_path(bold))
    return ("DejaVu Sans", CJK_FAMILY)
