"""Build the shipped CJK font subsets from Noto Sans CJK SC (SIL OFL 1.1); not imported at run time.

Usage: python convgif/render/fonts/make_subset.py NotoSansCJK-Regular.ttc NotoSansCJK-Bold.ttc
(Debian's `fonts-noto-cjk` or github.com/notofonts/noto-cjk). Keeps printable ASCII, the symbols frames
use, CJK punctuation, GB2312 level-1 hanzi (the 3755 most common) and every character of the label table;
converts the CFF outlines to TrueType (glyf) so every matplotlib backend (Agg, PDF, SVG) and Pillow take it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, newTable

HERE = Path(__file__).resolve().parent
SC_INDEX = 2  # the Simplified Chinese face inside the Noto Sans CJK collection
SYMBOLS = "\u00d7\u2212\u2192\u2190\u03a3\u00b7\u2026\u2032\u2264\u2265\u2260\u00b1\u2022\u00b2\u00b3\u2080\u2081\u2082\u2083\u03c3\u03bb\u00b0\u2014\u2013\u2018\u2019\u201c\u201d"
CJK_PUNCTUATION = "\u3000\u3001\u3002\u300a\u300b\u300c\u300d\u300e\u300f\u3010\u3011\uff01\uff08\uff09\uff0c\uff1a\uff1b\uff1f\uff5e\uff0f\uff05\uff0b\uff1d"


def gb2312_level1() -> str:
    """The 3755 level-1 hanzi of GB 2312 (rows 16-55, in pinyin order)."""
    chars = []
    for row in range(0xB0, 0xD8):
        for cell in range(0xA1, 0xFF):
            try:
                chars.append(bytes((row, cell)).decode("gb2312"))
            except UnicodeDecodeError:
                pass  # row 55 ends early
    return "".join(chars)


def wanted_text() -> str:
    sys.path.insert(0, str(HERE.parents[2]))
    from convgif.render.labels import all_label_text

    ascii_printable = "".join(chr(c) for c in range(0x20, 0x7F))
    return ascii_printable + SYMBOLS + CJK_PUNCTUATION + gb2312_level1() + all_label_text()


def cff_to_glyf(font) -> None:
    """Replace CFF cubic outlines with quadratic TrueType ones (max error 2 of 1000 units: invisible at frame sizes)."""
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = font.getGlyphOrder()
    glyf.glyphs = {}
    for name in glyf.glyphOrder:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=2.0, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for field in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                  "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, field, 0)
    maxp.maxZones = 1
    font["head"].glyphDataFormat = 0
    font["head"].indexToLocFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}


def build(source: str, target: Path, text: str) -> None:
    font = TTCollection(source).fonts[SC_INDEX]
    options = subset.Options()
    options.layout_features = []  # frames set horizontal text only; alternates would double the glyphs
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    options.desubroutinize = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    cff_to_glyf(font)
    font.save(target)
    print(f"{target.name}: {len(font.getGlyphOrder())} glyphs, {target.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    regular, bold = sys.argv[1:3]
    text = wanted_text()
    build(regular, HERE / "NotoSansSC-convgif-Regular.ttf", text)
    build(bold, HERE / "NotoSansSC-convgif-Bold.ttf", text)
