"""Volume view against the flat view, scene by scene: render time and GIF bytes per frame (issue 16's targets:
median time within 1.5× of the flat view's, bytes per frame within 2×).

Usage: python benchmarks/volume_bench.py [--repeat N] [SCENE ...]

Every conv2d and 2D-pool scene of scenes/ (default) is rendered to a GIF twice in this process, once in its own
view and once with `render.view = "volume"`; each time is the fastest of `--repeat` runs (default 3) of the whole
render (trace, frames, encoding). Prints a table, then the median and the worst ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("conv2d", "max_pool2d", "avg_pool2d", "lp_pool2d")


def scene_in(path: Path, view: str | None):
    """The scene of `path` in `view` (None: its family's default, flat view)."""
    from convgif.scene import parse_scene

    document = tomllib.loads(path.read_text(encoding="utf-8"))
    render = document.setdefault("render", {})
    render.pop("view", None)
    if view is not None:
        render["view"] = view
    return parse_scene(document, str(path))


def measure(path: Path, view: str | None, repeat: int) -> tuple[float, int, int]:
    """(fastest seconds, GIF bytes, frames) of rendering `path` in `view` (None: the flat view)."""
    from convgif.pipeline import render_scene

    best = float("inf")
    with tempfile.TemporaryDirectory() as folder:
        for run in range(repeat):
            scene = scene_in(path, view)
            started = time.perf_counter()
            result = render_scene(scene, Path(folder) / f"{path.stem}_{run}")
            best = min(best, time.perf_counter() - started)
        return best, result.bytes, result.frames


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenes", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    paths = args.scenes or [p for p in sorted((ROOT / "scenes").glob("*.toml"))
                            if tomllib.loads(p.read_text(encoding="utf-8")).get("op", {}).get("kind") in KINDS
                            and not p.stem.endswith("_volume")]
    time_ratios, byte_ratios = {}, {}
    print("| scene | frames | flat s | volume s | time × | flat B/frame | volume B/frame | bytes × |")
    print("|---|---|---|---|---|---|---|---|")
    for path in paths:
        flat_s, flat_b, frames = measure(path, None, args.repeat)
        vol_s, vol_b, _ = measure(path, "volume", args.repeat)
        time_ratios[path.stem] = vol_s / flat_s
        byte_ratios[path.stem] = vol_b / flat_b
        print(f"| {path.stem} | {frames} | {flat_s:.2f} | {vol_s:.2f} | {vol_s / flat_s:.2f} | {flat_b / frames:,.0f} "
              f"| {vol_b / frames:,.0f} | {vol_b / flat_b:.2f} |", flush=True)
    for name, ratios in (("time", time_ratios), ("bytes per frame", byte_ratios)):
        worst = max(ratios, key=ratios.get)
        print(f"{name}: median {statistics.median(ratios.values()):.2f}×, worst {ratios[worst]:.2f}× ({worst})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
