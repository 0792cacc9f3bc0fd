"""`convgif embed` (issue 15): it renders what its snippet names, and in headless Chromium the snippet's
`<picture>` shows the light WebP, the dark WebP under an emulated dark scheme, and the finished picture under
emulated reduced motion, at the size it states, with the scene's alt text."""

from __future__ import annotations

import html
import re
import time
from pathlib import Path

import pytest
from browser import Browser, need_chromium
from PIL import Image

from convgif.cli import main
from convgif.scene import load_scene
from convgif.sources import ALT_LIMIT, alt_text

SCENES = Path(__file__).resolve().parent.parent / "scenes"
SCENE = "b01_arange_one_kernel"


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    out = tmp_path_factory.mktemp("embed")
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["embed", str(SCENES / f"{SCENE}.toml"), "-o", str(out / "img"), "--base", "img/"]) == 0
    return out, printed.getvalue()


def test_embed_renders_what_the_snippet_names(embedded):
    out, snippet = embedded
    named = set(re.findall(r'(?:srcset|src)="img/([^"]+)"', snippet))
    assert named == {f"{SCENE}{theme}{suffix}" for theme in ("", ".dark")
                     for suffix in (".gif", ".webp", ".poster.png")}
    assert named == {p.name for p in (out / "img").iterdir()}
    with Image.open(out / "img" / f"{SCENE}.gif") as gif:
        assert f'width="{gif.size[0]}" height="{gif.size[1]}"' in snippet
    scene = load_scene(SCENES / f"{SCENE}.toml")
    assert f'alt="{html.escape(alt_text(scene), quote=True)}"' in snippet
    assert f"<figcaption>{html.escape(scene.description, quote=True)}</figcaption>" in snippet
    # webp is offered before the gif, and the reduced-motion sources come first (the first match wins)
    assert snippet.index("poster.png") < snippet.index('type="image/webp"') < snippet.index('<img src="img/')


def test_alt_text_is_short_and_says_the_shapes():
    for path in sorted(SCENES.glob("*.toml")):
        assert len(alt_text(load_scene(path))) <= ALT_LIMIT, path.name
    text = alt_text(load_scene(SCENES / "a03_input_channels.toml"))
    assert "3×7×7 input" in text and "4×5×5 output" in text and "3×3 kernel" in text


def test_markdown_and_video_snippets(tmp_path, capsys):
    assert main(["embed", str(SCENES / f"{SCENE}.toml"), "-o", str(tmp_path), "--markdown"]) == 0
    markdown = capsys.readouterr().out
    assert markdown.startswith("<picture>") and "<figure>" not in markdown
    assert re.search(r"\n\n\*One kernel.*\*\n$", markdown) or markdown.rstrip().endswith("*")


def test_video_snippet_names_webm_then_mp4_and_falls_back_to_the_picture(tmp_path, capsys):
    assert main(["embed", str(SCENES / f"{SCENE}.toml"), "-o", str(tmp_path), "--base", ""]) == 0
    capsys.readouterr()
    assert main(["embed", str(SCENES / f"{SCENE}.toml"), "-o", str(tmp_path), "--base", "", "--video"]) == 0
    video = capsys.readouterr().out
    assert video.index(f'src="{SCENE}.webm" type="video/webm"') < video.index(f'src="{SCENE}.mp4" type="video/mp4"')
    assert video.index("</source>" if "</source>" in video else "video/mp4") < video.index("<picture>")
    assert "autoplay loop muted playsinline" in video and f'poster="{SCENE}.poster.png"' in video
    assert (tmp_path / f"{SCENE}.webm").stat().st_size > 0 and (tmp_path / f"{SCENE}.mp4").stat().st_size > 0


def test_a_bad_scene_is_one_line_and_nothing_is_written(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[op]\nkind = "conv2d"\nkernel_size = 9\n[input]\nshape = [1, 3, 3]\n', encoding="utf-8")
    assert main(["embed", str(bad), "-o", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1 and "bad.toml" in captured.err
    assert not list((tmp_path / "out").iterdir())


def shown_source(browser: Browser, page: Path, media: list[dict]) -> dict:
    target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    browser.call("Page.enable", session=session)
    browser.call("Emulation.setEmulatedMedia", {"features": media}, session=session)
    browser.call("Page.navigate", {"url": page.as_uri()}, session=session)
    expression = ("(() => { const img = document.querySelector('img'); if (!img || document.readyState !== "
                  "'complete' || !img.complete) return null; return {src: img.currentSrc, complete: img.complete, "
                  "width: img.naturalWidth, alt: img.alt}; })()")
    deadline = time.monotonic() + 15
    while True:  # each page's load: not an earlier page's event
        value = browser.call("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                             session=session)["result"].get("value")
        if value or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    browser.call("Target.closeTarget", {"targetId": target})
    assert value, "the page did not load"
    return value


def test_the_picture_follows_the_readers_scheme_and_motion_in_chromium(embedded, tmp_path):
    out, snippet = embedded
    page = out / "page.html"
    page.write_text(f"<!doctype html><meta charset=utf-8><title>embed</title>{snippet}", encoding="utf-8")
    browser = Browser(need_chromium(), tmp_path / "profile")
    try:
        light = shown_source(browser, page, [{"name": "prefers-color-scheme", "value": "light"}])
        dark = shown_source(browser, page, [{"name": "prefers-color-scheme", "value": "dark"}])
        still = shown_source(browser, page, [{"name": "prefers-reduced-motion", "value": "reduce"}])
        still_dark = shown_source(browser, page, [{"name": "prefers-reduced-motion", "value": "reduce"},
                                                  {"name": "prefers-color-scheme", "value": "dark"}])
    finally:
        browser.close()
    assert light["src"].endswith(f"img/{SCENE}.webp")
    assert dark["src"].endswith(f"img/{SCENE}.dark.webp")
    assert still["src"].endswith(f"img/{SCENE}.poster.png")
    assert still_dark["src"].endswith(f"img/{SCENE}.dark.poster.png")
    for shown in (light, dark, still, still_dark):
        assert shown["complete"] and shown["width"] > 0 and shown["alt"]
