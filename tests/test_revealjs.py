"""The revealjs format: the pasted <section> (a fragment per step, alt text, escaped speaker notes, pictures that
add up to each step's frame), the offline deck (no URL, both files or neither, same bytes twice) and the deck in
a real reader: headless Chromium, where each press of → shows the next step.

Without Chromium the browser test skips locally and FAILS under CI=true (`.ci/run` installs it).
"""

from __future__ import annotations

import base64
import html.parser
import io
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from browser import Browser, need_chromium
from PIL import Image

from convgif.cli import main
from convgif.encode.frame import Deck, Frame
from convgif.encode.revealjs import RevealWriter, deck_path_for
from convgif.pipeline import frame_source
from convgif.scene import load_scene

SCENES = Path(__file__).resolve().parent.parent / "scenes"
SCENE = "b01_arange_one_kernel"  # 9 steps, then the finished picture
STEPS = 9

# scene text that would break the section or the deck if it were not escaped
HOSTILE_SCENE = """\
title = "卷积 <b>bold</b> & </section><script>throw new Error('unescaped title')</script>"
description = "A description with markup: </aside><img src=x onerror=alert(1)> & \\"quotes\\""

[op]
kind = "conv2d"
kernel_size = 2
bias = false

[input]
shape = [1, 3, 3]
values = "arange"

[render]
width = 480
"""


class Page(html.parser.HTMLParser):
    """The tags of a page, as (tag, attributes) in order, and its text outside tags."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def all(self, tag: str) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag]


def render(scene: Path, out: Path) -> tuple[Path, Path]:
    assert main(["render", str(scene), "--format", "revealjs", "-o", str(out)]) == 0
    section = out / f"{scene.stem}.reveal.html"
    return section, deck_path_for(section)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, Path]:
    return render(SCENES / f"{SCENE}.toml", tmp_path_factory.mktemp("reveal"))


def decode(data_uri: str) -> Image.Image:
    prefix = "data:image/png;base64,"
    assert data_uri.startswith(prefix)
    image = Image.open(io.BytesIO(base64.b64decode(data_uri[len(prefix):])))
    assert image.format == "PNG" and image.mode == "P"  # palette PNGs
    return image


# ---- the section ----------------------------------------------------------------------------------

def test_section_has_a_fragment_per_step_with_alt_text(rendered):
    section, _ = rendered
    text = section.read_text(encoding="utf-8")
    page = Page(text)
    assert len(page.all("section")) == 1 and text.startswith("<section") and text.rstrip().endswith("</section>")
    assert "r-stack" in page.all("div")[0]["class"]
    images = page.all("img")
    assert len(images) == STEPS + 1  # every step, then the finished picture
    assert "class" not in images[0]  # the first step is there when the slide opens
    assert [image.get("class") for image in images[1:]] == ["fragment"] * STEPS  # one click per further picture
    assert [image["data-step"] for image in images] == [str(step) for step in range(STEPS)] + ["final"]
    for number, image in enumerate(images[:STEPS]):
        assert image["alt"].startswith("Conv2d(1, 1, 2) on the numbers 1..16")
        assert image["alt"].endswith(f"step {number + 1} / {STEPS}")
    assert images[-1]["alt"].endswith(f"done · {STEPS} steps")
    assert "http://" not in text and "https://" not in text


def test_pictures_add_up_to_each_steps_frame(rendered):
    """The first picture is the frame; each later one holds only what changed, and stacking them gives the frame."""
    section, _ = rendered
    frames = list(frame_source(load_scene(SCENES / f"{SCENE}.toml")).frames("slides"))
    images = Page(section.read_text(encoding="utf-8")).all("img")
    assert len(images) == len(frames)
    shown = None
    for image, frame in zip(images, frames):
        picture = decode(image["src"]).convert("RGBA")
        if shown is None:
            assert np.asarray(picture)[..., 3].min() == 255  # the first is opaque
            shown = picture
        else:
            shown = Image.alpha_composite(shown, picture)
        np.testing.assert_array_equal(np.asarray(shown.convert("RGB")), frame.pixels)
        assert (int(image["width"]), int(image["height"])) == picture.size


def test_speaker_notes_list_each_steps_arithmetic(rendered):
    section, _ = rendered
    text = section.read_text(encoding="utf-8")
    notes = text[text.index('<aside class="notes">'):text.index("</aside>")]
    assert notes.count("<li>") == STEPS + 1
    # step 2: window [[2, 3], [6, 7]] with the kernel [[1, 0], [-1, 2]], bias 0.5
    assert "<li>step 2 / 9<br>2×1 + 3×0 + 6×(−1) + 7×2 + bias (0.5)  = 10.5</li>" in notes
    assert "H, W: floor((4 + 2×0 − 1×(2 − 1) − 1) / 1) + 1 = 3" in notes  # a square case's axes on one line


def test_scene_text_is_escaped(tmp_path):
    scene = tmp_path / "hostile.toml"
    scene.write_text(HOSTILE_SCENE, encoding="utf-8")
    section, deck = render(scene, tmp_path / "out")
    for path in (section, deck):
        text = path.read_text(encoding="utf-8")
        assert "<b>" not in text and "onerror=alert" not in text.replace("onerror=alert(1)&gt;", "")
        assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;/section&gt;&lt;script&gt;" in text
    section_page = Page(section.read_text(encoding="utf-8"))
    assert len(section_page.all("section")) == 1 and section_page.all("script") == []
    assert [attrs.get("class") for attrs in section_page.all("aside")] == ["notes"]
    deck_page = Page(deck.read_text(encoding="utf-8"))
    assert len(deck_page.all("script")) == 2  # reveal.js and its initialize call, nothing from the scene
    assert len(deck_page.all("section")) == 2  # the title slide and the scene's
    assert "卷积 <b>bold</b> & </section>" in "".join(deck_page.text)  # shown as text


# ---- the deck -------------------------------------------------------------------------------------

def test_deck_is_one_offline_file(rendered):
    _, deck = rendered
    text = deck.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text and "//cdn" not in text
    page = Page(text)
    # nothing to fetch: every src and href is a data: URI (the section's pictures, the empty icon)
    for tag, attrs in page.tags:
        for name in ("src", "href"):
            if name in attrs:
                assert attrs[name].startswith("data:"), (tag, attrs[name][:80])
    assert "@import" not in text
    height, width = next(frame_source(load_scene(SCENES / f"{SCENE}.toml")).frames("slides")).pixels.shape[:2]
    assert f"Reveal.initialize({{width: {width}, height: {height}, margin: 0" in text  # the slide is the frame's size
    assert "Permission is hereby granted" in text  # reveal.js's MIT licence travels with its copy
    # the title slide: title, description and the facts (shapes, formula with numbers, parameters)
    title = text[text.index('<section class="convgif-title"'):]
    title = title[:title.index("</section>")]
    assert "<h1>Conv2d(1, 1, 2) on the numbers 1..16</h1>" in title
    assert "<li>conv2d: 1×4×4 → 1×3×3</li>" in title
    assert "<li>H, W: floor((4 + 2×0 − 1×(2 − 1) − 1) / 1) + 1 = 3</li>" in title
    assert "parameters: 5 = weight 1×1×2×2 (4) + bias 1" in title
    # the section in the deck is the file to paste, byte for byte
    assert (deck.parent / f"{SCENE}.reveal.html").read_text(encoding="utf-8") in text
    assert "--r-background-color:#fff" in text  # a light frame: the white theme


def test_two_renders_give_identical_bytes(rendered, tmp_path):
    section, deck = rendered
    again_section, again_deck = render(SCENES / f"{SCENE}.toml", tmp_path)
    assert again_section.read_bytes() == section.read_bytes()
    assert again_deck.read_bytes() == deck.read_bytes()


def test_dark_frames_get_the_black_theme(tmp_path):
    frame = np.full((90, 160, 3), 25, dtype=np.uint8)
    lighter = frame.copy()
    lighter[10:20, 10:20] = 200
    with RevealWriter(tmp_path / "dark.reveal.html", deck=Deck(title="dark", alt="dark")) as writer:
        writer.write_frame(Frame(frame, 100, 0, text="step 1 / 2"))
        writer.write_frame(Frame(lighter, 100, 1, text="step 2 / 2"))
    deck = (tmp_path / "dark.deck.html").read_text(encoding="utf-8")
    assert "--r-background-color:#191919" in deck and 'data-background-color="#191919"' in deck


def test_frames_of_many_colours_are_quantised_and_still_stack(tmp_path):
    """A photo scene has more colours than a palette PNG holds: each picture takes its nearest 255."""
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, size=(60, 80, 3), dtype=np.uint8)
    marked = photo.copy()
    marked[20:30, 20:40] = (255, 0, 0)
    with RevealWriter(tmp_path / "photo.reveal.html") as writer:
        for step, frame in enumerate((photo, marked)):
            writer.write_frame(Frame(frame, 100, step, text=f"step {step + 1} / 2"))
    images = Page((tmp_path / "photo.reveal.html").read_text(encoding="utf-8")).all("img")
    first, second = (decode(image["src"]).convert("RGBA") for image in images)
    shown = np.asarray(Image.alpha_composite(first, second).convert("RGB")).astype(int)
    assert (shown[20:30, 20:40] == (255, 0, 0)).all()  # the change is on top
    assert np.abs(shown - marked).mean() < 20  # elsewhere the nearest of 255 colours (of uniform noise: ~13 off)


def test_both_files_or_neither(tmp_path):
    frame = np.zeros((40, 60, 3), dtype=np.uint8)
    path = tmp_path / "s.reveal.html"
    with pytest.raises(KeyboardInterrupt):
        with RevealWriter(path) as writer:
            writer.write_frame(Frame(frame, 100, 0))
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
    # a failure while the second file is being written leaves the earlier pair as it was, and no part files
    with RevealWriter(path) as writer:
        writer.write_frame(Frame(frame, 100, 0))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert sorted(before) == ["s.deck.html", "s.reveal.html"]

    class Broken(RevealWriter):
        def deck_html(self, section):
            return None  # fails in the deck file's write, after the section's part file is written

    with pytest.raises(TypeError):
        with Broken(path) as writer:
            writer.write_frame(Frame(frame + 1, 100, 0))
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


# ---- the deck in Chromium -------------------------------------------------------------------------

STATE = """JSON.stringify({
  indices: Reveal.getIndices(),
  current: (document.querySelector('.present .current-fragment') || {}).dataset?.step ?? null,
  visible: document.querySelectorAll('.present img.fragment.visible').length,
  decoded: Array.from(document.querySelectorAll('.present img')).filter(i => i.complete && i.naturalWidth === 720).length,
})"""


def press(browser: Browser, session: str, key: str, code: int) -> None:
    for kind in ("keyDown", "keyUp"):
        browser.call("Input.dispatchKeyEvent", {"type": kind, "key": key, "code": key, "windowsVirtualKeyCode": code,
                                                "nativeVirtualKeyCode": code}, session=session)


def test_arrow_right_shows_the_next_step_in_chromium(rendered, tmp_path):
    _, deck = rendered
    browser = Browser(need_chromium(), tmp_path / "profile")
    try:
        target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.call(f"{domain}.enable", session=session)
        browser.call("Emulation.setDeviceMetricsOverride",
                     {"width": 1280, "height": 720, "deviceScaleFactor": 1, "mobile": False}, session=session)
        browser.call("Emulation.setFocusEmulationEnabled", {"enabled": True}, session=session)
        browser.call("Page.navigate", {"url": deck.as_uri() + f"#/convgif-{SCENE}"}, session=session)
        browser.wait_event("Page.loadEventFired")

        def evaluate(expression: str):
            return browser.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                     "awaitPromise": True}, session=session)["result"].get("value")

        deadline = time.monotonic() + 10
        while not evaluate("typeof Reveal !== 'undefined' && Reveal.isReady()"):
            assert time.monotonic() < deadline, "reveal.js did not become ready"
            time.sleep(0.05)

        def state() -> dict:
            return json.loads(evaluate(STATE))

        seen = [state()]
        for _ in range(STEPS):
            press(browser, session, "ArrowRight", 39)
            time.sleep(0.05)
            seen.append(state())
        screenshot = tmp_path / "reveal_step.png"
        time.sleep(0.4)  # the last fragment's fade-in
        shot = browser.call("Page.captureScreenshot", {"format": "png"}, session=session)
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        press(browser, session, "ArrowRight", 39)  # past the last step: nothing further
        time.sleep(0.05)
        seen.append(state())
        press(browser, session, "ArrowLeft", 37)  # one step back
        time.sleep(0.05)
        seen.append(state())
        time.sleep(0.2)  # let late console events arrive
        with browser._events_lock:
            events = list(browser.events)
    finally:
        browser.close()

    # the scene's slide (h = 1, after the title slide), every picture decoded, then one step per press
    assert [s["indices"]["h"] for s in seen] == [1] * len(seen)
    assert all(s["decoded"] == STEPS + 1 for s in seen)
    assert [s["visible"] for s in seen] == [*range(STEPS + 1), STEPS, STEPS - 1]
    # reveal's fragment index: none shown, then one more per press; past the last step it stays; ← takes one back
    assert [s["indices"]["f"] for s in seen] == [*range(-1, STEPS), STEPS - 1, STEPS - 2]
    # the picture of the latest step is the current fragment (past the end reveal clears that class: not checked)
    assert [s["current"] for s in seen[:STEPS + 1]] == [None, *map(str, range(1, STEPS)), "final"]
    assert seen[-1]["current"] == str(STEPS - 1)

    problems = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert", "warning"):
            problems.append(f"console.{params['type']}: {[a.get('value') for a in params.get('args', [])]}")
        elif method == "Runtime.exceptionThrown":
            problems.append(f"exception: {params['exceptionDetails'].get('exception', {}).get('description')}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            problems.append(f"log error: {params['entry']['text']}")
        elif method == "Network.loadingFailed":
            problems.append(f"load failed: {params.get('errorText')}")
    assert problems == []
    requested = [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]
    assert requested and all(url.startswith(("file://", "data:")) for url in requested), requested

    with Image.open(screenshot) as image:
        assert image.size == (1280, 720)
        assert len(np.unique(np.asarray(image.convert("L")))) > 5  # not a blank page
    shutil.copy(screenshot, Path(os.environ.get("CONVGIF_SCREENSHOT_DIR", tmp_path)) / "reveal_screenshot.png")
