"""The long fuzz run: the suite's hostile-input strategies (tests/test_fuzz.py) with many more examples,
counting outcomes. Any traceback, internal error, unkeyed exit 2 or stray file fails the run.

    python benchmarks/fuzz_scenes.py [--bytes N] [--documents N] [--extreme N] [--seed S]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import seed as with_seed
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_fuzz import assert_clean_exit, extreme_scenes, run_cli, scene_documents, toml_dumps  # noqa: E402


def fuzz(name: str, strategy, examples: int, seed: int, run_case) -> Counter:
    outcomes: Counter = Counter()

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(strategy)
    def case(value):
        outcomes[run_case(value)] += 1

    started = time.perf_counter()
    with_seed(seed)(case)()
    print(f"{name}: {sum(outcomes.values())} cases in {time.perf_counter() - started:.1f} s: "
          + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    return outcomes


def check_bytes(data: bytes) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bytes.toml"
        path.write_bytes(data)
        code, _, err = run_cli("check", str(path))
        assert_clean_exit(code, err, path)
        return f"exit {code}"


def check_document(document: dict) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.toml"
        path.write_text(toml_dumps(document), encoding="utf-8")
        code, _, err = run_cli("check", str(path))
        assert_clean_exit(code, err, path)
        return f"exit {code}"


def render_extreme(document: dict) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path, out = Path(folder) / "extreme.toml", Path(folder) / "out"
        path.write_text(toml_dumps(document), encoding="utf-8")
        code, _, err = run_cli("render", str(path), "-o", str(out), "-q")
        assert_clean_exit(code, err, path, keyed=True)
        written = sorted(p.name for p in out.iterdir()) if out.exists() else []
        assert written == ([] if code == 2 else ["extreme.gif"]), written
        if code == 2:
            key = err.split(": ")[1]
            return f"refused ({key})"
        return "rendered"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bytes", type=int, default=5000)
    parser.add_argument("--documents", type=int, default=5000)
    parser.add_argument("--extreme", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    fuzz("random bytes", st.binary(max_size=2000), args.bytes, args.seed, check_bytes)
    fuzz("scene-shaped TOML", scene_documents(), args.documents, args.seed, check_document)
    fuzz("extreme valid scenes, rendered", extreme_scenes(), args.extreme, args.seed, render_extreme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
