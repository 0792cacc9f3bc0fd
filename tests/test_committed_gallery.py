"""output/ is what the README's first command writes. tests/test_gallery.py holds the render's files to it; this
holds what `convgif gallery scenes/ -o output/` then adds: each animated scene's step player, the dark pictures
and the page. A change that alters a frame must render these again too (a stale player once slipped past the
render's check: its own file differed, the GIF it plays did not)."""

from __future__ import annotations

from pathlib import Path

from convgif.cli import main

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "output"


def test_the_committed_page_players_and_dark_pictures_are_what_the_gallery_writes(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # the README's command as written: `scenes/` relative, as the page names its files
    assert main(["gallery", "scenes", "-o", str(tmp_path), "-q"]) == 0
    written = sorted(f for f in tmp_path.rglob("*") if f.is_file() and f.name != ".convgif-build.json")
    stale, missing = [], []
    for file in written:
        committed = OUTPUT / file.relative_to(tmp_path)
        if not committed.is_file():
            missing.append(str(committed.relative_to(ROOT)))
        elif committed.read_bytes() != file.read_bytes():
            stale.append(str(committed.relative_to(ROOT)))
    assert (stale, missing) == ([], []), "render again: convgif gallery scenes/ -o output/"
    players = [f for f in written if f.name.endswith(".player.html")]
    assert (OUTPUT / "index.html").is_file() and len(players) >= 40  # the page and a player per animated scene
