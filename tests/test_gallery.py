"""Every scene in scenes/ renders, with one frame per chosen step plus the hold; renders are deterministic;
memory does not grow with the number of frames."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from convgif.pipeline import render_scene
from convgif.scene import load_scene

SCENES = sorted(Path(__file__).resolve().parent.parent.joinpath("scenes").glob("*.toml"))


@pytest.fixture(scope="module")
def gallery_render(tmp_path_factory):
    """Every scene rendered once for this module, the way `convgif render scenes/ -o DIR -j 2` renders them (the
    CLI's own two-worker path): (folder, {path: (result, exit code, error lines)}). The per-scene checks, the
    determinism check and the byte-for-byte gallery check all read these files instead of rendering again."""
    from convgif.cli import _render_parallel

    folder = tmp_path_factory.mktemp("gallery")
    outcomes = {Path(path): (result, code, lines)
                for path, result, code, lines in _render_parallel([str(p) for p in SCENES], str(folder), 2)}
    assert sorted(outcomes) == SCENES
    return folder, outcomes


def rendered(gallery_render, path):
    folder, outcomes = gallery_render
    result, code, lines = outcomes[path]
    assert code == 0 and result is not None, lines
    return folder, result


@pytest.mark.parametrize("path", SCENES, ids=[p.stem for p in SCENES])
def test_scene_renders_with_steps_plus_hold(path, gallery_render):
    scene = load_scene(str(path))
    folder, result = rendered(gallery_render, path)
    still = scene.scene_type == "still"
    assert result.path.parent == folder and result.path.stem == path.stem
    assert result.path.suffix == (".png" if still and result.frames == 1 else ".gif")
    with Image.open(result.path) as image:
        frames = getattr(image, "n_frames", 1)
        expected = result.frames if still else scene.info()["frames"]  # stills: one frame per figure
        assert frames == expected == result.frames
        assert image.size[0] == scene.render.width


@pytest.mark.parametrize("name", ["a08_groups.toml", "a09_everything.toml", "b02_padding_two.toml"])
def test_same_scene_same_bytes(name, tmp_path, gallery_render):
    """A second render, in this process, writes the bytes the module's render wrote in a worker process."""
    path = SCENES[0].parent / name
    _, result = rendered(gallery_render, path)
    first = result.path.read_bytes()
    second = render_scene(load_scene(str(path)), tmp_path / "two").path.read_bytes()
    assert first == second


def test_frames_stream_to_the_writer_one_at_a_time(tmp_path, monkeypatch):
    """Each frame reaches the writer before the next is drawn: memory does not grow with the frame count
    (benchmarks/render_bench.py measures the peak RSS of long renders)."""
    import convgif.sources as sources
    from convgif.encode import GifWriter
    from convgif.scene import parse_scene

    events, build_view, write_frame = [], sources.build_view, GifWriter.write_frame

    def watched_view(scene, trace):
        view = build_view(scene, trace)
        frames = view.frames_with_text

        def drawn(steps, **options):
            for frame in frames(steps, **options):
                events.append("drawn")
                yield frame

        view.frames_with_text = drawn
        return view

    def written(self, frame):
        events.append("written")
        write_frame(self, frame)

    monkeypatch.setattr(sources, "build_view", watched_view)
    monkeypatch.setattr(GifWriter, "write_frame", written)
    document = {"op": {"kind": "conv2d", "kernel_size": 3}, "input": {"shape": [1, 7, 7]}}
    render_scene(parse_scene(document, "stream.toml"), tmp_path)
    # 25 steps, then the hold frame, finished from the steps' running image (View.frames_with_text then_final)
    assert events == ["drawn", "written"] * 26


ANIMATED = [path for path in SCENES if load_scene(path).scene_type == "op"]


@pytest.mark.parametrize("path", ANIMATED, ids=[p.stem for p in ANIMATED])
def test_every_drawn_colour_is_a_palette_colour(path):
    """GIF frames hold palette indices: a drawn colour missing from the palette would silently show as its nearest
    palette colour (once: dimmed lanes one level off). With crisp text (the default) nothing is anti-aliased, so
    every pixel of every frame must be exactly a palette colour; sampled: first, middle and last step, the hold."""
    import numpy as np

    from convgif.pipeline import build_trace, drawable_view

    scene = load_scene(path)
    trace = build_trace(scene)
    view = drawable_view(scene, trace)
    assert view.theme.crisp_text
    def keys(rgb: np.ndarray) -> np.ndarray:  # one 24-bit integer per colour
        rgb = np.asarray(rgb, dtype=np.int64).reshape(-1, 3)
        return np.unique((rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2])

    palette = keys(view.palette_colors())
    steps = sorted({0, len(trace) // 2, len(trace) - 1})
    for label, frame in [*zip(steps, view.frames(steps)), ("hold", view.final_frame())]:
        stray = np.setdiff1d(keys(frame), palette)
        assert stray.size == 0, (path.name, label, [f"#{key:06x}" for key in stray[:5]])


def test_the_readme_table_says_what_each_scene_file_says():
    """The README's scene table quotes each scene's catalogue rows, title and first sentence; it cannot drift from
    the files."""
    import tomllib

    from readme_rows import ROW, first_sentence

    readme = (SCENES[0].parent.parent / "README.md").read_text(encoding="utf-8")
    rows = {Path(link).stem: (row.strip(), title, description) for row, title, link, _, description in ROW.findall(readme)}
    for path in SCENES:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
        catalogue = ", ".join(document.get("catalogue", ())) or "—"
        assert rows.get(path.stem) == (catalogue, document["title"], first_sentence(document["description"])), path.name


def test_the_committed_gallery_is_what_the_scenes_render(gallery_render):
    """output/ holds exactly what `convgif render scenes/ -o output/` writes (the render in README's first command,
    before `convgif gallery` adds the page, players and dark pictures): every file
    the module's render wrote (`-j 2`, as above) is in output/ with the same bytes. This is the comparison
    `convgif render --check-output` makes (its stale/missing reporting is tested in test_faults.py's
    test_check_output_lists_stale_and_missing_files); done here on the shared render, not a second one."""
    folder, outcomes = gallery_render
    output = SCENES[0].parent.parent / "output"
    failed = {path.name: lines for path, (result, code, lines) in outcomes.items() if result is None or code != 0}
    assert failed == {}
    stale, missing, compared = [], [], 0
    for path, (result, _, _) in outcomes.items():
        produced = []
        for fresh in result.paths:  # one per format
            produced += sorted(f for f in fresh.rglob("*") if f.is_file()) if fresh.is_dir() else [fresh]
        assert produced, path.name
        for file in produced:
            committed = output / file.relative_to(folder)
            compared += 1
            if not committed.is_file():
                missing.append(f"{committed} (from {path.name})")
            elif committed.read_bytes() != file.read_bytes():
                stale.append(f"{committed} (from {path.name})")
    assert (stale, missing) == ([], []), "re-render: convgif render scenes/ -o output/"
    assert compared >= len(SCENES)
