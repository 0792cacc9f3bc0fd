"""The gallery page in a real headless Chromium: it loads with no console errors, every image decodes, every
animated scene has a step player (in a lazily loaded frame) that the keyboard steps, frames and stills follow the
emulated colour scheme, every picture has the scene's alt text, nothing is requested from elsewhere, the scene text
is escaped, and screenshots are taken. Chromium is driven over the DevTools protocol by tests/browser.py (the
standard library only).

Without Chromium the browser tests skip locally and FAIL under CI=true (`.ci/run` installs it).
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest
from browser import Browser, Served, need_chromium
from PIL import Image

from convgif.alt import alt_text
from convgif.cli import main
from convgif.gallery import build_gallery, catalogue_row
from convgif.scene import load_scene, parse_scene

SCENES = Path(__file__).resolve().parent.parent / "scenes"
SUBSET = ["b01_arange_one_kernel.toml", "c04_relu.toml", "e03_param_counts.toml"]

# a scene whose text would break the page if it were not escaped: the script would throw a console error
HOSTILE_SCENE = """\
title = "卷积 <b>bold</b> & more"
description = "A scene whose text holds markup: </code></pre><script>throw new Error('unescaped scene text')</script>"
catalogue = "B3"

# </code></pre><script>throw new Error("unescaped source")</script><img src="missing.png">
[op]
kind = "conv2d"
kernel_size = 2
bias = false

[input]
shape = [1, 3, 3]
values = "arange"

[render]
duration_ms = 100
hold_ms = 200
width = 480
"""


IMAGE_CHECK = """
(async () => {
  const images = Array.from(document.images);
  for (const img of images) {  // the gallery's pictures load lazily: bring each near the viewport in turn
    if (img.complete) continue;
    img.scrollIntoView();
    await new Promise(done => { img.addEventListener('load', done); img.addEventListener('error', done);
                                setTimeout(done, 5000); });
  }
  window.scrollTo(0, 0);
  return JSON.stringify(images.map(img => ({src: img.getAttribute('src'), width: img.naturalWidth,
                                            height: img.naturalHeight})));
})()
"""


# every player frame of the page: its title, and (same origin) what is inside it once the player has drawn
PLAYERS = """
(async () => {
  const frames = Array.from(document.querySelectorAll('iframe'));
  const out = [];
  for (const frame of frames) {
    frame.scrollIntoView();  // lazily loaded: near the viewport
    let root = null;
    for (let i = 0; i < 200; i++) {
      const doc = frame.contentDocument;
      root = doc && doc.querySelector('.cgp');
      if (root && root.getAttribute('data-frame') !== null && frame.style.height) break;
      await new Promise(done => setTimeout(done, 50));
    }
    const doc = frame.contentDocument;
    const canvases = root ? Array.from(doc.querySelectorAll('canvas')) : [];
    const corner = root ? Array.from(root.querySelector('canvas').getContext('2d')
                                         .getImageData(2, 2, 1, 1).data) : null;
    out.push({src: frame.getAttribute('src'), title: frame.getAttribute('title'),
              loading: frame.getAttribute('loading'),
              players: doc ? doc.querySelectorAll('.cgp').length : 0, frame: root && root.getAttribute('data-frame'),
              theme: root && root.getAttribute('data-theme'), corner,
              canvases: canvases.map(c => [c.getAttribute('role'), c.getAttribute('aria-label')]),
              images: doc ? Array.from(doc.images).map(img => img.getAttribute('alt')) : [],
              height: frame.getBoundingClientRect().height,
              content: doc ? Math.ceil(doc.body.getBoundingClientRect().height) : null});
  }
  window.scrollTo(0, 0);
  return JSON.stringify(out);
})()
"""


def open_tab(browser: Browser, url: str, *, scheme: str | None = None, width: int = 1280, height: int = 900) -> str:
    """A new tab on `url` (emulated colour scheme, focus as if the window had it), loaded; returns its session."""
    target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.call(f"{domain}.enable", session=session)
    browser.call("Emulation.setDeviceMetricsOverride",
                 {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
    browser.call("Emulation.setFocusEmulationEnabled", {"enabled": True}, session=session)
    if scheme:
        browser.call("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
                     session=session)
    browser.call("Page.navigate", {"url": url}, session=session)
    deadline = time.monotonic() + 30
    while evaluate(browser, session, "document.readyState") != "complete":
        assert time.monotonic() < deadline, f"{url} did not load"
        time.sleep(0.05)
    return session


def evaluate(browser: Browser, session: str, expression: str):
    reply = browser.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True},
                         session=session)
    if "exceptionDetails" in reply:
        raise AssertionError(reply["exceptionDetails"])
    return reply["result"].get("value")


def inspect_page(url: str, profile: Path, screenshot: Path | None = None, *, scheme: str | None = None) -> dict:
    """Open `url`; return its console errors, exceptions, failed loads, images, players and page text."""
    browser = Browser(need_chromium(), profile)
    try:
        session = open_tab(browser, url, scheme=scheme)
        players = json.loads(evaluate(browser, session, PLAYERS))
        images = json.loads(browser.call("Runtime.evaluate", {"expression": IMAGE_CHECK, "awaitPromise": True,
                                                              "returnByValue": True}, session=session)
                            ["result"]["value"])
        current = json.loads(evaluate(browser, session, "JSON.stringify(Array.from(document.images).map("
                                                        "img => [img.getAttribute('alt'), img.currentSrc]))"))
        # what the page and each player loaded, as the pages themselves saw it (data: URLs are not requests)
        resources = json.loads(evaluate(browser, session, """JSON.stringify([window, ...Array.from(
            document.querySelectorAll('iframe'), f => f.contentWindow)].flatMap(w =>
            [w.location.href, ...w.performance.getEntriesByType('resource').map(e => e.name)]))"""))
        text = browser.call("Runtime.evaluate", {"expression": "document.body.innerText", "returnByValue": True},
                            session=session)["result"]["value"]
        scripts = browser.call("Runtime.evaluate", {"expression": "document.scripts.length",
                                                    "returnByValue": True}, session=session)["result"]["value"]
        fonts = browser.call("Runtime.evaluate", {
            "expression": "document.fonts.ready.then(set => JSON.stringify([...set].map(f => [f.family, f.status])))",
            "awaitPromise": True, "returnByValue": True}, session=session)["result"]["value"]
        if screenshot is not None:
            shot = browser.call("Page.captureScreenshot", {"format": "png"}, session=session)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
        # a phone-width viewport: the page must reflow, not scroll sideways
        browser.call("Emulation.setDeviceMetricsOverride",
                     {"width": 390, "height": 800, "deviceScaleFactor": 1, "mobile": True}, session=session)
        narrow_width = browser.call("Runtime.evaluate", {"expression": "document.documentElement.scrollWidth",
                                                         "returnByValue": True}, session=session)["result"]["value"]
        time.sleep(0.3)  # the players reflow and report their new heights
        narrow_players = json.loads(evaluate(browser, session, "JSON.stringify(Array.from(document.querySelectorAll("
                                             "'iframe'), f => [f.contentDocument.documentElement.scrollWidth, "
                                             "f.clientWidth]))"))
        time.sleep(0.2)  # let late console events arrive before reading them
        with browser._events_lock:
            events = list(browser.events)
    finally:
        browser.close()
    problems = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert", "warning"):
            problems.append(f"console.{params['type']}: {[a.get('value') for a in params.get('args', [])]}")
        elif method == "Runtime.exceptionThrown":
            problems.append(f"exception: {params['exceptionDetails'].get('exception', {}).get('description')}")
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            problems.append(f"log {params['entry']['level']}: {params['entry']['text']} {params['entry'].get('url', '')}")
        elif method == "Network.loadingFailed":
            problems.append(f"load failed: {params.get('errorText')}")
        elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
            problems.append(f"HTTP {params['response']['status']}: {params['response']['url']}")
    requested = [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]
    return {"problems": problems, "images": images, "text": text, "scripts": scripts, "requested": requested,
            "narrow_width": narrow_width, "fonts": json.loads(fonts), "players": players, "current": current,
            "resources": resources, "narrow_players": narrow_players}


@pytest.fixture(scope="module")
def gallery_build(tmp_path_factory):
    """The page of SUBSET and the hostile scene: (output folder, {stem: the scene's alt text}, animated stems)."""
    scenes = tmp_path_factory.mktemp("scenes")
    for name in SUBSET:
        shutil.copy(SCENES / name, scenes / name)
    (scenes / "z_hostile.toml").write_text(HOSTILE_SCENE, encoding="utf-8")
    out = tmp_path_factory.mktemp("gallery")
    result = build_gallery([scenes], out)
    assert result.failed == 0 and result.rendered == len(SUBSET) + 1
    alts = {entry.stem: alt_text(load_scene(entry.source)) for entry in result.entries}
    animated = sorted(entry.stem for entry in result.entries if (entry.frames or 0) > 1)
    return out, alts, animated


@pytest.fixture(scope="module")
def gallery_dir(gallery_build) -> Path:
    return gallery_build[0]


def player_data(page: str) -> dict:
    """The JSON a player page carries (texts, durations, themes' atlases)."""
    return json.loads(re.search(r'<script type="application/json" id="[^"]+">(.*?)</script>', page, re.S).group(1))


def luminance(rgba) -> float:
    return 0.2126 * rgba[0] + 0.7152 * rgba[1] + 0.0722 * rgba[2]


def save_screenshot(shot: Path, name: str, tmp_path: Path) -> None:
    with Image.open(shot) as image:
        assert len(np.unique(np.asarray(image.convert("L")))) > 10  # not a blank page
    shutil.copy(shot, Path(os.environ.get("CONVGIF_SCREENSHOT_DIR", tmp_path)) / name)


# ---- the page in Chromium --------------------------------------------------------------------------

def test_page_loads_clean_in_chromium(gallery_build, tmp_path):
    gallery_dir, alts, animated = gallery_build
    screenshot = gallery_dir / "screenshot.png"
    with Served(gallery_dir) as served:
        seen = inspect_page(served.url + "index.html", tmp_path / "profile", screenshot, scheme="light")
    assert seen["problems"] == []
    # a player per animated scene (b01, c04, the hostile one), each in its own lazily loaded frame titled with the
    # scene's alt text, drawn, its canvas an image named by the alt text; the frame fits the player's height
    assert animated == ["b01_arange_one_kernel", "c04_relu", "z_hostile"]
    shown = [p["src"].removesuffix(".player.html") for p in seen["players"]]  # in catalogue order
    assert sorted(shown) == animated
    for player, stem in zip(seen["players"], shown):
        assert player["players"] == 1 and player["frame"] is not None, player
        assert player["loading"] == "lazy" and player["title"] == alts[stem]
        assert player["canvases"] == [["img", alts[stem]]]
        assert abs(player["height"] - player["content"]) <= 1, player
        assert luminance(player["corner"]) > 200  # the light frames
    # the stills: an image each, decoded at the size the renderer wrote, with the scene's alt text
    stills = [stem for stem in alts if stem not in animated]
    assert [image["src"] for image in seen["images"]] == [f"{stem}.png" for stem in stills]
    for image in seen["images"]:
        with Image.open(gallery_dir / image["src"]) as written:
            assert (image["width"], image["height"]) == written.size and image["width"] > 0
    assert [alt for alt, _ in seen["current"]] == [alts[stem] for stem in stills]
    assert all(src.endswith(f"/{stem}.png") for (_, src), stem in zip(seen["current"], stills))
    # offline: every request went to our own server (data: URLs are not requests), seen from the browser and from
    # inside each page
    assert seen["requested"] and all(url.startswith((served.url, "data:")) for url in seen["requested"]), \
        [url[:80] for url in seen["requested"]]
    assert all(url.startswith(served.url) for url in seen["resources"]), seen["resources"]
    assert seen["narrow_width"] <= 390  # responsive: no sideways scrolling on a phone
    assert all(inner <= outer for inner, outer in seen["narrow_players"]), seen["narrow_players"]
    assert seen["scripts"] == 1  # the page's own (frame heights); the hostile scene's <script> stayed text
    assert "卷积 <b>bold</b> & more" in seen["text"]
    # Chinese text gets the shipped CJK font (copied beside the page), loaded, not boxes
    assert ["\"convgif CJK\"", "loaded"] in seen["fonts"] or ["convgif CJK", "loaded"] in seen["fonts"]
    assert (gallery_dir / "fonts" / "OFL.txt").is_file()
    with Image.open(screenshot) as shot:
        assert shot.size == (1280, 900)
    save_screenshot(screenshot, "gallery_screenshot.png", tmp_path)


def test_dark_scheme_shows_dark_frames_and_pictures(gallery_build, tmp_path):
    gallery_dir, alts, animated = gallery_build
    screenshot = gallery_dir / "screenshot_dark.png"
    with Served(gallery_dir) as served:
        seen = inspect_page(served.url + "index.html", tmp_path / "profile", screenshot, scheme="dark")
    assert seen["problems"] == []
    assert len(seen["players"]) == len(animated)
    for player in seen["players"]:
        assert player["theme"] == "1" and luminance(player["corner"]) < 60, player  # the dark frames
    stills = [stem for stem in alts if stem not in animated]
    assert all(src.endswith(f"/{stem}.dark.png") for (_, src), stem in zip(seen["current"], stills))
    save_screenshot(screenshot, "gallery_screenshot_dark.png", tmp_path)


def test_arrow_key_steps_a_focused_player(gallery_build, tmp_path):
    gallery_dir, _, animated = gallery_build
    data = player_data((gallery_dir / f"{animated[0]}.player.html").read_text(encoding="utf-8"))
    root = "document.querySelector('iframe').contentDocument.querySelector('.cgp')"
    browser = Browser(need_chromium(), tmp_path / "profile")
    try:
        with Served(gallery_dir) as served:
            session = open_tab(browser, served.url + "index.html")
            evaluate(browser, session, PLAYERS)  # every player loaded and drawn
            evaluate(browser, session, f"document.querySelector('iframe').scrollIntoView(); {root}.focus()")
            assert evaluate(browser, session, f"{root}.ownerDocument.activeElement === {root}")

            def press(key: str, code: int) -> dict:
                for kind in ("keyDown", "keyUp"):
                    browser.call("Input.dispatchKeyEvent", {
                        "type": kind, "key": key, "code": "Space" if key == " " else key,
                        "windowsVirtualKeyCode": code, "nativeVirtualKeyCode": code,
                        **({"text": " "} if key == " " and kind == "keyDown" else {})}, session=session)
                time.sleep(0.1)
                return evaluate(browser, session, f"(() => {{ const r = {root}; return {{frame: r.convgif.frame, "
                                "playing: r.convgif.playing, text: r.querySelector('.cgp-text').textContent}; })()")

            assert evaluate(browser, session, f"{root}.convgif.playing") is True  # no reduced motion: it plays
            paused = press(" ", 32)
            assert paused["playing"] is False
            after = press("ArrowRight", 39)
            expected = (paused["frame"] + 1) % len(data["texts"])
            assert after["frame"] == expected and after["text"] == data["texts"][expected]
            assert press("ArrowLeft", 37)["frame"] == paused["frame"]
            time.sleep(0.2)
            with browser._events_lock:
                events = [e for e in browser.events if e.get("sessionId") == session]
    finally:
        browser.close()
    assert not [e for e in events if e.get("method") in ("Runtime.exceptionThrown", "Network.loadingFailed")]


def test_page_works_from_disk(gallery_build, tmp_path):
    """Opened as a file: each player frame loads and tells the page its height (file:// pages cannot read each
    other; the message still arrives), with no errors and nothing fetched from elsewhere."""
    gallery_dir, _, animated = gallery_build
    browser = Browser(need_chromium(), tmp_path / "profile")
    try:
        session = open_tab(browser, (gallery_dir / "index.html").as_uri())
        heights = evaluate(browser, session, """(async () => {
            const frames = Array.from(document.querySelectorAll('iframe'));
            for (let i = 0; i < 200 && !frames.every(f => f.style.height); i++) {
              frames.forEach(f => { if (!f.style.height) f.scrollIntoView(); });
              await new Promise(done => setTimeout(done, 50));
            }
            return frames.map(f => f.style.height);
        })()""")
        time.sleep(0.2)
        with browser._events_lock:
            events = list(browser.events)
    finally:
        browser.close()
    assert len(heights) == len(animated) and all(h.endswith("px") and float(h[:-2]) > 200 for h in heights), heights
    requested = [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]
    assert requested and all(url.startswith("file://") or url.startswith("data:") for url in requested), requested
    assert not [e for e in events if e.get("method") in ("Runtime.exceptionThrown", "Network.loadingFailed")
                or (e.get("method") == "Runtime.consoleAPICalled" and e["params"].get("type") == "error")]


def test_checker_sees_broken_images_and_errors(tmp_path):
    # the browser check must be able to fail: a missing image, an undecodable one and a script error
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "broken.gif").write_bytes(b"GIF89a not really")
    (tmp_path / "site" / "index.html").write_text(
        '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">'
        '<img src="missing.gif"><img src="broken.gif"><script>throw new Error("boom")</script>',
        encoding="utf-8")
    with Served(tmp_path / "site") as served:
        seen = inspect_page(served.url + "index.html", tmp_path / "profile")
    assert [image["width"] for image in seen["images"]] == [0, 0]
    assert any("boom" in problem for problem in seen["problems"])
    assert any("404" in problem for problem in seen["problems"])


# ---- the page's content, without a browser ---------------------------------------------------------

def test_page_content(gallery_dir):
    page = (gallery_dir / "index.html").read_text(encoding="utf-8")
    # relative image links, inline CSS, nothing fetched from elsewhere
    for name in SUBSET:
        stem = name.removesuffix(".toml")
        assert f'src="{stem}.' in page
    assert "<style>" in page and "http://" not in page and "https://" not in page
    # the page's own script fits each player frame to the height it reports; it listens from the <head>, before
    # the first frame can report
    assert page.count("<script") == 1 and page.index("<script") < page.index("</head>")
    # an animation: its player page in a lazy frame titled with the alt text, the GIF linked; a still: the
    # picture with the alt text, the dark one under the dark scheme
    b01 = page[page.index('id="b01_arange_one_kernel"'):]
    b01 = b01[: b01.index("</article>")]
    alt = alt_text(load_scene(SCENES / "b01_arange_one_kernel.toml"))
    assert f'<iframe class="player" src="b01_arange_one_kernel.player.html" title="{alt}" loading="lazy"' in b01
    assert 'href="b01_arange_one_kernel.gif"' in b01 and "<img" not in b01
    e03 = page[page.index('id="e03_param_counts"'):]
    e03 = e03[: e03.index("</article>")]
    assert ('<source media="(prefers-color-scheme: dark)" srcset="e03_param_counts.dark.png">'
            '<img src="e03_param_counts.png"') in e03 and 'loading="lazy"' in e03
    assert f'alt="{html.escape(alt_text(load_scene(SCENES / "e03_param_counts.toml")), quote=True)}"' in e03
    for stem in ("b01_arange_one_kernel", "c04_relu", "z_hostile"):
        player = (gallery_dir / f"{stem}.player.html").read_text(encoding="utf-8")
        assert "http://" not in player.replace('"http://www.w3.org/2000/svg"', "") and "https://" not in player
        assert player.count('class="cgp"') == 1 and f'src="{stem}.gif"' in player  # the GIF without scripts
    # b01: Conv2d(1, 1, 2) on 4x4 -> 3x3, 4 weights + 1 bias; the formula with its numbers
    assert "floor((4 + 2*0 - 1*(2 - 1) - 1) / 1) + 1 = 3" in page
    b01 = page[page.index('id="b01_arange_one_kernel"'):]
    b01 = b01[: b01.index("</article>")]
    assert "<dt>parameters</dt><dd><code>5</code>" in b01
    assert "<dt>op.kernel_size</dt><dd><code>2</code>" in b01
    # grouped by catalogue row, in catalogue order
    assert page.index('id="row-B1"') < page.index('id="row-B3"') < page.index('id="row-C4"') < page.index('id="row-E3"')
    # the source is shown escaped
    assert "&lt;/code&gt;&lt;/pre&gt;&lt;script&gt;" in page


def test_catalogue_row():
    assert catalogue_row(("B4", "B5"), "c07_x") == "B4"  # the scene's first row, whatever its file is named
    assert catalogue_row(("A10",), "zzz") == "A10"
    assert catalogue_row((), "c09_conv_5x5_to_3x3") == "C9"
    assert catalogue_row((), "my_scene") == "other"


def test_descriptions_are_for_readers_and_rows_are_kept_apart():
    """A description reaches readers (a blog's figcaption, the player, a deck's title slide): the gallery's rows are
    the `catalogue` key's, never "(Catalogue B4)" in the prose."""
    for path in sorted(SCENES.glob("*.toml")):
        spec = load_scene(path)
        assert "Catalogue" not in (spec.description or "") and "(Issue" not in (spec.description or ""), path.name
    spec = parse_scene({**tomllib.loads((SCENES / "c07_wavenet_stack.toml").read_text(encoding="utf-8"))}, "x.toml")
    assert spec.catalogue == ("B4", "B5", "C7")
    from convgif.errors import SceneError

    minimal = {"op": {"kind": "conv2d", "kernel_size": 2}, "input": {"shape": [1, 4, 4]}}
    assert parse_scene({**minimal, "catalogue": "B4"}, "x.toml").catalogue == ("B4",)
    for wrong in ([1, "B4"], [], ["B4", "B4"], "has space"):
        with pytest.raises(SceneError) as caught:
            parse_scene({**minimal, "catalogue": wrong}, "x.toml")
        assert [line.split(": ")[1] for line in caught.value.lines()] == ["catalogue"], caught.value.lines()


def test_only_stale_scenes_are_rendered_again(tmp_path):
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    (scenes / "one.toml").write_text(HOSTILE_SCENE, encoding="utf-8")
    (scenes / "two.toml").write_text(HOSTILE_SCENE.replace('values = "arange"', 'values = "random"'),
                                     encoding="utf-8")
    out = tmp_path / "out"
    first = build_gallery([scenes], out)
    assert (first.rendered, first.fresh) == (2, 0)
    again = build_gallery([scenes], out)
    assert (again.rendered, again.fresh) == (0, 2)
    (scenes / "two.toml").write_text(HOSTILE_SCENE.replace("width = 480", "width = 560"), encoding="utf-8")
    (out / "one.gif").unlink()
    third = build_gallery([scenes], out)
    assert (third.rendered, third.fresh) == (2, 0)
    with Image.open(out / "two.gif") as image:
        assert image.size[0] == 560
    forced = build_gallery([scenes], out, render_all=True)
    assert (forced.rendered, forced.fresh) == (2, 0)
    (out / "two.player.html").unlink()  # a missing player page is rendered again too
    fourth = build_gallery([scenes], out)
    assert (fourth.rendered, fourth.fresh) == (1, 1) and (out / "two.player.html").is_file()


def test_a_change_to_the_package_code_makes_every_scene_stale(tmp_path, monkeypatch):
    """Between two releases (a git checkout, an edited label table) the version stays, the pictures do not."""
    from convgif import build_cache

    scenes = tmp_path / "scenes"
    scenes.mkdir()
    (scenes / "one.toml").write_text(HOSTILE_SCENE, encoding="utf-8")
    out = tmp_path / "out"
    assert build_gallery([scenes], out).rendered == 1
    assert build_gallery([scenes], out).fresh == 1
    monkeypatch.setattr(build_cache, "package_digest", lambda: "another renderer")
    again = build_gallery([scenes], out)
    assert (again.rendered, again.fresh) == (1, 0)


def test_tree_digest_follows_every_file_and_name(tmp_path):
    from convgif.gallery import tree_digest

    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    (tmp_path / "pkg" / "sub" / "labels.py").write_text("LABELS = {}\n")
    first = tree_digest(tmp_path / "pkg")
    (tmp_path / "pkg" / "__pycache__").mkdir()
    (tmp_path / "pkg" / "__pycache__" / "a.pyc").write_bytes(b"cache")
    assert tree_digest(tmp_path / "pkg") == first  # compiled caches do not count
    (tmp_path / "pkg" / "sub" / "labels.py").write_text("LABELS = {'a': 1}\n")
    second = tree_digest(tmp_path / "pkg")
    assert second != first
    (tmp_path / "pkg" / "sub" / "labels.py").rename(tmp_path / "pkg" / "sub" / "labels2.py")
    assert tree_digest(tmp_path / "pkg") != second


def test_cli_gallery_reports_bad_scenes_and_still_writes_the_page(tmp_path, capsys):
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    (scenes / "good.toml").write_text(HOSTILE_SCENE, encoding="utf-8")
    (scenes / "bad.toml").write_text('[op]\nkind = "conv2d"\nkernel_size = 9\n[input]\nshape = [1, 3, 3]\n',
                                     encoding="utf-8")
    code = main(["gallery", str(scenes), "-o", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 1
    assert "bad.toml" in captured.err
    assert "rendered 1, up to date 0, 1 failed" in captured.out
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert 'class="error"' in page and 'src="good.player.html"' in page and 'href="good.gif"' in page
