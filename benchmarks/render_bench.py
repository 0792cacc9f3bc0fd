"""Render benchmark: per scene, frames/s split into draw and encode, GIF bytes, peak RSS, and baselines.

Usage: python benchmarks/render_bench.py [SCENE_OR_DIR ...] [--redraw-frames N] [--repeat N] [--clock wall|cpu]
                                        [--jobs-compare] [--empty-glyph-store]

Each scene runs in its own subprocess so its peak RSS is its own. Op scenes and chain scenes (`[[ops]]`) alike
are drawn by the frame source `convgif render` uses (`convgif.sources.frame_source`), every frame of the GIF
("steps": an op scene's steps and hold frame; a chain's stage steps, transitions, stage pictures and hold frame),
with the scene's own palette; the first frame (the static layer) counts as setup, the rest as steady state. For
every scene the same run also measures an encode-only baseline (the same frames, up to the first 200, drawn again,
kept, and encoded alone with the same palette) and a full matplotlib redraw baseline (`reference_frame`, on the
first N frames); both are printed as ratios ("xenc": render time ÷ encode-only time, per frame).
Draw, encode and encode-only times are each the fastest of `--repeat` runs (default 3), the render's and the
encode-only runs taken turn about, every run from cold caches (as one render in a new process: the glyph store,
`convgif.render.glyph_store`, read again from its file, which the first run saves to as a render does;
`--empty-glyph-store`: without it, as a machine's first render); bytes and peak RSS come from the first run. The summary gives the median and the worst scene; a still scene's time is the median of
`--repeat` drawings after its first (which also imports matplotlib). `python benchmarks/render_bench.py
benchmarks/scenes` measures the larger scenes kept out of the gallery.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASELINE_FRAME_CAP = 200  # frames kept in memory for the encode-only baseline (the render itself streams)


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def cold_caches() -> None:
    """Empty every `functools` cache of the renderer's modules (kept glyph masks, measured widths and pieces,
    shapes): a run then pays what one render in a new process pays, whichever of them a version of the code keeps."""
    for name, module in list(sys.modules.items()):
        if name.startswith("convgif.render"):
            for value in vars(module).values():
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


def no_glyph_store() -> None:
    """Render without the glyph store (as a machine's first render: every glyph measured by Pillow); nothing for a
    version of the code without one."""
    try:
        from convgif.render import glyph_store
    except ImportError:
        return
    glyph_store.store_path = lambda: None


def save_glyphs() -> None:
    """Write the glyphs a run measured to the glyph store (`pipeline.render_scene` does after each render); nothing
    for a version of the code without one."""
    try:
        from convgif.render import glyph_store
    except ImportError:
        return
    glyph_store.save()


def measure_scene(path: str, redraw_frames: int, repeat: int = 3, clock: str = "wall", *,
                  save_glyph_store: bool = True) -> dict:
    from convgif.encode import GifWriter, Palette
    from convgif.sources import frame_source
    from convgif.scene import load_scene

    now = CLOCKS[clock]
    started = now()
    scene = load_scene(path)
    if scene.scene_type == "still":  # a matplotlib figure or a few, no step frames to stream
        from convgif.pipeline import still_frames

        times = []
        for _ in range(repeat + 1):  # the first run also pays matplotlib's import and font set-up: kept apart
            t0 = now()
            frames = still_frames(scene)
            times.append((now() - t0) * 1000)
        return {"scene": Path(path).stem, "still": True, "frames": len(frames), "first_ms": times[0],
                "ms": statistics.median(times[1:])}
    source = frame_source(scene)  # what `convgif render` draws: an op scene's view, or a chain's stages and header
    palette = source.palette()
    draw_s = encode_s = encode_only_s = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "scene.gif"

        def render_run() -> tuple[float, float, int]:
            """One render as `convgif render` streams it: (drawing s, encoding s, frames), the first frame (the
            one-time static layer) counted as setup."""
            nonlocal setup_s, size
            cold_caches()  # each run measures and draws from cold caches, as one real render does
            with GifWriter(out, palette) as writer:
                frames = source.frames("steps")
                drawing = encoding = 0.0
                count = 0
                while True:
                    t0 = now()
                    frame = next(frames, None)
                    t1 = now()
                    if frame is None:
                        break
                    writer.write(frame.pixels, frame.duration_ms)
                    t2 = now()
                    count += 1
                    if count == 1:
                        if setup_s is None:
                            setup_s, size = t1 - started, frame.pixels.shape[1::-1]
                    else:
                        drawing += t1 - t0
                        encoding += t2 - t1
            return drawing, encoding, count

        def encode_only_run() -> float:
            t0 = now()
            with GifWriter(Path(tmp) / "baseline.gif", palette) as writer:
                for pixels, duration_ms in kept:
                    writer.write(pixels, duration_ms)
            return now() - t0

        setup_s = size = None
        draw_s, encode_s, count = render_run()
        if save_glyph_store:  # as a render does: the next runs read the glyph store as a later render's would
            save_glyphs()
        gif_bytes = out.stat().st_size
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before frames are kept
        steady = max(count - 1, 1)
        # encode-only baseline on the same frames (drawn again and kept, so only encoding is timed), its runs
        # taken turn about with the render's: the VM's slow spells then weigh on both sides of the ratio alike
        kept = [(frame.pixels, frame.duration_ms) for frame in itertools.islice(source.frames("steps"),
                                                                                BASELINE_FRAME_CAP)]
        encode_only_s = encode_only_run()
        for _ in range(repeat - 1):  # the fastest of `repeat` runs each: a 2-core VM's noise only ever adds time
            drawing, encoding, _ = render_run()
            draw_s, encode_s = min(draw_s, drawing), min(encode_s, encoding)
            encode_only_s = min(encode_only_s, encode_only_run())
        encode_only_ms = encode_only_s * 1000 / max(len(kept), 1)
    redraw = range(min(redraw_frames, count))
    t0 = now()
    for number in redraw:
        reference_frame(source, number)
    redraw_ms = (now() - t0) * 1000 / max(len(redraw), 1)
    draw_ms = draw_s * 1000 / steady
    encode_ms = encode_s * 1000 / steady
    frames_written = count
    return {
        "scene": Path(path).stem,
        "size": "x".join(map(str, size)),
        "frames": frames_written,
        "setup_ms": setup_s * 1000,
        "draw_ms": draw_ms,
        "encode_ms": encode_ms,
        "fps": 1000 / (draw_ms + encode_ms) if draw_ms + encode_ms else float("inf"),
        "gif_bytes": gif_bytes,
        "bytes_per_frame": gif_bytes / frames_written,
        "peak_rss_mb": peak_rss_mb,
        "encode_only_ms": encode_only_ms,
        "vs_encode": (draw_ms + encode_ms) / encode_only_ms if encode_only_ms else float("nan"),
        "redraw_ms": redraw_ms,
        "redraw_speedup": redraw_ms / (draw_ms + encode_ms) if draw_ms + encode_ms else float("nan"),
    }


def reference_frame(source, number: int):
    """Frame `number` of the "steps" selection by a full matplotlib redraw of everything it shows."""
    if source.scene.scene_type == "chain":
        from convgif.render.paint import mpl_render

        theme = source.theme
        return mpl_render(source.size, theme.background, source.primitives(number), crisp_text=theme.crisp_text)
    return source.view.reference_frame(source.steps[number])


def scene_files(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        p = Path(raw)
        files.extend(sorted(p.glob("*.toml")) if p.is_dir() else [p])
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", default=["scenes"])
    parser.add_argument("--redraw-frames", type=int, default=3, help="steps timed with the full-redraw baseline")
    parser.add_argument("--repeat", type=int, default=3, help="runs per scene; times are the fastest run's")
    parser.add_argument("--jobs-compare", action="store_true", help="also time `convgif render -j 1` vs `-j 2`")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall: elapsed time; cpu: this process's CPU time (steadier when other jobs share the cores)")
    parser.add_argument("--json", help="also write every scene's row to this JSON file")
    parser.add_argument("--empty-glyph-store", action="store_true",
                        help="every run without the glyph store (a machine's first render); by default the store is "
                             "the user's, as after earlier renders")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure one scene, print JSON
    args = parser.parse_args()
    if args.one:
        if args.empty_glyph_store:
            no_glyph_store()
        print(json.dumps(measure_scene(args.one, args.redraw_frames, args.repeat, args.clock,
                                       save_glyph_store=not args.empty_glyph_store)))
        return
    rows, stills = [], []
    header = (f"{'scene':28} {'size':>9} {'frames':>6} {'fps':>7} {'draw ms':>7} {'enc ms':>6} "
              f"{'xenc':>5} {'redraw ms':>9} {'xfaster':>7} {'KiB':>7} {'B/frame':>7} {'RSS MB':>6}")
    print(header)
    for path in scene_files(args.paths):
        done = subprocess.run([sys.executable, __file__, "--one", str(path), "--redraw-frames",
                               str(args.redraw_frames), "--repeat", str(args.repeat), "--clock", args.clock,
                               *(["--empty-glyph-store"] if args.empty_glyph_store else [])],
                              capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{path.stem:28} failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        row = json.loads(done.stdout)
        if row.get("still"):
            stills.append(row)
            print(f"{row['scene'][:28]:28} still: {row['frames']} picture(s) in {row['ms']:.0f} ms "
                  f"(median of {args.repeat}; the process's first drawing {row['first_ms']:.0f} ms)")
            continue
        rows.append(row)
        print(f"{row['scene'][:28]:28} {row['size']:>9} {row['frames']:>6} {row['fps']:>7.0f} "
              f"{row['draw_ms']:>7.2f} {row['encode_ms']:>6.2f} {row['vs_encode']:>5.2f} "
              f"{row['redraw_ms']:>9.0f} {row['redraw_speedup']:>7.0f} {row['gif_bytes'] / 1024:>7.1f} "
              f"{row['bytes_per_frame']:>7.0f} {row['peak_rss_mb']:>6.0f}")
    if rows:
        print(f"\nmedian: {statistics.median(r['fps'] for r in rows):.0f} frames/s, "
              f"{statistics.median(r['vs_encode'] for r in rows):.2f}x encode-only cost, "
              f"{statistics.median(r['redraw_speedup'] for r in rows):.0f}x faster than full redraw, "
              f"{statistics.median(r['bytes_per_frame'] for r in rows):.0f} bytes/frame, "
              f"max peak RSS {max(r['peak_rss_mb'] for r in rows):.0f} MB")
        worst = max(rows, key=lambda r: r["vs_encode"])
        print(f"worst: {worst['scene']} at {worst['vs_encode']:.2f}x encode-only cost ({worst['fps']:.0f} frames/s); "
              f"{sum(r['vs_encode'] > 2 for r in rows)} of {len(rows)} scenes above 2x")
    if stills:
        slowest = max(stills, key=lambda r: r["ms"])
        print(f"stills: median {statistics.median(r['ms'] for r in stills):.0f} ms, slowest {slowest['scene']} "
              f"{slowest['ms']:.0f} ms; {sum(r['ms'] > 150 for r in stills)} of {len(stills)} above 150 ms")
    if args.json:
        Path(args.json).write_text(json.dumps(rows + stills, indent=1))
    if args.jobs_compare:
        times = {}
        for jobs in (1, 2):
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                subprocess.run([sys.executable, "-m", "convgif", "render", *args.paths, "-o", tmp, "-q",
                                "-j", str(jobs)], check=True)
                times[jobs] = time.perf_counter() - t0
        print(f"render -j 1: {times[1]:.2f} s, -j 2: {times[2]:.2f} s, speed-up {times[1] / times[2]:.2f}x")


if __name__ == "__main__":
    main()
