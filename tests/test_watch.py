"""`convgif watch` as an author uses it: a real process watching a copy of a gallery scene, its page open in headless
Chromium. Saving another seed changes the picture, a broken save shows the `FILE: key: message` line over the last
good picture, fixing it recovers, Ctrl-C exits 0 without a traceback.

Without Chromium or watchfiles the browser test skips locally and FAILS under CI=true (`.ci/run` installs them).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from browser import Browser, need_chromium
from conftest import require
from PIL import Image

from convgif.cli import main

ROOT = Path(__file__).resolve().parent.parent
SCENE = ROOT / "scenes" / "b01_arange_one_kernel.toml"  # 9 steps: quick to draw, even on a busy machine


def test_without_watchfiles_a_one_line_install_hint_and_exit_2(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "watchfiles", None)  # `import watchfiles` raises ImportError
    assert main(["watch", str(SCENE)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "convgif: convgif watch needs the watch extra: pip install 'convgif[watch]'"


def test_a_missing_path_is_a_usage_error(capsys, tmp_path):
    require("watchfiles", "pip install 'convgif[watch]'")
    assert main(["watch", str(tmp_path / "nope.toml")]) == 2
    assert "nope.toml: no such file or directory" in capsys.readouterr().err


class Watching:
    """`python -m convgif watch` in its own process; its stdout and stderr lines collected as they come."""

    def __init__(self, *args: str, cwd: Path):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        # Ctrl-C as in a terminal, even when this runs in the background (where a shell ignores SIGINT for it)
        self.process = subprocess.Popen([sys.executable, "-m", "convgif", "watch", *args], cwd=cwd, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        self.out: queue.Queue = queue.Queue()
        self.err_lines: list[str] = []
        threading.Thread(target=lambda: [self.out.put(line) for line in self.process.stdout], daemon=True).start()
        threading.Thread(target=lambda: [self.err_lines.append(line) for line in self.process.stderr],
                         daemon=True).start()
        first = self.out.get(timeout=60)
        assert first.startswith("watching 1 scene(s): http://127.0.0.1:"), first
        self.url = first.split()[3]

    def state(self) -> dict:
        with urllib.request.urlopen(self.url + "state", timeout=10) as reply:
            return json.load(reply)["scenes"][0]

    def fetch(self, path: str) -> bytes:
        with urllib.request.urlopen(self.url + path, timeout=10) as reply:
            return reply.read()

    def stop(self) -> tuple[int, str]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        time.sleep(0.2)  # the reader threads drain the pipes
        return code, "".join(self.err_lines)


class Page:
    """The watch page in a tab of the shared headless Chromium."""

    def __init__(self, browser: Browser, url: str):
        self.browser = browser
        self.target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.call("Target.attachToTarget", {"targetId": self.target, "flatten": True})["sessionId"]
        self.call("Runtime.enable")
        self.call("Emulation.setDeviceMetricsOverride", {"width": 1100, "height": 900, "deviceScaleFactor": 1,
                                                         "mobile": False})
        self.call("Page.navigate", {"url": url})

    def call(self, method: str, params: dict | None = None):
        return self.browser.call(method, params, session=self.session)

    def evaluate(self, expression: str):
        reply = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in reply:
            raise AssertionError(reply["exceptionDetails"])
        return reply["result"].get("value")

    def wait(self, expression: str, what: str, timeout: float = 90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(f"(() => {{ try {{ return {expression}; }} catch (e) {{ return null; }} }})()")
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"the page did not show {what} within {timeout} s")

    def shown(self) -> dict:
        return self.evaluate("window.convgifWatch.shown[0]")

    def player(self) -> dict:
        """What the shown player holds: its first theme's atlas (every picture) and its step texts."""
        return self.evaluate("(() => { const d = document.querySelector('iframe.player').contentDocument; "
                             "const json = d.querySelector('script[type=\"application/json\"]');"
                             "const data = JSON.parse(json.textContent); return {atlas: data.themes[0].atlas, texts: data.texts, "
                             "drawn: d.querySelector('.cgp').getAttribute('data-frame') !== null}; })()")

    def errors(self) -> str | None:
        return self.evaluate("(() => { const p = document.querySelector('#scene-0 pre.errors'); "
                             "return p.hidden ? null : p.textContent; })()")

    def close(self) -> None:
        self.browser.call("Target.closeTarget", {"targetId": self.target})


def save(path: Path, text: str) -> None:
    """Save the way editors do: a new file renamed over the old one."""
    part = path.with_name(path.name + ".saving")
    part.write_text(text, encoding="utf-8")
    os.replace(part, path)


def test_save_shows_the_new_picture_an_error_keeps_the_last_good_one_and_a_fix_recovers(tmp_path):
    require("watchfiles", "pip install 'convgif[watch]'")
    browser = Browser(need_chromium(), tmp_path / "profile")
    scene = tmp_path / "scene.toml"
    original = SCENE.read_text(encoding="utf-8")
    shutil.copyfile(SCENE, scene)
    watching = Watching(str(scene), "-o", "out", cwd=tmp_path)
    page = None
    try:
        page = Page(browser, watching.url)
        page.wait("window.convgifWatch.shown[0].player === 1", "the first render's player")
        first = page.player()
        assert first["drawn"] and len(first["texts"]) == 10
        first_picture = watching.fetch("scene/0/first.bmp")
        with Image.open(tmp_path / "out" / "scene.gif") as gif:  # -o: the files `convgif render` writes
            assert gif.n_frames == 10

        # another kernel: new numbers, a new picture (the first frame shows first, then the player)
        changed = original.replace('values = "arange"', 'values = "random"', 1)
        assert changed != original
        save(scene, changed)
        page.wait("window.convgifWatch.shown[0].first === 2", "the new render's first frame")
        page.wait("window.convgifWatch.shown[0].player === 2", "the new render's player")
        second = page.player()
        assert second["atlas"] != first["atlas"] and second["texts"] != first["texts"]
        assert watching.fetch("scene/0/first.bmp") != first_picture
        assert page.errors() is None

        # a broken save: its one-line error on the page and in the terminal, the last good picture stays
        save(scene, changed.replace("kernel_size = 2", "kernel_size = 0", 1))
        line = f"{scene}: op.kernel_size: must be positive, got (0, 0)"
        assert page.wait("document.querySelector('#scene-0 pre.errors').textContent", "the error") == line
        assert watching.state()["errors"] == [line]
        assert page.evaluate("document.querySelector('iframe.player').hidden") is False
        assert page.player()["atlas"] == second["atlas"]
        assert page.shown()["player"] == 2

        # fixed: the error goes, a new picture comes
        save(scene, original)
        page.wait("window.convgifWatch.shown[0].player === 4", "the fixed scene's player")
        assert page.errors() is None
        recovered = page.player()
        assert recovered["atlas"] == first["atlas"]  # the same scene as at first: the same picture
        assert watching.state()["status"] == "ok"
    finally:
        if page is not None:
            page.close()
        browser.close()
        code, err = watching.stop()
    assert code == 0
    assert "Traceback" not in err
    assert err.splitlines() == [line]  # the broken save, once; nothing else


def wait_for(watching: Watching, test, what: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = watching.state()
        if test(state):
            return state
        time.sleep(0.05)
    raise AssertionError(f"no {what} within {timeout} s: {watching.state()}")


def test_saving_the_image_a_scene_uses_draws_it_again(tmp_path):
    require("watchfiles", "pip install 'convgif[watch]'")
    (tmp_path / "images").mkdir()  # in another folder than the scene: watched too
    Image.new("L", (4, 4), 60).save(tmp_path / "images" / "picture.png")
    scene = tmp_path / "scenes" / "scene.toml"
    scene.parent.mkdir()
    scene.write_text('[op]\nkind = "conv2d"\nkernel_size = 3\n[input]\nshape = [1, 4, 4]\n'
                     'image = "../images/picture.png"\n', encoding="utf-8")
    watching = Watching(str(scene), cwd=tmp_path)
    try:
        first = wait_for(watching, lambda s: s["player"] == 1, "first render")
        picture = watching.fetch("scene/0/first.bmp")
        Image.new("L", (4, 4), 200).save(tmp_path / "images" / "picture.png")
        second = wait_for(watching, lambda s: s["player"] == 2, "render after the image was saved")
        assert second["errors"] == [] and first["errors"] == []
        assert watching.fetch("scene/0/first.bmp") != picture
    finally:
        code, err = watching.stop()
    assert code == 0 and err == ""
