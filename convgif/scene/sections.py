"""A scene file's tables ([op], [input], [weights], [render], [output]) validated one by one, every problem kept:
what op scenes (convgif.scene.load) and chains (convgif.scene.chain) both read their tables with."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from convgif.scene.problems import Problem, translate
from convgif.scene.values import show


def read_sections(document: dict, models: dict[str, type[BaseModel]], required: tuple[str, ...]
                  ) -> tuple[dict[str, Any], list[Problem], set[str]]:
    """({name: validated model, or None when it failed or is missing}, problems, failed dotted keys) for each of
    `models`' tables. A missing table is a problem when `required`, else its defaults ([weights]: None, the op's
    family decides)."""
    sections: dict[str, Any] = {}
    problems: list[Problem] = []
    failed: set[str] = set()
    for name, model in models.items():
        if name not in document:
            if name in required:
                problems.append((name, "required table is missing"))
                failed.add(name)
                sections[name] = None
            else:
                sections[name] = None if name == "weights" else model()
            continue
        raw = document[name]
        if not isinstance(raw, dict):
            problems.append((name, f"{show(raw)} is not a table (write [{name}] with keys under it)"))
            failed.add(name)
            sections[name] = None
            continue
        sections[name], section_problems, section_failed = validate_section(model, raw, name)
        problems += section_problems
        failed |= section_failed
    return sections, problems, failed


def validate_section(model: type[BaseModel], raw: dict, prefix: str) -> tuple[BaseModel | None, list[Problem], set[str]]:
    """(model or a partial one, problems, failed dotted keys).

    When some keys fail, the section is validated again without them, so that rules joining the keys
    that did pass can still run; None when even that fails (a required key is missing or wrong).
    """
    try:
        return model.model_validate(raw), [], set()
    except ValidationError as error:
        problems = translate(error, model, prefix)
        bad = {str(item["loc"][0]) for item in error.errors() if item["loc"]}
    failed = {f"{prefix}.{key}" for key in bad}
    remaining = {k: v for k, v in raw.items() if isinstance(k, str) and k not in bad}
    try:
        partial = model.model_validate(remaining)
    except ValidationError:
        partial = None
        failed.add(prefix)
    return partial, problems, failed
