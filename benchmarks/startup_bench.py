"""Start-up: a 9-step scene rendered to GIF from the command line, whole process, median of several runs.

    python benchmarks/startup_bench.py [--runs 9] [--scene scenes/b01_arange_one_kernel.toml] [--src DIR]

Times `python -m convgif render SCENE -o TMP --force` and the `convgif` console script (when it is installed and
imports the same package), each run a new process; `--force` so every run draws the scene (a render into a folder
that already holds it up to date draws nothing: that no-op is timed too). `--src DIR` puts another checkout first
on PYTHONPATH (e.g. an older commit, for a before/after). Also times the floors (`python -c pass`, and importing
NumPy and Pillow) and prints, from one `python -X importtime` run, the slowest imports. Goal (issue 19): under 0.4 s.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(command: list[str], env: dict, runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock seconds and CPU seconds (user + system, of the process) of each run. On a shared, busy machine
    the wall clock also counts waiting for a core; the CPU time is what the process itself spent."""
    seconds, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        # from a neutral folder: `python -m` puts the working folder first on sys.path
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, cwd=tempfile.gettempdir())
        seconds.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return seconds, cpu


def shown(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} s (min {min(values):.3f}, max {max(values):.3f})"


def slowest_imports(command: list[str], env: dict, count: int = 12) -> list[tuple[int, str]]:
    """(cumulative µs, module) of the top-level imports (those at the outermost level of the tree) that took longest."""
    done = subprocess.run([sys.executable, "-X", "importtime", *command[1:]], env=env, capture_output=True,
                          text=True, check=True, cwd=tempfile.gettempdir())
    found = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)", line)
        if match and len(match.group(2)) <= 2:  # imported by the program (or lazily at run time), not by a module
            found.append((int(match.group(1)), match.group(3)))
    return sorted(found, reverse=True)[:count]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--scene", type=Path, default=ROOT / "scenes" / "b01_arange_one_kernel.toml")
    parser.add_argument("--src", type=Path, default=ROOT, help="the checkout whose convgif is timed")
    args = parser.parse_args()
    # as an installed package starts: its modules' bytecode cached (a sandbox may set PYTHONDONTWRITEBYTECODE, and
    # then every run compiled every convgif module from source again: ~0.15 s of each start)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(args.src.resolve())
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(args.src.resolve() / "convgif")], env=env,
                   check=True, stdout=subprocess.DEVNULL)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{args.src}: {args.scene.name}, median of {args.runs} runs; {os.cpu_count()} cores, load {load:.1f}")
    with tempfile.TemporaryDirectory(prefix="convgif-startup-") as out:
        module = [sys.executable, "-m", "convgif", "render", str(args.scene), "-o", out, "-q", "--force"]
        # the script pip installed beside this Python (a pyenv shim found first on PATH is a bash script that adds
        # ~0.1-0.2 s of its own before Python starts)
        beside = Path(sys.executable).with_name("convgif")
        script = str(beside) if beside.is_file() else shutil.which("convgif")
        commands = {"python -m convgif render": module}
        if script:
            check = subprocess.run([sys.executable, "-c", "import convgif; print(convgif.__file__)"], env=env,
                                   capture_output=True, text=True, cwd=tempfile.gettempdir()).stdout
            if str(args.src.resolve()) in check:
                commands["convgif render (console script)"] = [script, *module[3:]]
        probe = subprocess.run(module[:-1] + ["--help"], env=env, capture_output=True, text=True,
                               cwd=tempfile.gettempdir()).stdout
        if "--force" not in probe:  # a checkout before incremental builds: every run draws anyway
            commands = {name: [part for part in command if part != "--force"] for name, command in commands.items()}
        print(f"  {'':34s} {'wall clock':30s} CPU (user + system)")
        if "--force" in probe:
            commands["python -m convgif render (no-op)"] = [part for part in module if part != "--force"]
        for name, command in commands.items():
            seconds, cpu = timed(command, env, args.runs)
            print(f"  {name:34s} {shown(seconds):30s} {shown(cpu)}", flush=True)
        floors = {"python -c pass (the floor)": [sys.executable, "-c", "pass"],
                  "python -c 'import numpy, PIL.Image'": [sys.executable, "-c", "import numpy, PIL.Image"]}
        for name, command in floors.items():
            seconds, cpu = timed(command, env, args.runs)
            print(f"  {name:34s} {shown(seconds):30s} {shown(cpu)}", flush=True)
        print("  slowest imports (cumulative ms, one run):")
        for micros, name in slowest_imports(commands["python -m convgif render"], env):
            print(f"    {micros / 1000:7.1f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
