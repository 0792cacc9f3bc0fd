"""Reading a scene: file -> TOML -> per-key checks -> cross-key rules -> a frozen SceneSpec, or one SceneError.

Every problem in a file is collected and raised together, each as `FILE: dotted.key: message`.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from convgif.errors import SceneError
from convgif.ops import family_of
from convgif.scene.problems import Problem, one_line, unknown_key
from convgif.scene.rules import Parts, cross_check, input_labels_rule, input_values_rule
from convgif.scene.sections import read_sections
from convgif.scene.image_input import image_problem, resolve_image_path
from convgif.scene.spec import (
    SECTIONS, OpSceneSpec, SceneFile, SceneSpec, WeightsSpec, _caption, explore_problems, read_words,
)
from convgif.scene.still import parse_still_scene
from convgif.scene.values import show

TOP_KEYS = tuple(SceneFile.model_fields)
REQUIRED_SECTIONS = ("op", "input")
MAX_SCENE_BYTES = 16 * 1024 * 1024  # a 1,000,000-value input written out is ~10 MB; beyond that is a mistake


def load_scene(path: str | Path) -> SceneSpec:
    """Read and validate the scene file at `path` (SceneError lists every problem in it)."""
    return parse_scene(read_document(path), str(path))


def read_document(path: str | Path) -> dict:
    """The TOML document in the file at `path`, unvalidated (SceneError when unreadable or not TOML).

    For callers that change keys before validation (e.g. CLI overrides): `parse_scene(document, str(path))`.
    """
    source = str(path)
    try:
        with open(path, "rb") as file:  # read at most one byte past the limit, whatever the file's size
            data = file.read(MAX_SCENE_BYTES + 1)
        if len(data) > MAX_SCENE_BYTES:
            raise SceneError(source, [("", f"the scene file is larger than {MAX_SCENE_BYTES // 2**20} MiB "
                                           "(a fixed limit: generate large inputs with values = 'random' or 'arange')")])
    except FileNotFoundError:
        raise SceneError(source, [("", "cannot read the scene file: it does not exist")]) from None
    except IsADirectoryError:
        raise SceneError(source, [("", "cannot read the scene file: it is a directory")]) from None
    except OSError as error:
        raise SceneError(source, [("", f"cannot read the scene file: {error.strerror or error}")]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SceneError(source, [("", f"cannot read the scene file: not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}; save it as UTF-8)")]) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SceneError(source, [("", _syntax_message(error))]) from None
    except RecursionError:
        raise SceneError(source, [("", "TOML syntax error: values nest too deeply")]) from None
    return document


def _syntax_message(error: tomllib.TOMLDecodeError) -> str:
    text = str(error)
    where = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", text, flags=re.DOTALL)
    if where:
        what, line, column = where.groups()
        return f"TOML syntax error at line {line}, column {column}: {what}"
    return f"TOML syntax error: {text}"


def parse_scene(document: dict, source: str) -> SceneSpec:
    """Validate an already-parsed TOML `document` (for code and tests); `source` names it in messages."""
    if not isinstance(document, dict):
        raise SceneError(source, [("", f"the document is {show(document)}, not a table of keys")])
    if "still" in document and "op" not in document:
        return parse_still_scene(document, source)
    if "ops" in document:
        from convgif.scene.chain import parse_chain_scene

        return parse_chain_scene(document, source)
    problems: list[Problem] = []
    failed: set[str] = set()

    for key in document:
        if key not in TOP_KEYS:
            problems.append((str(key), unknown_key(key, TOP_KEYS)))

    texts, text_problems, text_failed = read_words(document, caption=_caption)
    problems += text_problems
    failed |= text_failed

    problems += explore_problems(document)

    sections, section_problems, section_failed = read_sections(document, SECTIONS, REQUIRED_SECTIONS)
    problems += section_problems
    failed |= section_failed

    op = sections["op"]
    weights = sections["weights"]
    if weights is None and op is not None and family_of(op.kind).has_weights and "weights" not in failed:
        weights = WeightsSpec()
    parts = Parts(
        op=op,
        op_keys_given=tuple(k for k in document.get("op", {}) if isinstance(k, str))
        if isinstance(document.get("op"), dict) else (),
        input=sections["input"],
        weights=weights,
        weights_given="weights" in document,
        render=sections["render"],
        caption=texts["caption"],
        failed=frozenset(failed),
        output=sections["output"],
    )
    problems += input_values_rule(parts.input, parts.failed)
    problems += input_labels_rule(parts.input, parts.failed)
    sections["input"], image_problems = _input_image(sections["input"], document.get("input"), source)
    problems += image_problems
    problems += cross_check(parts)
    if parts.render is not None and parts.render.receptive_field is not None:
        problems.append(("render.receptive_field", "is drawn for chains ([[ops]]); a single [op] shows its window "
                         "at every step"))
    if problems:
        raise SceneError(source, list(dict.fromkeys((one_line(k), one_line(m)) for k, m in problems)))

    output = sections["output"]
    # a file stem can hold anything a file system allows; output names stay plain
    stem = output.name or re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(source).stem).strip(".") or "scene"
    return OpSceneSpec(
        source=source,
        stem=stem,
        title=texts["title"],
        description=texts["description"],
        caption=texts["caption"],
        language=texts["language"],
        catalogue=texts["catalogue"],
        op=op,
        input=sections["input"],
        weights=weights if family_of(op.kind).has_weights else None,
        render=sections["render"],
        output=output,
    )


def _input_image(spec, raw: Any, source: str) -> tuple[Any, list[Problem]]:
    """`input.image` made absolute (relative to the scene file) and checked: it exists, decodes safely as PNG or
    JPEG, and its channels match `input.shape`. The spec comes back with the absolute path."""
    if spec is None or spec.image is None:
        return spec, []
    if isinstance(raw, dict) and "values" in raw:
        return spec, [("input.values", "cannot be given together with input.image (the image gives the values)")]
    path = resolve_image_path(spec.image, source)
    problem = image_problem(path, spec.shape)
    if problem is not None:
        return spec, [("input.image", problem)]
    return spec.model_copy(update={"image": path}), []

