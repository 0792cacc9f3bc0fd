"""Values in scene files: showing them in messages, checking nested number lists, presets, arrays.

Nothing here evaluates anything from a file: values are only inspected, compared and converted.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from convgif.engine.presets import KERNEL_PRESETS, preset_kernel

# 3x3 teaching kernels (engine/presets.py); a preset fills every (out, in) slice of a 2D weight with it.
PRESETS: dict[str, tuple[tuple[float, ...], ...]] = {
    name: tuple(tuple(float(v) for v in row) for row in preset_kernel(name)) for name in KERNEL_PRESETS
}

MAX_DEPTH = 4  # (C_out, C_in/groups, kh, kw) is the deepest array a scene holds
MAX_SHOWN = 60  # characters of a value quoted in a message


def show(value: Any) -> str:
    """A value as the scene file would spell it, shortened for messages: 'conv3d', true, [1, 2], 2.5."""
    text = _spell(value, depth=0)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


def _spell(value: Any, depth: int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value) if len(value) <= MAX_SHOWN else repr(value[:MAX_SHOWN]) + "..."
    if isinstance(value, int):
        text = str(value) if abs(value) < 10**30 else f"{'-' if value < 0 else ''}a {len(str(abs(value)))}-digit number"
        return text
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if depth > 3:
        return "..."
    if isinstance(value, (list, tuple)):
        items = [_spell(v, depth + 1) for v in list(value)[:8]]
        return "[" + ", ".join(items) + (", ..." if len(value) > 8 else "") + "]"
    if isinstance(value, dict):
        items = [f"{_spell_key(k)} = {_spell(v, depth + 1)}" for k, v in list(value.items())[:6]]
        return "{" + ", ".join(items) + (", ..." if len(value) > 6 else "") + "}"
    if value is None:
        return "nothing"
    return f"a {type(value).__name__}"


def _spell_key(key: Any) -> str:
    return key if isinstance(key, str) and key.isidentifier() else repr(key)


def is_int(value: Any) -> bool:
    """An integer that is not a bool (TOML keeps the two apart; so do we)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


MAX_MAGNITUDE = 1e9  # data values beyond this only overflow the arithmetic and the drawing


def data_number(value: Any) -> float:
    """A number a scene may hold as data (input, weight or bias value); ValueError otherwise."""
    number = finite_float(value)
    if number is None:
        raise ValueError(f"{show(value)} is {'not a finite number' if is_number(value) else 'not a number'}")
    if abs(number) > MAX_MAGNITUDE:
        raise ValueError(f"{show(value)} is too large (numbers up to ±{MAX_MAGNITUDE:.0e})")
    return number


def finite_float(value: Any) -> float | None:
    """`value` as a finite float, or None when it is not a number or not finite (nan, inf, too large)."""
    if not is_number(value):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def nested_numbers(value: Any) -> tuple[tuple[int, ...], Any]:
    """(shape, numbers as nested tuples of floats) of a rectangular nested list of finite numbers.

    Raises ValueError with a message saying where the list goes wrong.
    """
    shape: list[int] = []
    probe = value
    while isinstance(probe, (list, tuple)):
        if len(shape) >= MAX_DEPTH:
            raise ValueError(f"lists nest deeper than {MAX_DEPTH} levels")
        if not probe:
            raise ValueError("holds an empty list (every level needs at least one entry)")
        shape.append(len(probe))
        probe = probe[0]
    if not shape:
        raise ValueError(f"{show(value)} is not a nested list of numbers")
    return tuple(shape), _convert(value, tuple(shape), ())


def _convert(value: Any, shape: tuple[int, ...], at: tuple[int, ...]) -> Any:
    where = "".join(f"[{i}]" for i in at)
    if not shape:
        try:
            return data_number(value)
        except ValueError as error:
            # put the position right after the value: "nan at [0][1] is not a finite number"
            quoted = show(value)
            raise ValueError(f"{quoted} at {where}{str(error)[len(quoted):]}") from None
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{show(value)} at {where or 'the top'} is not a list (the lists are not rectangular)")
    if len(value) != shape[0]:
        raise ValueError(
            f"the list at {where or 'the top'} has {len(value)} entries where {shape[0]} are expected "
            "(the lists are not rectangular)"
        )
    return tuple(_convert(v, shape[1:], at + (i,)) for i, v in enumerate(value))


def int_range(value: Any) -> tuple[int, int]:
    """An inclusive [low, high] integer range, bounded so values stay readable and int64-safe."""
    bound = 10**6
    if not isinstance(value, (list, tuple)) or len(value) != 2 or not all(is_int(v) for v in value):
        raise ValueError(f"{show(value)} is not a range (write [low, high] with two integers)")
    low, high = value
    if low > high:
        raise ValueError(f"[{low}, {high}] is empty (low must not exceed high)")
    if abs(low) > bound or abs(high) > bound:
        raise ValueError(f"[{low}, {high}] goes beyond ±{bound} (the allowed span)")
    return int(low), int(high)


REDRAW_STREAM = 2  # spawn key of redraws ([seed, 2, n]); the bias draws from [seed, 1]


def random_integers(seed: int, value_range: tuple[int, int], shape: tuple[int, ...], redraw: int = 0) -> np.ndarray:
    """Integers drawn uniformly from the inclusive range, as float64, from `np.random.default_rng(seed)`;
    redraw n > 0 draws from its own stream `default_rng([seed, 2, n])` (see `convgif.scene.draws`)."""
    rng = np.random.default_rng(seed if redraw == 0 else [seed, REDRAW_STREAM, redraw])
    low, high = value_range
    return rng.integers(low, high, size=shape, endpoint=True).astype(np.float64)


def arange_values(shape: tuple[int, ...]) -> np.ndarray:
    """1, 2, 3, ... in raster order, as float64."""
    return np.arange(1, math.prod(shape) + 1, dtype=np.float64).reshape(shape)


def preset_weight(name: str, weight_shape: tuple[int, ...]) -> np.ndarray:
    """The 3x3 preset copied into every (out, in) slice of a (C_out, C_in/groups, 3, 3) weight."""
    kernel = np.array(PRESETS[name], dtype=np.float64)
    return np.broadcast_to(kernel, weight_shape).copy()


def shape_tuple(shape: tuple[int, ...]) -> str:
    """A shape in a message about the scene file's values, as Python writes a tuple: `(2, 7, 7)`, `(5,)`."""
    return "(" + ", ".join(str(n) for n in shape) + ")" if len(shape) != 1 else f"({shape[0]},)"


# Captions: how each kind of value is written (documented in `convgif.scene.caption`).



def number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"
