"""convgif.render.fonts reads a font's cmap and head tables itself (fontTools' import and decoding were ~80 ms of a
9-step render's start); what it reads must be what fontTools reads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from convgif.render import fonts

MPL_FONTS = sorted((Path(fonts._matplotlib_data()) / "fonts" / "ttf").glob("*.ttf"))
FONTS = [fonts.dejavu_path(False), fonts.dejavu_path(True), fonts.cjk_path(False), fonts.cjk_path(True),
         *map(str, MPL_FONTS)]


@pytest.mark.parametrize("path", FONTS, ids=lambda p: Path(p).name)
def test_coverage_and_ink_bounds_are_what_fonttools_reads(path):
    font = TTFont(path, lazy=True)
    try:
        expected = frozenset(font.getBestCmap())
        head = font["head"]
        bounds = tuple(value / head.unitsPerEm for value in (head.xMin, head.yMin, head.xMax, head.yMax))
    finally:
        font.close()
    fonts.coverage.cache_clear()
    fonts.ink_bounds.cache_clear()
    assert fonts.coverage(path) == expected
    assert fonts.ink_bounds(path) == bounds


def test_the_shipped_fonts_are_read_without_fonttools():
    code = (
        "import sys\n"
        "from convgif.render import fonts\n"
        "for bold in (False, True):\n"
        "    assert 0x2212 in fonts.coverage(fonts.dejavu_path(bold)) and 0x4E2D in fonts.coverage(fonts.cjk_path(bold))\n"
        "    fonts.ink_bounds(fonts.dejavu_path(bold)); fonts.ink_bounds(fonts.cjk_path(bold))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'fontTools'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.stdout.strip() == "[]"


def test_rises_measured_together_are_each_glyphs_own(monkeypatch):
    """`bitmap_rise` reads the digits' and signs' rises from one mask of them all (`_common_tops`); each must be what
    it measures for that glyph alone (the oracle: the glyph set beside a 0 in a mask of its own), at every size a
    frame uses, regular and bold."""
    from convgif.render import fonts

    measured = 0
    for bold in (False, True):
        path = fonts.dejavu_path(bold)
        for size in range(6, 48):
            assert fonts._common_tops(path, size), (bold, size)  # the glyphs' inks fall apart into one run each
            together = {glyph: fonts.bitmap_rise.__wrapped__(path, size, glyph, True) for glyph in fonts.COMMON_GLYPHS}
            with monkeypatch.context() as patch:
                patch.setattr(fonts, "COMMON_GLYPHS", "")  # each glyph alone
                for glyph, rise in together.items():
                    assert fonts.bitmap_rise.__wrapped__(path, size, glyph, True) == rise, (bold, size, glyph)
                    measured += 1
    assert measured > 1500



def test_a_text_width_summed_from_its_characters_is_pillows_length():
    """`text_width` of a longer text is summed from its characters' widths and the kerning of each pair (what
    Pillow's basic layout does); the oracle is Pillow's own `getlength` of the whole text, in both modes, for random
    texts of digits, signs, letters (kerned pairs), CJK, combining marks and ligature characters."""
    import random

    rng = random.Random(5)
    characters = "0123456789 ×−+=()…Σ.,-abcxyzwb[]:·→ ATVWYLfgijklpqt_卷积核\u0301ﬃΨ—"
    for _ in range(1500):
        text = "".join(rng.choice(characters) for _ in range(rng.randint(3, 40)))
        size, bold = rng.randint(6, 40), rng.random() < 0.3
        for crisp in (True, False):
            expected = fonts.pil_font(size, bold, text).getlength(text, mode="1" if crisp else "L")
            assert fonts.text_width(text, size, bold, crisp=crisp) == expected, (text, size, bold, crisp)
