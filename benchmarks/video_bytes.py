"""Bytes of each animated format against the GIF, for every animated gallery scene: a Markdown table.

Renders each scene with an `[op]` table, and each still with several pictures, to gif, webp, webm and mp4 in
a temporary folder (one CLI run per scene, `-j` of them at once), then prints per scene the GIF's bytes and
each other format's bytes as a multiple of it, with totals and medians.

    python benchmarks/video_bytes.py [-j 2] [scenes/*.toml ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("gif", "webp", "webm", "mp4")


def render(scene: Path, out_dir: Path) -> tuple[str, dict[str, int] | None, float, str]:
    """(stem, {format: bytes} or None when the scene is not animated, seconds, why not)."""
    out = out_dir / scene.stem
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "convgif", "render", str(scene), "-o", str(out),
                           "--format", ",".join(FORMATS), "-q"], capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        return scene.stem, None, seconds, done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"
    return scene.stem, {fmt: (out / f"{scene.stem}.{fmt}").stat().st_size for fmt in FORMATS}, seconds, ""


def is_candidate(scene: Path) -> bool:
    """An op scene, or a still (whether it has several pictures is known only once it is drawn)."""
    document = tomllib.loads(scene.read_text(encoding="utf-8"))
    return "op" in document or "still" in document


def table(rows: list[tuple[str, dict[str, int]]]) -> str:
    lines = ["| scene | GIF bytes | WebP ×GIF | WebM ×GIF | MP4 ×GIF |", "|---|---:|---:|---:|---:|"]
    for stem, sizes in rows:
        ratios = " | ".join(f"{sizes[fmt] / sizes['gif']:.2f}" for fmt in FORMATS[1:])
        lines.append(f"| {stem} | {sizes['gif']:,} | {ratios} |")
    totals = {fmt: sum(sizes[fmt] for _, sizes in rows) for fmt in FORMATS}
    lines.append(f"| **total ({len(rows)} scenes)** | {totals['gif']:,} | "
                 + " | ".join(f"{totals[fmt] / totals['gif']:.2f}" for fmt in FORMATS[1:]) + " |")
    medians = {fmt: statistics.median(sizes[fmt] / sizes["gif"] for _, sizes in rows) for fmt in FORMATS[1:]}
    lines.append(f"| **median** | {statistics.median(sizes['gif'] for _, sizes in rows):,.0f} | "
                 + " | ".join(f"{medians[fmt]:.2f}" for fmt in FORMATS[1:]) + " |")
    smaller = {fmt: sum(sizes[fmt] < sizes["gif"] for _, sizes in rows) for fmt in FORMATS[1:]}
    lines.append("| smaller than the GIF | | " + " | ".join(f"{smaller[fmt]}/{len(rows)}" for fmt in FORMATS[1:])
                 + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenes", nargs="*", type=Path, help="scene files (default: scenes/*.toml)")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="scenes rendered at once")
    args = parser.parse_args(argv)
    scenes = [p for p in (args.scenes or sorted((ROOT / "scenes").glob("*.toml"))) if is_candidate(p)]
    rows, skipped = [], []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="convgif-video-bytes-") as tmp, \
            ThreadPoolExecutor(max(1, args.jobs)) as pool:
        for done in as_completed([pool.submit(render, scene, Path(tmp)) for scene in scenes]):
            stem, sizes, seconds, why = done.result()
            print(f"{stem}: {seconds:.1f} s " + (f"(skipped: {why})" if sizes is None else json.dumps(sizes)),
                  file=sys.stderr, flush=True)
            (skipped if sizes is None else rows).append((stem, sizes or why))
    rows.sort()
    skipped.sort()
    print(table(rows))
    if skipped:
        print(f"\nNot animated (one picture) or not rendered: {', '.join(stem for stem, _ in skipped)}")
    print(f"\n{len(rows)} scenes in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
