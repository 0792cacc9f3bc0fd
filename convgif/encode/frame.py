"""What a writer is handed: each picture with the step it shows, and the options every writer is opened with."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from convgif.encode.palette import Palette


@dataclass(frozen=True, slots=True)
class Frame:
    """One picture of a scene, in the order it is shown."""

    pixels: np.ndarray  # (H, W, 3) uint8 RGB
    duration_ms: float
    step: int | None  # the trace step it shows; None: the finished picture (an animation's hold frame)
    text: str = ""  # what the step computes, as plain text (the frame's arithmetic), for notes and screen readers
    # where the frame is, as the picture says it: its counter ("step 6 / 49" of the trace, the hold frame's
    # "done · 49 steps"), in a chain after its stage ("stage 2 of 2 · step 1 / 18"); "": the picture says none (a
    # still's pictures), and a player numbers the frame by its place among the frames
    counter: str = ""
    vector: Callable[[int], Any] | None = None  # the same picture as a matplotlib Figure at a dpi (pdf/svg pages)
    items: Callable[[], list[dict]] | None = None  # what the picture shows and where (the layout manifest's items)
    theme: str = "light"  # the render.theme it is drawn in (a format taking every theme gets each in turn)
    # `[render] quiz`: "question" (the step's answers read "?") or "answer" (the same step as usual), which follows
    # its question; "": not a quiz frame (the hold frame, or a scene that is not a quiz)
    quiz: str = ""
    sheet: Any = None  # the "variants" selection: a `convgif.encode.worksheet.SheetVariant` (pixels then empty)


@dataclass(frozen=True, slots=True)
class Deck:
    """What a slide format shows besides the frames: the scene's words and numbers, and its looping animation."""

    title: str
    description: str = ""
    facts: tuple[str, ...] = ()  # lines for a title slide: shapes, the output-size formula with numbers, parameters
    aspect: str = "auto"  # render.aspect: "16:9", "4:3" or "auto" (a slide format picks its own default)
    language: str = "en"
    alt: str = ""  # a short text alternative of the animation (at most ~125 characters)
    # the step player's words in `language`, keyed by their English (convgif.render.labels.player_words); a word not
    # here is shown in English
    words: Mapping[str, str] = field(default_factory=dict)
    animation: Callable[[Any], Any] | None = None  # animation(path) writes the scene's looping GIF to `path`


@dataclass(frozen=True, slots=True)
class WriterOptions:
    """Everything a writer may need besides its path; each writer takes what applies to it."""

    palette: Palette | None = None  # the scene's colours (gif, png frames, apng)
    dpi: int = 150  # print resolution (strip, pdf)
    frame_count: int = 0  # how many frames it will be handed (0: not known)
    deck: Deck | None = None  # the slide formats' words, numbers and animation
