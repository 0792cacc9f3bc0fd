"""Imports flow one way: cli -> pipeline -> (scene, render, encode) -> (ops, formats) -> engine -> errors; torch
never at run time; no import cycles inside a layer."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "convgif"

# what each layer may import from convgif (besides itself)
ALLOWED = {
    "engine": {"convgif.errors", "convgif.lazy_names"},  # lazy_names: stdlib only, the package's lazy imports
    "ops": {"convgif.errors", "convgif.engine"},  # the op-family records (layouts named as text, not imported)
    # suggest: stdlib only, the one "did you mean" hint
    "scene": {"convgif.errors", "convgif.engine", "convgif.ops", "convgif.formats", "convgif.suggest",
              "convgif.lazy_names"},
    "render": {"convgif.errors", "convgif.engine", "convgif.cache_folder", "convgif.suggest"},  # cache_folder: stdlib only
    "formats": {"convgif.errors", "convgif.suggest"},
    "encode": {"convgif.errors", "convgif.lazy_names"},
}
STDLIB = set(sys.stdlib_module_names)


def runtime_imports(path: Path, *, type_checking: bool = False) -> list[str]:
    """Modules imported by a file, except under `if TYPE_CHECKING:` (annotations only) unless `type_checking`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if not type_checking and isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(child) for child in ast.walk(node)}
    names = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def files(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.mark.parametrize("layer", ["scene", "render", "encode", "engine", "ops"])
def test_no_import_cycles_inside_a_layer(layer):
    """Not even under TYPE_CHECKING: a cycle there still means two modules that cannot be read apart."""
    modules = {module_name(path): path for path in files(layer)}
    graph = {name: {imported for imported in runtime_imports(path, type_checking=True) if imported in modules
                    and imported != name and not name.startswith(imported + ".")}
             for name, path in modules.items()}
    cycles = []

    def visit(name: str, trail: list[str]) -> None:
        for nxt in sorted(graph[name]):
            if nxt in trail:
                cycles.append(" -> ".join(trail[trail.index(nxt):] + [nxt]))
            elif len(trail) < len(modules):
                visit(nxt, trail + [nxt])

    for start in sorted(graph):
        visit(start, [start])
    assert not cycles, sorted(set(cycles))[:5]


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_what_it_may(layer):
    wrong = []
    for path in files(layer) if layer != "formats" else [PACKAGE / "formats.py"]:
        if path.parent.name == "fonts":  # the font-subsetting tool script, not part of the package's code
            continue
        for name in runtime_imports(path):
            if name.startswith("convgif.") and not name.startswith(f"convgif.{layer}"):
                if not any(name == ok or name.startswith(ok + ".") for ok in ALLOWED.get(layer, {"convgif.errors"})):
                    wrong.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert not wrong, wrong


def test_engine_is_pure_numpy():
    wrong = []
    for path in files("engine"):
        for name in runtime_imports(path):
            top = name.split(".")[0]
            if top not in STDLIB and top not in ("numpy", "convgif"):
                wrong.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert not wrong, wrong


def test_nothing_imports_torch():
    wrong = [f"{path.relative_to(PACKAGE)} imports {name}" for path in sorted(PACKAGE.rglob("*.py"))
             for name in runtime_imports(path) if name.split(".")[0] == "torch"]
    assert not wrong, wrong


# what a GIF render has no use for, with what importing it would cost every start
NOT_ON_THE_GIF_PATH = {
    "matplotlib": "half the start-up budget on its own",
    "difflib": "only a misspelt name's 'did you mean' needs it (convgif.suggest)",
    "convgif.scene.schema": "the JSON Schema, built by pydantic's TypeAdapter: `convgif schema` only",
    "pydantic.type_adapter": "the same",
}


def _render_in_a_new_process(out: Path, env: dict | None = None, after: str = "") -> list[str]:
    import subprocess

    code = (
        "import sys\n"
        "from convgif.cli import main\n"
        f"main(['render', 'scenes/b01_arange_one_kernel.toml', '-o', {str(out)!r}, '-q', '--force'])\n"
        + after
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=PACKAGE.parent, env=env)
    return done.stdout.strip().splitlines()


def test_gif_path_imports_nothing_it_does_not_use(tmp_path):
    """A GIF render never imports matplotlib, difflib or the JSON Schema's builder (start-up: issue 19)."""
    lines = _render_in_a_new_process(tmp_path, after=(
        f"names = {sorted(NOT_ON_THE_GIF_PATH)!r}\n"
        "print(sorted(m for m in sys.modules if any(m == n or m.startswith(n + '.') for n in names)))\n"))
    assert lines[-1] == "[]"


def test_the_command_line_runs_one_blas_thread_and_no_pydantic_plugins(tmp_path):
    """`convgif` sets these before NumPy and pydantic load; a value the user set is kept."""
    import os

    from convgif.cli import PROCESS_SETTINGS

    show = "import os\nprint({name: os.environ.get(name) for name in %r})\n" % sorted(PROCESS_SETTINGS)
    bare = {k: v for k, v in os.environ.items() if k not in PROCESS_SETTINGS}
    assert eval(_render_in_a_new_process(tmp_path, env=bare, after=show)[-1]) == PROCESS_SETTINGS
    chosen = eval(_render_in_a_new_process(tmp_path, env={**bare, "OPENBLAS_NUM_THREADS": "2"}, after=show)[-1])
    assert chosen == {**PROCESS_SETTINGS, "OPENBLAS_NUM_THREADS": "2"}
