"""Pydantic's validation errors rewritten as (dotted key, message) problems a scene author can act on.

Each message says the value, what is wrong and what is allowed; pydantic's own wording never shows.
"""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from convgif.suggest import did_you_mean
from convgif.scene.values import show

Problem = tuple[str, str]


def one_line(text: str) -> str:
    """`text` with line breaks and other unprintable characters escaped: one problem is one output line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def unknown_key(key: Any, allowed: list[str] | tuple[str, ...]) -> str:
    hint = did_you_mean(key, allowed)
    return "unknown key" + (hint or f" (allowed: {', '.join(allowed)})")


def translate(error: ValidationError, model: type[BaseModel], prefix: str) -> list[Problem]:
    """Problems for every error pydantic found in `model` validated under the dotted `prefix`."""
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(str(part) for part in item["loc"])
        key = ".".join((prefix, *loc)) if prefix else ".".join(loc)
        problems.append((key, _message(item, model, loc)))
    return problems


def _field_annotation(model: type[BaseModel], loc: tuple[str, ...]) -> Any:
    field = model.model_fields.get(loc[0]) if loc else None
    return None if field is None else field.annotation


def _is_table(annotation: Any) -> bool:
    options = get_args(annotation) or (annotation,)
    return any(isinstance(o, type) and issubclass(o, BaseModel) for o in options)


def _message(item: dict, model: type[BaseModel], loc: tuple[str, ...]) -> str:
    kind = item["type"]
    value = item.get("input")
    ctx = item.get("ctx") or {}
    if kind in ("extra_forbidden", "invalid_key"):
        return unknown_key(loc[-1] if loc else "", list(model.model_fields))
    if kind == "missing":
        annotation = _field_annotation(model, loc)
        if _is_table(annotation):
            return "required table is missing"
        options = [str(a) for a in get_args(annotation) if isinstance(a, str)]
        return "required key is missing" + (f" (one of {', '.join(options)})" if options else "")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{show(value)} is not a table (write [{'.'.join(loc) or 'section'}] with keys under it)"
    if kind == "value_error":
        return str(ctx.get("error", "is not allowed"))
    if kind == "literal_error":
        allowed = [str(a) for a in get_args(_field_annotation(model, loc))]
        hint = did_you_mean(value, allowed)
        return f"{show(value)} is not supported (one of {', '.join(allowed)})" + hint
    if kind == "int_type":
        return f"{show(value)} is not an integer"
    if kind == "bool_type":
        return f"{show(value)} is not true or false"
    if kind == "string_type":
        return f"{show(value)} is not a string"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        words = {"greater_than_equal": ("ge", "at least"), "greater_than": ("gt", "more than"),
                 "less_than_equal": ("le", "at most"), "less_than": ("lt", "less than")}[kind]
        return f"{show(value)} is out of range (must be {words[1]} {ctx.get(words[0])})"
    # anything else pydantic may add: still say the value and that it is not allowed here
    return f"{show(value)} is not allowed here"
