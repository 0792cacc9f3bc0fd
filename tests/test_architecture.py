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
    "scene": {"convgif.errors", "convgif.engine", "convgif.ops", "convgif.formats"},
    "render": {"convgif.errors", "convgif.engine", "convgif.cache_folder"},  # cache_folder: stdlib only
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


@pytest.mark.parametrize("layer", sorted(ALLOWED) + ["formats"])
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


def test_gif_path_does_not_import_matplotlib(tmp_path):
    """A GIF render never imports matplotlib (its import alone is half the 1 s start-up budget)."""
    import subprocess

    code = (
        "import sys\n"
        "from convgif.cli import main\n"
        f"main(['render', 'scenes/b01_arange_one_kernel.toml', '-o', {str(tmp_path)!r}, '-q'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=PACKAGE.parent)
    assert done.stdout.strip().splitlines()[-1] == "[]"
