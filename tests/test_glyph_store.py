"""The glyph store (`convgif.render.glyph_store`): glyph measurements kept on disk between renders are exactly
Pillow's, a render whose glyphs a past render measured asks Pillow for none, and a store that cannot be used only
costs time: the pictures are the same bytes with it, without it, and from a broken one."""

from __future__ import annotations

import marshal
import os
import random
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageFont

from convgif.cli import main
from convgif.render import fonts, glyph_store

ROOT = Path(__file__).resolve().parent.parent
SCENE = ROOT / "scenes" / "b01_arange_one_kernel.toml"


def forget_in_memory() -> None:
    """Forget everything the process kept (as a new process starts): the store is read from its file again."""
    for name, module in list(sys.modules.items()):
        if name.startswith("convgif.render"):
            for value in vars(module).values():
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


@pytest.fixture
def pillow_calls(monkeypatch) -> list[tuple[str, str, str]]:
    """Every (method, text, mode) Pillow is asked to measure or render from now on."""
    calls: list[tuple[str, str, str]] = []
    for method in ("getlength", "getmask2"):
        original = getattr(ImageFont.FreeTypeFont, method)

        def recording(font, text, mode="", *args, _original=original, _method=method, **kwargs):
            calls.append((_method, text, mode))
            return _original(font, text, mode, *args, **kwargs)

        monkeypatch.setattr(ImageFont.FreeTypeFont, method, recording)
    return calls


def pillows_mask(path: str, size: int, text: str, right: bool, down: bool) -> tuple[bytes, tuple, tuple]:
    font = ImageFont.FreeTypeFont(path, size, layout_engine=ImageFont.Layout.BASIC)
    mask, offset = font.getmask2(text, "1", anchor="ls", start=(0.5 if right else 0.0, 0.75 if down else 0.0))
    return Image.Image()._new(mask).tobytes(), mask.size, offset


def test_answers_read_back_from_the_store_are_pillows(pillow_calls):
    """Widths, kernings, one-bit masks at each start class, rises and box corners of random glyphs and pairs at
    sizes 6-40, in both fonts and both weights: measured once, saved, then read back in a process that forgot them
    (Pillow asked nothing) and compared with Pillow's own answers, byte for byte."""
    rng = random.Random(11)
    glyphs = "0123456789+−×=()[]Σ/:.,abcxyzAVTo ŷ通道卷积"
    cases = []
    for _ in range(120):
        text = "".join(rng.choice(glyphs) for _ in range(rng.randint(1, 2)))
        bold = rng.random() < 0.3
        cases.append((fonts.font_path(bold, text), rng.randint(6, 40), text, rng.random() < 0.5, rng.random() < 0.5))

    def answers(path, size, text, right, down):
        mask, offset = fonts.start_mask(path, size, text, right, down)
        return (fonts.piece_width(path, size, text, True), fonts.piece_width(path, size, text, False),
                fonts.bitmap_rise(path, size, text[0], True), fonts.bitmap_rise(path, size, text[0], False),
                fonts._mask_box(path, size, text, False), (Image.Image()._new(mask).tobytes(), mask.size, offset))

    forget_in_memory()
    first = [answers(*case) for case in cases]
    assert pillow_calls  # measured by Pillow: the store was empty
    glyph_store.save()
    forget_in_memory()
    pillow_calls.clear()
    again = [answers(*case) for case in cases]
    assert pillow_calls == []  # every answer read back from the store's file
    assert again == first
    for path in {case[0] for case in cases}:  # each font's code points, read back from their runs
        assert fonts.coverage(path) == fonts._read_cmap(path) and len(fonts.coverage(path)) > 1000
    for (path, size, text, right, down), answer in zip(cases, again):
        font = ImageFont.FreeTypeFont(path, size, layout_engine=ImageFont.Layout.BASIC)
        assert answer[0] == font.getlength(text, mode="1") and answer[1] == font.getlength(text, mode="L")
        assert answer[4] == font.getbbox(text, mode="L", anchor="ls")[:2]
        assert answer[5] == pillows_mask(path, size, text, right, down), (path, size, text, right, down)


def render(out: Path) -> bytes:
    assert main(["render", str(SCENE), "-o", str(out), "-q", "--force"]) == 0
    return (out / f"{SCENE.stem}.gif").read_bytes()


def test_a_render_after_one_that_measured_its_glyphs_asks_pillow_for_none(tmp_path, pillow_calls):
    """A render in a new process (every in-memory cache forgotten) after one that measured its glyphs: Pillow measures
    no width and renders no one-bit glyph (the old code, in every process, measured ~900 widths and rendered ~120
    masks of glyphs and lines for this 9-step scene); the GIF is the same bytes as the first render's."""
    forget_in_memory()
    first = render(tmp_path / "first")
    assert [call for call in pillow_calls if call[0] == "getlength"]  # the store was empty: Pillow measured
    forget_in_memory()
    pillow_calls.clear()
    second = render(tmp_path / "second")
    assert [call for call in pillow_calls if call[0] == "getlength"] == []
    # one-bit text is drawn glyph by glyph from stored masks; Pillow renders only a line `draw_pieces` refuses (here
    # the output-size formula, whose "f" inks left of its origin), whole
    whole_lines = [call[1] for call in pillow_calls if call[0] == "getmask2" and call[2] == "1"]
    assert len(whole_lines) <= 1 and all(len(line) > glyph_store.LONGEST_KEPT_TEXT for line in whole_lines)
    assert second == first


def test_without_a_cache_folder_or_from_a_broken_store_the_pictures_are_the_same(tmp_path, monkeypatch):
    """No usable cache folder (XDG_CACHE_HOME names a file), or a store file that is not a store: everything is
    measured by Pillow again, the GIF is the same bytes, and the broken file is replaced by a store that reads."""
    forget_in_memory()
    expected = render(tmp_path / "with")
    path = glyph_store.store_path()
    assert path is not None and path.is_file()
    path.write_bytes(b"not a store")
    forget_in_memory()
    assert render(tmp_path / "broken") == expected
    assert glyph_store._read(path)  # replaced by the render's own answers
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    forget_in_memory()
    assert render(tmp_path / "without") == expected
    assert not (blocker / "convgif").exists()


def test_processes_saving_at_once_keep_each_others_answers(tmp_path):
    """Two processes that read the store before either saved: the second to save merges into what the first wrote."""
    forget_in_memory()
    path = glyph_store.store_path()
    font = fonts.dejavu_path()
    one, two = glyph_store._Store(path, {}), glyph_store._Store(path, {})
    one.add("piece_width", (font, 12, "1", True), 7.0)
    two.add("piece_width", (font, 12, "2", True), 8.0)
    two.add("coverage", (font,), frozenset({48, 49}))
    one.save()
    two.save()
    merged = glyph_store._Store(path, glyph_store._read(path))
    assert merged.get("piece_width", (font, 12, "1", True)) == 7.0
    assert merged.get("piece_width", (font, 12, "2", True)) == 8.0
    assert merged.get("coverage", (font,)) == frozenset({48, 49})


def test_the_store_is_named_after_pillow_freetype_and_the_measuring_code(tmp_path, monkeypatch):
    """A new Pillow or FreeType, or an edit of the code that measures, starts another store file: an answer is never
    read back where it might differ. Only the newest few store files are kept."""
    from PIL import features

    first = glyph_store.store_path()
    assert glyph_store.store_path() == first
    code = tmp_path / "measuring.py"
    code.write_text("# a module whose functions are kept\n", encoding="utf-8")
    monkeypatch.setattr(glyph_store, "_CODE_FILES", {*glyph_store._CODE_FILES, str(code)})
    with_code = glyph_store.store_path()
    code.write_text("# the same module, edited\n", encoding="utf-8")
    edited = glyph_store.store_path()
    monkeypatch.setattr(features, "version", lambda name: "0.0.0")
    other_freetype = glyph_store.store_path()
    assert len({first, with_code, edited, other_freetype}) == 4
    folder = first.parent
    for number in range(glyph_store.KEPT_STORES + 3):
        store = glyph_store._Store(folder / f"{glyph_store.STORE_PREFIX}{number}.marshal", {})
        store.add("piece_width", (fonts.dejavu_path(), 12, "1", True), 7.0)
        store.save()
    assert len(list(folder.glob(f"{glyph_store.STORE_PREFIX}*.marshal"))) == glyph_store.KEPT_STORES


def test_a_changed_font_file_is_measured_again(tmp_path, pillow_calls):
    """Answers are grouped under their font file's size and modification time: after the file changes they are not
    read back (Pillow measures again), and the next save drops them."""
    font = tmp_path / "font.ttf"
    font.write_bytes(Path(fonts.dejavu_path()).read_bytes())
    path = str(font)
    forget_in_memory()
    width = fonts.piece_width(path, 13, "7", True)
    glyph_store.save()
    forget_in_memory()
    pillow_calls.clear()
    assert fonts.piece_width(path, 13, "7", True) == width and pillow_calls == []  # read back
    os.utime(font, ns=(font.stat().st_atime_ns, font.stat().st_mtime_ns + 10**9))
    forget_in_memory()
    assert fonts.piece_width(path, 13, "7", True) == width and pillow_calls  # measured again
    glyph_store.save()
    assert [name[2] for name in glyph_store._read(glyph_store.store_path())] == [font.stat().st_mtime_ns]


def test_only_short_texts_are_kept(tmp_path):
    """Glyphs and pairs are kept; a scene's own words are not (the store stays the size of a font's glyphs)."""
    forget_in_memory()
    path = fonts.dejavu_path()
    fonts.piece_width(path, 13, "12", True)
    fonts._mask_box(path, 13, "stride", False)
    added = glyph_store._store().added[glyph_store._store().group((path, 13))[0]]
    assert ("piece_width", "12", True) in added
    assert not any("stride" in key for key in added)


@pytest.mark.parametrize("content", [b"not a store", marshal.dumps([1, 2]), marshal.dumps({(1, 2, 3): b""}),
                                     marshal.dumps({("font.ttf", 1, 2): "not bytes"}), marshal.dumps({"name": b""})],
                         ids=["text", "a list", "a group named by numbers", "a group not in bytes", "a name not a tuple"])
def test_a_file_that_is_not_a_store_reads_as_none(tmp_path, content):
    """Whatever else the store's file holds (another program's, a truncated write, a hand edit) reads as an empty
    store, so a render measures again instead of failing; a group that does not decode to answers is empty too."""
    path = tmp_path / "store.marshal"
    path.write_bytes(content)
    assert glyph_store._read(path) == {}
    assert glyph_store._decoded(marshal.dumps([1])) == {} and glyph_store._decoded(b"\x00broken") == {}
