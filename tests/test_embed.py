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

from convgif.alt import ALT_LIMIT, alt_text
from convgif.cli import main
from convgif.scene import load_scene

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
    assert "3×7×7 input" in text and "4×5×5 output" in text and "4 kernels of 3×3" in text


GALLERY = {path.stem: load_scene(path) for path in sorted(SCENES.glob("*.toml"))}
GALLERY_ALTS = {stem: alt_text(scene) for stem, scene in GALLERY.items()}


def _times(shape) -> str:
    return "×".join(map(str, shape))


def _last_shape(scene) -> tuple[int, ...]:
    """What a scene's picture ends on: an op's output, a chain's last stage's output."""
    if scene.scene_type == "chain":
        return scene.stages()[-1].geometry().output_shape
    return scene.geometry().output_shape


@pytest.mark.parametrize("stem", sorted(GALLERY))
def test_every_gallery_alt_text_fits_whole_and_keeps_its_title_and_result(stem):
    """Nothing cut to fit: no "…" and no sentence ending mid-phrase; the title (or its head, before the colon) leads;
    an op or a chain ends on its output shape (a chain whose shape never changes: that shape, throughout)."""
    scene, text = GALLERY[stem], GALLERY_ALTS[stem]
    assert len(text) <= ALT_LIMIT
    assert "\u2026" not in text and not text.endswith((",", ":", ";", " a", " an", " the", " of", " and", " to"))
    assert text.startswith(re.split(r"[:：]", scene.title)[0] + ("：" if scene.language == "zh" else ":")), text
    if scene.scene_type != "still":
        shape = _times(_last_shape(scene))
        ends = {"en": (f"{shape} output", f"to {shape}", f"{shape} throughout"),
                "zh": (f"{shape} 输出", f"到 {shape}")}
        assert text.endswith(ends[scene.language]), text


@pytest.mark.parametrize("stem", sorted(stem for stem, scene in GALLERY.items() if scene.scene_type == "op"
                                        and scene.language == "en" and scene.geometry().kernel_size))
def test_an_op_alt_text_counts_its_kernels_and_sizes_them_as_its_dimensions_say(stem):
    """"4 kernels of 3×3" where a conv has four, one kernel as "a 3×3 kernel"; in 1D "a size-3 kernel" (never "a 3
    kernel"); a pool's window is one window."""
    scene, text = GALLERY[stem], GALLERY_ALTS[stem]
    geometry = scene.geometry()
    size = _times(geometry.kernel_size)
    one_d = len(geometry.kernel_size) == 1
    if not scene.family.has_weights:
        assert (f"a size-{size} window" if one_d else f"{size} window") in text
    elif scene.view().steps_over == "input":  # scatter: each input value scales its C_out/groups kernels
        assert f"copy of a {size} kernel" in text if geometry.weight_shape[1] == 1 else "kernels of" in text
    elif geometry.out_channels == 1:
        assert (f"a size-{size} kernel" if one_d else f"a {size} kernel") in text and "kernels" not in text
    else:
        assert f"{geometry.out_channels} kernels of {'size ' if one_d else ''}{size}" in text
    assert not re.search(r"\ba \d+ (kernel|window)\b", text), text


def test_the_reviewed_alt_texts():
    assert GALLERY_ALTS["a02_output_channels"] == (
        "More output channels = more kernels: conv2d slides 4 kernels of 3×3 over a 1×7×7 input, making a 4×5×5 output")
    assert GALLERY_ALTS["c07_causal_conv1d"] == (
        "Causal 1D convolution: pad on the left only: conv1d slides a size-3 kernel over a 1×10 input, making a 1×10 "
        "output")
    assert GALLERY_ALTS["c08_chain_encoder_decoder"] == (
        "Encoder–decoder: a conv with stride 2 down, a transposed conv with stride 2 back up: 1×6×6 to 2×3×3 to 1×6×6")
    assert GALLERY_ALTS["c08_transposed_zero_insertion"] == (
        "Transposed convolution = insert zeros, pad, convolve: a 3×3 kernel, flipped, on a 7×7 zero-inserted grid "
        "makes a 1×5×5 output")


@pytest.mark.parametrize("stem", sorted(stem for stem, scene in GALLERY.items() if scene.scene_type == "op"
                                        and scene.family.name == "conv_transpose"))
def test_a_transposed_conv_alt_text_says_what_its_view_shows(stem):
    """Zero insertion: the flipped kernel over the zero-inserted grid, of the size the trace builds; scatter: each
    input value adding a scaled copy of the kernel into the output."""
    from convgif.sources import build_trace

    scene, text = GALLERY[stem], GALLERY_ALTS[stem]
    words = {"en": {"zero_insertion": ("flipped", "zero"), "scatter": ("each value", "scaled copy")},
             "zh": {"zero_insertion": ("翻转", "插入零"), "scatter": ("每个值", "累加")}}
    assert all(word in text for word in words[scene.language][scene.view_name()]), text
    if scene.view_name() == "zero_insertion":
        assert f" {_times(build_trace(scene).grid.shape[2:])} " in text, text
    assert "input, making" not in text and "slides a" not in text  # not the direct conv's sentence


@pytest.mark.parametrize("stem", sorted(stem for stem, scene in GALLERY.items() if scene.language == "zh"))
def test_a_chinese_scene_has_a_chinese_alt_text(stem):
    """Its title and sentence in Chinese: no English word beyond the op's name, a layer's name and notation."""
    scene, text = GALLERY[stem], GALLERY_ALTS[stem]
    names = {"padding", "same", "Keras", "PyTorch", "ReLU", *getattr(scene, "kinds", ()),
             getattr(scene, "kind", "")}
    words = set(re.findall(r"[A-Za-z_]+\d*[a-z]*", text.replace(scene.title, ""))) - names
    assert words <= {"conv2d", "conv_transpose2d", "max_pool2d", "relu", "flatten", "linear"}, (words, text)
    assert re.search(r"[\u4e00-\u9fff]", text.replace(scene.title, "")), text


def test_an_alt_text_drops_whole_clauses_before_the_title_and_says_an_before_eight(tmp_path):
    """A title too long for any sentence beside it keeps its head (before the colon); English says "an 8×…"."""
    scene = tmp_path / "long.toml"
    scene.write_text('title = "A long title about a convolution with eight channels: and a second clause that goes on '
                     'and on past the limit"\n[op]\nkind = "conv2d"\nout_channels = 1\nkernel_size = 8\n'
                     '[input]\nshape = [8, 11, 11]\n', encoding="utf-8")
    text = alt_text(load_scene(scene))
    assert text == ("A long title about a convolution with eight channels: an 8×8 kernel over an 8×11×11 input, "
                    "making a 1×4×4 output")


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
