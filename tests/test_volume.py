"""The volume view (issue 16): every conv2d and 2D-pool gallery scene drawn as blocks, read through the layout
manifest. Its numbers are torch's, the window box goes through exactly the channels the current output reads (all,
one group's, or a pool's one), the current kernel and output cell are the ones the step names, and a pixel probe
tells the window, padding and dilation-gap cells apart."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from test_manifest import RULES, Case, gallery_case, shown_number, torch_values
from pixels import unique_colours

from convgif.errors import SceneError
from convgif.pipeline import render_scene
from convgif.render.layout_volume import BOX_ALPHA
from convgif.render.manifest import frame_items
from convgif.render.primitives import Text
from convgif.render.theme import mix
from convgif.scene import load_scene, parse_scene
from convgif.sources import build_trace, build_view

SCENES = Path(__file__).resolve().parent.parent / "scenes"
VOLUME_KINDS = ("conv2d", "max_pool2d", "avg_pool2d", "lp_pool2d")


def documents() -> dict[str, dict]:
    found = {}
    for path in sorted(SCENES.glob("*.toml")):
        document = tomllib.loads(path.read_text(encoding="utf-8"))
        if document.get("op", {}).get("kind") in VOLUME_KINDS:
            found[path.stem] = document
    return found


DOCUMENTS = documents()
FLAT_SCENES = [name for name, d in DOCUMENTS.items() if d.get("render", {}).get("view") != "volume"]
GALLERY_VOLUMES = [name for name, d in DOCUMENTS.items() if d.get("render", {}).get("view") == "volume"]


def as_volume(name: str, language: str | None = None, **render) -> object:
    document = dict(DOCUMENTS[name])
    document["render"] = {**document.get("render", {}), "view": "volume", **render}
    if language is not None:
        document["language"] = language
    return parse_scene(document, str(SCENES / f"{name}.toml"))


@cache
def volume_case(name: str) -> Case:
    return Case(as_volume(name))


def test_the_gallery_has_the_volume_scenes_the_issue_asks_for():
    assert sorted(GALLERY_VOLUMES) == ["a02_output_channels_volume", "a03_input_channels_volume",
                                       "a08_groups_volume", "a09_everything_volume", "b06_depthwise_stage_volume",
                                       "b06_pointwise_stage_volume", "d02_kernel_slices_volume"]
    assert len(FLAT_SCENES) >= 25  # every conv2d and 2D-pool scene of the gallery is tried in the volume view


@pytest.mark.parametrize("name", FLAT_SCENES)
def test_every_conv2d_and_2d_pool_scene_draws_in_volumes_by_the_picture_rules(name):
    """Numbers equal torch's, the window's front face on its taps, text >= 10 px and apart, one notation, a legend
    for what is drawn, the hold frame's kernels; and every pixel of the sampled frames is a palette colour."""
    case = volume_case(name)
    assert {rule: RULES[rule](case) for rule in RULES} == {rule: [] for rule in RULES}
    palette = {tuple(c) for c in case.view.palette_colors()}
    for step, pixels in case.pixels().items():
        colours = unique_colours(pixels)
        assert colours <= palette, f"step {step}: {len(colours - palette)} colours off the palette"


def box_marks(items: list[dict], kind: str) -> list[dict]:
    return [i for i in items if i["role"] == "volume" and i["mark"] == "window" and i["kind"] == kind]


@pytest.mark.parametrize("name", ["a03_input_channels", "a08_groups", "a09_everything", "b06_depthwise_stage",
                                  "b06_pointwise_stage", "dark_grouped_conv", "c05_max_pool", "c05_avg_pool"])
def test_the_window_box_goes_through_exactly_the_channels_the_output_reads(name):
    case = volume_case(name)
    trace = case.trace
    for index in range(0, len(trace), max(1, len(trace) // 12)):
        step = trace.step(index)
        channels = list(getattr(step, "in_channels", None) or (step.channel,))
        items = frame_items(case.view, index)
        strips = box_marks(items, "box")
        assert strips and {tuple(s["channels"]) for s in strips} == {(channels[0], channels[-1] + 1)}, index
        taps = np.asarray(step.tap_coords).reshape(-1, 2)
        overhang = np.asarray(getattr(step, "overhang_mask", np.zeros(len(taps), bool))).reshape(-1)
        kept = [t for t, o in zip(taps, overhang) if not o]
        # one strip through the depth over every tapped column and beside every tapped row: gaps stay gaps
        assert len(strips) == len({int(t[1]) for t in kept}) + len({int(t[0]) for t in kept})
        front = [w for w in items if w["role"] == "window"]
        assert [w["channel"] for w in front] == [channels[0]], index  # its front face: on the first channel read


@pytest.mark.parametrize("name", ["a02_output_channels", "a08_groups", "a09_everything", "c05_max_pool"])
def test_the_current_kernel_and_output_cell_are_the_ones_the_step_names(name):
    case = volume_case(name)
    trace, view = case.trace, case.view
    for index in range(0, len(trace), max(1, len(trace) // 10)):
        step = trace.step(index)
        out_channel = int(getattr(step, "out_channel", getattr(step, "channel", 0)))
        position = tuple(int(v) for v in step.position)
        items = frame_items(view, index)
        kernels = [i for i in items if i["role"] == "volume" and i["kind"] == "current_kernel"]
        if trace.geometry.weight_shape:
            assert [k["channels"] for k in kernels] == [[out_channel, out_channel + 1]], index
            per_group = trace.geometry.in_channels // trace.geometry.groups
            front = view.cell_box("bank", out_channel * per_group, (0, 0))
            x0, y0, x1, y1 = kernels[0]["box"]
            assert x0 <= front[0] and y0 <= front[1] and x1 >= front[2] and y1 >= front[3]  # around kernel k's block
        else:
            assert kernels == []
        current = [i for i in items if i["role"] == "cell" and i["tensor"] == "output" and i.get("state") == "current"]
        seen_through = [i for i in items if i["role"] == "volume" and i["kind"] == "current_output"]
        if out_channel == 0:  # on the front face, as the flat view draws it
            assert [(c["channel"], tuple(c["index"])) for c in current] == [(0, position)] and not seen_through
        else:  # behind it: the cell of its own face, seen through the block
            assert [(c["channel"], tuple(c["index"])) for c in current] == [(out_channel, position)]
            assert [s["channels"] for s in seen_through] == [[out_channel, out_channel + 1]]
            cell = view.cell_box("output", out_channel, position)
            x0, y0, x1, y1 = seen_through[0]["box"]
            assert cell[0] <= x0 and cell[1] <= y0 and x1 <= cell[2] + 1 and y1 <= cell[3] + 1


def test_a_pixel_probe_tells_window_taps_padding_and_gaps_apart():
    """a09 in volumes, step 0: the dilated window stands on padding at the top left. Read the frame's pixels."""
    scene = load_scene(SCENES / "a09_everything_volume.toml")
    view = build_view(scene, build_trace(scene))
    th, trace = view.theme, view.trace
    frame = next(view.frames([0]))
    held = view.final_frame()  # the same picture without a window
    step = trace.step(0)
    taps = {tuple(int(v) for v in t) for t in np.asarray(step.tap_coords).reshape(-1, 2)}
    padding = np.asarray(trace.padding_cells)

    def interior_corner(coord):  # inside the cell's lines, clear of its number
        x0, y0, _, _ = view.cell_box("input", 0, coord)
        return tuple(int(v) for v in frame[y0 + 3, x0 + 3])

    tapped_data = next(t for t in sorted(taps) if not padding[t])
    tapped_padding = next(t for t in sorted(taps) if padding[t])
    gap = (min(r for r, _ in taps) + 1, min(c for _, c in taps) + 1)
    assert gap not in taps
    far_padding = (padding.shape[0] - 1, padding.shape[1] - 1)
    assert padding[far_padding] and far_padding not in taps
    assert interior_corner(tapped_data) == th.tap
    assert interior_corner(tapped_padding) == th.tap
    x0, y0, x1, y1 = view.cell_box("input", 0, gap)
    ring = tuple(int(v) for v in frame[(y0 + y1) // 2, x0 + 3])  # the gap's inner outline
    assert ring == th.gap and interior_corner(gap) != th.tap
    assert interior_corner(far_padding) == th.padding
    x0, y0, x1, y1 = view.cell_box("input", 0, far_padding)
    border = {tuple(int(v) for v in frame[y0, x]) for x in range(x0 + 1, x1 - 1)}
    assert border == {th.padding_edge}  # padding's (dashed) edges, where a data cell has grid lines
    x0, y0, x1, y1 = view.cell_box("input", 0, (6, 6))  # data, outside the window
    assert {tuple(int(v) for v in frame[y0, x]) for x in range(x0 + 1, x1 - 1)} == {th.grid}
    # the box through the depth: over the window's top row, the pixels are the picture under it, tinted
    layout = view.layout
    block = layout.input_block
    top = min(r for r, _ in taps)
    col = min(c for _, c in taps)
    strip = block.top_strip(col, col + 1, top, 0, block.depth)
    cx = int(sum(x for x, _ in strip) / 4)
    cy = int(sum(y for _, y in strip) / 4)
    under = tuple(int(v) for v in held[cy, cx])
    assert tuple(int(v) for v in frame[cy, cx]) == mix(under, th.window, 1 - BOX_ALPHA)
    looks = {"tap": th.tap, "gap ring": ring, "padding": th.padding, "box": mix(under, th.window, 1 - BOX_ALPHA)}
    assert len(set(looks.values())) == len(looks), looks


@pytest.mark.parametrize("theme, language, aspect", [("dark", "en", "16:9"), ("light", "zh", "4:3"),
                                                     ("print", "en", "auto")])
def test_volume_frames_in_every_theme_language_and_aspect(theme, language, aspect, tmp_path):
    scene = as_volume("a09_everything", theme=theme, language=language, aspect=aspect)
    case = Case(scene)
    width, height = case.view.size
    if aspect != "auto":
        assert width / height == pytest.approx({"16:9": 16 / 9, "4:3": 4 / 3}[aspect], abs=0.01)
    for rule in ("numbers", "text_size", "text_placement", "notation", "legend"):
        assert RULES[rule](case) == [], rule
    legend = {i["entry"] for i in case.frames[0] if i["role"] == "legend"}
    from convgif.render.labels import label
    assert {label(language, "window_box"), label(language, "channel_layer"), label(language, "current_kernel")} <= legend
    result = render_scene(scene, tmp_path / "a09")  # the GIF encoder refuses any pixel off the palette
    assert result.frames == len(scene.step_indices()) + 1


def test_groups_are_colour_lanes_through_the_depth():
    """a08 in volumes: the input's layers, the kernel blocks and the output's layers take their group's colour."""
    case = volume_case("a08_groups")
    layout, th = case.view.layout, case.view.theme
    frame = case.pixels()[None]

    def top_colour(block, k):
        strip = block.top_strip(0, 1, 0, k, k + 1)
        return tuple(int(v) for v in frame[int(sum(y for _, y in strip) / 4), int(sum(x for x, _ in strip) / 4)])

    shade = lambda g: layout.shade(layout.group_face(g), "top")
    done = lambda g: layout.shade(mix(layout.group_face(g), th.output_done, 0.5), "top")  # computed, in its lane
    assert [top_colour(layout.input_block, k) for k in range(2)] == [shade(0), shade(1)]
    assert [top_colour(layout.output_block, k) for k in range(4)] == [done(0), done(0), done(1), done(1)]
    assert [top_colour(b, 0) for b in layout.kernel_blocks] == [shade(0), shade(0), shade(1), shade(1)]
    assert shade(0) != shade(1)


def test_1d_scenes_are_refused_the_volume_view_in_one_line():
    document = {"op": {"kind": "conv1d", "out_channels": 2, "kernel_size": 3}, "input": {"shape": [2, 8]},
                "render": {"view": "volume"}}
    with pytest.raises(SceneError) as caught:
        parse_scene(document, "wave.toml")
    assert str(caught.value).splitlines() == [
        "wave.toml: render.view: 'volume' draws 2D operations only, and conv1d is 1D (leave render.view out for "
        "the default view)"]


@pytest.mark.parametrize("theme", ["dark", "print"])
@pytest.mark.parametrize("name", GALLERY_VOLUMES + ["f01_image_sobel_edges", "c05_lp_pool"])
def test_every_theme_paints_only_palette_colours(name, theme):
    """One GIF palette (<= 250 colours) holds every pixel of the sampled frames: the faces' shades and the
    translucent box and current cell over what lies under them (b06's three groups in the dark theme once needed
    287)."""
    case = Case(as_volume(name, theme=theme))
    palette = {tuple(c) for c in case.view.palette_colors()}
    assert len(palette) <= 250
    for step, pixels in case.pixels().items():
        colours = unique_colours(pixels)
        assert colours <= palette, f"step {step}: {len(colours - palette)} colours off the palette"


def test_one_kernel_is_named_in_the_singular():
    """d02_kernel_slices_volume has one output channel: its kernel bank's heading said "1 kernels"."""
    scene = load_scene(SCENES / "d02_kernel_slices_volume.toml")
    view = build_view(scene, build_trace(scene))
    texts = [item.text for item in view.layout.static(0) if isinstance(item, Text)]
    assert "1 kernel, one per output channel" in texts
    assert not any("1 kernels" in text for text in texts)


def _front_face_dimming(scene) -> dict[int, tuple[list, bool]]:
    """For the first and last step: (veil boxes in the frame's manifest, whether the front face's text colour is
    still drawn on it), keyed by the first channel the step reads."""
    trace = build_trace(scene)
    view = build_view(scene, trace)
    x0, y0, x1, y1 = view.layout.input_block.front.outer
    ink = np.array(view.theme.input_text, dtype=np.uint8)
    found = {}
    steps = [0, len(trace) - 1]
    for index, pixels in zip(steps, view.frames(steps)):
        step = trace.step(index)
        first = (getattr(step, "in_channels", None) or (step.channel,))[0]
        items = frame_items(view, index)
        veils = [item["box"] for item in items if item["role"] == "veil"
                 and item["box"] == list(view.layout.input_block.front.outer)]
        inked = (pixels == ink).all(axis=-1)
        if first > 0:  # the channel behind, its whole face drawn over the veil, holds its own numbers
            bx0, by0, bx1, by1 = view.layout.input_block.face(first).outer
            inked[by0:by1, bx0:bx1] = False
        found[first] = (veils, bool(inked[y0:y1, x0:x1].any()))
    return found


def test_the_front_face_is_dimmed_while_the_window_lies_behind_it():
    """A depthwise step on channel 2 reads nothing of channel 0, whose numbers the front face shows: the front face
    is veiled, as the flat view dims the lanes a step does not read, so that the window's box, drawn over it, does
    not seem to hold them; the window's cells on the channel behind show that channel's numbers (those the
    arithmetic multiplies). A step on channel 0 leaves it as it is. Pooling a channel after the first alike."""
    depthwise = load_scene(SCENES / "b06_depthwise_stage_volume.toml")
    pool = parse_scene({"op": {"kind": "max_pool2d", "kernel_size": 2, "stride": 2},
                        "input": {"shape": [2, 4, 4], "seed": 3}, "render": {"view": "volume"}}, "pool.toml")
    for scene, last in ((depthwise, 2), (pool, 1)):
        front = list(build_view(scene, build_trace(scene)).layout.input_block.front.outer)
        assert _front_face_dimming(scene) == {0: ([], True), last: ([front], False)}


def _texts_in(items, box) -> list[str]:
    x0, y0, x1, y1 = box
    found = []
    for item in items:
        text_box = item.get("text_box", item["box"]) if "text" in item else None
        if text_box and x0 <= (text_box[0] + text_box[2]) / 2 <= x1 and y0 <= (text_box[1] + text_box[3]) / 2 <= y1 \
                and not item.get("veiled"):
            found.append(item["text"])
    return found


def _two_channel_pool():
    return parse_scene({"op": {"kind": "max_pool2d", "kernel_size": 2, "stride": 2},
                        "input": {"shape": [2, 4, 4], "seed": 3}, "render": {"view": "volume"}}, "pool.toml")


@pytest.mark.parametrize("name", ["a02_output_channels", "a08_groups", "pool"])
def test_a_step_behind_the_front_face_shows_its_own_channels_numbers(name):
    """A step on a channel behind the front face (which shows channel 0's numbers): the window's cells on that
    channel hold the values the arithmetic multiplies, and the output cell it writes holds its result. They were
    translucent tiles over channel 0's numbers: a08's step multiplied 9×0 under cells showing 1 and 5, a02's wrote
    −7 in a cell showing 1, and −7 was nowhere in the picture."""
    from convgif.render.layout_pool import fmt_value
    from convgif.render.primitives import fmt_number

    case = Case(_two_channel_pool()) if name == "pool" else volume_case(name)
    trace, view = case.trace, case.view
    write = fmt_value if trace.geometry.weight_shape is None or not trace.geometry.weight_shape else fmt_number
    behind = 0
    for index in range(len(trace)):
        step = trace.step(index)
        first = int((getattr(step, "in_channels", None) or (step.channel,))[0])
        out_channel = int(getattr(step, "out_channel", getattr(step, "channel", 0)))
        if first == 0 and out_channel == 0:
            continue
        behind += 1
        if behind > 6:
            break
        items = frame_items(view, index)
        if first > 0:
            taps = [item for item in items if item["role"] == "volume" and item["mark"] == "window"
                    and item["kind"] == "front"]
            values = np.asarray(step.tap_values[0] if hasattr(step, "in_channels") else step.tap_values).reshape(-1)
            if hasattr(step, "overhang_mask"):
                values = values[~np.asarray(step.overhang_mask).reshape(-1)]
            assert [t for tap in taps for t in _texts_in(items, tap["box"])] == [write(float(v)) for v in values]
        if out_channel > 0:
            (cell,) = [i for i in items if i["role"] == "volume" and i["kind"] == "current_output"]
            assert _texts_in(items, cell["box"]) == [write(float(step.value))], index
    assert behind > 0


@pytest.mark.parametrize("name", ["a08_groups", "b06_depthwise_stage_volume", "pool"])
def test_a_window_behind_the_front_face_lies_on_its_own_channels_whole_face(name):
    """While the window reads input channel k > 0 only (groups, depthwise, a pool), that channel's whole face is
    drawn over the veiled front, every cell with torch's input value, and the block's label names the channel seen;
    the window's taps sat astride channel 0's faded grid before, half a cell up and right of it."""
    case = Case(_two_channel_pool()) if name == "pool" else gallery_case(name) if name.endswith("volume") \
        else volume_case(name)
    trace, view = case.trace, case.view
    torch_in = torch_values(case.scene, trace)["input"]
    checked = 0
    for index in range(0, len(trace), max(1, len(trace) // 12)):
        step = trace.step(index)
        k = int((getattr(step, "in_channels", None) or (step.channel,))[0])
        if k == 0:
            continue
        checked += 1
        items = frame_items(view, index)
        cells = [i for i in items if i["role"] == "cell" and i["tensor"] == "input" and i["channel"] == k]
        assert len(cells) == int(np.prod(view.layout.padded_hw)), index
        for item in cells:
            if item["padding"]:
                continue
            r, c = item["index"]
            assert item["text"] == shown_number(float(torch_in[step.batch, k, r, c]), False), (index, item)
        labels = [i["text"] for i in items if i["role"] == "text" and i["kind"] == "label"]
        assert any(f"ch {k}" in text and "front" not in text for text in labels), labels
    assert checked > 0


@pytest.mark.parametrize("name", ["a03_input_channels", "a09_everything", "pool"])
def test_a_step_behind_the_front_face_writes_into_its_own_channels_whole_face(name):
    """While a step writes output channel k > 0, that channel's whole face is drawn (seen through the veiled front):
    its cells the earlier steps computed, with torch's values, then blanks, and the current cell among them, so the
    current cell reads as row r, column c of channel k. Before, it was one tile half a cell up and right of channel
    0's grid, astride channel 0's numbers (a03's −11 at (3, 0) sat between (2, 0) and (3, 1))."""
    case = Case(_two_channel_pool()) if name == "pool" else volume_case(name)
    trace, view = case.trace, case.view
    torch_out = torch_values(case.scene, trace)["output"]
    _, rows, cols = trace.geometry.output_shape
    checked = 0
    for index in range(rows * cols, len(trace), max(1, len(trace) // 12)):  # steps on channels after the first
        step = trace.step(index)
        k = int(getattr(step, "out_channel", getattr(step, "channel", 0)))
        if k == 0:
            continue
        checked += 1
        at = int(np.ravel_multi_index(tuple(int(v) for v in step.position), (rows, cols)))
        cells = {tuple(i["index"]): i for i in frame_items(view, index)
                 if i["role"] == "cell" and i["tensor"] == "output" and i["channel"] == k}
        assert len(cells) == rows * cols, index  # every cell of the face, not only the current one
        for (r, c), item in cells.items():
            n = r * cols + c
            state = "done" if n < at else "current" if n == at else "empty"
            assert item.get("state") == state, (index, (r, c), item)
            if state == "done" and view.layout.output_value_size is not None:
                pool = not trace.geometry.weight_shape
                assert item["text"] == shown_number(float(torch_out[step.batch, k, r, c]), pool), (index, (r, c))
            if state == "empty":
                assert "text" not in item, (index, (r, c))
    assert checked > 0


@pytest.mark.parametrize("name", ["a03_input_channels", "a09_everything", "d02_kernel_slices"])
def test_the_window_box_hides_no_number_of_the_front_face(name):
    """The window box's translucent strips through the depth lie behind the front face: every number the front face
    shows keeps its ink where they cross it (they covered the digits above and right of the window)."""
    case = volume_case(name)
    view = case.view
    ink = np.array(view.theme.input_text, dtype=np.uint8)
    static = np.asarray(view.static_image(0))
    x0, y0, x1, y1 = view.layout.input_block.front.outer
    crossed = 0
    for index, pixels in zip(case.steps, view.frames(case.steps)):
        step = view.trace.step(index)
        if int(step.in_channels[0]) != 0:
            continue
        taps = {view.layout.rc(t) for t in np.asarray(step.tap_coords).reshape(-1, 2)}
        front = view.layout.input_block.front
        inked = (static == ink).all(axis=-1)
        for r, col in taps:  # the window's own cells are the step's to draw
            cx0, cy0, cx1, cy1 = front.box(r, col)
            inked[cy0:cy1, cx0:cx1] = False
        inked[:y0] = inked[y1:] = False
        inked[:, :x0] = inked[:, x1:] = False
        kept = (pixels == ink).all(axis=-1)
        crossed += int((inked & ~kept).sum())
        assert not (inked & ~kept).any(), f"step {index}: {(inked & ~kept).sum()} digit pixels covered"
