"""The step player says where it is as the picture does, in the scene's language.

- Its visible counter and the scrubber's aria-valuetext are one text, the frame's own counter: "step 6 / 49" of the
  trace as the picture prints it, the hold frame's "done · 49 steps", a chain's stage before it ("stage 2 of 2 ·
  step 1 / 18"); a picture that prints none (a still's) is numbered by its place, "2 / 4". Checked for every frame
  against the frame's text (the words drawn under its grids), and in headless Chromium at the first step, the last
  step, the finished frame and a chain's second stage.
- A Chinese scene's player (the html format's page and the gallery's player page) names every control, the
  scrubber's value, the picture's alt text and the hover label in Chinese: no English word is left
  (`test_languages.english_words`, which finds the English of an English player).

Without Chromium the browser tests skip locally and FAIL under CI=true (`.ci/run` installs it).
"""

from __future__ import annotations

import re
import time
import tomllib
from pathlib import Path

import pytest
from test_languages import english_words
from test_player import Tab, player_data, problems, write_player

from convgif.encode.player import build_player
from convgif.gallery import player_page
from convgif.scene import parse_scene
from convgif.sources import frame_source

SCENES = Path(__file__).resolve().parent.parent / "scenes"
STAGE = re.compile(r"^(stage \d+ of \d+) \u00b7 (.+)$")


def frames_and_deck(name: str, **render):
    """A scene's frames (the player's: "steps") and its deck, with `[render]` keys replaced as the file would."""
    path = SCENES / f"{name}.toml"
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    document.setdefault("render", {}).update(render)
    source = frame_source(parse_scene(document, str(path)))
    return list(source.frames("steps")), source.deck()


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """Player pages (the html format's) of a single scene, a chain and a Chinese scene, with their frames."""
    out = tmp_path_factory.mktemp("counter")
    made = {}
    for name in ("a01_plain_conv", "c08_chain_encoder_decoder", "zh_conv_padding_stride"):
        frames, deck = frames_and_deck(name)
        made[name] = {"frames": frames, "deck": deck, "page": write_player(out / f"{name}.html", frames, deck)}
    return made


# ---- the counters in the page's data -------------------------------------------------------------------------

def what_it_counts(counter: str, text: str) -> str:
    """Which kind of frame `counter` names, having checked that it says what the frame's `text` says (the words drawn
    under the grids, a chain's header line first): an op scene's counter is its first line; a chain's step or
    stage's finished picture ("stage 2 of 2 · step 1 / 18") is its header's stage then its second line; a transition
    ("stage 1 → stage 2") and the hold frame ("all 2 stages done") are said in their header's words."""
    header, *lines = text.split("\n")
    stage = STAGE.match(counter)
    if stage:
        assert header.startswith(stage.group(1) + ":") and stage.group(2) == lines[0], (counter, text)
        return "stage done" if stage.group(2).startswith("done") else "stage step"
    if "\u2192" in counter:
        before, after = re.fullmatch(r"stage (\d+) \u2192 stage (\d+)", counter).groups()
        assert header.startswith(f"stage {before} ") and f"\u2192 stage {after} " in header, (counter, text)
        return "transition"
    if counter.startswith("all "):
        assert re.fullmatch(r"all \d+ stages done", counter) and header.startswith(counter + ":"), (counter, text)
        return "hold"
    assert counter == header, (counter, text)
    return "first line"


@pytest.mark.parametrize("name, steps", [("a01_plain_conv", None), ("a01_plain_conv", {"every": 5}),
                                         ("zh_conv_padding_stride", None)])
def test_every_counter_is_the_line_the_picture_prints(name, steps):
    """An op scene's frame text starts with the counter the picture prints over its arithmetic. Showing every 5th
    step, only the picture's counter ("step 6 / 49" on the second frame) can say which step a frame is."""
    frames, deck = frames_and_deck(name, **({"steps": steps} if steps else {}))
    data = player_data(build_player(frames, deck, stem=name).page())
    kinds = [what_it_counts(counter, text) for counter, text in zip(data["counters"], data["texts"])]
    assert set(kinds) == {"first line"} and frames[-1].step is None  # the hold frame too ("done · 49 steps")
    assert [frame.counter for frame in frames] == data["counters"]
    if steps:
        assert data["counters"][:2] == ["step 1 / 49", "step 6 / 49"] and data["counters"][-1] == "done \u00b7 49 steps"


def test_a_chains_counters_say_the_stage_then_its_own_counter():
    """Each stage counts its own steps in the picture ("step 1 / 18" again in stage 2); the counter says the stage
    the header names, then that line: transitions and the hold frame in their header's words."""
    frames, deck = frames_and_deck("c08_chain_encoder_decoder")
    data = player_data(build_player(frames, deck, stem="c08").page())
    kinds = [what_it_counts(counter, text) for counter, text in zip(data["counters"], data["texts"])]
    assert set(kinds) == {"stage step", "stage done", "transition", "hold"} and kinds[-1] == "hold"
    assert data["counters"].count("stage 2 of 2 \u00b7 step 1 / 18") == 1


def test_a_still_without_a_counter_is_numbered_by_its_place():
    frames, deck = frames_and_deck("b04_receptive_field")
    assert all(frame.counter == "" for frame in frames)
    data = player_data(build_player(frames, deck, stem="b04").page())
    assert data["counters"] == [f"{k} / {len(frames)}" for k in range(1, len(frames) + 1)]


# ---- in Chromium ------------------------------------------------------------------------------------------------

def shown_at(tab: Tab, frame: int) -> dict:
    """What the player says at `frame`: the visible counter, the scrubber's aria-valuetext, the text under it."""
    tab.evaluate(f"(() => {{ const s = document.querySelector('.cgp-scrub'); s.value = '{frame}'; "
                 "s.dispatchEvent(new Event('input')); })()")
    tab.wait_drawn(frame)
    return tab.evaluate("(() => { const r = document.querySelector('.cgp'); return {"
                        "count: r.querySelector('.cgp-count').textContent, "
                        "valuetext: r.querySelector('.cgp-scrub').getAttribute('aria-valuetext'), "
                        "text: r.querySelector('.cgp-text').textContent}; })()")


# frame number -> what the counter says there: first step, last step, finished frame; a chain's second stage
SAID = {
    "a01_plain_conv": {0: "step 1 / 49", 48: "step 49 / 49", 49: "done \u00b7 49 steps"},
    "c08_chain_encoder_decoder": {0: "stage 1 of 2 \u00b7 step 1 / 18", 18: "stage 1 of 2 \u00b7 done \u00b7 18 steps",
                                  19: "stage 1 \u2192 stage 2", 20: "stage 2 of 2 \u00b7 step 1 / 18",
                                  37: "stage 2 of 2 \u00b7 step 18 / 18", 38: "all 2 stages done"},
}


@pytest.mark.parametrize("name", sorted(SAID))
def test_counter_valuetext_and_the_frames_text_agree(pages, browser, name):
    frames = pages[name]["frames"]
    tab = Tab(browser, pages[name]["page"].as_uri(), media={"prefers-reduced-motion": "reduce"})  # paused
    try:
        shown = {frame: shown_at(tab, frame) for frame in SAID[name]}
        events = tab.events()
    finally:
        tab.close()
    assert problems(events) == []
    for frame, said in SAID[name].items():
        got = shown[frame]
        assert got["text"] == frames[frame].text.strip()
        assert (got["count"], got["valuetext"]) == (said, said), (frame, got)
        what_it_counts(said, got["text"])


# ---- a Chinese player ---------------------------------------------------------------------------------------------

UI_STRINGS = """(() => {
  const r = document.querySelector('.cgp'), found = [document.title];
  for (const e of [r, ...r.querySelectorAll('*')]) {
    for (const a of ['aria-label', 'aria-roledescription', 'aria-valuetext', 'title', 'alt'])
      if (e.getAttribute(a)) found.push(e.getAttribute(a));
  }
  found.push(r.querySelector('.cgp-controls').innerText, r.querySelector('.cgp-text').textContent);
  const tip = r.querySelector('.cgp-tip');
  if (!tip.hidden) found.push(tip.textContent);
  return found;
})()"""


def ui_strings(browser, page: Path, frames) -> list[str]:
    """Every word the player page gives a reader besides the scene's own description: the page title, every
    control's name and role, the scrubber's value (at a step and at the finished frame), the visible labels, the
    play button's name while playing and paused, the text under the picture, and the label of a hovered output
    cell."""
    tab = Tab(browser, page.as_uri())
    try:
        found = tab.evaluate(UI_STRINGS)  # playing: the play button is named for pausing
        tab.press(" ", 32)
        for frame in (1, len(frames) - 1):
            shown_at(tab, frame)
            found += tab.evaluate(UI_STRINGS)
        x0, y0, x1, y1 = player_data(page.read_text(encoding="utf-8"))["cells"][0][:4]
        box = tab.evaluate("document.querySelector('.cgp-canvas').getBoundingClientRect().toJSON()")
        height, width = frames[0].pixels.shape[:2]
        tab.call("Input.dispatchMouseEvent", {"type": "mouseMoved",
                                              "x": box["left"] + (x0 + x1) / 2 * box["width"] / width,
                                              "y": box["top"] + (y0 + y1) / 2 * box["height"] / height})
        time.sleep(0.1)
        found += tab.evaluate(UI_STRINGS)
        assert not tab.evaluate("document.querySelector('.cgp-tip').hidden")  # the hover label was read
        events = tab.events()
    finally:
        tab.close()
    assert problems(events) == []
    return found


def leftover_english(strings: list[str]) -> dict[str, list[str]]:
    return {s: english_words(s) for s in strings if english_words(s)}


@pytest.mark.parametrize("form", ["html format", "gallery player page"])
def test_a_chinese_player_has_no_english_ui_word(pages, browser, tmp_path, form):
    zh = pages["zh_conv_padding_stride"]
    page = zh["page"]
    if form == "gallery player page":  # what `convgif gallery` writes as output/<stem>.player.html
        page = tmp_path / "zh.player.html"
        page.write_text(player_page(build_player(zh["frames"], zh["deck"], stem="zh"), image="zh.gif"),
                        encoding="utf-8")
    strings = ui_strings(browser, page, zh["frames"])
    assert leftover_english(strings) == {}
    assert '<html lang="zh"' in page.read_text(encoding="utf-8")


def test_the_english_check_finds_the_english_players_words(pages, browser):
    found = {w for s in ui_strings(browser, pages["a01_plain_conv"]["page"], pages["a01_plain_conv"]["frames"])
             for w in english_words(s)}
    assert {"Previous", "Play", "Pause", "Speed", "Loop", "step", "player", "output"} <= found, found
