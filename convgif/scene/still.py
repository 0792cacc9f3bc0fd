"""Still scenes: a `[still]` table (weight tensors, pipelines, parameter charts, receptive fields, ...)
instead of `[op]`, validated by the still kind's own model, every problem reported at once."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError

from convgif.errors import SceneError, UsageError
from convgif.scene.problems import Problem, one_line, translate, unknown_key
from convgif.scene.spec import OutputSpec, RenderSpec, SceneSpec, read_words
from convgif.scene.values import show

STILL_TOP_KEYS = ("title", "description", "caption", "language", "catalogue", "still", "render", "output")
STEP_OUTPUT_KEYS = ("key_steps", "svg_step")  # [output] keys about steps, which a still scene has none of


def still_models() -> dict[str, type[BaseModel]]:
    """Every still kind and its pydantic model (imported on first use)."""
    from convgif.scene import stills_shapes, stills_views

    return {**stills_shapes.STILL_MODELS, **stills_views.STILL_MODELS}


class StillSceneSpec(SceneSpec):
    """A validated still scene: `still` is the kind's frozen model."""

    scene_type: ClassVar[str] = "still"
    still: Any  # the frozen model of its kind (see still_models)

    @property
    def kind(self) -> str:
        return self.still.kind

    def caption_text(self) -> str | None:
        """Still captions are plain text (no placeholders: a still has no single op to fill them from)."""
        return self.caption

    def arrays(self) -> dict[str, Any]:
        raise UsageError(f"{self.source}: a {self.kind} still has no input, weight or output arrays "
                         "(arrays() is for op scenes)")

    def info(self) -> dict[str, Any]:
        """Its kind: a still's pictures are counted only when it is drawn."""
        return {"still": self.still.kind}


def parse_still_scene(document: dict, source: str) -> StillSceneSpec:
    problems: list[Problem] = []
    for key in document:
        if key not in STILL_TOP_KEYS:
            problems.append((str(key), unknown_key(key, STILL_TOP_KEYS) + " in a still scene"))
    texts, text_problems, _ = read_words(document)
    problems += text_problems
    language = texts["language"]
    models = still_models()
    raw = document["still"]
    still = None
    if not isinstance(raw, dict):
        problems.append(("still", f"{show(raw)} is not a table (write [still] with keys under it)"))
    elif not isinstance(raw.get("kind"), str) or raw["kind"] not in models:  # a list or table is unhashable
        kinds = ", ".join(sorted(models))
        problems.append(("still.kind", f"{show(raw.get('kind'))} is not a still kind (one of {kinds})"))
    else:
        model = models[raw["kind"]]
        try:  # file paths in a still (e.g. an image) are relative to the scene file
            still = model.model_validate(raw, context={"base_dir": str(Path(source).resolve().parent)})
        except ValidationError as error:
            for key, message in translate(error, model, "still"):
                # cross-key checks raise without a location, their message starting with the key
                lead, _, rest = message.partition(": ")
                if lead.startswith("still.") and rest and (key == "still" or lead == key):
                    key, message = lead, rest
                problems.append((key, message))
    sections: dict[str, BaseModel | None] = {}
    for name, model in (("render", RenderSpec), ("output", OutputSpec)):
        section = document.get(name, {})
        if not isinstance(section, dict):
            problems.append((name, f"{show(section)} is not a table (write [{name}] with keys under it)"))
            continue
        try:
            sections[name] = model.model_validate(section)
        except ValidationError as error:
            problems += translate(error, model, name)
    if sections.get("output") is not None:
        for key in STEP_OUTPUT_KEYS:
            if getattr(sections["output"], key) is not None:
                problems.append((f"output.{key}", "a still scene has no steps (its strip and pdf show every "
                                 "picture, its svg the last one): remove this key"))
    if sections.get("render") is not None and sections["render"].quiz:
        problems.append(("render.quiz", "a still scene has no steps whose answers a quiz could hide: remove this "
                         "key (or --quiz)"))
    if problems:
        raise SceneError(source, list(dict.fromkeys((one_line(k), one_line(m)) for k, m in problems)))
    output = sections["output"]
    stem = output.name or re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(source).stem).strip(".") or "scene"
    return StillSceneSpec(source=source, stem=stem, title=texts["title"], description=texts["description"],
                      caption=texts["caption"], still=still, render=sections["render"], output=output,
                      language=language, catalogue=texts["catalogue"])
