"""ConvView: the frames of one conv trace, fast (static layer once + Pillow per frame) or by full redraw."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
from PIL import Image

from convgif.engine.trace import ConvTrace
from convgif.render.layout_conv import ConvLayout
from convgif.render.paint import mpl_render, pil_paint
from convgif.render.primitives import Box, Rect, Text, Veil
from convgif.render.theme import RGB, Theme, get_theme, mix

RAMP_STEPS = 6
MAX_PALETTE = 250


class ConvView:
    """Frames of a conv1d/conv2d trace at `width` px; the height follows the layout."""

    def __init__(self, trace: ConvTrace, *, title: str | None = None, caption: str | None = None,
                 theme: Theme | None = None, width: int = 720):
        self.trace = trace
        self.theme = theme or get_theme("light")
        self.layout = ConvLayout(trace, title=title, caption=caption, theme=self.theme, width=width)
        self._static: dict[int, Image.Image] = {}  # per batch element: the matplotlib-rendered static layer
        self._steps_per_batch = len(trace) // trace.batch_size

    @property
    def size(self) -> tuple[int, int]:
        return (self.layout.width, self.layout.height)

    def cell_box(self, role: str, channel: int, coord) -> Box:
        """Pixel box (x0, y0, x1, y1), x1/y1 exclusive, of a cell including its border lines.

        role "input" takes padded coordinates; "kernel" takes the input channel the slice reads.
        """
        return self.layout.cell_box(role, channel, coord)

    # ---- fast path ----------------------------------------------------------------------------------
    def _static_image(self, batch: int) -> Image.Image:
        if batch not in self._static:
            pixels = mpl_render(self.size, self.theme.background, self.layout.static(batch))
            self._static[batch] = Image.fromarray(pixels, "RGB")
        return self._static[batch]

    def frames(self, step_indices: Iterable[int]) -> Iterator[np.ndarray]:
        """One RGB uint8 (H, W, 3) frame per chosen step, in the order given.

        Output cells of every earlier step of the same batch element are shown done, shown or not.
        """
        progress: Image.Image | None = None
        batch = -1
        painted_to = 0  # raster index up to which done cells are on `progress`
        for index in step_indices:
            step = self.trace.step(int(index))
            if progress is None or step.batch != batch or step.index < painted_to:
                batch = step.batch
                progress = self._static_image(batch).copy()
                painted_to = batch * self._steps_per_batch
            if step.index > painted_to:
                pil_paint(progress, [p for i in range(painted_to, step.index) for p in self.layout.done_cell(i)])
                painted_to = step.index
            frame = progress.copy()
            pil_paint(frame, self.layout.transient(step))
            yield np.asarray(frame)

    def final_frame(self) -> np.ndarray:
        """The finished output of the last batch element, no window: the hold frame."""
        batch = self.trace.batch_size - 1
        image = self._static_image(batch).copy()
        start = batch * self._steps_per_batch
        pil_paint(image, [p for i in range(start, len(self.trace)) for p in self.layout.done_cell(i)])
        pil_paint(image, self.layout.final_transient())
        return np.asarray(image)

    # ---- reference path -----------------------------------------------------------------------------
    def reference_frame(self, step_index: int | None, shown_before: Iterable[int] | None = None) -> np.ndarray:
        """The same frame by a full matplotlib redraw of every primitive (a baseline for tests and benchmarks).

        `shown_before` is accepted for the pipeline's call shape; it does not change the picture, because every
        earlier step's output cell is drawn done whether it was shown or not. `step_index=None` gives the
        final (hold) frame.
        """
        del shown_before
        if step_index is None:
            batch = self.trace.batch_size - 1
            start, stop = batch * self._steps_per_batch, len(self.trace)
            extras = self.layout.final_transient()
        else:
            step = self.trace.step(int(step_index))
            batch = step.batch
            start, stop = batch * self._steps_per_batch, step.index
            extras = self.layout.transient(step)
        primitives = list(self.layout.static(batch))
        for i in range(start, stop):
            primitives += self.layout.done_cell(i)
        return mpl_render(self.size, self.theme.background, primitives + extras)

    # ---- palette ------------------------------------------------------------------------------------
    def palette_colors(self) -> list[RGB]:
        """<= 250 colours for a single GIF palette: theme colours, then text-over-fill anti-aliasing ramps."""
        th = self.theme
        lanes = [th.lane_colour(g) for g in range(self.layout.groups)] if self.layout.groups > 1 else []
        fills = [th.background, th.input, th.padding, th.tap, th.kernel, th.output_empty, th.output_done,
                 th.output_current, *lanes]
        lines = [th.grid, th.padding_edge, th.window, th.gap, th.text,
                 *[th.group_colour(g) for g in range(self.layout.groups)]]
        pairs = [(th.input_text, th.input), (th.padding_text, th.padding), (th.tap_text, th.tap),
                 (th.muted_text, th.tap), (th.kernel_text, th.kernel), (th.output_done_text, th.output_done),
                 (th.output_current_text, th.output_current), (th.text, th.background),
                 (th.muted_text, th.background), (th.accent, th.background), (th.output_current, th.background),
                 (th.window, th.input), (th.window, th.padding), (th.window, th.tap), (th.grid, th.input),
                 (th.padding_edge, th.padding)]
        for lane in lanes:
            pairs += [(th.text, lane), (th.accent, lane), (th.output_current, lane)]
            pairs += [(self.layout._label_colour(g), lane) for g in range(self.layout.groups)]
        colours: list[RGB] = [*fills, *lines]
        for fg, bg in pairs:
            colours += [mix(fg, bg, k / (RAMP_STEPS - 1)) for k in range(RAMP_STEPS)]
        if self.layout.groups > 1:  # the same colours under the veil of a dimmed lane
            colours += [mix(c, th.background, 1 - th.dim_alpha) for c in list(colours)]
        unique = list(dict.fromkeys(colours))
        return unique[:MAX_PALETTE]
