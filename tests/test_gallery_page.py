"""The gallery page in a real headless Chromium: it loads with no console errors, every image decodes,
the scene text is escaped, and a screenshot is taken. Chromium is driven over the DevTools protocol by
tests/browser.py (the standard library only).

Without Chromium the browser tests skip locally and FAIL under CI=true (`.ci/run` installs it).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from browser import Browser, Served, need_chromium
from PIL import Image

from convgif.cli import main
from convgif.gallery import build_gallery, catalogue_row

SCENES = Path(__file__).resolve().parent.parent / "scenes"
SUBSET = ["b01_arange_one_kernel.toml", "c04_relu.toml", "e03_param_counts.toml"]

# a scene whose text would break the page if it were not escaped: the script would throw a console error
HOSTILE_SCENE = """\
title = "卷积 <b>bold</b> & more"
description = "A scene whose text holds markup: </code></pre><script>throw new Error('unescaped scene text')</script> (Catalogue B3)"

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
  await Promise.all(images.map(img => img.complete ? null
      : new Promise(done => { img.onload = done; img.onerror = done; })));
  return JSON.stringify(images.map(img => ({src: img.getAttribute('src'), width: img.naturalWidth,
                                            height: img.naturalHeight})));
})()
"""


def inspect_page(url: str, profile: Path, screenshot: Path | None = None) -> dict:
    """Open `url`; return its console errors, exceptions, failed loads, images and page text."""
    browser = Browser(need_chromium(), profile)
    try:
        target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.call(f"{domain}.enable", session=session)
        browser.call("Emulation.setDeviceMetricsOverride",
                     {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=session)
        browser.call("Page.navigate", {"url": url}, session=session)
        browser.wait_event("Page.loadEventFired")
        images = json.loads(browser.call("Runtime.evaluate", {"expression": IMAGE_CHECK, "awaitPromise": True,
                                                              "returnByValue": True}, session=session)
                            ["result"]["value"])
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
            "narrow_width": narrow_width, "fonts": json.loads(fonts)}


@pytest.fixture(scope="module")
def gallery_dir(tmp_path_factory) -> Path:
    scenes = tmp_path_factory.mktemp("scenes")
    for name in SUBSET:
        shutil.copy(SCENES / name, scenes / name)
    (scenes / "z_hostile.toml").write_text(HOSTILE_SCENE, encoding="utf-8")
    out = tmp_path_factory.mktemp("gallery")
    result = build_gallery([scenes], out)
    assert result.failed == 0 and result.rendered == len(SUBSET) + 1
    return out


# ---- the page in Chromium --------------------------------------------------------------------------

def test_page_loads_clean_in_chromium(gallery_dir, tmp_path):
    screenshot = gallery_dir / "screenshot.png"
    with Served(gallery_dir) as served:
        seen = inspect_page(served.url + "index.html", tmp_path / "profile", screenshot)
    assert seen["problems"] == []
    # one image per scene, each decoded at the size the renderer wrote
    assert len(seen["images"]) == len(SUBSET) + 1
    for image in seen["images"]:
        with Image.open(gallery_dir / image["src"]) as written:
            assert (image["width"], image["height"]) == written.size and image["width"] > 0
    # offline: every request went to our own server (data: URLs are not requests)
    assert seen["requested"] and all(url.startswith(served.url) for url in seen["requested"])
    assert seen["narrow_width"] <= 390  # responsive: no sideways scrolling on a phone
    assert seen["scripts"] == 0  # escaped: the hostile scene's <script> stayed text
    assert "卷积 <b>bold</b> & more" in seen["text"]
    # Chinese text gets the shipped CJK font (copied beside the page), loaded, not boxes
    assert ["\"convgif CJK\"", "loaded"] in seen["fonts"] or ["convgif CJK", "loaded"] in seen["fonts"]
    assert (gallery_dir / "fonts" / "OFL.txt").is_file()
    with Image.open(screenshot) as shot:
        assert shot.size == (1280, 900)
        assert len(np.unique(np.asarray(shot.convert("L")))) > 10  # not a blank page
    shutil.copy(screenshot, Path(os.environ.get("CONVGIF_SCREENSHOT_DIR", tmp_path)) / "gallery_screenshot.png")


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
    assert "<style>" in page and "http://" not in page and "https://" not in page and "<script" not in page
    # b01: Conv2d(1, 1, 2) on 4x4 -> 3x3, 4 weights + 1 bias; the formula with its numbers
    assert "floor((4 + 2*0 - 1*(2-1) - 1) / 1) + 1 = 3" in page
    b01 = page[page.index('id="b01_arange_one_kernel"'):]
    b01 = b01[: b01.index("</article>")]
    assert "<dt>parameters</dt><dd><code>5</code>" in b01
    assert "<dt>op.kernel_size</dt><dd><code>2</code>" in b01
    # grouped by catalogue row, in catalogue order
    assert page.index('id="row-B1"') < page.index('id="row-B3"') < page.index('id="row-C4"') < page.index('id="row-E3"')
    # the source is shown escaped
    assert "&lt;/code&gt;&lt;/pre&gt;&lt;script&gt;" in page


def test_catalogue_row():
    assert catalogue_row("... (Catalogue B4, B5)", "b04_x") == "B4"
    assert catalogue_row("... (Catalogue A10; compare a10_bias)", "zzz") == "A10"
    assert catalogue_row(None, "c09_conv_5x5_to_3x3") == "C9"
    assert catalogue_row("no row here", "my_scene") == "other"


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


def test_a_change_to_the_package_code_makes_every_scene_stale(tmp_path, monkeypatch):
    """Between two releases (a git checkout, an edited label table) the version stays, the pictures do not."""
    from convgif import gallery

    scenes = tmp_path / "scenes"
    scenes.mkdir()
    (scenes / "one.toml").write_text(HOSTILE_SCENE, encoding="utf-8")
    out = tmp_path / "out"
    assert build_gallery([scenes], out).rendered == 1
    assert build_gallery([scenes], out).fresh == 1
    monkeypatch.setattr(gallery, "_code_digest", lambda: "another renderer")
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
    assert 'class="error"' in page and 'src="good.gif"' in page
