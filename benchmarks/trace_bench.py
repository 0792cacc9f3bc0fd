"""Trace throughput and memory: steps/s and peak RSS after 1k, 10k and 100k steps of a large conv2d.

Peak RSS should stay flat after the trace is built: steps are made one at a time and dropped.
Run: python benchmarks/trace_bench.py [--steps 100000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np

from convgif.engine.trace import conv_trace
from convgif.engine.trace_pool import pool_trace
from convgif.engine.trace_transpose import scatter_trace, zero_insertion_trace


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def first_steps(rng: np.random.Generator) -> None:
    """Time to the first step of the other trace kinds on large inputs (each should be well under a second)."""
    x = rng.standard_normal((2, 16, 256, 256))
    start = time.perf_counter()
    next(pool_trace("max_pool2d", x, 3, 2, 1).steps())
    print(f"max_pool2d (2, 16, 256, 256): first step in {time.perf_counter() - start:.3f} s")
    x, w = rng.standard_normal((1, 8, 96, 96)), rng.standard_normal((8, 4, 3, 3))
    for name, make in (("scatter", scatter_trace), ("zero insertion", zero_insertion_trace)):
        start = time.perf_counter()
        next(make(x, w, stride=2, padding=1, output_padding=1).steps())
        print(f"conv_transpose2d {name} (1, 8, 96, 96): first step in {time.perf_counter() - start:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    x = rng.standard_normal((64, 224, 224))
    w = rng.standard_normal((64, 64, 3, 3))
    print(f"input {x.shape}, weight {w.shape}, padding 1; peak RSS before the trace: {peak_rss_mib():.0f} MiB")

    start = time.perf_counter()
    trace = conv_trace(x, w, rng.standard_normal(64), padding=1)
    first = next(iter(trace))
    print(f"trace of {len(trace):,} steps built and first step out in {time.perf_counter() - start:.3f} s; "
          f"peak RSS {peak_rss_mib():.0f} MiB")
    first_steps(rng)
    del first

    checkpoints = [n for n in (1_000, 10_000, 100_000) if n <= args.steps] or [args.steps]
    start = last_time = time.perf_counter()
    last_count = 0
    print(f"{'steps':>8} {'steps/s (all)':>14} {'steps/s (since last)':>21} {'peak RSS MiB':>13}")
    for count, step in enumerate(trace.steps(), start=1):
        if count in checkpoints:
            now = time.perf_counter()
            print(f"{count:>8,} {count / (now - start):>14,.0f} {(count - last_count) / (now - last_time):>21,.0f} "
                  f"{peak_rss_mib():>13.0f}")
            last_time, last_count = now, count
            if count == checkpoints[-1]:
                break


if __name__ == "__main__":
    main()
