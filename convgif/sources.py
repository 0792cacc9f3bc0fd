"""What a validated scene shows, as frames: one frame source per scene type, both behind one interface.

- `OpFrames`: an op scene's trace (built by its op family's view) drawn by that view's layout, step by step;
- `StillFrames`: a still scene's pictures, drawn by its still kind's renderer.

A source says how many frames it has, hands out `convgif.encode.Frame`s for a selection ("steps",
"key_steps" or "one", see `convgif.formats`) and builds the palette of its colours.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from convgif.encode import Deck, Frame, Palette
from convgif.engine.notation import typeset
from convgif.errors import DoesNotFitError, LayoutError, SceneError, TooNarrowError

MAX_WIDTH = 4096  # render.width's upper bound: the widest frame a scene may ask for
# the selections (convgif.formats) in which a quiz (`[render] quiz`) shows each step twice, its question frame then
# its answer frame: the animations, the player and the slides; strip, pdf and svg show the steps as usual
QUIZ_SELECTIONS = ("steps", "slides")


def quizzes(scene, selection: str) -> bool:
    """Whether `selection`'s frames of `scene` come in question and answer pairs."""
    return bool(scene.render.quiz) and selection in QUIZ_SELECTIONS


def scene_theme(scene):
    """The scene's look (op and still scenes alike): its `[render] theme`, in its label `language`, at its
    `[render] font_scale` and `[render] text` style, with its `[render] colours` overrides."""
    from convgif.render import get_theme

    render = scene.render
    return get_theme(render.themes()[0], language=scene.language, colours=dict(render.colours or ()),
                     font_scale=render.font_scale, crisp_text=render.text == "crisp",
                     fill_dense_taps=render.taps == "fill")


# ---- op scenes ------------------------------------------------------------------------------------------

def _value_boxes(trace, grid) -> list:
    """The boxes round the cells of an input grid that hold the input's values, not padding or inserted zeros: what
    a chain's transition frames as the previous stage's output (framing the whole grid said the padding came from
    it). One box round the values of a padded input; one per value where a transposed conv spread them with zeros."""
    import numpy as np

    if hasattr(trace, "cell_kind"):  # zero insertion: the values spread over the grid, zeros between
        from convgif.engine.trace_transpose import INPUT_VALUE

        values = (np.asarray(trace.cell_kind) == INPUT_VALUE).reshape(grid.rows, grid.cols)
        return [grid.box(int(r), int(c)) for r, c in np.argwhere(values)]
    if hasattr(trace, "padding_cells"):
        rows, cols = np.nonzero(~np.asarray(trace.padding_cells, dtype=bool).reshape(grid.rows, grid.cols))
        if rows.size:
            return [grid.span(rows, cols)]
    return [grid.outer]


def scene_caption(scene) -> str:
    """The caption frames show: the scene's own, or its kind's default (the output-size arithmetic, which is the same
    in every language), placeholders filled."""
    return scene.caption_text()


def build_trace(scene):
    """The engine trace of an op scene, as its view (the chosen one or the family's default) needs it."""
    return scene.view().trace(scene.input_array(), scene.weight_array(), scene.bias_array(), scene.geometry(),
                              scene.op)


def build_view(scene, trace):
    """The frames of `trace`, drawn by the layout the scene's view names in its op family's record."""
    from convgif.render import View

    return View(trace, scene.view().layout_type(), title=scene.title, caption=scene_caption(scene),
                theme=scene_theme(scene), width=scene.render.width, height=scene.render.frame_height(),
                labels=scene.input.labels)


def drawable_view(scene, trace=None):
    """The view that draws `scene`; a valid scene too big to draw is a SceneError naming the key to change.

    Layouts only find out whether the grids fit once they measure them; that happens here, before any
    file is opened, so `convgif check` and `convgif render` report it like any other scene problem.
    """
    trace = build_trace(scene) if trace is None else trace
    try:
        return build_view(scene, trace)
    except LayoutError as error:
        raise SceneError(scene.source, [_layout_problem(scene, trace, error)]) from None


def _layout_problem(scene, trace, error: LayoutError) -> tuple[str, str]:
    width = scene.render.width
    if isinstance(error, TooNarrowError):
        return error.key, f"{width} px is too narrow to draw {scene.op.kind} (at least {error.minimum} px)"
    assert isinstance(error, DoesNotFitError), error
    font_scale = scene.render.font_scale
    scaled = f" at font_scale {font_scale:g}" if font_scale != 1.0 else ""
    needed = _narrowest_fitting_width(scene, trace, width)
    if needed is not None:
        smaller_text = ", a smaller font_scale" if font_scale > 1.0 else ""
        return error.key, (f"{error}{scaled}: it needs render.width = {needed} or more "
                           f"(up to {MAX_WIDTH}){smaller_text}, or a smaller input")
    remedies = "a smaller input, fewer channels or a smaller font_scale" if font_scale > 1.0 else (
        "a smaller input or fewer channels")
    widest = ", the widest frame" if width >= MAX_WIDTH else f", nor in {MAX_WIDTH} px, the widest frame"
    return "input.shape", f"{error}{scaled}{widest} (use {remedies})"


def _narrowest_fitting_width(scene, trace, width: int) -> int | None:
    """The narrowest frame width (px, a multiple of 10, up to MAX_WIDTH) this scene fits in, or None.

    Whether grids fit grows with the width, so a bisection over widths finds the edge in about ten layouts.
    """
    def fits(candidate: int) -> bool:
        render = scene.render.model_copy(update={"width": candidate})
        try:
            build_view(scene.model_copy(update={"render": render}), trace)
        except LayoutError:
            return False
        return True

    if width >= MAX_WIDTH or not fits(MAX_WIDTH):
        return None
    low, high = width // 10, MAX_WIDTH // 10  # low*10 does not fit, high*10 does
    while high - low > 1:
        middle = (low + high) // 2
        if fits(middle * 10):
            high = middle
        else:
            low = middle
    return high * 10


class OpFrames:
    """An op scene's frames: each chosen step, then the finished picture (the hold frame)."""

    def __init__(self, scene):
        self.scene = scene
        self.trace = build_trace(scene)
        self.view = drawable_view(scene, self.trace)
        self.steps = scene.step_indices(len(self.trace))
        self.durations = dict(zip(self.steps, scene.step_durations(len(self.steps))))
        self.frame_count = self.count("steps")

    @staticmethod
    def check_drawable(scene) -> list[str]:
        """Raise SceneError if the scene cannot be drawn; else notes on what its frames leave out."""
        width = drawable_view(scene).layout.hidden_values_width()
        if width is None:
            return []
        return [f"render.width: numbers are hidden at {scene.render.width} px; they show at render.width = {width}"]

    @staticmethod
    def default_formats() -> tuple[str, ...]:
        return ("gif",)

    def palette(self) -> Palette:
        return Palette(self.view.palette_colors(), nearest=not self.view.exact_palette)

    def _chosen(self, selection: str) -> list[int | None]:
        total = len(self.trace)
        if selection == "key_steps":
            return self.scene.key_steps(total)
        if selection == "slides":
            return self.scene.key_steps(total, default="all")
        if selection == "final":
            return [None]
        if selection == "one":
            return [self.scene.svg_step(total)]
        return [*self.steps, None]

    def count(self, selection: str) -> int:
        chosen = self._chosen(selection)
        return len(chosen) + (sum(s is not None for s in chosen) if quizzes(self.scene, selection) else 0)

    def frames(self, selection: str) -> Iterator[Frame]:
        render = self.scene.render
        chosen = self._chosen(selection)
        steps = [s for s in chosen if s is not None]
        # one pass: done cells are painted once, in step order, and a hold frame at the end is finished from them
        held_last = bool(chosen) and chosen[-1] is None and None not in chosen[:-1]
        pictures = iter(self.view.frames_with_text(steps, then_final=held_last))
        quiz = quizzes(self.scene, selection)
        questions = iter(self.view.frames_with_text(steps, question=True)) if quiz else None
        for step in chosen:
            pixels, text = next(pictures) if step is not None or held_last else self.view.final_frame_with_text()
            duration_ms = render.hold_ms if step is None else self.durations.get(step, render.duration_ms)
            counter = self.view.counter_text(step)
            if quiz and step is not None:
                asked, asked_text = next(questions)
                yield Frame(asked, duration_ms, step, text=asked_text, counter=counter,
                            vector=self._vector(step, question=True), items=self._items(step, question=True),
                            theme=render.themes()[0], quiz="question")
            yield Frame(pixels, duration_ms, step, text=text, counter=counter, vector=self._vector(step),
                        items=self._items(step), theme=render.themes()[0],
                        quiz="answer" if quiz and step is not None else "")

    def deck(self) -> Deck:
        """The slide formats' title slide and animation: the scene's words, shapes, formula and parameters."""
        from convgif.render.layout_common import shape_text
        from convgif.scene import caption as captions

        scene, geometry = self.scene, self.scene.geometry()
        facts = [f"{scene.kind}: {shape_text(geometry.input_shape)} \u2192 {shape_text(geometry.output_shape)}"]
        formula = captions.formula_text(geometry.formulas)
        if formula:
            facts.append(typeset(formula))
        if geometry.weight_shape:
            bias = f" + bias {geometry.bias_count}" if geometry.bias_count else ""
            facts.append(f"parameters: {geometry.params:,} = weight {shape_text(geometry.weight_shape)} "
                         f"({geometry.weight_count:,}){bias}")
        facts.append(f"comparisons: {geometry.comparisons:,}" if geometry.comparisons
                     else f"multiply-adds: {geometry.macs:,}")
        return _deck(scene, tuple(facts), self.write_animation)

    def write_animation(self, path) -> None:
        """The scene's looping GIF (every shown step, then the hold frame) to `path`."""
        _write_gif(self, path)

    def _items(self, step: int | None, question: bool = False):
        def items() -> list[dict]:
            from convgif.render.manifest import frame_items

            return frame_items(self.view, step, question=question)

        return items

    def _vector(self, step: int | None, question: bool = False):
        def figure(dpi: int):
            from convgif.render.paint import mpl_figure

            return mpl_figure(self.view.size, self.view.theme.background,
                              self.view.primitives(step, question=question), dpi=dpi)

        return figure


def _deck(scene, facts: tuple[str, ...], animation) -> Deck:
    from convgif.alt import alt_text
    from convgif.render.labels import player_words

    return Deck(title=scene.title or scene.stem, description=scene.description or "", facts=facts,
                aspect=scene.render.aspect, language=scene.language, alt=alt_text(scene),
                words=player_words(scene.language), animation=animation)


def _write_gif(source, path) -> None:
    """Every frame the "steps" selection hands out, as the looping GIF the gif format writes."""
    from convgif.encode import GifWriter, WriterOptions

    options = WriterOptions(palette=source.palette(), frame_count=source.frame_count)
    with GifWriter.open(path, options) as writer:
        for frame in source.frames("steps"):
            writer.write_frame(frame)


# ---- still scenes ---------------------------------------------------------------------------------------

def still_frames(scene) -> list[tuple[np.ndarray, int]]:
    """The (frame, duration_ms) pairs of a still scene, drawn by its kind's renderer."""
    from convgif.render.stills import STILL_RENDERERS
    from convgif.render.stills.measure import measuring_at

    theme = scene_theme(scene)
    height = scene.render.frame_height()

    def draw(width: int, theme) -> list[tuple[np.ndarray, int]]:
        with measuring_at(theme.font_scale):  # text is measured as drawn at the scale's pixel size
            return STILL_RENDERERS[scene.kind](scene.still, theme=theme, width=width, title=scene.title,
                                               caption=scene.caption)

    if height is None:
        return draw(scene.render.width, theme)
    return _still_on_slide(draw, theme, scene.render.width, height)


def _still_on_slide(draw, theme, width: int, height: int) -> list[tuple[np.ndarray, int]]:
    """A still's pictures on frames of exactly width × height (render.aspect): text scaled with the height as
    an op scene's is, the figure drawn narrower until its tallest picture fits, then centred on the background."""
    from dataclasses import replace

    from convgif.render.layout import SLIDE_TEXT_HEIGHT
    from convgif.render.theme import FONT_SCALES

    scale = min(FONT_SCALES[1], max(FONT_SCALES[0], theme.font_scale * height / SLIDE_TEXT_HEIGHT))
    theme = replace(theme, font_scale=scale)
    drawn_at = width
    pictures = draw(drawn_at, theme)
    for _ in range(5):  # a figure's height grows with its width: a few narrower drawings converge
        tallest = max(frame.shape[0] for frame, _ in pictures)
        if tallest <= height:
            break
        drawn_at = max(320, min(drawn_at - 8, int(drawn_at * height / tallest)))
        pictures = draw(drawn_at, theme)
    out = []
    for frame, duration in pictures:
        h, w = frame.shape[:2]
        if h > height:  # still too tall at the narrowest drawing: its bottom rows would be lost, so say so
            raise SceneError("", [("render.aspect", f"this still does not fit a {width}×{height} frame")])
        canvas = np.empty((height, width, 3), dtype=np.uint8)
        canvas[:] = theme.background
        top, left = (height - h) // 2, (width - w) // 2
        canvas[top:top + h, left:left + w] = frame
        out.append((canvas, duration))
    return out


class StillFrames:
    """A still scene's pictures (one, or a few shown in turn), each with its own duration.

    Stills are drawn with matplotlib, their text with Pillow (antialiased lines, curves and glyphs, not a fixed
    cell grid), so their palette is built from the pictures' own colours rather than from declared ones.
    """

    def __init__(self, scene):
        self.scene = scene
        self.pictures = still_frames(scene)
        self.frame_count = len(self.pictures)

    @staticmethod
    def check_drawable(scene) -> list[str]:
        """Stills draw whatever validates."""
        return []

    def default_formats(self) -> tuple[str, ...]:
        return ("png",) if self.frame_count == 1 else ("gif",)

    def palette(self) -> Palette:
        """One palette for all the pictures, from their own colours (median cut, no dithering)."""
        from PIL import Image

        stacked = Image.fromarray(np.concatenate([frame for frame, _ in self.pictures], axis=0))
        quantized = stacked.quantize(colors=255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        colours = np.array(quantized.getpalette()[: 3 * 255], dtype=np.uint8).reshape(-1, 3)
        used = np.unique(np.asarray(quantized))
        return Palette([tuple(int(c) for c in colours[i]) for i in used], nearest=True)  # colours it approximates

    def count(self, selection: str) -> int:
        return 1 if selection in ("one", "final") else self.frame_count

    def deck(self) -> Deck:
        """The slide formats' title slide and animation (a still has no shapes or formula to state)."""
        return _deck(self.scene, (), self.write_animation if self.frame_count > 1 else None)

    def write_animation(self, path) -> None:
        _write_gif(self, path)

    def frames(self, selection: str) -> Iterator[Frame]:
        numbered = list(enumerate(self.pictures))
        for number, (pixels, duration_ms) in numbered[-1:] if selection in ("one", "final") else numbered:
            yield Frame(pixels, duration_ms, number, theme=self.scene.render.themes()[0])


# ---- chains -------------------------------------------------------------------------------------------

class ChainFrames:
    """A chain's frames (`[[ops]]`): each stage drawn by its own op family's view, under a header saying where in
    the chain the frame is; between two stages a transition (the next stage's input framed, "= output of ops[k]");
    with `render.receptive_field`, the region the chosen output cell sees, lit back through the chain.

    Every frame has one size: the header over the tallest stage (a slide: exactly the aspect's frame)."""

    def __init__(self, scene):
        from convgif.render.chain import ChainHeader, StageFacts
        from convgif.scene.chain import frame_plan

        self.scene = scene
        self.stages = scene.stages()
        self.plan = frame_plan(scene)
        self.theme = scene_theme(scene)
        geometries = [stage.geometry() for stage in self.stages]
        height = scene.render.frame_height()
        self.header = ChainHeader(scene.title, geometries[0].input_shape,
                                  [StageFacts(stage.kind, g.output_shape) for stage, g in zip(self.stages, geometries)],
                                  _slide_theme(self.theme, height), scene.render.width)
        room = None if height is None else height - self.header.height
        self.views = [self._stage_view(stage, room) for stage in self.stages]
        self.field_masks = scene.receptive_field()  # run once: each receptive-field frame reads its tensor's mask
        self.field = self._field_pictures(room)
        body = max([v.size[1] for v in self.views] + [f.height for f in self.field.values()]) if room is None else room
        self.size = (scene.render.width, self.header.height + body)
        self.blank = np.empty((self.size[1], self.size[0], 3), dtype=np.uint8)  # a frame of background (_compose)
        self.blank[:] = self.theme.background
        self.frame_count = self.count("steps")
        self._durations = [dict(zip(stage.step_indices(), stage.step_durations(len(stage.step_indices()))))
                           for stage in self.stages]
        self._headers: dict = {}

    def _stage_view(self, stage, room):
        from convgif.render import View

        trace = build_trace(stage)
        try:
            # the chain's caption (what the whole chain shows), else the stage's own
            caption = self.scene.caption if self.scene.caption is not None else scene_caption(stage)
            return View(trace, stage.view().layout_type(), title=None, caption=caption,
                        theme=self.theme, width=self.scene.render.width, height=room,
                        text_height=self.scene.render.frame_height(), labels=stage.input.labels)
        except LayoutError as error:
            index = self.stages.index(stage)
            key, message = _layout_problem(stage.model_copy(update={"render": stage.render.model_copy(
                update={"aspect": "auto"} if room is None else {})}), trace, error)
            raise SceneError(self.scene.source, [(f"ops[{index}]" if key.startswith("op") else key,
                                                  f"stage {index + 1} ({stage.kind}): {message}")]) from None

    def _field_pictures(self, room):
        from convgif.render.chain import FieldPicture, FieldTensor

        masks = self.field_masks
        if masks is None:
            return {}
        arrays = self.scene.arrays()
        values = [arrays["input"]] + [stage["output"] for stage in arrays["stages"]]
        names = ["input"] + [f"{k + 1} {stage.kind}" for k, stage in enumerate(self.stages)]
        pictures = {}
        n = len(self.stages)
        for k in reversed(range(n)):  # frame for stage k: tensors k..n lit (k = the stage whose input is lit)
            tensors = [FieldTensor(name, value, mask if i >= k else None)
                       for i, (name, value, mask) in enumerate(zip(names, values, masks))]
            pictures[k] = FieldPicture(tensors, self.theme, self.scene.render.width, self.header.height, room)
        return pictures

    @staticmethod
    def check_drawable(scene) -> list[str]:
        """Raise SceneError if a stage cannot be drawn; else notes on the stages whose numbers are hidden."""
        source = ChainFrames(scene)
        notes = []
        for k, (stage, view) in enumerate(zip(source.stages, source.views)):
            width = view.layout.hidden_values_width()
            if width is not None:
                notes.append(f"render.width: stage {k + 1} ({stage.kind}) hides its numbers at "
                             f"{scene.render.width} px; they show at render.width = {width}")
        return notes

    @staticmethod
    def default_formats() -> tuple[str, ...]:
        return ("gif",)

    def palette(self) -> Palette:
        colours = [*self.header.colours()]
        for view in self.views:
            colours += view.palette_colors()
        for picture in self.field.values():
            colours += picture.colours()
        colours = list(dict.fromkeys(colours))
        exact = len(colours) <= 250 and all(view.exact_palette for view in self.views)
        return Palette(colours[:250], nearest=not exact)

    def _chosen(self, selection: str) -> list[int]:
        """Frame numbers (into the plan) of a selection. A chain's steps are its frames, counted over the whole
        plan: `output.key_steps` and `output.svg_step` index them ("final": the hold frame)."""
        last = len(self.plan) - 1
        output = self.scene.output
        if selection == "final":
            return [last]
        if selection == "one":
            step = output.svg_step if output.svg_step is not None else last // 2
            return [last if step == "final" else step]
        if selection in ("key_steps", "slides") and isinstance(output.key_steps, tuple):
            return sorted({last if s == "final" else s for s in output.key_steps})
        if selection == "key_steps" and output.key_steps is None:
            # each stage's finished picture, the transitions and the receptive field: the chain in a few pictures
            return [i for i, (what, _, _) in enumerate(self.plan) if what != "step"]
        return list(range(len(self.plan)))

    def count(self, selection: str) -> int:
        chosen = self._chosen(selection)
        if not quizzes(self.scene, selection):
            return len(chosen)
        from convgif.scene.chain import STEP

        return len(chosen) + sum(self.plan[number][0] == STEP for number in chosen)

    def _header(self, current, line: str):
        from PIL import Image

        from convgif.render.paint import pil_paint

        key = (current, line)
        if key not in self._headers:
            image = Image.new("RGB", (self.size[0], self.header.height), self.theme.background)
            primitives = self.header.primitives(current, line)
            pil_paint(image, primitives, crisp_text=self.theme.crisp_text)
            self._headers[key] = (np.asarray(image), primitives)
        return self._headers[key]

    def _describe(self, number: int):
        """(kind, stage, step, header stage, header line, counter) of plan entry `number`. The counter says where the
        frame is in its header's words: "stage 2 of 2 · step 1 / 18" (the stage's own counter after its place
        in the chain), "stage 1 → stage 2" (a transition), "all 2 stages done" (the hold frame)."""
        from convgif.render.chain import stage_line, stage_name
        from convgif.scene.chain import DONE, FIELD, TRANSITION

        what, k, step = self.plan[number]
        n = len(self.stages)
        geometry = self.stages[k].geometry()
        line = stage_line(k, n, self.stages[k].kind, geometry.input_shape, geometry.output_shape)
        last = number == len(self.plan) - 1
        if what == FIELD:
            cell = ", ".join(str(i) for i in self.scene.render.receptive_field)
            # frame by frame from the last stage back: this one has reached the input of stage k + 1
            line = f"receptive field of output [{cell}], traced back to the input of {stage_name(k, n)}"
            counter = f"receptive field \u00b7 {stage_name(k, n)}"
        elif what == TRANSITION:
            before = self.stages[k - 1]
            line = (f"stage {k} {before.kind} \u2192 stage {k + 1} {self.stages[k].kind}: the output "
                    f"{_shape(geometry.input_shape)} becomes the next input")
            counter = f"stage {k} \u2192 stage {k + 1}"
        elif what == DONE and last:
            counter = f"all {n} stages done"
            line = f"{counter}: {_shape(self.stages[0].geometry().input_shape)} \u2192 {_shape(geometry.output_shape)}"
        else:
            counter = f"{stage_name(k, n)} \u00b7 {self.views[k].counter_text(step)}"
        current = None if (what == DONE and last) or what == FIELD else k
        return what, k, step, current, line, counter

    def frames(self, selection: str) -> Iterator[Frame]:
        from convgif.scene.chain import DONE, STEP, pause_ms

        render = self.scene.render
        chosen = self._chosen(selection)
        by_stage: dict[int, list[int]] = {}
        for number in chosen:
            what, k, step = self.plan[number]
            if what == STEP:
                by_stage.setdefault(k, []).append(step)
        pictures = {k: iter(self.views[k].frames_with_text(steps)) for k, steps in by_stage.items()}
        quiz = quizzes(self.scene, selection)
        questions = {k: iter(self.views[k].frames_with_text(steps, question=True))
                     for k, steps in by_stage.items()} if quiz else {}
        for number in chosen:
            what, k, step, current, line, counter = self._describe(number)
            header, _ = self._header(current, line)
            view = self.views[k]
            if what == STEP:
                body, text = next(pictures[k])
                duration = self._durations[k].get(step, render.duration_ms)
                if quiz:
                    asked, asked_text = next(questions[k])
                    yield Frame(self._compose(header, asked), duration, number, text=f"{line}\n{asked_text}".strip(),
                                counter=counter, vector=self._vector(number, question=True), items=None,
                                theme=render.themes()[0], quiz="question")
            elif what == DONE:
                body, text = view.final_frame_with_text()
                duration = render.hold_ms if number == len(self.plan) - 1 else pause_ms(render)
            else:
                body, text = self._picture(what, k)
                duration = pause_ms(render)
            yield Frame(self._compose(header, body), duration, None if number == len(self.plan) - 1 else number,
                        text=f"{line}\n{text}".strip(), counter=counter, vector=self._vector(number), items=None,
                        theme=render.themes()[0], quiz="answer" if quiz and what == STEP else "")

    def _compose(self, header: np.ndarray, body: np.ndarray) -> np.ndarray:
        """A frame: the header over a stage's (or a transition's) body, and the background round the body copied
        from one blank frame (filling an (H, W, 3) array with one colour, as each frame did, took ~8 ms, several
        times what copying it takes)."""
        blank = self.blank
        pixels = np.empty_like(blank)
        top = header.shape[0]
        h = min(body.shape[0], self.size[1] - top)
        pixels[:top] = header
        pixels[top:top + h, :body.shape[1]] = body[:h]
        pixels[top:top + h, body.shape[1]:] = blank[top:top + h, body.shape[1]:]
        pixels[top + h:] = blank[top + h:]
        return pixels

    def _picture(self, what: str, k: int):
        """The body of a transition or receptive-field frame: (pixels, text)."""
        from PIL import Image

        from convgif.render.paint import pil_paint

        image = Image.new("RGB", (self.size[0], self.size[1] - self.header.height), self.theme.background)
        if what == "transition":  # its marks over the next stage's static layer, painted once for its step frames
            image.paste(self.views[k].static_image(0), (0, 0))
            primitives, text = self._transition_marks(k)
        else:
            primitives, text = self._picture_primitives(what, k)
        pil_paint(image, primitives, crisp_text=self.theme.crisp_text)
        return np.asarray(image), text

    def _picture_primitives(self, what: str, k: int):
        from convgif.render.chain import shifted

        if what == "field":
            picture = self.field[k]
            cell = ", ".join(str(i) for i in self.scene.render.receptive_field)
            lit = self.field_masks[k]
            from convgif.render.chain import field_extent

            text = (f"output [{cell}] of the last stage, in "  # the header names the receptive field
                    + ("the input" if k == 0 else f"the output of stage {k}") + f": {field_extent(lit)}")
            return shifted(picture.primitives(text), -self.header.height), text
        marks, text = self._transition_marks(k)
        return list(self.views[k].layout.static(0)) + marks, text

    def _transition_marks(self, k: int):
        """What a transition into stage k adds to that stage's static layer: (primitives, text)."""
        from convgif.render.chain import transition_marks
        from convgif.render.paint import text_ink
        from convgif.render.primitives import Text

        layout = self.views[k].layout
        boxes = [box for grid in layout.grids_by_role()["input"] for box in _value_boxes(self.views[k].trace, grid)]
        inked = [text_ink(p, crisp=self.theme.crisp_text) for p in layout.static(0) if isinstance(p, Text)]
        before = self.stages[k - 1]
        text = (f"input of stage {k + 1} ({self.stages[k].kind}) = output of stage {k} ({before.kind}), "
                f"{_shape(self.stages[k].geometry().input_shape)}")
        return transition_marks(boxes, self.theme, text, layout.counter_top, self.size[0], inked), text

    def primitives(self, number: int, question: bool = False) -> list:
        """Everything frame `number` of the plan shows, header first (the vector pages draw this); `question`: a
        step as a quiz's question frame shows it."""
        from convgif.render.chain import shifted
        from convgif.scene.chain import DONE, STEP

        what, k, step, current, line, _ = self._describe(number)
        _, header = self._header(current, line)
        if what == STEP:
            body = self.views[k].primitives(step, question=question)
        elif what == DONE:
            body = self.views[k].primitives(None)
        else:
            body = self._picture_primitives(what, k)[0]
        return header + shifted(body, self.header.height)

    def _vector(self, number: int, question: bool = False):
        def figure(dpi: int):
            from convgif.render.paint import mpl_figure

            return mpl_figure(self.size, self.theme.background, self.primitives(number, question), dpi=dpi)

        return figure

    def deck(self) -> Deck:
        """The slide formats' title slide: the chain stage by stage, its parameters and multiply-adds."""
        from convgif.render.layout_common import shape_text

        info = self.scene.info()
        facts = [f"chain: {shape_text(info['input_shape'])} \u2192 {shape_text(info['output_shape'])} in "
                 f"{len(self.stages)} stages"]
        facts += [f"{k + 1}. {s['kind']} \u2192 {shape_text(s['output_shape'])} ({s['params']:,} parameters)"
                  for k, s in enumerate(info["stages"])]
        facts.append(f"parameters: {info['params']:,}; multiply-adds: {info['macs']:,}")
        return _deck(self.scene, tuple(facts), self.write_animation)

    def write_animation(self, path) -> None:
        _write_gif(self, path)


def _slide_theme(theme, height: int | None):
    """The theme whose text a frame `height` px tall sets (None: a blog column's), as a slide's layout scales it."""
    if height is None:
        return theme
    from dataclasses import replace

    from convgif.render.layout import SLIDE_TEXT_HEIGHT
    from convgif.render.theme import FONT_SCALES

    return replace(theme, font_scale=min(FONT_SCALES[1], max(FONT_SCALES[0], theme.font_scale * height
                                                                / SLIDE_TEXT_HEIGHT)))


def _shape(shape) -> str:
    from convgif.render.layout_common import shape_text

    return shape_text(shape)


SOURCES = {"op": OpFrames, "still": StillFrames, "chain": ChainFrames}  # by SceneSpec.scene_type


def source_type(scene) -> type:
    return SOURCES[scene.scene_type]


def frame_source(scene):
    """The frames of a validated scene, op or still."""
    return source_type(scene)(scene)
