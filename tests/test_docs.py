"""docs/extending.md is run as written: its files are saved, its other code blocks executed in order, in a fresh
process (the walk-through registers a view and a format, which must not leak into other tests)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import convgif

DOC = Path(__file__).resolve().parent.parent / "docs" / "extending.md"


def test_the_extending_walk_through_runs(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert len(blocks) >= 6
    program = []
    for block in blocks:
        first, _, rest = block.partition("\n")
        if first.startswith("# file: "):
            (tmp_path / first[len("# file: "):].strip()).write_text(rest, encoding="utf-8")
        else:
            program.append(block)
    done = subprocess.run([sys.executable, "-c", "\n".join(program)], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    plain = convgif.scene_from(op={"kind": "conv2d", "kernel_size": 3},
                               input={"shape": [1, 5, 5], "values": "arange"}, render={"duration_ms": 200})
    assert plain.render().data != (tmp_path / "explained.gif").read_bytes()  # the new view drew its own frames
    script = (tmp_path / "explained.steps.txt").read_text(encoding="utf-8")
    assert script.startswith("step 1 (200 ms)\nstep 1 / 9\n") and "the finished picture" in script
    assert "each output value: the window" not in script  # notes are static, not a step's arithmetic
