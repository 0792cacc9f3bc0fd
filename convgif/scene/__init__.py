"""Scene files: TOML -> a validated frozen `SceneSpec` (an `OpSceneSpec` or a `StillSceneSpec`), or one
`SceneError` listing every problem at once."""

from convgif.scene.load import load_scene, parse_scene, read_document
from convgif.scene.spec import (
    InputSpec, OpSceneSpec, OpSpec, OutputSpec, RenderSpec, SceneFile, SceneSpec, WeightsSpec,
)
from convgif.scene.still import StillSceneSpec
from convgif.lazy_names import lazy_names

# the JSON Schema (`convgif schema`) is built by pydantic's TypeAdapter: imported when asked for, not by every render
__getattr__, __dir__ = lazy_names(__name__, {"scene_json_schema": "schema"}, globals())


__all__ = [
    "load_scene", "parse_scene", "read_document", "scene_json_schema", "SceneSpec", "OpSceneSpec", "StillSceneSpec", "SceneFile", "OpSpec", "InputSpec",
    "WeightsSpec", "RenderSpec", "OutputSpec",
]
