"""Incremental builds: `convgif render` and `convgif gallery` reuse outputs the output folder's manifest holds up to
date, and draw again exactly what changed: the scene, an option, an output file, or the package itself."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from convgif.build_cache import MANIFEST_NAME, tree_digest
from convgif.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent

SMALL = """
[op]
kind = "conv2d"
kernel_size = 3
[input]
shape = [1, 4, 4]
values = "{values}"
[render]
duration_ms = 20
hold_ms = 20
"""


def scenes(folder: Path, *names: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / f"{name}.toml").write_text(SMALL.format(values="arange"), encoding="utf-8")
    return folder


def times(out: Path) -> dict[str, int]:
    """Every output file's modification time (the manifest left out)."""
    return {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != MANIFEST_NAME}


def render(capsys, *args: str) -> list[str]:
    assert main(["render", *args]) == 0
    return capsys.readouterr().out.splitlines()


def test_a_second_render_draws_nothing_and_touches_no_file(tmp_path, capsys):
    folder, out = scenes(tmp_path / "s", "a", "b"), tmp_path / "out"
    first = render(capsys, str(folder), "-o", str(out), "-j", "1")
    assert first[-1].startswith("rendered 2 of 2 scene(s)")
    before = times(out)
    again = render(capsys, str(folder), "-o", str(out), "-j", "1")
    assert again == [f"{out / 'a.gif'}  up to date", f"{out / 'b.gif'}  up to date",
                     "rendered 0 of 2 scene(s): 0 frames, 0.0 KiB; 2 up to date (not drawn again; --force draws them)"]
    assert times(out) == before
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert sorted(manifest["outputs"]) == ["a|gif", "b|gif"]
    # in parallel workers too: their records come back to the one process that writes the manifest
    parallel = render(capsys, str(folder), "-o", str(out), "-j", "2", "--force")
    assert parallel[-1].startswith("rendered 2 of 2 scene(s)")
    assert render(capsys, str(folder), "-o", str(out), "-j", "2")[-1].endswith("2 up to date (not drawn again; "
                                                                               "--force draws them)")
    # the files are still the ones --check-output expects
    assert main(["render", str(folder), "-o", str(out), "--check-output"]) == 0
    assert "0 stale, 0 missing" in capsys.readouterr().out


def test_a_changed_scene_is_drawn_again_alone(tmp_path, capsys):
    folder, out = scenes(tmp_path / "s", "a", "b"), tmp_path / "out"
    render(capsys, str(folder), "-o", str(out))
    before = times(out)
    os.utime(folder / "b.toml")  # touched, same bytes: still up to date (the fingerprint is of bytes, not times)
    assert render(capsys, str(folder), "-o", str(out))[-1].startswith("rendered 0 of 2")
    (folder / "b.toml").write_text(SMALL.format(values="random"), encoding="utf-8")
    lines = render(capsys, str(folder), "-o", str(out))
    assert lines[0] == f"{out / 'a.gif'}  up to date" and lines[-1].startswith("rendered 1 of 2")
    after = times(out)
    assert after["a.gif"] == before["a.gif"] and after["b.gif"] != before["b.gif"]


def test_an_option_change_draws_again_and_is_then_up_to_date(tmp_path, capsys):
    folder, out = scenes(tmp_path / "s", "a"), tmp_path / "out"
    render(capsys, str(folder), "-o", str(out))
    for flags in (["--width", "500"], ["--theme", "dark"], ["--format", "gif,png"]):
        assert render(capsys, str(folder), "-o", str(out), *flags)[-1].startswith("rendered 1 of 1"), flags
        assert render(capsys, str(folder), "-o", str(out), *flags)[-1].startswith("rendered 0 of 1"), flags
    # back to the file's own options: the GIF now on disk is the --format gif,png one (the file's width and theme),
    # the same fingerprint as a plain render's GIF, so nothing is drawn
    assert render(capsys, str(folder), "-o", str(out))[-1].startswith("rendered 0 of 1")
    assert render(capsys, str(folder), "-o", str(out), "--width", "500")[-1].startswith("rendered 1 of 1")


def test_a_missing_or_modified_output_is_drawn_again(tmp_path, capsys):
    folder, out = scenes(tmp_path / "s", "a", "b"), tmp_path / "out"
    render(capsys, str(folder), "-o", str(out))
    good = (out / "a.gif").read_bytes()
    (out / "a.gif").unlink()
    assert render(capsys, str(folder), "-o", str(out))[-1].startswith("rendered 1 of 2")
    assert (out / "a.gif").read_bytes() == good
    (out / "a.gif").write_bytes(good[:-10])  # truncated by hand
    assert render(capsys, str(folder), "-o", str(out))[-1].startswith("rendered 1 of 2")
    assert (out / "a.gif").read_bytes() == good
    (out / MANIFEST_NAME).write_text("not json")  # a broken manifest: everything is drawn again, then recorded
    assert render(capsys, str(folder), "-o", str(out))[-1].startswith("rendered 2 of 2")
    assert render(capsys, str(folder), "-o", str(out))[-1].startswith("rendered 0 of 2")


def test_force_draws_everything_again(tmp_path, capsys):
    folder, out = scenes(tmp_path / "s", "a"), tmp_path / "out"
    render(capsys, str(folder), "-o", str(out))
    before = times(out)
    assert render(capsys, str(folder), "-o", str(out), "--force")[-1].startswith("rendered 1 of 1")
    assert times(out)["a.gif"] != before["a.gif"]


def test_gallery_after_render_reuses_the_pictures_and_a_second_gallery_draws_nothing(tmp_path, capsys):
    folder, out = scenes(tmp_path / "s", "a", "b"), tmp_path / "out"
    render(capsys, str(folder), "-o", str(out))
    gifs = times(out)
    assert main(["gallery", str(folder), "-o", str(out), "-j", "1"]) == 0
    capsys.readouterr()
    after = times(out)
    assert {name: after[name] for name in gifs} == gifs  # the GIFs `render` wrote are the gallery's pictures
    assert {"a.player.html", "b.player.html", "index.html"} <= set(after)  # what render does not write
    assert main(["gallery", str(folder), "-o", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("rendered 0, up to date 2")
    assert {k: v for k, v in times(out).items() if k != "index.html"} == \
        {k: v for k, v in after.items() if k != "index.html"}
    # and the other way round: render after gallery reuses the gallery's GIFs
    assert render(capsys, str(folder), "-o", str(out))[-1].startswith("rendered 0 of 2")
    (folder / "a.toml").write_text(SMALL.format(values="random"), encoding="utf-8")
    assert main(["gallery", str(folder), "-o", str(out), "--force"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("rendered 2, up to date 0")


def test_the_fingerprint_follows_the_package_source(tmp_path):
    """A copy of the package renders, then one of its label files changes: the next render draws again."""
    package = tmp_path / "site" / "convgif"
    shutil.copytree(ROOT / "convgif", package, ignore=shutil.ignore_patterns("__pycache__"))
    folder, out = scenes(tmp_path / "s", "a"), tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(package.parent)}

    def run() -> str:
        done = subprocess.run([sys.executable, "-m", "convgif", "render", str(folder), "-o", str(out)], env=env,
                              capture_output=True, text=True, check=True, cwd=tmp_path)
        assert str(package) in subprocess.run([sys.executable, "-c", "import convgif; print(convgif.__file__)"],
                                              env=env, capture_output=True, text=True, cwd=tmp_path).stdout
        return done.stdout.splitlines()[-1]

    assert run().startswith("rendered 1 of 1")
    assert run().startswith("rendered 0 of 1")
    digest = tree_digest(package)
    labels = package / "render" / "labels.py"
    labels.write_text(labels.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")
    assert tree_digest(package) != digest
    assert run().startswith("rendered 1 of 1")


def test_jobs_default_to_the_cores():
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    for command in (["render", "x"], ["gallery", "x"]):
        assert build_parser().parse_args(command).jobs == cores


def test_a_changed_image_draws_its_scene_again(tmp_path, capsys):
    """The fingerprint holds the bytes of the image a scene reads (input.image), for render and gallery alike."""
    from PIL import Image

    folder, out = tmp_path / "s", tmp_path / "out"
    folder.mkdir()
    Image.new("L", (4, 4), 60).save(folder / "picture.png")
    (folder / "a.toml").write_text(SMALL.replace('values = "{values}"', 'image = "picture.png"'), encoding="utf-8")
    assert render(capsys, str(folder), "-o", str(out))[-1].startswith("rendered 1 of 1")
    assert main(["gallery", str(folder), "-o", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("rendered 1, up to date 0")  # its player page
    assert main(["gallery", str(folder), "-o", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("rendered 0, up to date 1")
    Image.new("L", (4, 4), 200).save(folder / "picture.png")
    assert main(["gallery", str(folder), "-o", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("rendered 1, up to date 0")
    Image.new("L", (4, 4), 90).save(folder / "picture.png")
    assert render(capsys, str(folder), "-o", str(out))[-1].startswith("rendered 1 of 1")


NOOP_IMPORTS = (
    "import sys\n"
    "from convgif.cli import main\n"
    "code = main(['render', *sys.argv[1:]])\n"
    "print(sorted({m.split('.')[0] for m in sys.modules} & {'pydantic', 'numpy', 'PIL', 'fontTools'}))\n"
    "raise SystemExit(code)\n"
)


def test_a_no_op_render_loads_no_scene_model_and_no_numpy(tmp_path):
    """An up-to-date render is judged from the scene file's bytes (as the gallery's is): no pydantic, no NumPy."""
    folder, out = scenes(tmp_path / "s", "a"), tmp_path / "out"

    def run(*flags: str) -> list[str]:
        done = subprocess.run([sys.executable, "-c", NOOP_IMPORTS, str(folder / "a.toml"), "-o", str(out), *flags],
                              capture_output=True, text=True, check=True, cwd=ROOT)
        return done.stdout.splitlines()

    assert run()[-2].startswith("rendered 1 of 1")
    again = run()
    assert again[-2].startswith("rendered 0 of 1") and again[-1] == "[]"
    # a flag that changes the scene: validated as before; its GIF replaced the file's own, drawn again after it
    assert run("--width", "500")[-2].startswith("rendered 1 of 1")
    assert run("--width", "500")[-2].startswith("rendered 0 of 1")
    assert run()[-2].startswith("rendered 1 of 1")
    assert run()[-2:] == ["rendered 0 of 1 scene(s): 0 frames, 0.0 KiB; 1 up to date (not drawn again; --force "
                          "draws them)", "[]"]


def test_a_no_op_render_reports_what_the_loaded_scene_would(tmp_path, capsys):
    """The same lines whether an up-to-date render is judged from the file alone or from the validated scene (its
    fingerprint), here for two themes, their GIFs and the html player holding both."""
    folder, out = tmp_path / "s", tmp_path / "out"
    folder.mkdir()
    (folder / "a.toml").write_text(SMALL.format(values="arange") + 'theme = ["light", "dark"]\n'
                                   '[output]\nformats = ["gif", "html", "beamer"]\n', encoding="utf-8")
    render(capsys, str(folder), "-o", str(out))
    from_file = render(capsys, str(folder), "-o", str(out))
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert len(manifest["sources"]) == 1
    del manifest["sources"]
    (out / MANIFEST_NAME).write_text(json.dumps(manifest))
    from_scene = render(capsys, str(folder), "-o", str(out))  # judged from the scene: records its source again
    assert from_scene == from_file
    assert from_file[-1].startswith("rendered 0 of 1") and "a.dark.gif" in from_file[0]
    assert "sources" in json.loads((out / MANIFEST_NAME).read_text())
    assert render(capsys, str(folder), "-o", str(out)) == from_file


def test_the_package_digest_kept_between_processes_is_the_hash_of_its_bytes(tmp_path, monkeypatch):
    """`kept_tree_digest` (what every render's fingerprint starts from) keeps the package's digest in the user's
    cache folder under the files' stamps: it is always `tree_digest` of the bytes, read from the cache while no
    file changed, hashed again when one did, and hashed each time when the cache folder cannot be written."""
    from convgif.build_cache import DIGEST_CACHE, kept_tree_digest

    package = tmp_path / "pkg"
    shutil.copytree(ROOT / "convgif" / "scene", package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = kept_tree_digest(package)
    assert first == tree_digest(package)
    assert (tmp_path / "cache" / "convgif" / DIGEST_CACHE).is_file()
    assert kept_tree_digest(package) == first
    (package / "caption.py").write_text("# another caption module\n", encoding="utf-8")
    assert kept_tree_digest(package) == tree_digest(package) != first
    (package / "new.txt").write_bytes(b"x")
    assert kept_tree_digest(package) == tree_digest(package)
    monkeypatch.setenv("XDG_CACHE_HOME", str(package / "caption.py"))  # a file, not a folder: nothing is kept
    assert kept_tree_digest(package) == tree_digest(package)
