"""The JSON Schema of the scene format (`convgif schema`), generated from the pydantic models the loader uses.

A scene file is an op scene (`SceneFile`) or a still scene: the keys in `STILL_TOP_KEYS`, with `[still]`
being one still kind's model, chosen by its `kind`. Rules that join several keys are the loader's alone.
"""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import BaseModel, Field, TypeAdapter, create_model

from convgif.scene.spec import SceneFile, _Spec
from convgif.scene.still import STEP_OUTPUT_KEYS, STILL_TOP_KEYS, still_models

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def still_scene_model() -> type[BaseModel]:
    """A still scene file as one model: `[still]` any still kind's model, the other keys as in `SceneFile`."""
    still = Annotated[Union[tuple(still_models().values())], Field(discriminator="kind")]
    fields = {key: (still, ...) if key == "still"
              else (SceneFile.model_fields[key].rebuild_annotation(), SceneFile.model_fields[key])
              for key in STILL_TOP_KEYS}
    return create_model("StillSceneFile", __base__=_Spec, __doc__="A still scene file: `[still]` instead of `[op]`.",
                        **fields)


def scene_json_schema() -> dict:
    """A JSON Schema (Draft 2020-12) of the scene format, for editors: an op scene or a still scene."""
    schema = TypeAdapter(Union[SceneFile, still_scene_model()]).json_schema()
    # a still scene's [output] is an op scene's without the keys about steps
    defs = schema["$defs"]
    still_output = {**defs["OutputSpec"], "title": "StillOutputSpec",
                    "properties": {key: value for key, value in defs["OutputSpec"]["properties"].items()
                                   if key not in STEP_OUTPUT_KEYS}}
    defs["StillOutputSpec"] = still_output
    # `[op]` or `[[ops]]` (the file's oneOf says which): each is a table or a list of tables when given, never null
    properties = defs["SceneFile"]["properties"]
    for key in ("op", "ops"):
        choices = [choice for choice in properties[key].get("anyOf", ()) if choice.get("type") != "null"]
        if len(choices) == 1:
            properties[key] = {**{k: v for k, v in properties[key].items() if k not in ("anyOf", "default")},
                               **choices[0]}
    still_file = defs["StillSceneFile"]["properties"]
    still_file["output"] = {"$ref": "#/$defs/StillOutputSpec"}
    return {"$schema": DIALECT, "title": "convgif scene", **schema}
