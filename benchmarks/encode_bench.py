"""Encoder benchmark: convgif's streaming GIF writer against Pillow's save(append_images=...).

Synthetic 720x450 frames that look like ours: flat background, a grid of ~250 cells in 8 colours,
small anti-aliased DejaVuSans text, and one small region (a highlighted window and an output value)
changing per frame. Each writer runs in its own subprocess so peak memory (max RSS) is its own.

    python benchmarks/encode_bench.py [--frames 60]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 720, 450
BACKGROUND = (250, 250, 247)
TEXT = (34, 34, 40)
HIGHLIGHT = (230, 85, 13)
CELL_COLORS = [
    (222, 235, 247), (198, 219, 239), (158, 202, 225), (253, 208, 162),
    (199, 233, 192), (161, 217, 155), (218, 218, 235), (240, 240, 240),
]
GRID_LINE = (120, 120, 130)
RAMP_STEPS = 14  # anti-aliasing ramp between the text colour and each surface colour


def font_path() -> str:
    import matplotlib  # only to find its bundled DejaVuSans; the encoder never imports it

    return str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")


def theme_colors() -> list[tuple[int, int, int]]:
    """The palette a renderer would hand over: theme colours plus text anti-aliasing ramps."""
    surfaces = [BACKGROUND, *CELL_COLORS]
    colors = [*surfaces, TEXT, HIGHLIGHT, GRID_LINE]
    for surface in surfaces + [HIGHLIGHT]:
        for step in range(1, RAMP_STEPS + 1):
            t = step / (RAMP_STEPS + 1)
            colors.append(tuple(round(s * (1 - t) + c * t) for s, c in zip(surface, TEXT)))
    return list(dict.fromkeys(colors))


class FrameMaker:
    """Frame `step` is a pure function of the step: base picture plus one changing window."""

    def __init__(self, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.font = ImageFont.truetype(font_path(), 11)
        image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
        draw = ImageDraw.Draw(image)
        self.cells = []  # (x0, y0) of each input cell
        cell = 22
        for grid, (left, top, rows, cols) in enumerate([(30, 60, 12, 12), (360, 60, 5, 5), (480, 60, 10, 10)]):
            for r in range(rows):
                for c in range(cols):
                    x0, y0 = left + c * cell, top + r * cell
                    color = CELL_COLORS[(grid * 3 + int(rng.integers(0, 3))) % len(CELL_COLORS)]
                    draw.rectangle([x0, y0, x0 + cell - 1, y0 + cell - 1], fill=color, outline=GRID_LINE)
                    draw.text((x0 + 4, y0 + 5), str(int(rng.integers(-9, 10))), fill=TEXT, font=self.font)
                    if grid == 0:
                        self.cells.append((x0, y0))
        draw.text((30, 20), "input 1×12×12      kernel 1×5×5      output 1×10×10", fill=TEXT, font=self.font)
        draw.text((30, 400), "3×1 + 0×2 + 1×(−1) + … + b(0.5) = 7.5", fill=TEXT, font=self.font)
        self.base = np.asarray(image).copy()

    def frame(self, step: int) -> np.ndarray:
        row, col = divmod(step % 64, 8)
        image = Image.fromarray(self.base.copy())
        draw = ImageDraw.Draw(image)
        x0, y0 = 30 + col * 22, 60 + row * 22
        draw.rectangle([x0, y0, x0 + 5 * 22, y0 + 5 * 22], outline=HIGHLIGHT, width=2)
        ox, oy = 480 + col * 22, 60 + row * 22
        draw.rectangle([ox, oy, ox + 21, oy + 21], fill=HIGHLIGHT)
        draw.text((ox + 3, oy + 5), f"{step % 10}.5", fill=TEXT, font=self.font)
        draw.text((30, 420), f"step {step + 1} / 100", fill=TEXT, font=self.font)
        return np.asarray(image)


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def run_ours(frame_count: int, out: Path) -> dict:
    from convgif.encode import GifWriter, Palette

    maker = FrameMaker()
    colors = theme_colors()
    started = time.perf_counter()
    palette = Palette(colors)
    palette_build_ms = (time.perf_counter() - started) * 1e3
    first_frame = maker.frame(0)
    first_index_started = time.perf_counter()
    first = palette.index(first_frame)  # resolves this scene's off-palette anti-aliasing colours once
    first_index_ms = (time.perf_counter() - first_index_started) * 1e3
    off_palette = int((palette.colors[first] != first_frame).any(axis=2).sum())
    # streaming memory first, in a fresh process: frames made on the fly, as the pipeline does
    baseline = max_rss_mb()
    with GifWriter(out.with_name("stream.gif"), palette) as writer:
        for step in range(frame_count):
            writer.write(maker.frame(step), 200)
    streaming_growth = max_rss_mb() - baseline
    # timing on prepared frames, so drawing them is not counted
    frames = [maker.frame(step) for step in range(frame_count)]
    index_ms = []
    for frame in frames:
        started = time.perf_counter()
        palette.index(frame)
        index_ms.append((time.perf_counter() - started) * 1e3)
    started = time.perf_counter()
    with GifWriter(out, palette) as writer:
        for step, frame in enumerate(frames):
            writer.write(frame, 400 if step == frame_count - 1 else 200)
    encode_ms = (time.perf_counter() - started) * 1e3 / frame_count
    return {
        "colors": len(colors),
        "palette_build_ms": palette_build_ms,
        "first_index_ms": first_index_ms,
        "off_palette_pixels_first_frame": off_palette,
        "index_ms_median": statistics.median(index_ms),
        "encode_ms_per_frame": encode_ms,
        "bytes": out.stat().st_size,
        "gif_frames": writer.frames_written,
        "streaming_rss_growth_mb": streaming_growth,
        "max_rss_mb": max_rss_mb(),
    }


def run_pillow(frame_count: int, out: Path) -> dict:
    maker = FrameMaker()
    frames = [maker.frame(step) for step in range(frame_count)]
    baseline = max_rss_mb()
    started = time.perf_counter()
    images = [Image.fromarray(frame) for frame in frames]
    durations = [200] * (frame_count - 1) + [400]
    images[0].save(out, save_all=True, append_images=images[1:], duration=durations, loop=0)
    encode_ms = (time.perf_counter() - started) * 1e3 / frame_count
    exact = []
    with Image.open(out) as decoded:
        for number in range(decoded.n_frames):
            decoded.seek(number)
            exact.append(float((np.asarray(decoded.convert("RGB")) == frames[number]).all(axis=2).mean()))
        decoded_frames = decoded.n_frames
    return {
        "encode_ms_per_frame": encode_ms,
        "bytes": out.stat().st_size,
        "gif_frames": decoded_frames,
        "exact_pixel_fraction_min": min(exact),
        "rss_growth_mb": max_rss_mb() - baseline,
        "max_rss_mb": max_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--mode", choices=["ours", "pillow"], help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        run = run_ours if args.mode == "ours" else run_pillow
        print(json.dumps(run(args.frames, Path(args.out))))
        return
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("ours", "pillow"):
            command = [sys.executable, __file__, "--mode", mode, "--frames", str(args.frames),
                       "--out", os.path.join(tmp, f"{mode}.gif")]
            results[mode] = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    ours, pillow = results["ours"], results["pillow"]
    n = args.frames
    print(f"{n} frames of {WIDTH}x{HEIGHT}, palette of {ours['colors']} colours "
          f"(built in {ours['palette_build_ms']:.1f} ms)")
    print(f"palette index: {ours['index_ms_median']:.2f} ms/frame (median); first frame "
          f"{ours['first_index_ms']:.1f} ms incl. resolving {ours['off_palette_pixels_first_frame']} "
          f"off-palette anti-aliasing pixels")
    print(f"convgif GifWriter: {ours['encode_ms_per_frame']:.2f} ms/frame (index + diff + LZW + write), "
          f"{ours['bytes']} bytes = {ours['bytes'] / n:.0f} bytes/frame, {ours['gif_frames']} GIF frames, "
          f"RSS growth while streaming {ours['streaming_rss_growth_mb']:.1f} MB, max RSS {ours['max_rss_mb']:.0f} MB")
    print(f"Pillow save(append_images): {pillow['encode_ms_per_frame']:.2f} ms/frame, {pillow['bytes']} bytes = "
          f"{pillow['bytes'] / n:.0f} bytes/frame, {pillow['gif_frames']} GIF frames, RSS growth "
          f"{pillow['rss_growth_mb']:.1f} MB (frames held as a list), max RSS {pillow['max_rss_mb']:.0f} MB, "
          f"exact pixels in worst frame {pillow['exact_pixel_fraction_min']:.1%}")


if __name__ == "__main__":
    main()
