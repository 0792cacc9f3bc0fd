"""The scene format as frozen pydantic models: per-key types and rules, the Scene and what it derives.

Per-key rules live here (each custom one raises ValueError with the message the user sees); rules that
join several keys live in `convgif.scene.rules`. Validated values are immutable: lists become tuples.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema, model_validator

from convgif.engine.geometry import Geometry
from convgif.scene import caption as captions
from convgif.formats import format_names
from convgif.ops import KINDS, OpFamily, OpView, family_of
from convgif.scene.draws import fair_draws
from convgif.suggest import did_you_mean
from convgif.scene.values import (
    PRESETS,
    arange_values,
    data_number,
    finite_float,
    int_range,
    is_int,
    is_number,
    nested_numbers,
    preset_weight,
    show,
)

MAX_INPUT_ELEMENTS = 1_000_000
MAX_SPATIAL_SIZE = 4096
DEFAULT_MAX_FRAMES = 2000
MAX_VARIANTS = 500  # worksheet variants in one PDF: a class's worth, each a page or two
MIN_STEP_MS = 120  # steps sped up to fit render.loop_ms stay this long at least: a number can still be read
SLOW_STEPS = 12  # at most this many first steps (the first row) keep render.duration_ms


class _Spec(BaseModel):
    # defer_build: a model's validator is built on its first use, not at import (an op scene never validates the
    # chain's StageSpec, the whole-file SceneFile or a still scene's model: ~15 ms of each start)
    model_config = ConfigDict(strict=True, frozen=True, extra="forbid", defer_build=True)


def _custom(check, schema: dict) -> Any:
    """A field checked by `check` alone (our message, not pydantic's), with `schema` for editors."""
    return (PlainValidator(check), WithJsonSchema(schema))


# ---- per-key checks -------------------------------------------------------------------------------

def _int_or_ints(value: Any) -> int | tuple[int, ...]:
    if is_int(value):
        return int(value)
    if isinstance(value, (list, tuple)) and value and all(is_int(v) for v in value):
        return tuple(int(v) for v in value)
    raise ValueError(f"{show(value)} is not an integer or a list of integers")


def _padding(value: Any) -> Any:
    if isinstance(value, str):
        if value in ("same", "valid"):
            return value
        raise ValueError(f"{show(value)} is not a padding (an integer, a list of integers, 'same', 'valid' "
                         "or pairs [[top, bottom], [left, right]])")
    if isinstance(value, (list, tuple)) and value and all(isinstance(p, (list, tuple)) for p in value):
        if all(len(p) == 2 and all(is_int(v) for v in p) for p in value):
            return tuple((int(p[0]), int(p[1])) for p in value)
    else:
        try:
            return _int_or_ints(value)
        except ValueError:
            pass
    raise ValueError(f"{show(value)} is not a padding (an integer, a list of integers, 'same', 'valid' "
                     "or pairs [[top, bottom], [left, right]])")


def _stride(value: Any) -> Any:
    return None if value is None else _int_or_ints(value)


def _norm_type(value: Any) -> float:
    number = finite_float(value)
    if number is None or number <= 0:
        raise ValueError(f"{show(value)} is not a positive finite number")
    return number


def _scale_factor(value: Any) -> float | tuple[float, ...] | None:
    if value is None:
        return None
    numbers = value if isinstance(value, (list, tuple)) and value else [value]
    factors = [finite_float(v) for v in numbers]
    if any(f is None or f <= 0 for f in factors):
        raise ValueError(f"{show(value)} is not a scale factor (a positive number or a list of them)")
    return tuple(factors) if isinstance(value, (list, tuple)) else factors[0]


def _cell(value: Any) -> tuple[int, ...] | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and 1 <= len(value) <= 2 and all(is_int(v) and v >= 0 for v in value):
        return tuple(int(v) for v in value)
    raise ValueError(f"{show(value)} is not an output cell ([t] in 1D, [row, col] in 2D, counting from 0)")


def _input_shape(value: Any) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)) or not all(is_int(v) for v in value) or len(value) not in (2, 3):
        batch = ""
        if isinstance(value, (list, tuple)) and len(value) == 4 and all(is_int(v) for v in value):
            batch = f"; without the batch dimension: {show(list(value[1:]))}"
        raise ValueError(f"{show(value)} is not a shape (write [C, L] or [C, H, W] with positive integers{batch})")
    shape = tuple(int(v) for v in value)
    if any(n <= 0 for n in shape):
        raise ValueError(f"{show(value)} has a size below 1 (sizes must be positive)")
    # checked before anything is allocated, so an absurd shape fails at once
    for n, axis in zip(shape[1:], ("H", "W") if len(shape) == 3 else ("L",)):
        if n > MAX_SPATIAL_SIZE:
            raise ValueError(f"{n} cells on {axis} exceed the maximum of {MAX_SPATIAL_SIZE} (a fixed limit)")
    elements = math.prod(shape)
    if elements > MAX_INPUT_ELEMENTS:
        raise ValueError(f"{shape} has {elements} elements, more than the {MAX_INPUT_ELEMENTS} allowed "
                         "(a fixed limit: use a smaller input)")
    return shape


def _input_values(value: Any) -> Any:
    if isinstance(value, str):
        if value in ("random", "arange"):
            return value
        raise ValueError(f"{show(value)} is not a way to fill the input ('random', 'arange' or nested lists "
                         "of numbers)")
    try:
        return nested_numbers(value)[1]
    except ValueError as error:
        raise ValueError(f"{error} ('random', 'arange' or nested lists of numbers)") from None


def _weight_values(value: Any) -> Any:
    if isinstance(value, str):
        if value == "random" or value in PRESETS:
            return value
        raise ValueError(f"{show(value)} is not a way to fill the weights ('random', nested lists of numbers "
                         f"or a preset: {', '.join(PRESETS)})" + did_you_mean(value, ["random", *PRESETS]))
    try:
        return nested_numbers(value)[1]
    except ValueError as error:
        raise ValueError(f"{error} ('random', nested lists of numbers or a preset)") from None


def _bias(value: Any) -> Any:
    if value is None or value == "random" and isinstance(value, str):
        return value
    try:
        if is_number(value):
            return data_number(value)
        if isinstance(value, (list, tuple)) and value and all(is_number(v) for v in value):
            return tuple(data_number(v) for v in value)
    except ValueError as error:
        raise ValueError(f"{error} ('random', a number or a list of numbers, one per output channel)") from None
    raise ValueError(f"{show(value)} is not a bias ('random', a finite number or a list of finite numbers, "
                     "one per output channel)")


def _range(value: Any) -> tuple[int, int]:
    return int_range(value)


def _steps(value: Any) -> Any:
    if isinstance(value, str) and value == "all":
        return value
    if isinstance(value, dict) and len(value) == 1:
        (key, count), = value.items()
        if key in ("first", "every") and is_int(count):
            if count < 1:
                raise ValueError(f"{{{key} = {count}}} needs a count of at least 1")
            return (key, int(count))
    if isinstance(value, (list, tuple)) and value and all(is_int(v) for v in value):
        if any(v < 0 for v in value):
            raise ValueError(f"{show(value)} holds a negative step index (steps count from 0)")
        return tuple(int(v) for v in value)
    raise ValueError(f"{show(value)} is not a choice of steps ('all', {{first = n}}, {{every = k}} or a list "
                     "of step indices)")


# a plain file name, never '..': matched whole by the loader, anchored as the schema's pattern
_PLAIN_NAME = re.compile(r"(?!.*\.\.)[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")


def _output_name(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{show(value)} is not a name (a string)")
    if not _PLAIN_NAME.fullmatch(value):
        raise ValueError(f"{show(value)} is not a plain file name (letters, digits, '_', '-' and '.', no '/' "
                         "or '..', at most 100 characters)")
    return value


def _caption(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{show(value)} is not a string")
    captions.placeholders(value)  # raises on unknown placeholders and unbalanced braces
    return value


EXPLORE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[\d+\])?(\.[A-Za-z_][A-Za-z0-9_]*(\[\d+\])?)*$")


def _explore(value: Any) -> dict[str, tuple[Any, ...]] | None:
    """`[explore]`: the sweep `convgif explore` runs when given no --vary, a dotted scene key and its values each
    (`"op.stride" = [1, 2]`); the scene itself renders with its own values."""
    if value is None:
        return None
    if not isinstance(value, dict) or not value:
        raise ValueError(f"{show(value)} is not a table of dotted keys and their values (\"op.stride\" = [1, 2])")
    for key, values in value.items():
        if not isinstance(key, str) or not EXPLORE_KEY.match(key) or key.startswith("explore"):
            raise ValueError(f"{show(key)} is not a dotted scene key (op.stride, input.shape, ops[1].padding)")
        if not isinstance(values, list) or not values:
            raise ValueError(f"{key}: {show(values)} is not a list of the values to try")
        if len({repr(v) for v in values}) != len(values):
            raise ValueError(f"{key}: a value is given twice")
    return {key: tuple(values) for key, values in value.items()}


def explore_problems(document: dict) -> list[tuple[str, str]]:
    """`[explore]` checked as the loader checks a file (op scenes and chains alike), so `convgif check` names it."""
    try:
        _explore(document.get("explore"))
    except ValueError as error:
        return [("explore", str(error))]
    return []


FORMATS = format_names()  # the output formats by name, from their records (convgif.formats), for the schema
FINAL = "final"  # in key_steps / svg_step: the hold frame after the last step


def _formats(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{show(value)} is not a list of format names (e.g. [\"gif\", \"pdf\"]; "
                         f"formats: {', '.join(format_names())})")
    for name in value:
        if name not in format_names():
            raise ValueError(f"{show(name)} is not an output format (one of {', '.join(format_names())})"
                             + did_you_mean(name, format_names()))
    if len(set(value)) != len(value):
        twice = next(v for i, v in enumerate(value) if v in value[:i])
        raise ValueError(f"lists {twice!r} twice (each format is written once)")
    return tuple(value)


def _step_choice(value: Any) -> int | str:
    if isinstance(value, str) and value == FINAL:
        return FINAL
    if is_int(value) and value >= 0:
        return int(value)
    raise ValueError(f"{show(value)} is not a step (a step index from 0, or \"final\" for the finished picture)")


THEMES = ("light", "dark", "print", "colorblind")  # convgif.render.theme's names (a test keeps them equal)
AUTO_THEMES = ("light", "dark")  # render.theme = "auto": the reader's colour scheme picks one


def _theme(value: Any) -> str | tuple[str, ...]:
    names = f"one of {', '.join(THEMES)}, auto (light and dark), or a list of themes"
    if isinstance(value, str):
        if value in THEMES or value == "auto":
            return value
        raise ValueError(f"{show(value)} is not supported ({names})" + did_you_mean(value, THEMES))
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        unknown = [v for v in value if v not in THEMES]
        if unknown:
            raise ValueError(f"{show(unknown[0])} is not supported (one of {', '.join(THEMES)})"
                             + did_you_mean(unknown[0], THEMES))
        if len(set(value)) != len(value):
            raise ValueError(f"lists {next(v for i, v in enumerate(value) if v in value[:i])!r} twice")
        return value[0] if len(value) == 1 else tuple(value)
    raise ValueError(f"{show(value)} is not a theme name or a list of them ({names})")


ALL_STEPS = "all"  # key_steps: every step the animation shows, then the finished picture


def _key_steps(value: Any) -> tuple[int | str, ...] | str | None:
    if value is None or value == ALL_STEPS:
        return value
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"{show(value)} is not a list of steps (step indices from 0 and/or \"final\") or \"all\"")
    chosen = tuple(_step_choice(v) for v in value)
    if len(set(chosen)) != len(chosen):
        twice = next(v for i, v in enumerate(chosen) if v in chosen[:i])
        raise ValueError(f"lists step {twice!r} twice")
    return chosen


def _svg_step(value: Any) -> int | str | None:
    return None if value is None else _step_choice(value)


# the roles a theme colours (convgif.render.theme.COLOUR_ROLES; a test keeps the two equal)
COLOUR_ROLES = ("background", "text", "muted_text", "grid", "input", "input_text", "padding", "padding_edge",
                "padding_text", "window", "tap", "tap_text", "gap", "kernel", "kernel_text", "output_empty",
                "output_done", "output_done_text", "output_current", "output_current_text", "bias", "accent")
LANGUAGES = ("en", "zh")  # convgif.render.labels.LANGUAGES
_HEX = re.compile(r"#[0-9a-fA-F]{6}")


def _colours(value: Any) -> tuple[tuple[str, str], ...] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError(f"{show(value)} is not a table of colours (e.g. {{window = \"#0072b2\"}})")
    for role, code in value.items():
        if role not in COLOUR_ROLES:
            raise ValueError(f"{show(role)} is not a colour role (one of {', '.join(COLOUR_ROLES)})"
                             + did_you_mean(role, COLOUR_ROLES))
        if not isinstance(code, str) or not _HEX.fullmatch(code):
            raise ValueError(f"the colour for {role} is {show(code)}; write it as \"#rrggbb\"")
    return tuple(value.items())


def _image(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{show(value)} is not a file path (a string, relative to the scene file)")
    return value


MAX_LABEL_CHARS = 12  # an input label is drawn under one cell: a word, not a phrase


def _input_labels(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{show(value)} is not a list of strings (one label per input position)")
    long = [v for v in value if len(v) > MAX_LABEL_CHARS]
    if long:
        raise ValueError(f"label {long[0]!r} is longer than {MAX_LABEL_CHARS} characters")
    return tuple(value)


def _language(value: Any) -> str:
    if isinstance(value, str) and value in LANGUAGES:
        return value
    raise ValueError(f"{show(value)} is not a label language (one of {', '.join(LANGUAGES)})"
                     + (did_you_mean(value, LANGUAGES) if isinstance(value, str) else ""))


def _plain_text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{show(value)} is not a string")
    return value


MAX_CATALOGUE_ROWS = 8
_CATALOGUE_ROW = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,11}")


def _catalogue(value: Any) -> tuple[str, ...]:
    """`catalogue`: the rows of a teaching catalogue the scene teaches (["B4", "C7"]); `convgif gallery` groups the
    scene under the first. Kept out of the description, which readers see (a figcaption, a title slide)."""
    if isinstance(value, str):
        value = [value]
    if (not isinstance(value, (list, tuple)) or not value or len(value) > MAX_CATALOGUE_ROWS
            or not all(isinstance(v, str) and _CATALOGUE_ROW.fullmatch(v) for v in value)):
        raise ValueError(f"{show(value)} is not a list of catalogue rows (short names such as \"B4\", at most "
                         f"{MAX_CATALOGUE_ROWS})")
    if len(set(value)) != len(value):
        raise ValueError(f"lists {next(v for i, v in enumerate(value) if v in value[:i])!r} twice")
    return tuple(value)


def read_words(document: dict, caption=None) -> tuple[dict[str, Any], list[tuple[str, str]], set[str]]:
    """The keys every scene file has besides its tables, checked: title, description and caption (strings; `caption`:
    the check of an op scene's caption, its placeholders), language and catalogue. (values, problems, failed keys);
    a key that is missing or fails keeps its default."""
    checks = {"title": _plain_text, "description": _plain_text, "caption": caption or _plain_text,
              "language": _language, "catalogue": _catalogue}
    words: dict[str, Any] = {"title": None, "description": None, "caption": None, "language": "en", "catalogue": ()}
    problems, failed = [], set()
    for key, check in checks.items():
        value = document.get(key)
        if value is None:
            continue
        try:
            words[key] = check(value)
        except ValueError as error:
            problems.append((key, str(error)))
            failed.add(key)
    return words, problems, failed


_INT_OR_INTS = {"anyOf": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}, "minItems": 1}]}
_NESTED_NUMBERS = {"type": "array", "description": "nested lists of numbers, one level per array dimension"}

IntOrInts = Annotated[Any, *_custom(_int_or_ints, _INT_OR_INTS)]


# ---- the sections ---------------------------------------------------------------------------------

class OpSpec(_Spec):
    """`[op]`: the operation and its torch arguments (which keys apply depends on `kind`)."""

    kind: Literal[KINDS]  # type: ignore[valid-type]
    out_channels: int = Field(1, ge=1)
    kernel_size: IntOrInts | None = None  # required by the kinds that have a window (see rules.cross_check)
    stride: Annotated[Any, *_custom(_stride, {**_INT_OR_INTS, "description": "default 1; pools: kernel_size"})] = None
    padding: Annotated[Any, *_custom(_padding, {"anyOf": [
        *_INT_OR_INTS["anyOf"], {"enum": ["same", "valid"]},
        {"type": "array", "items": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}},
    ]})] = 0
    dilation: IntOrInts = 1
    groups: int = Field(1, ge=1)
    bias: bool = True
    padding_mode: Literal["zeros", "reflect", "replicate", "circular"] = "zeros"
    output_padding: IntOrInts = 0
    ceil_mode: bool = False
    count_include_pad: bool = True
    norm_type: Annotated[Any, *_custom(_norm_type, {"type": "number", "exclusiveMinimum": 0})] = 2.0
    # linear (torch.nn.Linear): in_features is optional (the input's last dimension), checked when given
    out_features: int | None = Field(None, ge=1)
    in_features: int | None = Field(None, ge=1)
    # flatten (torch.flatten, dimensions counted with the batch first, as nn.Flatten: 1 keeps the batch)
    start_dim: int = 1
    end_dim: int = -1
    # upsample (nn.Upsample / the engine's interpolate): one of size or scale_factor
    size: IntOrInts | None = None
    scale_factor: Annotated[Any, *_custom(_scale_factor, {"anyOf": [
        {"type": "number", "exclusiveMinimum": 0},
        {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0}, "minItems": 1}]})] = None
    mode: Literal["nearest", "linear", "bilinear"] = "nearest"


_RANGE_SCHEMA = {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}


class InputSpec(_Spec):
    """`[input]`: the input's (C, L) or (C, H, W) shape and how it is filled (values, or an image file)."""

    shape: Annotated[Any, *_custom(_input_shape, {"type": "array", "items": {"type": "integer", "minimum": 1},
                                                  "minItems": 2, "maxItems": 3})]
    values: Annotated[Any, *_custom(_input_values, {"anyOf": [{"enum": ["random", "arange"]}, _NESTED_NUMBERS]})] = "random"
    seed: int = Field(0, ge=0, lt=2**64)
    range: Annotated[Any, *_custom(_range, _RANGE_SCHEMA)] = (0, 9)
    # a PNG/JPEG path relative to the scene file: grayscale (C=1) or RGB (C=3), resized to H×W, values 0..255
    image: Annotated[Any, *_custom(_image, {"type": "string", "description": "PNG/JPEG path, relative to the scene file"})] = None
    # 1D only: one short label per input position (e.g. the words of a sentence), drawn under the input columns
    labels: Annotated[Any, *_custom(_input_labels, {"type": "array", "items": {"type": "string",
                                                                                "maxLength": MAX_LABEL_CHARS},
                                                    "minItems": 1})] = None


class WeightsSpec(_Spec):
    """`[weights]` (convolutions only): kernel values and bias."""

    values: Annotated[Any, *_custom(_weight_values, {"anyOf": [{"enum": ["random", *PRESETS]}, _NESTED_NUMBERS]})] = "random"
    seed: int = Field(1, ge=0, lt=2**64)
    range: Annotated[Any, *_custom(_range, _RANGE_SCHEMA)] = (-1, 1)
    bias: Annotated[Any, *_custom(_bias, {"anyOf": [{"const": "random"}, {"type": "number"},
                                                    {"type": "array", "items": {"type": "number"}}]})] = None


ASPECTS = {"16:9": (16, 9), "4:3": (4, 3)}  # render.aspect -> (width, height) ratio
ASPECT_WIDTHS = {"16:9": 1280, "4:3": 1024}  # the frame width an aspect has when render.width is not given


class RenderSpec(_Spec):
    """`[render]`: timing, size, look and which steps become frames."""

    @model_validator(mode="before")
    @classmethod
    def _aspect_width(cls, data: Any) -> Any:
        """An aspect without a width takes that aspect's default width (1280 for 16:9, 1024 for 4:3)."""
        aspect = data.get("aspect") if isinstance(data, dict) else None
        if isinstance(aspect, str) and "width" not in data and aspect in ASPECT_WIDTHS:  # a list: its own error
            data = {**data, "width": ASPECT_WIDTHS[aspect]}
        return data

    def themes(self) -> tuple[str, ...]:
        """The themes the scene is drawn in, in order: "auto" is light then dark."""
        if self.theme == "auto":
            return AUTO_THEMES
        return self.theme if isinstance(self.theme, tuple) else (self.theme,)

    def frame_height(self) -> int | None:
        """Every frame's height in px when an aspect is set (width × its ratio, rounded), else None (as tall as
        the frame needs)."""
        if self.aspect not in ASPECTS:
            return None
        across, down = ASPECTS[self.aspect]
        return round(self.width * down / across)

    duration_ms: int = Field(600, ge=1, le=60_000)  # each step of the first row (all steps when the loop is short)
    hold_ms: int = Field(2000, ge=0, le=600_000)
    # the longest a loop may run (hold included) before the steps after the first row speed up (down to
    # MIN_STEP_MS each); 0: every step lasts duration_ms
    loop_ms: int = Field(20_000, ge=0, le=3_600_000)
    # frame width in px; with an aspect and no width given, ASPECT_WIDTHS[aspect] (see _aspect_width)
    width: int = Field(720, ge=160, le=4096)
    # "auto": frames as tall as they need at `width` (a blog column); "16:9" / "4:3": every frame exactly that
    # shape (lecture slides), the layout arranged to give the largest cells that fit
    aspect: Literal["auto", "16:9", "4:3"] = "auto"
    # one theme, or several drawn in one run ("auto" = light and dark): the first theme's files are named after the
    # scene, each other theme's carry its name (`a01.dark.gif`); a format holding every theme (html) gets them all
    theme: Annotated[Any, *_custom(_theme, {"anyOf": [{"enum": [*THEMES, "auto"]}, {
        "type": "array", "items": {"enum": list(THEMES)}, "minItems": 1, "uniqueItems": True}]})] = "light"
    colours: Annotated[Any, *_custom(_colours, {"type": "object", "propertyNames": {"enum": list(COLOUR_ROLES)},
                                                "additionalProperties": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"}})] = None
    steps: Annotated[Any, *_custom(_steps, {"anyOf": [
        {"const": "all"},
        {"type": "object", "properties": {"first": {"type": "integer", "minimum": 1}}, "required": ["first"],
         "additionalProperties": False},
        {"type": "object", "properties": {"every": {"type": "integer", "minimum": 1}}, "required": ["every"],
         "additionalProperties": False},
        {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 1},
    ]})] = "all"
    max_frames: int = Field(DEFAULT_MAX_FRAMES, ge=1)
    view: str | None = None
    # every text size times this, the layout making room (convgif.render.theme.FONT_SCALES: a test keeps them equal)
    font_scale: float = Field(1.0, ge=0.75, le=2.0)
    # "crisp": one-bit glyphs (sharp at 1:1, GIFs ~20% smaller); "smooth": anti-aliased glyphs (nicer scaled up)
    text: Literal["crisp", "smooth"] = "crisp"
    # "auto": tapped cells are filled only where a window skips cells (dilation), elsewhere the window's outline
    # marks them (GIFs ~15% smaller); "fill": every window's tapped cells are filled
    taps: Literal["auto", "fill"] = "auto"
    # chains ([[ops]]): the final output cell, [t] in 1D or [row, col] in 2D ([i] for a vector), whose receptive
    # field is lit up in every earlier tensor, one frame per stage after the chain has run
    receptive_field: Annotated[Any, *_custom(_cell, {"type": "array", "items": {"type": "integer", "minimum": 0},
                                                     "minItems": 1, "maxItems": 2})] = None
    # exercises: each step shown twice, first with its answers as "?" (the output cell, the results of its
    # arithmetic), then as usual; the step player reveals the answer with a button
    quiz: bool = False


class OutputSpec(_Spec):
    """`[output]`: how the written files are named, which formats are written, key steps and print dpi."""

    name: Annotated[Any, *_custom(_output_name, {"type": "string", "pattern": f"^{_PLAIN_NAME.pattern}$"})] = None
    formats: Annotated[Any, *_custom(_formats, {"type": "array", "items": {"enum": list(FORMATS)}, "minItems": 1,
                                                "uniqueItems": True})] = None
    # which steps strip, pdf and the slide formats show: a list of step indices and "final", or "all" (every step
    # the animation shows, then the finished picture); default: first, middle, last and final (slides: "all")
    key_steps: Annotated[Any, *_custom(_key_steps, {"anyOf": [{"const": "all"}, {
        "type": "array", "minItems": 1, "uniqueItems": True, "items": {
            "anyOf": [{"type": "integer", "minimum": 0}, {"const": "final"}]}}]})] = None
    svg_step: Annotated[Any, *_custom(_svg_step, {"anyOf": [{"type": "integer", "minimum": 0},
                                                            {"const": "final"}]})] = None
    dpi: int = Field(150, ge=50, le=1200)
    # the worksheet's exercises, each redrawing the values from its own seed (`--variants`; unset: 1)
    variants: int | None = Field(None, ge=1, le=MAX_VARIANTS)


class StageRenderSpec(_Spec):
    """`[ops.render]`: how one stage of a chain is drawn (unset keys: the scene's `[render]`)."""

    steps: Annotated[Any, *_custom(_steps, RenderSpec.model_fields["steps"].json_schema_extra or {"anyOf": [
        {"const": "all"}, {"type": "object"}, {"type": "array", "items": {"type": "integer", "minimum": 0}}]})] = None
    view: str | None = None


class StageSpec(OpSpec):
    """One `[[ops]]` table: an `[op]` table with its own optional `[ops.weights]` and `[ops.render]`."""

    weights: WeightsSpec | None = None
    render: StageRenderSpec | None = None


MAX_STAGES = 12  # a chain longer than this is no longer one picture


class SceneFile(_Spec):
    """A whole scene file (this model is the format; `Scene` adds what is known about the file)."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": ["op"]}, {"required": ["ops"]}]})

    title: str | None = None
    description: str | None = None
    caption: Annotated[Any, *_custom(_caption, {"type": "string"})] = None
    language: Annotated[Any, *_custom(_language, {"enum": list(LANGUAGES)})] = "en"  # frame labels: en, zh
    # the catalogue rows the scene teaches ("B4"), for `convgif gallery`'s sections; not shown to readers
    catalogue: Annotated[Any, *_custom(_catalogue, {"anyOf": [
        {"type": "string", "pattern": f"^{_CATALOGUE_ROW.pattern}$"},
        {"type": "array", "items": {"type": "string", "pattern": f"^{_CATALOGUE_ROW.pattern}$"},
                             "minItems": 1, "maxItems": MAX_CATALOGUE_ROWS, "uniqueItems": True}]})] = None
    op: OpSpec | None = None  # a single operation, or
    ops: Annotated[tuple[StageSpec, ...], Field(min_length=1, max_length=MAX_STAGES)] | None = None  # a chain
    input: InputSpec
    weights: WeightsSpec | None = None
    render: RenderSpec = RenderSpec()
    output: OutputSpec = OutputSpec()
    # `convgif explore`'s sweep when no --vary is given; the scene renders with its own values
    explore: Annotated[Any, *_custom(_explore, {"type": "object", "additionalProperties": {
        "type": "array", "minItems": 1}})] = None


SECTIONS: dict[str, type[_Spec]] = {
    "op": OpSpec, "input": InputSpec, "weights": WeightsSpec, "render": RenderSpec, "output": OutputSpec,
}


class SceneSpec(_Spec):
    """What every validated scene has, op or still: where it came from, its words and how it is rendered.

    Built by the loader from values it has already checked; everything after loading trusts it.
    """

    scene_type: ClassVar[str]  # "op" or "still": which frame source draws it (convgif.sources)
    source: str  # the path as given
    stem: str  # base name of the output files
    title: str | None = None
    description: str | None = None
    caption: str | None = None
    language: str = "en"  # frame labels: a column of convgif.render.labels
    catalogue: tuple[str, ...] = ()  # the catalogue rows it teaches (`convgif gallery` groups by the first)
    render: RenderSpec = RenderSpec()
    output: OutputSpec = OutputSpec()

    def in_theme(self, name: str) -> SceneSpec:
        """This scene drawn in the one theme `name` (one of `render.themes()`)."""
        return self.model_copy(update={"render": self.render.model_copy(update={"theme": name})})


class OpSceneSpec(SceneSpec):
    """A validated op scene: every array, shape, caption and step choice derives from it deterministically.

    `weights` is None for pools and the `[weights]` defaults for convolutions without that table.
    """

    scene_type: ClassVar[str] = "op"
    op: OpSpec
    input: InputSpec
    weights: WeightsSpec | None = None

    @property
    def kind(self) -> str:
        return self.op.kind

    @property
    def family(self) -> OpFamily:
        """The record of this scene's op family (its keys, geometry, caption and views)."""
        return family_of(self.op.kind)

    def geometry(self) -> Geometry:
        return self.family.geometry(self.op, self.input.shape)

    def view(self) -> OpView:
        """The chosen view (`render.view`), or the family's default one."""
        return self.family.view(self.render.view)

    def view_name(self) -> str:
        return self.view().name

    def total_steps(self) -> int:
        """Step frames before sampling: one per output element, or per input element (the scatter view)."""
        geometry = self.geometry()
        shape = geometry.input_shape if self.view().steps_over == "input" else geometry.output_shape
        return math.prod(shape)

    def step_indices(self, total: int | None = None) -> list[int]:
        """The steps `render.steps` chooses among `total` (default: this scene's `total_steps()`)."""
        total = self.total_steps() if total is None else total
        steps = self.render.steps
        if steps == "all":
            return list(range(total))
        if isinstance(steps[0], str):
            how, count = steps
            return list(range(min(count, total))) if how == "first" else list(range(0, total, count))
        return [i for i in steps if i < total]

    def step_durations(self, count: int) -> list[int]:
        """How long each of `count` shown steps lasts: the first row (at most SLOW_STEPS steps) at
        render.duration_ms, while the reader learns what a step does; later steps faster where that keeps the
        loop (hold included) within render.loop_ms. In whole centiseconds, as a GIF stores them."""
        render = self.render
        if render.loop_ms == 0 or count * render.duration_ms + render.hold_ms <= render.loop_ms:
            return [render.duration_ms] * count
        geometry = self.geometry()
        stepped = geometry.input_shape if self.view().steps_over == "input" else geometry.output_shape
        slow = min(count, stepped[-1], SLOW_STEPS)
        if slow == count:  # every step is in the first row: all keep duration_ms
            return [render.duration_ms] * count
        room = render.loop_ms - render.hold_ms - slow * render.duration_ms
        fast = max(MIN_STEP_MS, min(render.duration_ms, room // (count - slow) // 10 * 10))
        return [render.duration_ms] * slow + [fast] * (count - slow)

    def input_array(self) -> np.ndarray:
        """(C, *spatial) float64 input values."""
        values = self.input.values
        if self.input.image is not None:  # an absolute path once loaded (see load.parse_scene)
            from convgif.scene.image_input import image_values

            return image_values(self.input.image, self.input.shape)
        if values == "random":
            return fair_draws(self)[0].copy()
        if values == "arange":
            return arange_values(self.input.shape)
        return np.array(values, dtype=np.float64)

    def weight_array(self) -> np.ndarray | None:
        """The weight in torch's layout (None for pools): (C_out, C_in/groups, *k), transposed (C_in, C_out/groups, *k)."""
        if self.weights is None or not self.family.has_weights:
            return None
        values = self.weights.values
        shape = self.geometry().weight_shape
        if values == "random":
            return fair_draws(self)[1].copy()
        if isinstance(values, str):
            return preset_weight(values, shape)
        return np.array(values, dtype=np.float64)

    def bias_array(self) -> np.ndarray | None:
        """(C_out,) float64 bias, or None when the op has none."""
        if self.weights is None or not self.family.has_weights or not self.op.bias:
            return None
        bias = self.weights.bias
        shape = self.geometry().bias_shape  # (C_out,), or (out_features,) for linear
        if bias is None or bias == "random":
            # its own stream, so the bias does not change when the weight values are given by hand
            rng = np.random.default_rng([self.weights.seed, 1])
            low, high = self.weights.range
            return rng.integers(low, high, size=shape, endpoint=True).astype(np.float64)
        if isinstance(bias, float):
            return np.full(shape, bias, dtype=np.float64)
        return np.array(bias, dtype=np.float64)

    def arrays(self) -> dict[str, np.ndarray | None]:
        """The scene's numbers as NumPy arrays, unbatched as the file writes them: `input`, `weight` and `bias`
        (None where the op has none) and the `output` the engine computes (what the frames show)."""
        x, weight, bias, geometry = self.input_array(), self.weight_array(), self.bias_array(), self.geometry()
        trace = self.family.default_view.trace(x, weight, bias, geometry, self.op)
        return {"input": x, "weight": weight, "bias": bias,
                "output": np.asarray(trace.output()).reshape(geometry.output_shape)}

    def caption_text(self) -> str:
        """The caption (or the default one for this kind) with its placeholders filled."""
        geometry = self.geometry()
        template = self.caption if self.caption is not None else captions.default_caption(self.op.kind)
        return captions.fill(template, captions.values(self.op, geometry))

    def output_formats(self) -> tuple[str, ...]:
        """The formats to write (`output.formats`, default gif)."""
        return self.output.formats or ("gif",)

    def key_steps(self, total: int | None = None, *, default: str | None = None) -> list[int | None]:
        """The steps strip, pdf and the slide formats show (None = the final frame): `output.key_steps` ("all":
        every shown step, then the final frame); without it first, middle, last and the final frame, or every
        shown step when `default` is "all" (the slide formats: one step per click). Indices beyond `total` are
        dropped (the rules reject them in a file)."""
        total = self.total_steps() if total is None else total
        chosen = self.output.key_steps or default or (0, total // 2, total - 1, FINAL)
        if chosen == ALL_STEPS:
            return [*self.step_indices(total), None]
        steps = [None if step == FINAL else step for step in chosen if step == FINAL or step < total]
        return list(dict.fromkeys(steps))

    def svg_step(self, total: int | None = None) -> int | None:
        """The step the svg shows (None = the final frame): `output.svg_step`, or the middle step."""
        total = self.total_steps() if total is None else total
        step = self.output.svg_step if self.output.svg_step is not None else total // 2
        return None if step == FINAL else min(step, total - 1)

    def info(self) -> dict[str, Any]:
        """Shapes, costs and frame count (step frames, twice in a quiz, + 1 hold frame)."""
        geometry = self.geometry()
        return {
            "input_shape": geometry.input_shape,
            "output_shape": geometry.output_shape,
            "weight_shape": geometry.weight_shape or None,
            "params": geometry.params,
            "macs": geometry.macs,
            "comparisons": geometry.comparisons,
            "frames": len(self.step_indices()) * (2 if self.render.quiz else 1) + 1,
            "formula": geometry.formula,
            "effective_kernel_size": geometry.effective_kernel_size,
        }
