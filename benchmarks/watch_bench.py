"""How long from saving a scene file to its new picture on the `convgif watch` page: median of several saves.

Runs `python -m convgif watch` on a temporary copy of each scene, opens its page in headless Chromium (the driver of
tests/browser.py), then saves the file with a new input seed again and again. For each save it reads when the page
showed the new first frame and the new step player (the page records `Date.now()` when each has loaded; the save
time is taken on the same clock just before the file is renamed into place), and the watch process's own figure
(from starting the render to the first frame drawn).

    python benchmarks/watch_bench.py [--saves 7] [SCENE ...]

Default scenes: a gallery-size scene (scenes/a03_input_channels.toml, 101 frames) and the 216-step
benchmarks/scenes/conv2d_3x11x11_k5_s2.toml. Goal (issue 19): the first new frame under 300 ms.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("PYTHONPATH", str(ROOT))

DEFAULT_SCENES = [ROOT / "scenes" / "a03_input_channels.toml",
                  ROOT / "benchmarks" / "scenes" / "conv2d_3x11x11_k5_s2.toml"]


def bench(scene: Path, saves: int, browser) -> dict:
    from test_watch import Page, Watching, save

    with tempfile.TemporaryDirectory(prefix="convgif-watch-bench-") as folder:
        copy = Path(folder) / scene.name
        shutil.copyfile(scene, copy)
        text = copy.read_text(encoding="utf-8")
        assert re.search(r"^seed = \d+", text, re.M), f"{scene}: no `seed = N` line to change"
        watching = Watching(str(copy), cwd=Path(folder))
        page = Page(browser, watching.url)
        try:
            page.wait("window.convgifWatch.shown[0].player === 1", "the first render", timeout=300)
            first, player, inside = [], [], []
            for number in range(saves):
                version = number + 2
                changed = re.sub(r"^seed = \d+", f"seed = {100 + number}", text, count=1, flags=re.M)
                time.sleep(0.5)  # idle between saves, as between an author's edits
                saved_ms = time.time() * 1000
                save(copy, changed)
                page.wait(f"window.convgifWatch.shown[0].first === {version} || "
                          f"window.convgifWatch.shown[0].player === {version}", "the new first frame", timeout=300)
                page.wait(f"window.convgifWatch.shown[0].player === {version}", "the new player", timeout=300)
                shown = page.shown()
                first_at = shown["firstAt"] if shown["first"] == version else shown["playerAt"]
                first.append(first_at - saved_ms)
                player.append(shown["playerAt"] - saved_ms)
                inside.append(watching.state()["first_ms"])
        finally:
            page.close()
            code, err = watching.stop()
            if code != 0 or err.strip():
                print(f"watch exited {code}: {err}", file=sys.stderr)
    return {"first": first, "player": player, "inside": inside}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenes", nargs="*", type=Path, default=DEFAULT_SCENES)
    parser.add_argument("--saves", type=int, default=7)
    args = parser.parse_args()
    from browser import CHROMIUM, Browser

    if CHROMIUM is None:
        print("headless Chromium is needed (apt-get install -y chromium)", file=sys.stderr)
        return 2
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} cores, load average {load:.1f}; median of {args.saves} saves (min-max)")
    print(f"{'scene':40s} {'first frame on page':>22s} {'drawn in process':>20s} {'whole player on page':>22s}")
    with tempfile.TemporaryDirectory(prefix="convgif-watch-profile-") as profile:
        browser = Browser(CHROMIUM, Path(profile))
        try:
            for scene in args.scenes:
                found = bench(scene, args.saves, browser)

                def shown(values: list[float], unit: str = "ms") -> str:
                    return f"{statistics.median(values):.0f} {unit} ({min(values):.0f}-{max(values):.0f})"

                print(f"{scene.name:40s} {shown(found['first']):>22s} {shown(found['inside']):>20s} "
                      f"{shown(found['player']):>22s}", flush=True)
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
