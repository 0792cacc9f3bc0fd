"""Encoders: palette exactness, GIF round trips read back with Pillow, atomic files, PNG frames."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from convgif.encode import (
    ApngWriter,
    GifWriter,
    Palette,
    PngFramesWriter,
    atomic_write,
    clean_stale_parts,
)
from convgif.encode.palette import OffPaletteColour
from convgif.errors import ConvgifError


def distinct_colors(count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    keys = rng.choice(1 << 24, size=count, replace=False)
    return np.stack([(keys >> 16) & 255, (keys >> 8) & 255, keys & 255], axis=1).astype(np.uint8)


def brute_force_nearest(colors: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """Independent nearest colour: plain Python over every pair, first index wins ties."""
    result = []
    for pixel in pixels.tolist():
        best, best_distance = 0, None
        for i, color in enumerate(colors.tolist()):
            distance = sum((a - b) ** 2 for a, b in zip(pixel, color))
            if best_distance is None or distance < best_distance:
                best, best_distance = i, distance
        result.append(best)
    return np.array(result)


def read_gif(path) -> tuple[list[np.ndarray], list[int], dict]:
    """Every frame composited to RGB by Pillow, each frame's duration in ms, and the first frame's info."""
    frames, durations = [], []
    with Image.open(path) as image:
        info = dict(image.info)
        for number in range(image.n_frames):
            image.seek(number)
            frames.append(np.asarray(image.convert("RGB")).copy())
            durations.append(image.info["duration"])
    return frames, durations, info


def parse_gif(path) -> tuple[dict, list[tuple[dict, tuple[int, int, int, int]]]]:
    """Walk the GIF block structure (independently of Pillow): header facts and (control, box) per image."""
    data = Path(path).read_bytes()
    assert data[:6] == b"GIF89a" and data[-1:] == b";"
    packed = data[10]
    header = {"table_size": 2 << (packed & 7) if packed & 0x80 else 0, "loop": None}
    position = 13 + 3 * header["table_size"]
    frames, control = [], None

    def skip_sub_blocks(at: int) -> int:
        while data[at]:
            at += data[at] + 1
        return at + 1

    while data[position] != 0x3B:
        if data[position] == 0x21:  # extension
            label, size = data[position + 1], data[position + 2]
            body = data[position + 3 : position + 3 + size]
            if label == 0xF9:
                control = {
                    "disposal": (body[0] >> 2) & 7,
                    "delay_cs": int.from_bytes(body[1:3], "little"),
                    "transparent": body[3] if body[0] & 1 else None,
                }
            elif label == 0xFF and body == b"NETSCAPE2.0":
                header["loop"] = int.from_bytes(data[position + 3 + size + 2 : position + 3 + size + 4], "little")
            position = skip_sub_blocks(position + 3 + size)
        else:
            assert data[position] == 0x2C, f"unexpected block {data[position]:#x} at {position}"
            left, top, width, height = (int.from_bytes(data[position + 1 + 2 * i : position + 3 + 2 * i], "little")
                                        for i in range(4))
            assert data[position + 9] & 0x80 == 0  # no local colour table: one palette per file
            frames.append((control, (left, top, width, height)))
            control = None
            position = skip_sub_blocks(position + 11)  # descriptor (10 bytes) + LZW code size
    assert position == len(data) - 1
    return header, frames


def scene_like_frames(colors: np.ndarray, count: int, *, height=48, width=64, seed=0) -> list[np.ndarray]:
    """A cell grid on a background, with one small moving highlight per frame (palette colours only)."""
    rng = np.random.default_rng(seed)
    base = colors[rng.integers(0, len(colors), size=(height // 8, width // 8))]
    base = np.repeat(np.repeat(base, 8, axis=0), 8, axis=1)
    frames = []
    for step in range(count):
        frame = base.copy()
        top, left = (step * 5) % (height - 6), (step * 7) % (width - 6)
        frame[top : top + 6, left : left + 6] = colors[step % len(colors)]
        frames.append(frame)
    return frames


def write_gif(path, palette, frames, durations, **options):
    with GifWriter(path, palette, **options) as writer:
        for frame, duration in zip(frames, durations):
            writer.write(frame, duration)
    return writer


# ---------------------------------------------------------------- palette


def test_every_palette_colour_maps_to_its_own_index():
    colors = distinct_colors(255, seed=1)
    palette = Palette([tuple(c) for c in colors.tolist()])
    frame = np.ascontiguousarray(colors[None, :, :].repeat(3, axis=0))
    assert np.array_equal(palette.index(frame), np.tile(np.arange(255, dtype=np.uint8), (3, 1)))
    assert palette.transparent_index == 255 and palette.table_size == 256


def test_colours_one_step_apart_stay_distinct():
    # Colours that would share a bin of any quantised lookup table (2^15 or 2^18 entries).
    colors = np.array([[100, 100, 100], [101, 100, 100], [100, 101, 100], [100, 100, 101], [101, 101, 101]])
    palette = Palette(colors)
    frame = colors.astype(np.uint8)[None]
    assert palette.index(frame).tolist() == [[0, 1, 2, 3, 4]]


def test_an_off_palette_colour_is_an_error():
    """A colour the palette lacks is one a layout forgot to declare: refused, naming it, never drawn as another."""
    palette = Palette([(0, 0, 0), (255, 255, 255)])
    frame = np.zeros((2, 3, 3), dtype=np.uint8)
    frame[1, 2] = (0, 0, 1)
    with pytest.raises(OffPaletteColour, match="1 frame colour.* not in the palette of 2: #000001"):
        palette.index(frame)
    with pytest.raises(OffPaletteColour):  # also the second time: nothing was remembered
        palette.index(frame)


def test_off_palette_colours_map_to_the_nearest_colour_when_asked():
    colors = distinct_colors(40, seed=2)
    palette = Palette(colors, nearest=True)
    pixels = np.random.default_rng(3).integers(0, 256, size=(300, 3), dtype=np.uint8)
    indices = palette.index(pixels.reshape(10, 30, 3)).reshape(-1)
    assert np.array_equal(indices, brute_force_nearest(colors, pixels))
    # second time: resolved from the table, same answer
    assert np.array_equal(palette.index(pixels.reshape(10, 30, 3)).reshape(-1), indices)


def test_repeated_colour_uses_its_first_position():
    palette = Palette([(1, 2, 3), (9, 9, 9), (1, 2, 3)])
    assert palette.index(np.array([[[1, 2, 3]]], dtype=np.uint8)).item() == 0


@pytest.mark.parametrize(
    "colors, message",
    [
        (distinct_colors(256, seed=4), "at most 255"),
        ([], "list of (r, g, b)"),
        ([(1, 2)], "list of (r, g, b)"),
        ([(0, 0, 256)], "0..255"),
        ([(0.5, 0, 0)], "0..255"),
    ],
)
def test_bad_palettes_are_rejected(colors, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Palette(colors)


def test_index_rejects_non_rgb_uint8_frames():
    palette = Palette([(0, 0, 0)])
    with pytest.raises(ValueError, match="uint8"):
        palette.index(np.zeros((4, 4, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="uint8"):
        palette.index(np.zeros((4, 4, 4), dtype=np.uint8))


# ---------------------------------------------------------------- GIF round trips


def test_gif_round_trip_is_exact_and_merges_identical_frames(tmp_path):
    colors = distinct_colors(12, seed=5)
    palette = Palette(colors)
    frames = scene_like_frames(colors, 8)
    # hold frame 2 for three frames and go back to frame 0 at the end (A ... A is not a merge)
    sequence = frames[:3] + [frames[2].copy(), frames[2].copy()] + frames[3:] + [frames[0]]
    durations = [100, 5, 33, 35, 40, 1234, 20, 19.9, 60, 80, 500]
    writer = write_gif(tmp_path / "a.gif", palette, sequence, durations)

    decoded, decoded_durations, info = read_gif(tmp_path / "a.gif")
    expected = frames + [frames[0]]
    assert len(decoded) == writer.frames_written == 9
    for number, (got, want) in enumerate(zip(decoded, expected)):
        assert np.array_equal(got, want), f"frame {number} differs"
    # ms -> centiseconds, half up, at least 20 ms; the hold sums 33 + 35 + 40 = 108 ms -> 110
    assert decoded_durations == [100, 20, 110, 1230, 20, 20, 60, 80, 500]
    assert info["loop"] == 0


def test_one_buffer_repainted_in_place_with_off_palette_colours(tmp_path):
    """The writer looks up only what changed since the last frame, so it must keep its own copy: a caller may
    repaint one buffer in place. Off-palette colours in the changed part (a palette built with nearest=True) map to
    their nearest colour, exactly as a lookup of the whole frame does."""
    colors = distinct_colors(6, seed=21)
    palette = Palette(colors, nearest=True)
    rng = np.random.default_rng(22)
    buffer = colors[rng.integers(0, 6, size=(30, 40))]
    expected = []
    with GifWriter(tmp_path / "inplace.gif", palette) as writer:
        for step in range(12):
            top, left = rng.integers(0, 25), rng.integers(0, 35)
            if step % 3 == 1:  # an off-palette colour: drawn as its nearest palette colour
                buffer[top : top + 5, left : left + 5] = rng.integers(0, 256, size=3)
            else:
                buffer[top : top + 5, left : left + 5] = colors[rng.integers(0, 6)]
            expected.append(palette.colors[palette.index(buffer)])  # what a lookup of the whole frame gives
            writer.write(buffer, 100)  # the same array object every time
    decoded, _, _ = read_gif(tmp_path / "inplace.gif")
    merged = [frame for i, frame in enumerate(expected) if i == 0 or not np.array_equal(frame, expected[i - 1])]
    assert len(decoded) == len(merged)
    assert all(np.array_equal(got, want) for got, want in zip(decoded, merged))


@pytest.mark.parametrize("writer_type, name, holder", [(GifWriter, "a.gif", "a.gif"),
                                                       (PngFramesWriter, "frames", "frames/frame_0002.png"),
                                                       (ApngWriter, "a.apng", "a.apng")])
def test_palette_writers_refuse_an_off_palette_colour(tmp_path, writer_type, name, holder):
    """A colour missing from an exact palette stops the gif, png-frames and apng writers: the frame never reaches a
    file as its nearest palette colour, though only the part it changes since the last frame is looked up."""
    colors = distinct_colors(6, seed=23)
    frames = scene_like_frames(colors, 3)
    frames[2][5, 7] = colors[0] ^ np.uint8(1)  # one pixel one level off a palette colour
    with pytest.raises(OffPaletteColour):
        with writer_type(tmp_path / name, Palette(colors)) as writer:
            for frame in frames:
                writer.write(frame, 100)
    assert not (tmp_path / holder).exists()


def test_gif_with_every_index_in_use(tmp_path):
    # 255 colours: the transparent index is 255, the table is full (256 entries).
    colors = distinct_colors(255, seed=6)
    palette = Palette(colors)
    rng = np.random.default_rng(7)
    frames = [colors[rng.integers(0, 255, size=(20, 30))] for _ in range(4)]
    frames[2][:5] = frames[1][:5]  # partly unchanged: transparent pixels inside the box
    write_gif(tmp_path / "full.gif", palette, frames, [50] * 4)
    decoded, _, _ = read_gif(tmp_path / "full.gif")
    assert len(decoded) == 4
    assert all(np.array_equal(got, want) for got, want in zip(decoded, frames))


def test_only_the_changed_box_is_stored(tmp_path):
    colors = distinct_colors(4, seed=8)
    palette = Palette(colors)
    first = np.broadcast_to(colors[0], (100, 100, 3)).copy()
    second = first.copy()
    second[10:13, 40:45] = colors[1]
    write_gif(tmp_path / "box.gif", palette, [first, second], [100, 100])
    header, frames_found = parse_gif(tmp_path / "box.gif")
    assert header["table_size"] == 8 and header["loop"] == 0  # 4 colours + transparent -> 8 entries
    (first_gce, first_box), (second_gce, second_box) = frames_found
    assert first_box == (0, 0, 100, 100) and first_gce["transparent"] is None
    assert second_box == (40, 10, 5, 3)  # left, top, width, height of the changed pixels
    assert second_gce == {"disposal": 1, "delay_cs": 10, "transparent": 4}
    decoded, _, _ = read_gif(tmp_path / "box.gif")
    assert np.array_equal(decoded[1], second)


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.tuples(st.integers(1, 9), st.integers(1, 9)),
    color_count=st.integers(1, 6),
    choices=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=6),
)
def test_gif_round_trip_property(tmp_path_factory, sizes, color_count, choices):
    colors = distinct_colors(color_count, seed=color_count)
    palette = Palette(colors)
    frames = [colors[np.random.default_rng(seed).integers(0, color_count, size=sizes)] for seed in choices]
    path = tmp_path_factory.mktemp("prop") / "p.gif"
    write_gif(path, palette, frames, [30] * len(frames))
    expected, expected_durations = [frames[0]], [30]
    for previous, frame in zip(frames, frames[1:]):
        if np.array_equal(previous, frame):
            expected_durations[-1] += 30
        else:
            expected.append(frame)
            expected_durations.append(30)
    decoded, durations, _ = read_gif(path)
    assert len(decoded) == len(expected)
    assert all(np.array_equal(got, want) for got, want in zip(decoded, expected))
    assert durations == expected_durations


def test_loop_options(tmp_path):
    colors = distinct_colors(2, seed=9)
    palette = Palette(colors)
    frames = scene_like_frames(colors, 2)
    write_gif(tmp_path / "three.gif", palette, frames, [100, 100], loop=3)
    write_gif(tmp_path / "once.gif", palette, frames, [100, 100], loop=None)
    assert read_gif(tmp_path / "three.gif")[2]["loop"] == 3
    assert "loop" not in read_gif(tmp_path / "once.gif")[2]
    with pytest.raises(ValueError, match="loop"):
        GifWriter(tmp_path / "x.gif", palette, loop=-1)


def test_very_long_hold_continues_on_invisible_frames(tmp_path):
    colors = distinct_colors(3, seed=10)
    palette = Palette(colors)
    frames = scene_like_frames(colors, 2)
    write_gif(tmp_path / "long.gif", palette, frames, [700_000, 100])
    decoded, durations, _ = read_gif(tmp_path / "long.gif")
    assert durations == [655_350, 44_650, 100]  # 65535 cs is the most one frame can store
    assert np.array_equal(decoded[1], frames[0]) and np.array_equal(decoded[2], frames[1])


def test_same_frames_give_the_same_bytes(tmp_path):
    colors = distinct_colors(10, seed=11)
    frames = scene_like_frames(colors, 12)
    write_gif(tmp_path / "one.gif", Palette(colors), frames, [80] * 12)
    write_gif(tmp_path / "two.gif", Palette(colors), frames, [80] * 12)
    assert (tmp_path / "one.gif").read_bytes() == (tmp_path / "two.gif").read_bytes()


def test_an_error_inside_the_block_leaves_no_file_and_keeps_the_old_one(tmp_path):
    colors = distinct_colors(5, seed=12)
    palette = Palette(colors)
    frames = scene_like_frames(colors, 3)
    with pytest.raises(RuntimeError, match="boom"):
        with GifWriter(tmp_path / "new.gif", palette) as writer:
            writer.write(frames[0], 100)
            writer.write(frames[1], 100)
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []

    write_gif(tmp_path / "old.gif", palette, frames, [100] * 3)
    before = (tmp_path / "old.gif").read_bytes()
    with pytest.raises(ValueError, match="differs from the first frame"):
        with GifWriter(tmp_path / "old.gif", palette) as writer:
            writer.write(frames[0], 100)
            writer.write(frames[1][:10], 100)
    assert (tmp_path / "old.gif").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["old.gif"]


def test_the_three_verbs_without_a_with_block(tmp_path):
    colors = distinct_colors(3, seed=16)
    palette = Palette(colors)
    frames = scene_like_frames(colors, 2)
    writer = GifWriter(tmp_path / "verbs.gif", palette)
    writer.setup()
    for frame in frames:
        writer.write(frame, 100)
    assert list(tmp_path.iterdir())[0].name.startswith(".verbs.gif.")  # only the part file so far
    writer.finish()
    assert [p.name for p in tmp_path.iterdir()] == ["verbs.gif"]
    assert len(read_gif(tmp_path / "verbs.gif")[0]) == 2
    with pytest.raises(RuntimeError, match="twice"):
        writer.finish()

    aborted = GifWriter(tmp_path / "aborted.gif", palette)
    aborted.setup()
    aborted.write(frames[0], 100)
    aborted.abort()
    assert [p.name for p in tmp_path.iterdir()] == ["verbs.gif"]


def test_no_frames_is_an_error_and_leaves_no_file(tmp_path):
    with pytest.raises(ValueError, match="no frames"):
        with GifWriter(tmp_path / "empty.gif", Palette([(0, 0, 0)])):
            pass
    assert list(tmp_path.iterdir()) == []


def test_write_outside_the_block_and_bad_durations_are_errors(tmp_path):
    palette = Palette([(0, 0, 0)])
    frame = np.zeros((4, 4, 3), dtype=np.uint8)
    with pytest.raises(RuntimeError, match="outside"):
        GifWriter(tmp_path / "x.gif", palette).write(frame, 100)
    with pytest.raises(ValueError, match="duration_ms"):
        with GifWriter(tmp_path / "x.gif", palette) as writer:
            writer.write(frame, -5)
    assert list(tmp_path.iterdir()) == []


def _peak_bytes_for(path, palette, colors, count: int) -> int:
    base = scene_like_frames(colors, 1, height=64, width=96)[0]
    tracemalloc.start()
    try:
        with GifWriter(path, palette) as writer:
            for step in range(count):
                frame = base.copy()  # made on the fly: only the writer may hold frames
                # a square that jumps around, the same 50 places over and over: 100 and 1000 frames hand the
                # writer the same changes (the writer looks up only the changed box, so its temporaries follow
                # the boxes), and only memory kept per frame could tell the two apart
                k = step % 50
                frame[(k * 3) % 58 : (k * 3) % 58 + 6, (k * 5) % 90 : (k * 5) % 90 + 6] = colors[step % 7]
                writer.write(frame, 40)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_number_of_frames(tmp_path):
    colors = distinct_colors(8, seed=13)
    palette = Palette(colors)  # the lookup table is built before measuring: once per scene
    _peak_bytes_for(tmp_path / "warm.gif", palette, colors, 10)
    peak_100 = _peak_bytes_for(tmp_path / "a.gif", palette, colors, 100)
    peak_1000 = _peak_bytes_for(tmp_path / "b.gif", palette, colors, 1000)
    assert peak_1000 <= peak_100 * 1.05, (peak_100, peak_1000)


# ---------------------------------------------------------------- atomic files


def test_atomic_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "notes.txt"
    with atomic_write(target, "w") as file:
        file.write("first ×")
    assert target.read_text(encoding="utf-8") == "first ×"
    with pytest.raises(KeyError):
        with atomic_write(target, "w") as file:
            file.write("second")
            raise KeyError("stop")
    assert target.read_text(encoding="utf-8") == "first ×"
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    with pytest.raises(ValueError, match="mode"):
        with atomic_write(target, "a"):
            pass


def test_an_interrupt_while_the_part_file_is_being_created_leaves_nothing(tmp_path, monkeypatch):
    """Ctrl-C under -j 2 once left a `.second.gif.*.part`: the interrupt landed between the part file's creation
    and the block that removes it on failure."""
    from convgif.encode import atomic

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic, "_lock_as_live", interrupted)
    with pytest.raises(KeyboardInterrupt):
        with atomic.atomic_write(tmp_path / "second.gif"):
            pass
    assert list(tmp_path.iterdir()) == []


def test_an_interrupt_during_a_writers_setup_leaves_nothing(tmp_path, monkeypatch):
    setup = GifWriter.setup

    def interrupted_setup(self):
        setup(self)  # the part file exists now
        raise KeyboardInterrupt

    monkeypatch.setattr(GifWriter, "setup", interrupted_setup)
    writer = GifWriter(tmp_path / "second.gif", Palette([(0, 0, 0), (255, 255, 255)]))
    with pytest.raises(KeyboardInterrupt):
        with writer:
            pass
    assert list(tmp_path.iterdir()) == []  # at once, not when the writer happens to be collected
    del writer


def test_atomic_write_respects_the_umask(tmp_path):
    with atomic_write(tmp_path / "f.bin") as file:
        file.write(b"x")
    umask = os.umask(0o022)
    os.umask(umask)
    assert (tmp_path / "f.bin").stat().st_mode & 0o777 == 0o666 & ~umask


def test_clean_stale_parts_removes_only_old_part_files(tmp_path):
    old = tmp_path / ".scene.gif.0123abcd.part"
    fresh = tmp_path / ".other.gif.89abcdef.part"
    unrelated = [tmp_path / "scene.gif", tmp_path / "notes.part", tmp_path / ".x.gif.nothex00.part"]
    for path in [old, fresh, *unrelated]:
        path.write_bytes(b"x")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    for path in unrelated:
        os.utime(path, (an_hour_ago, an_hour_ago))
    assert clean_stale_parts(tmp_path) == [old]
    assert fresh.exists() and all(path.exists() for path in unrelated)
    assert clean_stale_parts(tmp_path, min_age_s=0) == [fresh]


# ---------------------------------------------------------------- PNG frames and the registry


@pytest.mark.parametrize("with_palette", [True, False])
def test_png_frames_round_trip(tmp_path, with_palette):
    colors = distinct_colors(6, seed=14)
    frames = scene_like_frames(colors, 4)
    out = tmp_path / "frames"
    out.mkdir()
    (out / "frame_0007.png").write_bytes(b"stale frame of a longer earlier run")
    with PngFramesWriter(out, Palette(colors) if with_palette else None) as writer:
        for frame in frames:
            writer.write(frame, 70)
    names = sorted(p.name for p in out.iterdir())
    assert names == ["frame_0000.png", "frame_0001.png", "frame_0002.png", "frame_0003.png", "frames.json"]
    for number, frame in enumerate(frames):
        with Image.open(out / f"frame_{number:04d}.png") as image:
            assert image.mode == ("P" if with_palette else "RGB")
            assert np.array_equal(np.asarray(image.convert("RGB")), frame)
    manifest = json.loads((out / "frames.json").read_text())
    assert [f["duration_ms"] for f in manifest["frames"]] == [70] * 4


def test_png_frames_error_leaves_complete_files_only(tmp_path):
    colors = distinct_colors(3, seed=15)
    frames = scene_like_frames(colors, 2)
    with pytest.raises(RuntimeError):
        with PngFramesWriter(tmp_path) as writer:
            writer.write(frames[0], 50)
            raise RuntimeError("killed")
    assert [p.name for p in tmp_path.iterdir()] == ["frame_0000.png"]


def test_encode_does_not_import_drawing_code():
    code = (
        "import sys, convgif.encode; "
        "bad = [m for m in sys.modules if m.startswith(('matplotlib', 'convgif.render', 'torch'))]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
