"""The html format's step player: the atlas rebuilds every frame exactly, the file is small (<= 2x the GIF), the same
bytes twice, escaped, atomic; and in a real reader (headless Chromium): keys step the picture and its text, reduced
motion starts paused, the dark scheme shows the dark frames, every control is named, nothing scrolls sideways at
390 px, nothing is requested, and pointing at an output cell draws the manifest's windows.

Without Chromium the browser tests skip locally and FAIL under CI=true (`.ci/run` installs it).
"""

from __future__ import annotations

import base64
import dataclasses
import html.parser
import io
import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from browser import Browser

from convgif.encode.frame import Deck, Frame, WriterOptions
from convgif.encode.player import PlayerWriter, build_player, changed_rectangles, player_fragment
from convgif.pipeline import render_scene
from convgif.scene import load_scene, parse_scene
from convgif.sources import frame_source

SCENES = Path(__file__).resolve().parent.parent / "scenes"
SCENE = "a01_plain_conv"


def themed(scene, theme: str):
    return scene.model_copy(update={"render": scene.render.model_copy(update={"theme": theme})})


def frames_of(scene, theme: str) -> tuple[list[Frame], Deck]:
    source = frame_source(themed(scene, theme))
    return [dataclasses.replace(f, theme=theme) for f in source.frames("steps")], source.deck()


def write_player(path: Path, frames: list[Frame], deck: Deck) -> Path:
    with PlayerWriter.open(path, WriterOptions(deck=deck)) as writer:
        for frame in frames:
            writer.write_frame(frame)
    return path


class Tags(html.parser.HTMLParser):
    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def player_data(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="[^"]+">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


def replay(data: dict, theme: int) -> list[np.ndarray]:
    """What the player's canvas shows for each frame: the atlas's base, then each frame's rectangles."""
    spec = data["themes"][theme]
    atlas = np.asarray(Image.open(io.BytesIO(base64.b64decode(spec["atlas"].split(",", 1)[1]))).convert("RGB"))
    canvas = np.zeros((data["height"], data["width"], 3), dtype=np.uint8)
    shown = []
    for rects in spec["rects"]:
        for sx, sy, dx, dy, w, h in zip(*[iter(rects)] * 6):
            canvas[dy:dy + h, dx:dx + w] = atlas[sy:sy + h, sx:sx + w]
        shown.append(canvas.copy())
    return shown


@pytest.fixture(scope="module")
def a01(tmp_path_factory):
    """a01 drawn light and dark, and its player page holding both."""
    scene = load_scene(SCENES / f"{SCENE}.toml")
    light, deck = frames_of(scene, "light")
    dark, _ = frames_of(scene, "dark")
    out = tmp_path_factory.mktemp("player")
    page = write_player(out / f"{SCENE}.html", light + dark, deck)
    return {"light": light, "dark": dark, "deck": deck, "page": page, "dir": out}


# ---- the file --------------------------------------------------------------------------------------------------

def test_changed_rectangles_cover_exactly_the_changes():
    mask = np.zeros((40, 60), dtype=bool)
    mask[2:5, 3:9] = True
    mask[2:4, 40:45] = True  # same rows, far to the right: its own rectangle
    mask[30, 10] = True
    rects = changed_rectangles(mask, gap=12)
    assert sorted(rects) == [(3, 2, 6, 3), (10, 30, 1, 1), (40, 2, 5, 2)]
    assert changed_rectangles(np.zeros((5, 5), dtype=bool)) == []


def test_atlas_rebuilds_every_frame_of_both_themes(a01):
    data = player_data(a01["page"].read_text(encoding="utf-8"))
    assert [t["name"] for t in data["themes"]] == ["light", "dark"]
    assert [t["dark"] for t in data["themes"]] == [False, True]
    for number, name in enumerate(("light", "dark")):
        shown = replay(data, number)
        assert len(shown) == len(a01[name])
        for frame, picture in zip(a01[name], shown):
            assert np.array_equal(picture, frame.pixels)
    assert data["texts"] == [f.text.strip() for f in a01["light"]]
    assert data["durations"] == [f.duration_ms for f in a01["light"]]


def test_page_words_alt_caption_and_no_address(a01):
    page = a01["page"].read_text(encoding="utf-8")
    tags = Tags(page).tags
    deck = a01["deck"]
    canvas = [attrs for tag, attrs in tags if tag == "canvas"]
    assert len(canvas) == 1 and canvas[0]["role"] == "img" and canvas[0]["aria-label"] == deck.alt
    assert "<figcaption" in page and deck.description.split(":")[0] in page
    assert [attrs["aria-live"] for tag, attrs in tags if "aria-live" in attrs] == ["polite"]
    # nothing a browser could fetch: no URL scheme but data:, no src/href but data:
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", page)
    for _, attrs in tags:
        for key in ("src", "href"):
            assert key not in attrs or attrs[key].startswith("data:"), attrs


def test_scene_text_is_escaped(a01):
    hostile = "</script><script>throw new Error('x')</script> & <b>"
    frames = [dataclasses.replace(f, text=hostile) for f in a01["light"][:3]]
    deck = Deck(title=hostile, description=hostile, alt=hostile)
    page = build_player(frames, deck, stem="s").page()
    assert "<b>" not in page and "<script>throw" not in page
    assert player_data(page)["texts"][0] == hostile


def test_same_bytes_twice_and_two_fragments_differ(a01, tmp_path):
    again = write_player(tmp_path / f"{SCENE}.html", a01["light"] + a01["dark"], a01["deck"])
    assert again.read_bytes() == a01["page"].read_bytes()
    one = player_fragment(a01["light"][:4], a01["deck"], stem=SCENE)
    two = player_fragment(a01["light"][:5], a01["deck"], stem=SCENE)
    ids = [re.search(r'<figure class="cgp" id="([^"]+)"', f).group(1) for f in (one, two)]
    assert ids[0] != ids[1] and all(i.startswith(f"cgp-{SCENE}-") for i in ids)
    assert "<html" not in one and f"#{ids[0]} " in one  # a fragment, its style scoped to its id


def test_nothing_is_written_on_an_error(a01, tmp_path):
    path = tmp_path / "broken.html"
    with pytest.raises(RuntimeError):
        with PlayerWriter.open(path, WriterOptions(deck=a01["deck"])) as writer:
            writer.write_frame(a01["light"][0])
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_the_pipeline_puts_every_theme_in_one_file(tmp_path):
    scene = parse_scene({"op": {"kind": "conv2d", "kernel_size": 2, "bias": False},
                         "input": {"shape": [1, 3, 3], "values": "arange"},
                         "render": {"duration_ms": 100, "theme": ["light", "dark"]},
                         "output": {"formats": ["html"]}}, "s.toml")
    render_scene(scene, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.html"]
    data = player_data((tmp_path / "s.html").read_text(encoding="utf-8"))
    assert [t["name"] for t in data["themes"]] == ["light", "dark"] and len(data["texts"]) == 5
    assert len(data["cells"]) == 4  # every output cell can be pointed at


@pytest.mark.parametrize("name", ["a01_plain_conv", "a03_input_channels", "c08_transposed_scatter", "c05_max_pool"])
def test_player_is_at_most_twice_the_gif(name, tmp_path):
    from convgif.encode import GifWriter

    source = frame_source(load_scene(SCENES / f"{name}.toml"))
    gif, page = tmp_path / f"{name}.gif", tmp_path / f"{name}.html"
    with GifWriter.open(gif, WriterOptions(palette=source.palette(), frame_count=source.frame_count)) as gif_writer, \
            PlayerWriter.open(page, WriterOptions(deck=source.deck())) as player_writer:
        for frame in source.frames("steps"):  # one pass over the frames for both files
            gif_writer.write_frame(frame)
            player_writer.write_frame(frame)
    assert page.stat().st_size <= 2 * gif.stat().st_size, (page.stat().st_size, gif.stat().st_size)


def test_scatter_cells_are_hovered_through_their_input_windows():
    """A transposed conv's output cell is added into by several steps: each of their input windows is shown."""
    source = frame_source(load_scene(SCENES / "c08_transposed_scatter.toml"))
    frames = list(source.frames("steps"))
    data = player_data(build_player(frames, source.deck(), stem="c08").page())
    assert data["cells"]
    for *box, label, numbers in data["cells"]:
        assert label.startswith("output ch 0 (") and numbers
        for number in numbers:
            windows = [i for i in frames[number].items() if i["role"] == "window"]
            assert data["windows"][str(number)] == [w["box"] for w in windows if w["tensor"] != "output"]
            outputs = [w["box"] for w in windows if w["tensor"] == "output"]
            assert any(o[0] <= box[0] and o[1] <= box[1] and box[2] <= o[2] and box[3] <= o[3] for o in outputs)
    assert max(len(cell[-1]) for cell in data["cells"]) > 1  # overlapping blocks: a cell with several steps


# ---- in Chromium ---------------------------------------------------------------------------------------------------

class Tab:
    """One page in the shared browser: its session, JS evaluation, keys and its own events."""

    def __init__(self, browser: Browser, url: str, *, width: int = 1280, media: dict | None = None):
        self.browser = browser
        self.target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.call("Target.attachToTarget", {"targetId": self.target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": False})
        self.call("Emulation.setFocusEmulationEnabled", {"enabled": True})
        features = [{"name": k, "value": v} for k, v in (media or {}).items()]
        self.call("Emulation.setEmulatedMedia", {"features": features})
        self.call("Page.navigate", {"url": url})
        deadline = time.monotonic() + 10
        while self.evaluate("document.readyState") != "complete" or self.evaluate(
                "document.querySelector('.cgp') && document.querySelector('.cgp').getAttribute('data-frame')") is None:
            assert time.monotonic() < deadline, "the player did not draw a frame"
            time.sleep(0.05)

    def call(self, method: str, params: dict | None = None):
        return self.browser.call(method, params, session=self.session)

    def evaluate(self, expression: str):
        reply = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in reply:
            raise AssertionError(reply["exceptionDetails"])
        return reply["result"].get("value")

    def press(self, key: str, code: int) -> None:
        for kind in ("keyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", {"type": kind, "key": key, "code": "Space" if key == " " else key,
                                                 "windowsVirtualKeyCode": code, "nativeVirtualKeyCode": code,
                                                 **({"text": " "} if key == " " and kind == "keyDown" else {})})
        time.sleep(0.05)

    def state(self) -> dict:
        return self.evaluate("(() => { const r = document.querySelector('.cgp'); return {frame: r.convgif.frame, "
                             "playing: r.convgif.playing, drawn: r.convgif.drawn, "
                             "text: r.querySelector('.cgp-text').textContent, "
                             "live: r.querySelector('.cgp-text').getAttribute('aria-live')}; })()")

    def canvas(self) -> np.ndarray:
        uri = self.evaluate("document.querySelector('.cgp-canvas').toDataURL('image/png')")
        return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB"))

    def wait_drawn(self, frame: int) -> None:
        deadline = time.monotonic() + 5
        while self.state()["drawn"] != frame:
            assert time.monotonic() < deadline, f"frame {frame} was not drawn"
            time.sleep(0.02)

    def events(self) -> list[dict]:
        with self.browser._events_lock:
            return [e for e in self.browser.events if e.get("sessionId") == self.session]

    def close(self) -> None:
        self.browser.call("Target.closeTarget", {"targetId": self.target})


def problems(events: list[dict]) -> list[str]:
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert", "warning"):
            found.append(f"console.{params['type']}: {[a.get('value') for a in params.get('args', [])]}")
        elif method == "Runtime.exceptionThrown":
            found.append(f"exception: {params['exceptionDetails']}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            found.append(f"log error: {params['entry']['text']}")
        elif method == "Network.loadingFailed":
            found.append(f"load failed: {params.get('errorText')}")
    return found


def test_keys_step_the_picture_and_its_text(a01, browser):
    tab = Tab(browser, a01["page"].as_uri())
    try:
        frames = a01["light"]
        assert tab.state()["playing"] is True  # no reduced motion: it plays
        tab.press(" ", 32)  # document-level: the only player on the page, nothing focused
        paused = tab.state()
        assert paused["playing"] is False and paused["live"] == "polite"
        start = min(paused["frame"], len(frames) - 3)
        tab.evaluate(f"(() => {{ const s = document.querySelector('.cgp-scrub'); s.value = '{start}'; "
                     "s.dispatchEvent(new Event('input')); })()")  # the scrubber: random access
        tab.wait_drawn(start)
        assert np.array_equal(tab.canvas(), frames[start].pixels)
        tab.press("ArrowRight", 39)
        tab.wait_drawn(start + 1)
        after = tab.state()
        assert after["frame"] == start + 1 and after["text"] == frames[start + 1].text.strip()
        assert np.array_equal(tab.canvas(), frames[start + 1].pixels)
        tab.evaluate("document.querySelector('.cgp').focus()")  # from the player itself too
        tab.press("ArrowRight", 39)
        tab.press("ArrowLeft", 37)
        tab.press("ArrowLeft", 37)
        tab.wait_drawn(start)
        assert tab.state()["text"] == frames[start].text.strip()
        assert np.array_equal(tab.canvas(), frames[start].pixels)
        time.sleep(0.2)
        events = tab.events()
    finally:
        tab.close()
    assert problems(events) == []
    requested = [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]
    assert requested and all(url.startswith(("file://", "data:", "blob:")) for url in requested), requested


def test_reduced_motion_starts_paused_on_the_finished_picture(a01, browser):
    tab = Tab(browser, a01["page"].as_uri(), media={"prefers-reduced-motion": "reduce"})
    try:
        time.sleep(0.6)  # longer than a01's step duration: a playing player would have moved
        state = tab.state()
        last = len(a01["light"]) - 1
        assert state["playing"] is False and state["frame"] == last and state["live"] == "polite"
        tab.wait_drawn(last)
        assert np.array_equal(tab.canvas(), a01["light"][last].pixels)
    finally:
        tab.close()


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_colour_scheme_picks_the_frames(a01, browser, scheme):
    tab = Tab(browser, a01["page"].as_uri(), media={"prefers-color-scheme": scheme})
    try:
        frame = tab.state()["frame"]
        tab.press(" ", 32)
        frame = tab.state()["frame"]
        tab.wait_drawn(frame)
        shown = tab.canvas()
        page_background = tab.evaluate("getComputedStyle(document.body).backgroundColor")
        if scheme == "dark":
            shot = tab.call("Page.captureScreenshot", {"format": "png"})
            (a01["dir"] / "player_dark.png").write_bytes(base64.b64decode(shot["data"]))
    finally:
        tab.close()
    assert np.array_equal(shown, a01[scheme][frame].pixels)
    r, g, b = (int(v) for v in a01[scheme][0].pixels[0, 0])
    assert page_background == f"rgb({r}, {g}, {b})"


def test_every_control_is_named_and_nothing_scrolls_at_390_px(a01, browser):
    tab = Tab(browser, a01["page"].as_uri(), width=390)
    try:
        unnamed = tab.evaluate("""[...document.querySelectorAll('button, input, select')].filter(e =>
            !(e.getAttribute('aria-label') || '').trim() && !(e.labels && e.labels.length)).map(e => e.outerHTML)""")
        without_alt = tab.evaluate("[...document.querySelectorAll('img')].filter(e => !e.alt).length")
        canvas_name = tab.evaluate("document.querySelector('canvas').getAttribute('aria-label')")
        controls = tab.evaluate("document.querySelectorAll('.cgp button, .cgp input, .cgp select').length")
        scroll_width = tab.evaluate("document.scrollingElement.scrollWidth")
        canvas_width = tab.evaluate("document.querySelector('canvas').getBoundingClientRect().width")
    finally:
        tab.close()
    assert controls == 6 and unnamed == [] and without_alt == 0 and canvas_name == a01["deck"].alt
    assert scroll_width <= 390 and canvas_width < 390


@pytest.mark.parametrize("width", [1280, 390])
def test_pointing_at_an_output_cell_shows_the_manifests_windows(a01, browser, width):
    frames = a01["light"]
    number = 20
    items = frames[number].items()
    marker = next(i["box"] for i in items if i["role"] == "marker")
    windows = sorted(i["box"] for i in items if i["role"] == "window")
    tab = Tab(browser, a01["page"].as_uri(), width=width)
    try:
        rect = tab.evaluate("(() => { const r = document.querySelector('.cgp-canvas').getBoundingClientRect(); "
                            "return [r.left, r.top, r.width, r.height]; })()")
        frame_h, frame_w = frames[0].pixels.shape[:2]
        x = rect[0] + (marker[0] + marker[2]) / 2 * rect[2] / frame_w
        y = rect[1] + (marker[1] + marker[3]) / 2 * rect[3] / frame_h
        tab.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})
        time.sleep(0.1)
        drawn = tab.evaluate("""[...document.querySelectorAll('.cgp-overlay rect.cgp-window')].map(r =>
            ['x', 'y', 'width', 'height'].map(k => Number(r.getAttribute(k))))""")
        tip = tab.evaluate("(() => { const t = document.querySelector('.cgp-tip'); "
                           "return t.hidden ? null : t.textContent; })()")
        scroll_width = tab.evaluate("document.scrollingElement.scrollWidth")
        if width == 1280:
            shot = tab.call("Page.captureScreenshot", {"format": "png"})
            (a01["dir"] / "player_light_hover.png").write_bytes(base64.b64decode(shot["data"]))
    finally:
        tab.close()
    assert sorted([x, y, x + w, y + h] for x, y, w, h in drawn) == windows
    assert tip is not None and frames[number].text.strip().split("\n")[-1] in tip
    assert scroll_width <= width
