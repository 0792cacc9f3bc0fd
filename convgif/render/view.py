"""Views: the frames of one trace, fast (static layer once + Pillow per frame) or by full matplotlib redraw.

`View(trace, layout_type, ...)` draws any trace its layout (a convgif.render.layout.Layout) lays out; the layout
gives it four kinds of primitives: `static(batch)` (painted once by matplotlib), `done_cell(i)` (what step i
leaves behind, painted in step order onto a running image), `transient(step)` (only this frame) and
`final_transient()` (the hold frame), and declares the colours they paint. Which layout draws which trace is said
by the op-family records (convgif.ops).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
from PIL import Image

from convgif.render.layout import Layout, fitted_layout
from convgif.render.paint import (
    ink_covers, mark_covers, merged_boxes, mpl_render, overlap_merged_boxes, pil_paint,
    pil_paint_undoable, read_box,
)
from convgif.render.primitives import Box, Text, Veil
from convgif.render.theme import RGB, Theme, get_theme


CATCH_UP_WHOLE = 200  # primitives: past this many done at once, the array is taken from the whole image again


def _copy_boxes(pixels: np.ndarray, image: Image.Image, boxes) -> None:
    """Copy `image`'s pixels inside each box into the array `pixels` of the same size."""
    for x0, y0, x1, y1 in boxes:
        pixels[y0:y1, x0:x1] = read_box(image, (x0, y0, x1, y1))


HELD_FEWEST = 6  # marks: a shorter run of unchanged marks is cheaper painted again than held, unless it has a veil
# (a veil reads, blends and writes back every pixel of its box, however few marks it is)


class _Held:
    """A run of a frame's marks that are the very objects the last frame had at the same places (a kernel slice the
    layout keeps: every step of an output channel shows it), left painted on the running image and in its array
    instead of painted and taken off again for every frame. Held only while no mark before it in the frame can
    reach it (marks after it are painted over it, as before), and let go before done cells are painted under it."""

    def __init__(self, start: int, marks: list, covers: list, inks: list, boxes: list, kept: list):
        self.start, self.stop, self.marks, self.kept = start, start + len(marks), marks, kept
        # each mark's box (`mark_covers`) and its inked box (`ink_covers`), and the boxes kept and put back
        self.covers, self.inks, self.boxes = covers, inks, boxes

    @staticmethod
    def longest_same(marks: list, previous: list) -> tuple[int, int] | None:
        """(start, stop) of the longest run of `marks` that are `previous`'s objects at the same places."""
        best, start = (0, 0), None
        for i, (mark, before) in enumerate(zip(marks, previous)):
            if mark is before:
                if start is None:
                    start = i
                if i + 1 - start > best[1] - best[0]:
                    best = (start, i + 1)
            else:
                start = None
        return best if best[1] > best[0] else None

    def paint(self, image: Image.Image, pixels: np.ndarray, crisp: bool) -> None:
        """Paint the run on `image` and `pixels`, keeping what it paints over (for `release`): the boxes round its
        marks' inks (a label's own glyphs, not the band across the frame a long line's `mark_covers` gives it)."""
        boxes = overlap_merged_boxes(self.inks)
        image.load()
        self.kept = [(box, image.im.crop(box)) for box in boxes]
        pil_paint(image, self.marks, crisp_text=crisp, by_word=True)
        _copy_boxes(pixels, image, boxes)
        self.boxes = boxes

    def same(self, marks: list) -> bool:
        """Whether `marks` has this run's very objects at the same places."""
        return len(marks) >= self.stop and all(a is b for a, b in zip(marks[self.start:self.stop], self.marks))

    def meets(self, boxes: list) -> bool:
        """Whether any of `boxes` overlaps what releasing the run puts back: the boxes it kept, each round a group
        of its marks that overlap (`overlap_merged_boxes`), so also the room inside such a box between its marks.
        (Tested against the marks' own boxes, a done cell painted between a kernel slice and a lane's veil, inside
        the band round them that was kept, was put back to empty when the run was let go.)"""
        return _meet(boxes, self.boxes)

    def reached_by(self, marks: list, covers: list, image_size: tuple[int, int], crisp: bool) -> bool:
        """Whether any of `marks` (those before the run in a frame; their `mark_covers`: `covers`) can ink where the
        run inks: told by their own glyphs' boxes where the room round them reaches the run's."""
        return any(_meet([cover], self.covers) and _meet(ink_covers(image_size, [mark], crisp=crisp), self.inks)
                   for mark, cover in zip(marks, covers))

    def release(self, image: Image.Image, pixels: np.ndarray) -> None:
        """Take the run off `image` and `pixels` again; None (what is held after)."""
        for box, kept in self.kept:
            image.im.paste(kept, box)
        _copy_boxes(pixels, image, self.boxes)
        return None


def _meet(boxes: list, others: list) -> bool:
    """Whether any of `boxes` overlaps any of `others` (x1, y1 exclusive)."""
    return any(x0 < ox1 and ox0 < x1 and y0 < oy1 and oy0 < y1
               for x0, y0, x1, y1 in boxes for ox0, oy0, ox1, oy1 in others)


HELD_CHUNK = 24  # marks: a held run is held in pieces this long, so that a change near its end lets go of the end only


class _HeldChunks:
    """The longest run of a frame's marks that the last frame had at the same places, held as `_Held` pieces of
    HELD_CHUNK marks, each painted over the ones before it and keeping what it painted over. When only the end of
    the run changes (a volume's face of computed output rows, after the faces that stay while the window is on a
    channel), the pieces from the first changed one on are let go, the last first, and the rest stay painted,
    instead of the whole run painted again. Marks after the run that the last frame also had join it (`extend`)."""

    def __init__(self, pieces: list[_Held]):
        self.pieces = pieces

    @property
    def start(self) -> int:
        return self.pieces[0].start

    @property
    def stop(self) -> int:
        return self.pieces[-1].stop

    @classmethod
    def hold(cls, marks: list, covers: list, previous: list, image: Image.Image, pixels: np.ndarray, crisp: bool
             ) -> _HeldChunks | None:
        """The longest run of `marks` (their `mark_covers`: `covers`) that `previous` had at the same places, in
        pieces of HELD_CHUNK marks; None when it holds nothing."""
        best = _Held.longest_same(marks, previous)
        if best is None:
            return None
        first, stop = best
        return cls._pieces(first, marks[first:stop], covers[first:stop], marks[:first], covers[:first], image,
                           pixels, crisp)

    @classmethod
    def _pieces(cls, first: int, run: list, covers: list, before: list, before_covers: list, image: Image.Image,
                pixels: np.ndarray, crisp: bool) -> _HeldChunks | None:
        """`run` (at `first` in its frame's marks; their `mark_covers`: `covers`) painted piece by piece; None when it
        is too short to be worth holding, or a mark of `before` (the frame's marks before the held run; their
        covers: `before_covers`) may paint where it does."""
        if len(run) < HELD_FEWEST and not any(isinstance(mark, Veil) for mark in run):
            return None
        inks = ink_covers(image.size, run, crisp=crisp)
        if _Held(first, run, covers, inks, [], []).reached_by(before, before_covers, image.size, crisp):
            return None
        pieces = []
        for at in range(0, len(run), HELD_CHUNK):
            end = min(at + HELD_CHUNK, len(run))
            piece = _Held(first + at, run[at:end], covers[at:end], inks[at:end], [], [])
            piece.paint(image, pixels, crisp)
            pieces.append(piece)
        return cls(pieces)

    def keep_same(self, marks: list, image: Image.Image, pixels: np.ndarray) -> _HeldChunks | None:
        """Let go of the pieces from the first one `marks` does not have at the same places on (None: all)."""
        keep = 0
        while keep < len(self.pieces) and self.pieces[keep].same(marks):
            keep += 1
        for piece in reversed(self.pieces[keep:]):
            piece.release(image, pixels)
        self.pieces = self.pieces[:keep]
        return self if self.pieces else None

    def extend(self, marks: list, covers_before: list, previous: list, image: Image.Image, pixels: np.ndarray,
               crisp: bool) -> None:
        """Hold the marks right after the run that `previous` had at the same places too (the end let go in an
        earlier frame, the same again now), unless a mark before the run (their covers: `covers_before`) can reach
        them."""
        stop = end = self.stop
        while end < min(len(marks), len(previous)) and marks[end] is previous[end]:
            end += 1
        run = marks[stop:end]
        more = _HeldChunks._pieces(stop, run, mark_covers(image.size, run, crisp=crisp), marks[:self.start],
                                   covers_before, image, pixels, crisp) if run else None
        if more is not None:
            self.pieces += more.pieces

    def same(self, marks: list) -> bool:
        return self.pieces[0].same(marks)

    def reached_by(self, marks: list, covers: list, image_size: tuple[int, int], crisp: bool) -> bool:
        return any(piece.reached_by(marks, covers, image_size, crisp) for piece in self.pieces)

    def let_go_where(self, boxes: list, image: Image.Image, pixels: np.ndarray) -> _HeldChunks | None:
        """Let go of the first piece that meets any of `boxes` (done cells to be painted under it) and every piece
        after it (None: all)."""
        meets = next((i for i, piece in enumerate(self.pieces) if piece.meets(boxes)), len(self.pieces))
        for piece in reversed(self.pieces[meets:]):
            piece.release(image, pixels)
        self.pieces = self.pieces[:meets]
        return self if self.pieces else None

    def release(self, image: Image.Image, pixels: np.ndarray) -> None:
        for piece in reversed(self.pieces):
            piece.release(image, pixels)
        return None


class View:
    """Frames of a trace whose steps carry `.index` and `.batch`, drawn by a `layout_type` layout at `width` px:
    as tall as the layout needs, or exactly `height` px (`render.aspect`, see layout.fitted_layout)."""

    def __init__(self, trace, layout_type: type[Layout], *, title: str | None = None, caption: str | None = None,
                 theme: Theme | None = None, width: int = 720, height: int | None = None,
                 text_height: int | None = None, labels: tuple[str, ...] | None = None):
        self.trace = trace
        extra = {} if labels is None else {"labels": labels}  # input.labels: only layouts given them see them
        if height is None:  # a blog column: as tall as the layout needs
            self.layout = layout_type(trace, title=title, caption=caption, theme=theme or get_theme("light"),
                                      width=width, **extra)
        else:  # a slide (render.aspect): exactly width × height, text scaled with the height
            self.layout = fitted_layout(layout_type, trace, height=height, title=title, caption=caption,
                                        theme=theme or get_theme("light"), width=width, text_height=text_height,
                                        **extra)
        self.theme = self.layout.theme
        self._static: dict[int, Image.Image] = {}  # per batch element: the matplotlib-rendered static layer
        self._batches = int(trace.input.shape[0])  # every trace type holds its batched (N, C, ...) input
        self._steps_per_batch = len(trace) // self._batches

    @property
    def size(self) -> tuple[int, int]:
        return (self.layout.width, self.layout.height)

    def cell_box(self, role: str, channel: int, coord) -> Box:
        """Pixel box (x0, y0, x1, y1), x1/y1 exclusive, of a cell including its border lines."""
        return self.layout.cell_box(role, channel, coord)

    # ---- fast path ----------------------------------------------------------------------------------
    def static_image(self, batch: int) -> Image.Image:
        """The static layer of batch element `batch`, painted once and kept: paste or copy it, do not paint on it."""
        return self._static_image(batch)

    def _static_image(self, batch: int) -> Image.Image:
        if batch not in self._static:
            static = Image.new("RGB", self.size, self.theme.background)
            pil_paint(static, self.layout.static(batch), crisp_text=self.theme.crisp_text)
            self._static[batch] = static
        return self._static[batch]

    def frames(self, step_indices: Iterable[int]) -> Iterator[np.ndarray]:
        """One RGB uint8 (H, W, 3) frame per chosen step, in the order given.

        What every earlier step of the same batch element left behind is shown, whether that step was shown or not.
        """
        return (pixels for pixels, _ in self.frames_with_text(step_indices))

    def frames_with_text(self, step_indices: Iterable[int], *, question: bool = False, then_final: bool = False
                         ) -> Iterator[tuple[np.ndarray, str]]:
        """`frames`, each with its step's arithmetic as plain text (see `arithmetic_text`). `question`: a quiz's
        question frames, the step's answers as "?" (Layout.question_marks); earlier steps' cells keep their values.
        `then_final`: and after them the hold frame (`final_frame_with_text`), finished on the running image when the
        last step shown is of the last batch element (the done cells shown so far are not painted again)."""
        progress: Image.Image | None = None
        pixels: np.ndarray | None = None  # `progress` as an array, kept in step with it box by box
        batch = -1
        painted_to = 0  # step index up to which done cells are on `progress`
        crisp = self.theme.crisp_text
        held: _HeldChunks | None = None  # marks left painted from one frame to the next (in `pixels` too)
        previous: list = []  # the last frame's marks
        for index in step_indices:
            step = self.trace.step(int(index))
            if progress is None or step.batch != batch or step.index < painted_to:
                batch = step.batch
                progress = self._static_image(batch).copy()
                pixels = np.array(progress)
                painted_to = batch * self._steps_per_batch
                held, previous = None, []
            marks = self.layout.question_marks(step) if question else self.layout.transient(step)
            before = None  # covers of the marks before a held run (the run's own are known)
            if held is not None:
                before = mark_covers(self.size, marks[:held.start], crisp=crisp) if held.same(marks) else None
                if before is None or held.reached_by(marks[:held.start], before, self.size, crisp):
                    held, before = held.release(progress, pixels), None  # changed, or a mark before it reaches it
                else:  # its start the same: let go of its end from the first piece that changed
                    held = held.keep_same(marks, progress, pixels)
            if step.index > painted_to:
                done = [p for i in range(painted_to, step.index) for p in self.layout.done_cell(i)]
                done_covers = mark_covers(self.size, done, crisp=crisp)
                done_boxes = merged_boxes(done_covers)  # (`painted_boxes`, from the covers measured once)
                if held is not None:  # (done cells lie under a step's marks): let go of what they meet, and after,
                    # told by each done mark's own box (the box round them all met a volume's veil beside them)
                    held = held.let_go_where(done_covers, progress, pixels)
                pil_paint(progress, done, crisp_text=crisp, by_word=True)
                if len(done) > CATCH_UP_WHOLE:  # many steps at once (steps not shown): the whole array again
                    pixels = np.array(progress)
                else:
                    _copy_boxes(pixels, progress, done_boxes)
                painted_to = step.index
            if held is None:
                covers = mark_covers(self.size, marks, crisp=crisp)
                held = _HeldChunks.hold(marks, covers, previous, progress, pixels, crisp)
                if held is not None:
                    before = covers[:held.start]
            else:
                held.extend(marks, before, previous, progress, pixels, crisp)
            previous = marks
            # the frame: the array of what the steps so far left, with the step's marks painted on `progress`, read
            # back in the boxes they may cover and taken off again (one array copy a frame, where copying the image
            # and converting the whole of it took several); marks held from the last frame are there already
            if held is None:
                painted, painted_covers = marks, covers
            else:
                painted = marks[:held.start] + marks[held.stop:]
                painted_covers = before + mark_covers(self.size, marks[held.stop:], crisp=crisp)
            boxes, undo = pil_paint_undoable(progress, painted, crisp_text=crisp, covers=painted_covers)
            frame = pixels.copy()
            _copy_boxes(frame, progress, boxes)
            undo()
            frame.flags.writeable = False  # as np.asarray of an image gives it
            yield frame, self.arithmetic_text(marks)
        if held is not None:
            held.release(progress, pixels)
        if then_final:
            if progress is None or batch != self._batches - 1:
                yield self.final_frame_with_text()
            else:
                yield self._finished(progress, painted_to)

    def _finished(self, image: Image.Image, painted_to: int) -> tuple[np.ndarray, str]:
        """The hold frame from `image`, the last batch element's picture with its done cells up to `painted_to`."""
        done = [p for i in range(painted_to, len(self.trace)) for p in self.layout.done_cell(i)]
        pil_paint(image, done, crisp_text=self.theme.crisp_text, by_word=True)
        marks = self.layout.final_transient()
        pil_paint(image, marks, crisp_text=self.theme.crisp_text, by_word=True)
        return np.asarray(image), self.arithmetic_text(marks)

    def arithmetic_text(self, marks: list) -> str:
        """The step counter and arithmetic lines among a frame's `marks`, as plain text, one line per drawn line:
        exactly the words and numbers the frame shows under its grids (for slide notes and screen readers)."""
        top, bottom = self.layout.counter_top, self.layout.notes_top
        rows: dict[float, list[Text]] = {}
        for mark in marks:
            if isinstance(mark, Text) and top <= mark.y < bottom:
                rows.setdefault(mark.y, []).append(mark)
        return "\n".join(" ".join(t.text for t in sorted(row, key=lambda t: t.x)) for _, row in sorted(rows.items()))

    def counter_text(self, step_index: int | None) -> str:
        """The counter the frame of `step_index` (None: the hold frame) prints over its arithmetic: "step 6 / 49"
        (of the whole trace, whichever steps are shown), "done · 49 steps"."""
        if step_index is None:
            return self.layout.done_counter().text
        index = int(step_index)  # from its index alone: building the step again for its counter cost 2% a frame
        return self.layout.counter_words(index, index // self._steps_per_batch)

    def final_frame(self) -> np.ndarray:
        """The finished output of the last batch element, no window: the hold frame."""
        return self.final_frame_with_text()[0]

    def final_frame_with_text(self) -> tuple[np.ndarray, str]:
        batch = self._batches - 1
        return self._finished(self._static_image(batch).copy(), batch * self._steps_per_batch)

    # ---- reference path -----------------------------------------------------------------------------
    def primitives(self, step_index: int | None, *, question: bool = False) -> list:
        """Everything the frame of `step_index` (None: the final frame) shows: the static layer, each earlier
        step's result, the step's own marks (`question`: as a quiz's question frame shows them). The reference
        redraw and the vector (pdf/svg) pages draw this."""
        if step_index is None:
            batch = self._batches - 1
            start, stop = batch * self._steps_per_batch, len(self.trace)
            extras = self.layout.final_transient()
        else:
            step = self.trace.step(int(step_index))
            batch = step.batch
            start, stop = batch * self._steps_per_batch, step.index
            extras = self.layout.question_marks(step) if question else self.layout.transient(step)
        primitives = list(self.layout.static(batch))
        for i in range(start, stop):
            primitives += self.layout.done_cell(i)
        return primitives + list(extras)

    def reference_frame(self, step_index: int | None, shown_before: Iterable[int] | None = None) -> np.ndarray:
        """The same frame by a full matplotlib redraw of every primitive (a baseline for tests and benchmarks).

        `shown_before` is accepted for the pipeline's call shape; it does not change the picture, because every
        earlier step's result is drawn whether it was shown or not. `step_index=None` gives the final (hold) frame.
        """
        del shown_before
        return mpl_render(self.size, self.theme.background, self.primitives(step_index),
                          crisp_text=self.theme.crisp_text)

    def palette_colors(self) -> list[RGB]:
        """<= 250 colours for a single GIF palette: the colours the layout declares it paints."""
        return self.layout.colours()

    @property
    def exact_palette(self) -> bool:
        """Whether every pixel of a frame is one of `palette_colors()`. True with crisp (one-bit) text; smooth text's
        anti-aliased glyph edges are blends that the palette's ramps only approximate, so an encoder must map those
        to their nearest palette colour."""
        return self.theme.crisp_text
