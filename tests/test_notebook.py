"""The notebook player (issue 15 item 5): a notebook executed with nbclient shows `scene.player()` and a rendered
scene as the step player, with its controls and frames in the saved output; re-running a cell does not grow the
file; and the saved output, written into a page, plays in headless Chromium without the kernel.

Without nbclient, ipykernel or Chromium these skip locally and FAIL under CI=true.
"""

from __future__ import annotations

import html
import json
import re
import sys
import time
from pathlib import Path

import pytest
from browser import Browser, need_chromium
from conftest import missing, require

SCENE = Path(__file__).resolve().parent.parent / "scenes" / "b01_arange_one_kernel.toml"
CONTROLS = ("Previous step", "Play", "Next step", "Step", "Speed", "Loop")
# measured: one b01 player output is 39 KB (the GIF is 29 KB); the executed notebook with two of them is 78 KB
NOTEBOOK_BUDGET = 100_000


def kernel(tmp_path_factory) -> tuple[str, str | None]:
    """ipykernel's `python3` kernel (the registered one), or one installed into a temporary JUPYTER_PATH, so a
    fresh environment needs no `python -m ipykernel install --user`: (kernel name, JUPYTER_PATH to set or None)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec("python3")
        return "python3", None
    except NoSuchKernel:
        pass
    from ipykernel.kernelspec import install

    prefix = tmp_path_factory.mktemp("kernels")
    install(kernel_name="convgif-test", prefix=str(prefix))
    return "convgif-test", str(prefix / "share" / "jupyter")


@pytest.fixture(scope="module")
def notebook(tmp_path_factory):
    """b01's notebook executed once (cells: import, load, `scene.player()`, `scene.render()`), its size, and its
    size after the player cell was run a second time in the same kernel."""
    nbformat = require("nbformat", "pip install -e .[test]")
    nbclient = require("nbclient", "pip install -e .[test]")
    require("ipykernel", "pip install -e .[test]")
    env = pytest.MonkeyPatch()
    try:
        name, jupyter_path = kernel(tmp_path_factory)
        if jupyter_path:
            env.setenv("JUPYTER_PATH", jupyter_path)
        cells = [nbformat.v4.new_code_cell(source) for source in (
            "import convgif",
            f"scene = convgif.load({str(SCENE)!r})",
            "scene.player()",
            "scene.render()",
        )]
        nb = nbformat.v4.new_notebook(cells=cells)
        client = nbclient.NotebookClient(nb, timeout=60, kernel_name=name,
                                         resources={"metadata": {"path": str(SCENE.parent.parent)}})
        started = time.perf_counter()
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
            once = nbformat.writes(nb)
            player_once = html_output(nb.cells[2])
            client.execute_cell(nb.cells[2], 2)  # the same cell again, as a reader re-running it
            twice = nbformat.writes(nb)
        seconds = time.perf_counter() - started
    except Exception as error:  # a kernel that cannot start is a missing tool, not a failed check
        if "kernel" in type(error).__name__.lower() or "NoSuchKernel" in repr(error):
            missing(f"no Jupyter kernel could be started: {error!r}")
        raise
    finally:
        env.undo()
    path = tmp_path_factory.mktemp("notebook") / "b01.ipynb"
    path.write_text(twice, encoding="utf-8")
    return {"nb": nb, "once": once, "twice": twice, "player_once": player_once, "path": path, "seconds": seconds}


def html_output(cell) -> str:
    found = [out["data"]["text/html"] for out in cell.outputs if "text/html" in out.get("data", {})]
    assert len(found) == 1, cell.outputs
    return found[0]


def player_data(markup: str) -> dict:
    found = re.search(r'<script type="application/json" id="[^"]+">(.*?)</script>', markup, re.S)
    return json.loads(found.group(1))


def test_player_and_render_show_the_player_with_its_controls(notebook):
    import convgif

    scene = convgif.load(SCENE)
    expected = scene.render()
    for index in (2, 3):  # scene.player() and scene.render()
        markup = html_output(notebook["nb"].cells[index])
        assert '<figure class="cgp"' in markup and "<canvas" in markup
        for name in CONTROLS:
            assert f'aria-label="{name}"' in markup, name
        data = player_data(markup)
        assert len(data["texts"]) == expected.frames == 10 and data["width"] == expected.size[0]
        assert [t["name"] for t in data["themes"]] == ["light"]
        assert data["cells"]  # hover: the output cells and the windows that computed them
        # the still that stands in where scripts do not run, with the alt text
        assert re.search(r'<img class="cgn-still" src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="[^"]+"', markup)
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", markup)  # nothing to fetch


def test_notebook_size_and_rerun_does_not_grow(notebook):
    once, twice = len(notebook["once"].encode()), len(notebook["twice"].encode())
    player = len(notebook["player_once"].encode())
    print(f"\nb01 notebook: {once} bytes after one run, {twice} after re-running the player cell; "
          f"one player output {player} bytes; executed in {notebook['seconds']:.1f} s")
    assert twice <= once + 16  # only the display number in the ids may change
    assert html_output(notebook["nb"].cells[2]) != notebook["player_once"]  # it was re-run: a new display id
    # two players of the same scene (player() and render()) cost two copies, and nothing more
    assert once <= 2 * player + 8_000 and once <= NOTEBOOK_BUDGET, (once, player)


def test_two_displays_of_one_scene_have_their_own_ids(notebook):
    ids = [re.search(r'<figure class="cgp" id="([^"]+)"', html_output(notebook["nb"].cells[i])).group(1)
           for i in (2, 3)]
    assert ids[0] != ids[1]


def test_saved_output_plays_in_chromium_without_the_kernel(notebook, tmp_path):
    """Both outputs of the saved notebook in one page, as nbviewer or an exported page shows them: each player
    starts (its still removed), and → on the focused one advances its step and text."""
    from test_player import Tab, problems

    nbformat = require("nbformat", "pip install -e .[test]")
    nb = nbformat.read(notebook["path"], as_version=4)  # reopened from disk
    outputs = [html_output(nb.cells[i]) for i in (2, 3)]
    texts = player_data(outputs[0])["texts"]
    page = tmp_path / "outputs.html"
    page.write_text("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>outputs</title></head><body>"
                    + "".join(f"<div class='output'>{o}</div>" for o in outputs) + "</body></html>",
                    encoding="utf-8")
    browser = Browser(need_chromium(), tmp_path / "profile")
    try:
        tab = Tab(browser, page.as_uri())
        state = ("(i => { const r = document.querySelectorAll('.cgp')[i]; return {frame: r.convgif && r.convgif.frame, "
                 "playing: r.convgif && r.convgif.playing, text: r.querySelector('.cgp-text').textContent}; })")
        started = tab.evaluate("[...document.querySelectorAll('.cgn')].map(w => !w.querySelector('.cgn-still') && "
                               "!w.querySelector('.cgn-live').hidden && !!w.querySelector('.cgp').convgif)")
        assert started == [True, True]
        for i in (0, 1):
            tab.evaluate(f"document.querySelectorAll('.cgp')[{i}].focus()")
            tab.press(" ", 32)  # pause
            before = tab.evaluate(f"{state}({i})")
            assert before["playing"] is False
            tab.press("ArrowRight", 39)
            after = tab.evaluate(f"{state}({i})")
            assert after["frame"] == (before["frame"] + 1) % len(texts)
            assert after["text"] == texts[after["frame"]] != before["text"]
        time.sleep(0.1)
        events = tab.events()
        tab.close()
    finally:
        browser.close()
    assert problems(events) == []


@pytest.mark.parametrize("sanitized", [False, True])
def test_without_scripts_the_still_shows(notebook, tmp_path, sanitized):
    """An untrusted notebook or GitHub runs no scripts: the finished picture shows, with its alt text, and the
    dead controls stay hidden (in Chromium with JavaScript off). JupyterLab's sanitizer also drops `hidden`
    attributes and <style> elements (seen in JupyterLab 4.6 with an unsigned notebook): `sanitized` does the same."""
    markup = original = html_output(notebook["nb"].cells[2])
    if sanitized:
        markup = re.sub(r"<(style|script)\b[^>]*>.*?</\1>", "", markup, flags=re.S)
        markup = re.sub(r" hidden(?=[ >])", "", markup)
    page = tmp_path / "no_scripts.html"
    page.write_text(f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>t</title></head><body>"
                    f"{markup}</body></html>", encoding="utf-8")
    browser = Browser(need_chromium(), tmp_path / "profile")
    try:
        target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        browser.call("Page.enable", session=session)
        browser.call("Emulation.setScriptExecutionDisabled", {"value": True}, session=session)
        browser.call("Page.navigate", {"url": page.as_uri()}, session=session)
        time.sleep(0.5)
        root = browser.call("DOM.getDocument", session=session)["root"]["nodeId"]

        def box(selector: str):
            node = browser.call("DOM.querySelector", {"nodeId": root, "selector": selector}, session=session)
            try:
                return browser.call("DOM.getBoxModel", {"nodeId": node["nodeId"]}, session=session)["model"]
            except RuntimeError:  # not rendered (display: none)
                return None

        still, player = box(".cgn-still"), box(".cgp")
        attributes = browser.call("DOM.getAttributes", {"nodeId": browser.call(
            "DOM.querySelector", {"nodeId": root, "selector": ".cgn-still"}, session=session)["nodeId"]},
            session=session)["attributes"]
    finally:
        browser.close()
    assert still is not None and still["width"] == player_data(original)["width"] and player is None
    canvas_name = html.unescape(re.search(r'<canvas class="cgp-canvas"[^>]* aria-label="([^"]+)"', original).group(1))
    assert dict(zip(attributes[::2], attributes[1::2]))["alt"] == canvas_name  # the player's own alt text


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-s"]))
