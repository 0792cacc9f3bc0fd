"""Instructions a scene's step frames take to draw, counted by valgrind (the same count run after run, where wall
clock on a shared 2-core VM moves by ±20%): for comparing two versions of the renderer change by change.

    python benchmarks/steady_instructions.py SCENE_OR_DIR... [--src DIR] [--src DIR ...]

Each scene is loaded and its first frame (the static layer, the setup) drawn outside the count; then the rest of its
"steps" frames are drawn from cold caches in the count, as one render in a new process draws them, with the glyph
store as an earlier render of the scene left it (each version has its own store: a plain run first saves it). The
count is bracketed with callgrind's client requests (`CALLGRIND_START_INSTRUMENTATION` ...), through a small shared
library built here with the C compiler: it needs valgrind with its headers and cc. `--src DIR` counts another
checkout's package (put first on PYTHONPATH), e.g. `git worktree add /tmp/old HEAD~3`; without it, the installed
one. Prints millions of instructions per version and scene, and the change against the first version given.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SHIM = r"""
#include <valgrind/callgrind.h>
void start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void stop(void) { CALLGRIND_STOP_INSTRUMENTATION; CALLGRIND_DUMP_STATS_AT("steps"); }
"""

RUN = r"""
import ctypes, os, sys
from convgif.render import glyph_store
from convgif.scene import load_scene
from convgif.sources import frame_source

frames = frame_source(load_scene(sys.argv[1])).frames("steps")
next(frames)  # the static layer and the first step: setup, not counted
counting = os.environ.get("CONVGIF_COUNT_LIBRARY")
if counting:
    shim = ctypes.CDLL(counting)
    shim.start()
for _ in frames:
    pass
if counting:
    shim.stop()
else:
    glyph_store.save()  # as a render does: the counted run reads what this one measured
"""


def build_shim(folder: Path) -> Path:
    source, library = folder / "count.c", folder / "libcount.so"
    source.write_text(SHIM)
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", str(library), str(source)], check=True)
    return library


def count(scene: Path, src: str | None, library: Path, folder: Path) -> float:
    """Millions of instructions drawing `scene`'s step frames after the first, with the package from `src`."""
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    script = folder / "run.py"
    script.write_text(RUN)
    subprocess.run([sys.executable, str(script), str(scene)], env=env, check=True, cwd=folder)  # saves the store
    out = folder / "callgrind.out"
    env["CONVGIF_COUNT_LIBRARY"] = str(library)
    subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}.%p",
                    sys.executable, str(script), str(scene)], env=env, check=True, cwd=folder, capture_output=True)
    total = 0
    for dump in folder.glob("callgrind.out.*"):
        total += sum(int(line.split()[1]) for line in dump.read_text().splitlines() if line.startswith("totals:"))
        dump.unlink()
    return total / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--src", action="append", default=[], help="a checkout whose package to count (repeatable)")
    args = parser.parse_args()
    scenes = [p for path in map(Path, args.paths) for p in (sorted(path.glob("*.toml")) if path.is_dir() else [path])]
    versions = args.src or [None]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        library = build_shim(folder)
        print(f"{'scene':32s} " + "  ".join(f"{(v or 'installed')[-20:]:>20s}" for v in versions))
        for scene in scenes:
            counts = [count(scene.resolve(), src, library, folder) for src in versions]
            change = "" if len(counts) == 1 else f"  {100 * (counts[-1] - counts[0]) / counts[0]:+.1f}%"
            print(f"{scene.stem[:32]:32s} " + "  ".join(f"{c:19.1f}M" for c in counts) + change, flush=True)


if __name__ == "__main__":
    main()
